// Command bench is the tooling behind verify-vs-cosign.sh: it pushes sample
// images to a registry and runs a reverse proxy that delays every registry
// answer, to measure verification as if the registry were in another region.
//
//	go run ./examples/bench push -registry 127.0.0.1:5000 -n 50 > refs.txt
//	go run ./examples/bench proxy -listen 127.0.0.1:5001 -target 127.0.0.1:5000 -delay 20ms
//	curl -s 127.0.0.1:5001/_bench/requests   # requests forwarded since the last ask
package main
