// Package registrytest starts registries for tests: go-containerregistry's
// in-process registry ([New], with or without the OCI referrers API) and
// the real CNCF distribution registry ([Distribution], /usr/bin/docker-registry
// on a free loopback port). Both log every request they answer ([Registry.Count],
// [Registry.Requests]) and can be made hostile with [Hook]s: a status code
// per path, slow answers, replaced bodies, endless bodies.
//
// [Require] is the rule for tests that need something the machine may lack:
// skip, unless VOUCH_REQUIRE_INTEGRATION=1 (CI), then fail.
//
// It is test support: it reads that environment variable and calls
// testing.TB, so only tests import it.
package registrytest
