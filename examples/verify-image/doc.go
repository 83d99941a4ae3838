// Command verify-image shows vouch as a library: it verifies the signed sample
// image with the example key, offline, and prints the verdict as JSON.
//
//	go run ./examples/verify-image
//	go run ./examples/verify-image -key other.pub   # a denial: exit 1
package main
