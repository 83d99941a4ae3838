package registry

import (
	"encoding/json"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// DefaultOpenRegistryTTL is how long WithOpenRegistryCache trusts a
// remembered "no authentication required" answer.
const DefaultOpenRegistryTTL = time.Hour

// maxOpenCacheEntry caps what is read from one cache file.
const maxOpenCacheEntry = 4 << 10

// openCache remembers, across processes, which registries answered the
// ping with no authentication challenge, and over which scheme, so a later
// process can skip the ping round trip. Nothing else is remembered: a cached
// authentication realm could send credentials elsewhere, so registries that
// ask for authentication are always pinged. An entry is only a guess: a
// request that answers 401 (or cannot connect) under it forgets it, pings
// and tries again.
type openCache struct {
	dir string
	ttl time.Duration
	now func() time.Time
}

type openEntry struct {
	Scheme  string    `json:"scheme"`
	Checked time.Time `json:"checked"`
}

func (oc *openCache) file(host string) string {
	return filepath.Join(oc.dir, url.PathEscape(host)+".json")
}

// lookup returns the remembered scheme of host, or "".
func (oc *openCache) lookup(host string) string {
	f, err := os.Open(oc.file(host))
	if err != nil {
		return ""
	}
	defer f.Close()
	var e openEntry
	if err := json.NewDecoder(io.LimitReader(f, maxOpenCacheEntry)).Decode(&e); err != nil {
		return ""
	}
	age := oc.now().Sub(e.Checked)
	if age < 0 || age > oc.ttl || (e.Scheme != "https" && e.Scheme != "http") {
		return ""
	}
	return e.Scheme
}

// remember records that host needs no authentication over scheme. Errors
// are ignored: the cache only saves a round trip.
func (oc *openCache) remember(host, scheme string) {
	if err := os.MkdirAll(oc.dir, 0o700); err != nil {
		return
	}
	b, err := json.Marshal(openEntry{Scheme: scheme, Checked: oc.now().UTC()})
	if err != nil {
		return
	}
	tmp, err := os.CreateTemp(oc.dir, ".entry-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), oc.file(host)) != nil {
		_ = os.Remove(tmp.Name())
	}
}

func (oc *openCache) forget(host string) { _ = os.Remove(oc.file(host)) }
