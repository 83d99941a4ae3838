package main

import (
	"flag"
	"fmt"
	"log"
	"math/rand"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func main() {
	log.SetFlags(0)
	if len(os.Args) < 2 {
		log.Fatal("usage: bench push|proxy [flags]")
	}
	var err error
	switch os.Args[1] {
	case "push":
		err = push(os.Args[2:])
	case "proxy":
		err = proxy(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: use push or proxy", os.Args[1])
	}
	if err != nil {
		log.Fatal(err)
	}
}

// push writes n small random images to REGISTRY/bench/imgNN:latest and prints
// each digest reference on stdout.
func push(args []string) error {
	fs := flag.NewFlagSet("push", flag.ExitOnError)
	reg := fs.String("registry", "127.0.0.1:5000", "registry host:port (plain HTTP)")
	n := fs.Int("n", 50, "number of images")
	repo := fs.String("repo", "bench/img", "repository prefix")
	_ = fs.Parse(args)
	for i := range *n {
		img, err := random.Image(512, 2, random.WithSource(rand.NewSource(int64(i)+7)))
		if err != nil {
			return err
		}
		ref, err := name.ParseReference(fmt.Sprintf("%s/%s%02d:latest", *reg, *repo, i), name.Insecure)
		if err != nil {
			return err
		}
		if err := remote.Write(ref, img); err != nil {
			return err
		}
		d, err := img.Digest()
		if err != nil {
			return err
		}
		fmt.Printf("%s@%s\n", ref.Context().Name(), d)
	}
	return nil
}

// proxy forwards to target, holding every answer for delay before sending it.
func proxy(args []string) error {
	fs := flag.NewFlagSet("proxy", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:5001", "address to listen on")
	target := fs.String("target", "127.0.0.1:5000", "registry host:port")
	delay := fs.Duration("delay", 20*time.Millisecond, "added to every answer")
	_ = fs.Parse(args)
	u, err := url.Parse("http://" + *target)
	if err != nil {
		return err
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	// Keep connections to the registry open for reuse: the proxy stands for
	// distance, and must not add connection churn of its own (the default
	// keeps 2 idle connections, so concurrent clients would pay for a new
	// backend connection per request).
	backend := http.DefaultTransport.(*http.Transport).Clone()
	backend.MaxIdleConns = 1024
	backend.MaxIdleConnsPerHost = 1024
	rp.Transport = backend
	rp.ModifyResponse = func(r *http.Response) error {
		time.Sleep(*delay)
		// Location headers point at the target; clients must come back through us.
		if loc := r.Header.Get("Location"); loc != "" {
			if l, err := url.Parse(loc); err == nil && l.Host == u.Host {
				l.Host = *listen
				r.Header.Set("Location", l.String())
			}
		}
		return nil
	}
	log.Printf("proxy %s -> %s, +%s per answer", *listen, *target, *delay)
	// GET /_bench/requests answers (and resets) how many requests were
	// forwarded, so the script can count what each tool asks per image.
	var forwarded atomic.Int64
	return http.ListenAndServe(*listen, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_bench/requests" {
			fmt.Fprintln(w, forwarded.Swap(0))
			return
		}
		forwarded.Add(1)
		rp.ServeHTTP(w, r)
	}))
}
