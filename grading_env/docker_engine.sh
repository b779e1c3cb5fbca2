#!/usr/bin/env bash
# The Docker engine for tests/test_image.py, as `make test` uses it.
#   grading_env/docker_engine.sh start   as root: install docker.io and debootstrap when missing, start dockerd
#                                        (no iptables, no bridge: containers run with --network none and the
#                                        image builds offline), wait until it answers
#   grading_env/docker_engine.sh tests   start (as root), then, when an engine answers, build the grading image
#                                        in the background (`make image`, niced; log build/image-build.log) so
#                                        that it overlaps the tests that run first; prints the mode for
#                                        DLGRADE_DOCKER_TESTS: "require" when the image tests will run, "skip"
#                                        when DLGRADE_DOCKER_TESTS=skip, else "auto" (they skip, saying why)
#   grading_env/docker_engine.sh stop    stop the background build and the engine this script started
# Messages go to standard error; the engine's log is build/dockerd.log.
set -euo pipefail
cd "$(dirname "$0")/.."
ENGINE_PID=build/dockerd.pid
BUILD_PID=build/image-build.pid
DOCKER="$(command -v docker || echo /usr/bin/docker)"
say() { echo "docker_engine: $*" >&2; }

start() {
    [ "$(id -u)" = 0 ] || { say "not root: using an engine only if one already answers"; return 0; }
    missing=""
    command -v dockerd >/dev/null || missing="docker.io"
    command -v debootstrap >/dev/null || missing="$missing debootstrap"
    if [ -n "$missing" ]; then
        say "installing$missing"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null; } \
            || { say "could not install$missing"; return 0; }
        DOCKER="$(command -v docker || echo /usr/bin/docker)"
    fi
    if ! "$DOCKER" info >/dev/null 2>&1; then
        mkdir -p build
        dockerd --iptables=false --bridge=none --storage-driver=overlay2 >build/dockerd.log 2>&1 &
        echo $! > "$ENGINE_PID"
        for _ in $(seq 60); do "$DOCKER" info >/dev/null 2>&1 && break; sleep 1; done
    fi
    "$DOCKER" info --format 'docker_engine: engine {{.ServerVersion}}, storage {{.Driver}}' >&2 \
        || say "dockerd did not answer within 60 s (build/dockerd.log)"
}

tests() {
    if [ "${DLGRADE_DOCKER_TESTS:-auto}" = skip ]; then echo skip; return 0; fi
    start
    if ! "$DOCKER" info >/dev/null 2>&1; then echo "${DLGRADE_DOCKER_TESTS:-auto}"; return 0; fi
    mkdir -p build
    rm -f build/image-build.status
    # setsid: the build is its own process group, so `stop` ends all of it
    setsid nohup nice -n 19 bash -c 'make image >build/image-build.log 2>&1; echo $? >build/image-build.status' \
        >/dev/null 2>&1 </dev/null &
    echo $! > "$BUILD_PID"
    say "building the grading image in the background (build/image-build.log)"
    echo require
}

stop() {
    if [ -f "$BUILD_PID" ]; then
        kill -- "-$(cat "$BUILD_PID")" 2>/dev/null || true
        rm -f "$BUILD_PID"
    fi
    if [ -f "$ENGINE_PID" ]; then
        kill "$(cat "$ENGINE_PID")" 2>/dev/null || true
        for _ in $(seq 30); do kill -0 "$(cat "$ENGINE_PID")" 2>/dev/null || break; sleep 1; done
        rm -f "$ENGINE_PID"
        say "dockerd stopped"
    fi
}

case "${1:-}" in
    start) start ;;
    tests) tests ;;
    stop) stop ;;
    *) say "usage: $0 start|tests|stop"; exit 2 ;;
esac
