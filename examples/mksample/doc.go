// Command mksample writes the unsigned sample image of examples/sample-image:
// a one-layer image in an OCI layout, built byte for byte the same every time
// (fixed file contents and timestamps), so its digest is stable.
//
//	go run ./examples/mksample examples/sample-image
//
// examples/README.md says how the committed layout was then signed.
package main
