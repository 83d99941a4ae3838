package registry

import "time"

// Limits on everything a registry or an OCI layout controls. A registry is
// a stranger: without these, a hostile one could make a verifier read a
// gigabyte, follow pages forever or allocate for a million layers. Each
// limit is enforced before the data is read (sizes claimed by descriptors
// and Content-Length) and again while it is read (hard caps on streams).
const (
	// MaxManifestSize caps a manifest, an index, a referrers page and an
	// image config: 4 MiB, as the distribution spec suggests for manifests.
	MaxManifestSize = 4 << 20

	// MaxAttachmentSize caps one attached layer (a signature payload, a
	// DSSE envelope, a Sigstore bundle, an SBOM): 16 MiB.
	MaxAttachmentSize = 16 << 20

	// MaxAttachments caps the attachments Discover reports for one image,
	// across all the places it looks. cosign uses the same number after
	// GHSA-vfp6-jrw2-99g9 ("endless data attack").
	MaxAttachments = 100

	// MaxReferrers caps the referrer manifests fetched per referrers listing
	// (the referrers API or the fallback tag index).
	MaxReferrers = 100

	// MaxLayers caps the descriptors in one manifest: the layers of an image
	// manifest or the manifests of an index (cosign: GHSA-95pr-fxf5-86gv).
	MaxLayers = 1000

	// MaxReferrerPages caps how many pages of a paginated referrers API
	// answer are followed.
	MaxReferrerPages = 10

	// DefaultTimeout bounds each Client call whose context has no deadline
	// of its own. A context deadline, when set, always wins.
	DefaultTimeout = 60 * time.Second

	// DefaultTagTTL is how long a tag's answer (its digest, or its absence)
	// and a referrers listing are reused before the registry is asked again.
	DefaultTagTTL = 10 * time.Second

	// DefaultCacheSize bounds the in-memory cache of manifests and content
	// fetched by digest, in bytes.
	DefaultCacheSize = 64 << 20

	// DefaultRetries is how many times a request that failed with 429, a 5xx
	// status or a network error is retried (so at most DefaultRetries+1
	// attempts), with backoff, honouring Retry-After, within the deadline.
	DefaultRetries = 2
)
