#!/usr/bin/env bash
# Measures `vouch verify` against `cosign verify` (v2.6.5) on the same images,
# side by side in one run, with hyperfine:
#   - 50 keyed, cosign-signed images in one call, registry on loopback;
#   - the same through a proxy that delays every registry answer by 20 ms;
#   - a single image, both ways.
# Needs: docker-registry, hyperfine, a cosign binary (COSIGN=path, default
# /tmp/cosign/cosign; build one with
#   GOBIN=/tmp/cosign go install github.com/sigstore/cosign/v2/cmd/cosign@v2.6.5).
# Usage: examples/bench/verify-vs-cosign.sh [N_IMAGES]   (results in bench-out/)
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-50}
COSIGN=${COSIGN:-/tmp/cosign/cosign}
OUT=${OUT:-$(pwd)/bench-out}
WORK=$(mktemp -d)
PORT=${PORT:-5791}
PROXY_PORT=$((PORT + 1))
mkdir -p "$OUT"
cleanup() { kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

go build -o "$WORK/vouch" ./cmd/vouch
go build -o "$WORK/bench" ./examples/bench

cat > "$WORK/registry.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $WORK/storage}}
http: {addr: 127.0.0.1:$PORT}
YML
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
"$WORK/bench" proxy -listen 127.0.0.1:$PROXY_PORT -target 127.0.0.1:$PORT -delay 20ms >"$WORK/proxy.log" 2>&1 &
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/v2/" >/dev/null && break; sleep 0.1; done

export COSIGN_PASSWORD="" TUF_ROOT="$WORK/tuf" HOME="$WORK"
(cd "$WORK" && "$COSIGN" generate-key-pair >/dev/null 2>&1)
"$WORK/bench" push -registry 127.0.0.1:$PORT -n "$N" >"$WORK/refs.txt"
# The same images in other repositories, named through the proxy: a
# signature names the repository it was made for (the simple-signing
# docker-reference), so the far images are signed under their far name, as
# images in a distant registry are.
"$WORK/bench" push -registry 127.0.0.1:$PORT -n "$N" -repo bench/far >"$WORK/refs-far-direct.txt"
sed "s/:$PORT\//:$PROXY_PORT\//" "$WORK/refs-far-direct.txt" >"$WORK/refs-far.txt"
for f in refs.txt refs-far.txt; do
	while read -r ref; do
		"$COSIGN" sign --key "$WORK/cosign.key" --tlog-upload=false --allow-http-registry -y "$ref" >/dev/null 2>&1
	done <"$WORK/$f"
done

near=$(tr '\n' ' ' <"$WORK/refs.txt")
far=$(tr '\n' ' ' <"$WORK/refs-far.txt")
one=$(head -1 "$WORK/refs.txt")
onefar=$(head -1 "$WORK/refs-far.txt")
C="$COSIGN verify --key $WORK/cosign.pub --insecure-ignore-tlog --allow-http-registry"
V="$WORK/vouch verify --key $WORK/cosign.pub --insecure-ignore-tlog --allow-insecure-registry"

# Both tools must pass on these images before anything is timed.
$C $one >/dev/null 2>&1 || { echo "cosign cannot verify $one" >&2; exit 1; }
$C $onefar >/dev/null 2>&1 || { echo "cosign cannot verify $onefar" >&2; exit 1; }
$V $near >/dev/null 2>&1 || { echo "vouch cannot verify the images" >&2; exit 1; }
$V $far >/dev/null 2>&1 || { echo "vouch cannot verify the far images" >&2; exit 1; }

# Registry requests per image, counted by the proxy (one run of each tool on
# all N images; each process starts cold: its ping is included).
count() { curl -sf "http://127.0.0.1:$PROXY_PORT/_bench/requests"; }
count >/dev/null
$C $far >/dev/null 2>&1
creq=$(count)
$V $far >/dev/null 2>&1
vreq=$(count)
echo "requests for $N images: cosign $creq, vouch $vreq" | tee "$OUT/requests.txt"
echo "load before timing: $(uptime)" | tee "$OUT/load.txt"

hf() { hyperfine --style basic --warmup 1 --runs "$1" --export-json "$OUT/$2.json" -n cosign "$3 >/dev/null 2>&1" -n vouch "$4 >/dev/null 2>&1"; }
hf 10 "batch-$N-loopback" "$C $near" "$V $near"
hf 3 "batch-$N-20ms" "$C $far" "$V $far"
hf 20 "single-loopback" "$C $one" "$V $one"
hf 10 "single-20ms" "$C $onefar" "$V $onefar"

echo "load after timing: $(uptime)" | tee -a "$OUT/load.txt"
python3 - "$OUT" <<'PY'
import json, sys, glob, os
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    r = {x["command"]: x for x in json.load(open(f))["results"]}
    c, v = r["cosign"]["mean"], r["vouch"]["mean"]
    print(f"{os.path.basename(f)[:-5]:24s} cosign {c*1000:8.1f} ms   vouch {v*1000:8.1f} ms   vouch/cosign {v/c:5.2f}")
PY
