# dlgrade grading image, first version (issue 4 adds datasets and the Gradescope entrypoint).
# GPU-capable: the official TensorFlow GPU image; TensorFlow falls back to the CPU when no GPU is visible.
FROM tensorflow/tensorflow:2.21.0-gpu

ENV TF_FORCE_GPU_ALLOW_GROWTH=true \
    TF_CPP_MIN_LOG_LEVEL=2 \
    PYTHONDONTWRITEBYTECODE=1 \
    DLGRADE_COURSE_ROOT=/opt/dlgrade

WORKDIR /opt/dlgrade
COPY grading_env/requirements.txt grading_env/requirements.txt
RUN pip install --no-cache-dir -r grading_env/requirements.txt

COPY pyproject.toml README.md ./
COPY autograder autograder
COPY solutions solutions
COPY assignments assignments
RUN pip install --no-cache-dir --no-deps -e . \
    && chmod -R go-rwx autograder/exercises solutions

# The grader runs as root so it can create namespaces (run with --cap-add SYS_ADMIN) and drop each
# sandbox to an unprivileged uid; hidden material is readable by root only.
ENTRYPOINT ["dlgrade"]
CMD ["--help"]
