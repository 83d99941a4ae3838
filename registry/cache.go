package registry

import (
	"container/list"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// contentCache holds digest-verified bytes (manifests and blobs) by
// digest, least recently used first out, bounded in total bytes. Content is
// addressed by its digest, so an entry is valid whichever repository or
// layout it came from.
type contentCache struct {
	mu    sync.Mutex
	max   int64
	size  int64
	ll    *list.List
	items map[string]*list.Element
}

type cacheEntry struct {
	digest    string
	mediaType string
	data      []byte
}

func newContentCache(max int64) *contentCache {
	return &contentCache{max: max, ll: list.New(), items: map[string]*list.Element{}}
}

func (c *contentCache) get(digest string) (cacheEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[digest]
	if !ok {
		return cacheEntry{}, false
	}
	c.ll.MoveToFront(el)
	return el.Value.(cacheEntry), true
}

func (c *contentCache) put(digest, mediaType string, data []byte) {
	n := int64(len(data))
	if c.max <= 0 || n > c.max/4 {
		return // a single huge entry would flush everything else
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[digest]; ok {
		c.ll.MoveToFront(el)
		return
	}
	c.items[digest] = c.ll.PushFront(cacheEntry{digest, mediaType, data})
	c.size += n
	for c.size > c.max {
		el := c.ll.Back()
		e := el.Value.(cacheEntry)
		c.ll.Remove(el)
		delete(c.items, e.digest)
		c.size -= int64(len(e.data))
	}
}

// tagCache remembers, for a short time, what mutable names answered: a
// tag's descriptor or its absence, a referrers listing.
type tagCache struct {
	mu    sync.Mutex
	ttl   time.Duration
	now   func() time.Time
	items map[string]tagEntry
}

type tagEntry struct {
	desc      v1.Descriptor   // tag: what it points at
	referrers []v1.Descriptor // referrers listing
	notFound  bool            // tag: absent
	noAPI     bool            // referrers: no referrers API
	expires   time.Time
}

const maxTagEntries = 10000

func newTagCache(ttl time.Duration, now func() time.Time) *tagCache {
	return &tagCache{ttl: ttl, now: now, items: map[string]tagEntry{}}
}

func (c *tagCache) get(key string) (tagEntry, bool) {
	if c.ttl <= 0 {
		return tagEntry{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[key]
	if !ok || !c.now().Before(e.expires) {
		return tagEntry{}, false
	}
	return e, true
}

func (c *tagCache) put(key string, e tagEntry) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.items) >= maxTagEntries {
		for k, v := range c.items {
			if !now.Before(v.expires) {
				delete(c.items, k)
			}
		}
		for k := range c.items { // still full: drop arbitrary entries
			if len(c.items) < maxTagEntries {
				break
			}
			delete(c.items, k)
		}
	}
	e.expires = now.Add(c.ttl)
	c.items[key] = e
}

func (c *tagCache) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.items, key)
}
