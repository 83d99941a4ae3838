package generate

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	_ "modernc.org/sqlite" // rpm databases in SQLite form (RHEL 9, Fedora)

	"github.com/anchore/stereoscope"
	"github.com/anchore/stereoscope/pkg/image"
	"github.com/anchore/syft/syft"
	"github.com/anchore/syft/syft/cataloging"
	"github.com/anchore/syft/syft/cataloging/pkgcataloging"
	"github.com/anchore/syft/syft/license"
	"github.com/anchore/syft/syft/pkg"
	"github.com/anchore/syft/syft/pkg/cataloger/golang"
	syftsbom "github.com/anchore/syft/syft/sbom"
	"github.com/anchore/syft/syft/source"
	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/vouchdev/vouch/sbom"
)

// Generator makes SBOMs with syft as a library. It is long-lived: syft's
// license scanner, which takes 1.5–2.3 s to build, is built once by
// NewGenerator and shared by every Generate call. A Generator is safe for
// concurrent use.
type Generator struct {
	o options
	// scanner carries syft's license scanner as a context value. syft
	// keeps the scanner type internal, so the value can only travel in a
	// context; this one is never cancelled and serves only Value lookups
	// (see withValuesOf). Deadlines and cancellation are the caller's.
	scanner context.Context
}

// Option configures a Generator.
type Option func(*options) error

type options struct {
	toolName, toolVersion string
	keychain              authn.Keychain
	insecureHTTP          bool
	caFile                string
	parallelism           int
	progress              func(stage string)
}

// WithTool names the program recorded as the SBOM's creator (SPDX
// creators, CycloneDX metadata.tools, syft descriptor). The default is
// syft and the syft version built in.
func WithTool(name, version string) Option {
	return func(o *options) error {
		if name == "" {
			return &sbom.UsageError{Msg: "WithTool needs a name"}
		}
		o.toolName, o.toolVersion = name, version
		return nil
	}
}

// WithKeychain sets how registry credentials are found for registry
// sources. The default is anonymous access: a library does not read
// ~/.docker/config.json or run credential helpers unless the caller hands
// it authn.DefaultKeychain.
func WithKeychain(k authn.Keychain) Option {
	return func(o *options) error {
		o.keychain = k
		return nil
	}
}

// WithInsecureRegistryHTTP lets registry sources use plain HTTP for any
// host. Without it, only localhost, loopback and private addresses may
// fall back to HTTP (go-containerregistry's rule). The default is HTTPS.
func WithInsecureRegistryHTTP() Option {
	return func(o *options) error {
		o.insecureHTTP = true
		return nil
	}
}

// WithRegistryCA adds the certificates in a PEM file, or in the *.crt,
// *.pem and *.cert files of a directory, to the roots trusted for registry
// TLS. The default is the system roots.
func WithRegistryCA(path string) Option {
	return func(o *options) error {
		o.caFile = path
		return nil
	}
}

// WithParallelism bounds the cataloging tasks run at once: 1 is serial, 0
// is syft's default (four per CPU). The default is 0.
func WithParallelism(n int) Option {
	return func(o *options) error {
		if n < 0 {
			return &sbom.UsageError{Msg: "WithParallelism needs 0 or more"}
		}
		o.parallelism = n
		return nil
	}
}

// WithProgress calls f as generation moves through its stages ("reading
// source", "cataloging", "done"), for progress display. f must be quick and
// safe for concurrent calls. The default is no progress reports.
func WithProgress(f func(stage string)) Option {
	return func(o *options) error {
		o.progress = f
		return nil
	}
}

// NewGenerator builds a Generator and its license scanner.
func NewGenerator(ctx context.Context, opts ...Option) (*Generator, error) {
	var o options
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if o.keychain == nil {
		o.keychain = authn.NewMultiKeychain() // resolves to anonymous
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	scanner, err := syft.SetContextLicenseScanner(context.Background(), cataloging.DefaultLicenseConfig())
	if err != nil {
		return nil, fmt.Errorf("sbom: building the license scanner: %w", err)
	}
	return &Generator{o: o, scanner: scanner}, nil
}

// GenerateOption configures one Generate call.
type GenerateOption func(*generateOptions) error

type generateOptions struct {
	platform      string
	name, version string
	exclude       []string
}

// WithPlatform selects an image for a platform ("linux/arm64",
// "linux/arm/v7") from a multi-platform index or layout. Only image
// sources take a platform. The default is the host's platform for an index
// and the image itself for a single image.
func WithPlatform(p string) GenerateOption {
	return func(o *generateOptions) error {
		if _, err := image.NewPlatform(p); err != nil {
			return &sbom.UsageError{Msg: "bad platform " + strconv.Quote(p) + ": use os/arch[/variant], e.g. linux/arm64"}
		}
		o.platform = p
		return nil
	}
}

// WithName sets the name and version of what is described (the SBOM's
// subject), instead of the path or reference. The default is derived from
// the source.
func WithName(name, version string) GenerateOption {
	return func(o *generateOptions) error {
		o.name, o.version = name, version
		return nil
	}
}

// WithExclude skips paths matching these globs (syft syntax:
// "./node_modules/**", "**/*.jar"). The default excludes nothing.
func WithExclude(globs ...string) GenerateOption {
	return func(o *generateOptions) error {
		o.exclude = append(o.exclude, globs...)
		return nil
	}
}

// Generate scans source and returns its SBOM. source is one of
//
//	oci-dir:PATH          an OCI image layout directory
//	oci-archive:FILE      a tar of an OCI image layout
//	docker-archive:FILE   a `docker save` tar
//	dir:PATH              a directory (lockfiles and manifests)
//	file:PATH             a single file
//	registry:REF or REF   an image in a registry
//
// Each scheme names exactly one syft source provider, so local sources make
// no network call and a mistyped path fails instead of falling through to a
// Docker daemon or a registry. The Go cataloger reads go.mod, go.sum and
// binaries and never runs the go toolchain; no cataloger searches the
// network for licenses. syft's temporary directories are removed before
// Generate returns.
func (g *Generator) Generate(ctx context.Context, src string, opts ...GenerateOption) (*SBOM, error) {
	var o generateOptions
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	spec, err := parseSource(src)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sbom: generating for %s: %w", strconv.Quote(src), err)
	}
	if o.platform != "" && spec.kind != sbom.SourceImage {
		return nil, &sbom.UsageError{Msg: "a platform applies to image sources only, not " + strconv.Quote(src)}
	}
	s, err := g.scan(withValuesOf(ctx, g.scanner), spec, o)
	if err != nil {
		return nil, err
	}
	// Some catalogers do not watch the context; a result that arrives
	// after the deadline is still late.
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sbom: generating for %s: %w", strconv.Quote(src), err)
	}
	return &SBOM{Document: documentOf(s), model: s}, nil
}

// SBOM is a generated SBOM: the Document that comparisons and rules read,
// and syft's full model, which Encode writes.
type SBOM struct {
	*sbom.Document
	model *syftsbom.SBOM
}

func (g *Generator) stage(s string) {
	if g.o.progress != nil {
		g.o.progress(s)
	}
}

func (g *Generator) scan(ctx context.Context, spec sourceSpec, o generateOptions) (*syftsbom.SBOM, error) {
	release := acquireStereoscope()
	defer release()

	cfg := syft.DefaultGetSourceConfig().
		WithSources(spec.provider).
		WithRegistryOptions(&image.RegistryOptions{
			Keychain:        g.o.keychain,
			InsecureUseHTTP: g.o.insecureHTTP,
			CAFileOrDir:     g.o.caFile,
		})
	if o.platform != "" {
		p, err := image.NewPlatform(o.platform)
		if err != nil {
			return nil, &sbom.UsageError{Msg: "bad platform " + strconv.Quote(o.platform)}
		}
		cfg = cfg.WithPlatform(p)
	}
	if o.name != "" {
		cfg = cfg.WithAlias(source.Alias{Name: o.name, Version: o.version})
	}
	if len(o.exclude) > 0 {
		cfg = cfg.WithExcludeConfig(source.ExcludeConfig{Paths: o.exclude})
	}

	g.stage("reading source")
	src, err := syft.GetSource(ctx, spec.input, cfg)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("sbom: reading %s source %s: %w", spec.provider, strconv.Quote(spec.input), ctxErr)
		}
		return nil, &SourceError{Provider: spec.provider, Input: spec.input, Err: err}
	}
	defer src.Close()

	g.stage("cataloging")
	s, err := syft.CreateSBOM(ctx, src, g.createConfig())
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("sbom: cataloging %s: %w", strconv.Quote(spec.input), ctxErr)
		}
		return nil, fmt.Errorf("sbom: cataloging %s: %w", strconv.Quote(spec.input), err)
	}
	g.stage("done")
	return s, nil
}

// createConfig is syft's default configuration with the Go cataloger kept
// off the go toolchain and the network.
func (g *Generator) createConfig() *syft.CreateSBOMConfig {
	pc := pkgcataloging.DefaultConfig()
	// syft's default reads GOPROXY, GOPRIVATE and GOPATH from the
	// environment; none of it is used with remote and mod-cache license
	// search off, and a library must not depend on it, so start clean.
	pc.Golang = golang.CatalogerConfig{
		UsePackagesLib:    false, // no `go list`, no module downloads
		MainModuleVersion: golang.DefaultMainModuleVersionConfig(),
		CaptureSymbols:    cataloging.SymbolScopeNone,
	}
	pc.JavaArchive.UseNetwork = false
	pc.JavaArchive.UseMavenLocalRepository = false
	pc.JavaArchive.MavenLocalRepositoryDir = "" // syft's default reads $HOME
	pc.JavaScript.SearchRemoteLicenses = false
	pc.Python.SearchRemoteLicenses = false
	cfg := syft.DefaultCreateSBOMConfig().WithPackagesConfig(pc).WithParallelism(g.o.parallelism)
	if g.o.toolName != "" {
		cfg = cfg.WithTool(g.o.toolName, g.o.toolVersion)
	}
	return cfg
}

// SourceError says a source could not be opened by its provider.
type SourceError struct {
	Provider string
	Input    string
	Err      error
}

func (e *SourceError) Error() string {
	return fmt.Sprintf("sbom: cannot read %s as %s: %v", strconv.Quote(e.Input), e.Provider, e.Err)
}

func (e *SourceError) Unwrap() error { return e.Err }

// stereoscope keeps one process-wide temporary root; stereoscope.Cleanup
// removes it and everything under it, including directories of scans in
// progress. Generate calls hold a reference and the last one out cleans.
var stereoscopeUsers struct {
	sync.Mutex
	n int
}

func acquireStereoscope() (release func()) {
	stereoscopeUsers.Lock()
	stereoscopeUsers.n++
	stereoscopeUsers.Unlock()
	return func() {
		stereoscopeUsers.Lock()
		defer stereoscopeUsers.Unlock()
		stereoscopeUsers.n--
		if stereoscopeUsers.n == 0 {
			stereoscope.Cleanup() //nolint:staticcheck // the only way to remove the root temp dir
		}
	}
}

// valuesCtx is ctx with Value lookups falling back to another context.
type valuesCtx struct {
	context.Context
	values context.Context
}

func (c valuesCtx) Value(key any) any {
	if v := c.Context.Value(key); v != nil {
		return v
	}
	return c.values.Value(key)
}

func withValuesOf(ctx, values context.Context) context.Context {
	return valuesCtx{Context: ctx, values: values}
}

// documentOf reduces syft's model to a Document, the way sbom.Decode
// reduces a syft JSON document, so generated and decoded SBOMs compare
// equal.
func documentOf(s *syftsbom.SBOM) *sbom.Document {
	d := &sbom.Document{
		Tool:        s.Descriptor.Name,
		ToolVersion: s.Descriptor.Version,
		SourceName:  s.Source.Name,
		Packages:    []sbom.Package{},
	}
	switch s.Source.Metadata.(type) {
	case source.ImageMetadata:
		d.SourceKind = sbom.SourceImage
	case source.DirectoryMetadata:
		d.SourceKind = sbom.SourceDirectory
	case source.FileMetadata:
		d.SourceKind = sbom.SourceFile
	}
	if r := s.Artifacts.LinuxDistribution; r != nil {
		d.Distro = strings.TrimSpace(cmp.Or(r.ID, r.Name) + " " + r.VersionID)
	}
	licenses := map[string]string{}
	for p := range s.Artifacts.Packages.Enumerate() {
		d.Packages = append(d.Packages, packageOf(p, licenses))
	}
	// syft enumerates a map: sort for a stable order.
	slices.SortFunc(d.Packages, func(a, b sbom.Package) int {
		return cmp.Or(strings.Compare(a.Key(), b.Key()), strings.Compare(a.Version, b.Version),
			slices.Compare(a.Locations, b.Locations), strings.Compare(a.Licenses, b.Licenses),
			strings.Compare(a.PURL, b.PURL), strings.Compare(a.Name, b.Name))
	})
	return d
}

// maxLocations is the most paths kept per package, as sbom.Decode does.
const maxLocations = 64

func packageOf(p pkg.Package, cache map[string]string) sbom.Package {
	out := sbom.Package{Name: p.Name, Version: p.Version, PURL: p.PURL, Ecosystem: sbom.Ecosystem(p.PURL, string(p.Type))}
	for _, l := range p.Locations.ToSlice() {
		if len(out.Locations) < maxLocations {
			out.Locations = append(out.Locations, l.RealPath)
		}
	}
	// As sbom.Decode reads syft JSON: the SPDX expression where syft found
	// one, else the value; concluded licenses over declared ones.
	var concluded, all []string
	for _, l := range p.Licenses.ToSlice() {
		text := cmp.Or(l.SPDXExpression, l.Value)
		if text == "" {
			continue
		}
		all = append(all, text)
		if l.Type == license.Concluded {
			concluded = append(concluded, text)
		}
	}
	if len(concluded) > 0 {
		all = concluded
	}
	key := strings.Join(all, "\x00")
	v, ok := cache[key]
	if !ok {
		v = sbom.NormalizeLicense(all...)
		cache[key] = v
	}
	out.Licenses = v
	return out
}
