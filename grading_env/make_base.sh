#!/usr/bin/env bash
# A Debian bookworm base image with Python 3.11, made locally for machines that cannot reach Docker Hub (CI):
# debootstrap's minbase plus python3, python3-venv and ca-certificates, imported as NAME. Nothing is done
# when NAME exists already. `make image` builds the grading image on it (BASE_IMAGE=NAME); with Docker Hub,
# the Dockerfile's default python:3.11.7-slim-bookworm serves instead.
#   grading_env/make_base.sh [NAME]        (default dlgrade-base:bookworm); needs root, debootstrap, docker
set -euo pipefail
NAME="${1:-dlgrade-base:bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
if docker image inspect "$NAME" >/dev/null 2>&1; then
    echo "make_base: $NAME exists"
    exit 0
fi
if ! command -v debootstrap >/dev/null; then
    echo "make_base: debootstrap is missing (apt-get install debootstrap)" >&2
    exit 1
fi
ROOTFS="$(mktemp -d /var/tmp/dlgrade-base.XXXXXX)"
trap 'rm -rf "$ROOTFS"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$ROOTFS" "$MIRROR" \
    >"$ROOTFS.log" 2>&1 || { tail -20 "$ROOTFS.log" >&2; exit 1; }
rm -f "$ROOTFS.log"
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
tar -C "$ROOTFS" -c . | docker import --change 'CMD ["/bin/bash"]' - "$NAME"
echo "make_base: imported $NAME"
