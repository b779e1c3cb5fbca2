#!/usr/bin/env bash
# The grading image's costs on this machine: `make image` with nothing changed and after a change of the
# engine's sources, the image's size, and one ch04_xor grading of the reference inside a container
# (--network none, SYS_ADMIN) and outside (the local .venv), three each, interleaved. A cold build is timed
# by hand (docker rmi dlgrade && docker builder prune -af, then `time make image`): see bench/RESULTS.md.
#   bench/bench_image.sh            (root, a Docker engine running; BIN=... for another venv's bin folder)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-.venv/bin}"
DOCKER="$(docker buildx version >/dev/null 2>&1 && echo docker || echo /usr/bin/docker)"  # as the Makefile picks
score() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1] + "/results.json"))["score"])' "$1"; }
seconds() { python3 -c 'import sys, time; print(f"{time.time() - float(sys.argv[1]):.1f}")' "$1"; }

start=$(date +%s.%N); make -s image BIN="$BIN" >/dev/null 2>&1; echo "make image, nothing changed: $(seconds "$start") s"
touch_file=autograder/dlgrade/__init__.py
cp "$touch_file" /tmp/bench_image_init.py && echo "# bench_image" >>"$touch_file"
start=$(date +%s.%N); make -s image BIN="$BIN" >/dev/null 2>&1; echo "make image, engine changed: $(seconds "$start") s"
cp /tmp/bench_image_init.py "$touch_file" && make -s image BIN="$BIN" >/dev/null 2>&1
"$DOCKER" image inspect dlgrade --format 'image size: {{.Size}} bytes'

out="$(mktemp -d)"
for i in 1 2 3; do
    start=$(date +%s.%N)
    "$DOCKER" run --rm --network none --cap-add SYS_ADMIN --security-opt apparmor=unconfined \
        -v "$PWD/solutions/ch04_xor:/submission:ro" -v "$out:/results" \
        dlgrade grade /submission/ch04_xor.ipynb --exercise ch04_xor --out /results >/dev/null
    echo "ch04_xor reference in the container, run $i: $(seconds "$start") s, $(score "$out")"
    start=$(date +%s.%N)
    "$BIN/dlgrade" grade solutions/ch04_xor/ch04_xor.ipynb --exercise ch04_xor --out "$out/host" >/dev/null
    echo "ch04_xor reference outside, run $i: $(seconds "$start") s, $(score "$out/host")"
done
rm -rf "$out"
