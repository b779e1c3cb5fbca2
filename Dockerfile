# dlgrade grading image, first version (issue 4 adds datasets and the Gradescope entrypoint).
# Same Python (3.11) and the same pins as the local .venv (grading_env/requirements.txt); the CUDA
# libraries come from TensorFlow's own [and-cuda] extra, and TensorFlow falls back to the CPU when no
# GPU is visible.
FROM python:3.11.7-slim-bookworm

ENV TF_FORCE_GPU_ALLOW_GROWTH=true \
    TF_CPP_MIN_LOG_LEVEL=2 \
    PYTHONDONTWRITEBYTECODE=1 \
    DLGRADE_COURSE_ROOT=/opt/dlgrade

WORKDIR /opt/dlgrade
COPY grading_env/requirements.txt grading_env/requirements.txt
RUN pip install --no-cache-dir -r grading_env/requirements.txt "tensorflow[and-cuda]==2.21.0"

COPY pyproject.toml README.md ./
COPY autograder autograder
COPY solutions solutions
COPY assignments assignments
RUN pip install --no-cache-dir --no-deps -e . \
    && chmod -R go-rwx autograder/exercises solutions

# The grader runs as root so that it can create namespaces (run with --cap-add SYS_ADMIN) and drop each
# sandbox to an unprivileged uid; the hidden material above is readable by root only.
ENTRYPOINT ["dlgrade"]
CMD ["--help"]
