package registrytest

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// DistributionBinary is where the Debian package docker-registry installs
// the CNCF distribution registry.
const DistributionBinary = "/usr/bin/docker-registry"

// Distribution starts the real CNCF distribution registry
// (DistributionBinary, "docker-registry serve config.yml") on a free
// 127.0.0.1 port with its storage in a temporary directory, and stops it
// when the test ends. Requests go through a logging proxy, so Count,
// Requests and hooks work as with New. Distribution 2.8 has no referrers
// API: clients must use the referrers fallback tag.
//
// Without the binary the test is skipped, or fails when
// VOUCH_REQUIRE_INTEGRATION=1 (see Require).
func Distribution(t testing.TB) *Registry {
	t.Helper()
	bin := DistributionBinary
	if _, err := os.Stat(bin); err != nil {
		p, lerr := exec.LookPath("docker-registry")
		if lerr != nil {
			Require(t, "%s not found: install the Debian package docker-registry (apt-get install docker-registry)", bin)
			return nil
		}
		bin = p
	}
	dir := t.TempDir()
	var (
		cmd    *exec.Cmd
		out    syncBuffer
		direct string
	)
	for attempt := 0; ; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		direct = fmt.Sprintf("127.0.0.1:%d", port)
		cfg := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %s
`, filepath.Join(dir, "data"), direct)
		cfgPath := filepath.Join(dir, "config.yml")
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd = exec.Command(bin, "serve", cfgPath)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", bin, err)
		}
		if waitReady(direct, cmd, 15*time.Second) {
			break
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if attempt == 2 {
			t.Fatalf("%s did not start on %s:\n%s", bin, direct, out.String())
		}
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() && out.Len() > 0 {
			t.Logf("docker-registry output:\n%s", out.String())
		}
	})
	target, _ := url.Parse("http://" + direct)
	proxy := httputil.NewSingleHostReverseProxy(target)
	r := serve(t, proxy)
	proxy.ModifyResponse = func(resp *http.Response) error {
		// Upload locations name the host the registry was asked for; keep
		// clients on the logging proxy.
		if loc := resp.Header.Get("Location"); loc != "" {
			resp.Header.Set("Location", strings.Replace(loc, direct, r.Host, 1))
		}
		return nil
	}
	return r
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitReady(hostport string, cmd *exec.Cmd, within time.Duration) bool {
	deadline := time.Now().Add(within)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		resp, err := client.Get("http://" + hostport + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}
