#!/usr/bin/env bash
# One prepared check for a machine with an NVIDIA GPU (never run yet: no GPU was available when it was
# written; see bench/RESULTS.md). With a Docker engine and the NVIDIA container toolkit it loads or builds
# the grading image and checks inside containers (--gpus all, --network none); without Docker it runs the
# same checks with a venv made from the pins (grading_env/requirements.txt + cuda-requirements.txt).
#   1. nvidia-smi                              4. four ch04_xor gradings at once on the one GPU
#   2. TensorFlow lists the GPU                5. a GPU vs CPU timing table (CUDA_VISIBLE_DEVICES= for the CPU)
#   3. every exercise's reference graded on the GPU (exercises whose weights are not trained: skipped)
#
#   bench/gpu_check.sh [--image-tar dlgrade.tar] [--no-docker]     writes build/gpu_check/ and prints the table
#   EXERCISES="ch04_xor" bench/gpu_check.sh                         only these exercises in step 3
# Exit status: 0 when every check passed; 1 otherwise (the table says which).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=build/gpu_check
IMAGE="${IMAGE:-dlgrade}"
TAR="" USE_DOCKER=1
while [ $# -gt 0 ]; do
    case "$1" in
        --image-tar) TAR="$2"; shift 2;;
        --no-docker) USE_DOCKER=0; shift;;
        *) echo "usage: $0 [--image-tar FILE] [--no-docker]" >&2; exit 2;;
    esac
done
rm -rf "$OUT" && mkdir -p "$OUT"
failed=0
note() { printf '%-44s %s\n' "$1" "$2" | tee -a "$OUT/table.txt"; }
fail() { note "$1" "FAILED $2"; failed=1; }

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >"$OUT/nvidia-smi.txt" 2>&1 \
    && note "nvidia-smi" "$(head -1 "$OUT/nvidia-smi.txt")" || fail "nvidia-smi" "(no NVIDIA driver?)"

if [ "$USE_DOCKER" = 1 ] && ! docker info >/dev/null 2>&1; then
    echo "gpu_check: no Docker engine answers; checking with a venv instead" >&2
    USE_DOCKER=0
fi
if [ "$USE_DOCKER" = 1 ]; then
    if [ -n "$TAR" ]; then docker load -i "$TAR" >/dev/null; fi
    docker image inspect "$IMAGE" >/dev/null 2>&1 || make image IMAGE="$IMAGE" >"$OUT/build.log" 2>&1 \
        || { fail "image" "(make image: $OUT/build.log)"; exit 1; }
    SUB="$PWD/$OUT/submissions"
    # run GPU|CPU ARGS...: dlgrade in a fresh container with no network, submissions read-only
    run() {
        local gpu=(--gpus all); [ "$1" = CPU ] && gpu=(-e CUDA_VISIBLE_DEVICES=)
        shift
        docker run --rm --network none "${gpu[@]}" --cap-add SYS_ADMIN --security-opt apparmor=unconfined \
            -v "$SUB:/submissions:ro" -v "$PWD/$OUT:/out" "$IMAGE" "$@"
    }
    python_in() { docker run --rm --network none --gpus all --entrypoint python3 "$IMAGE" -c "$1"; }
    SUBMISSIONS="$SUB" OUT_IN=/out SUB_IN=/submissions HOST_PYTHON="${HOST_PYTHON:-.venv/bin/python}"
else
    VENV=build/gpu-venv
    if [ ! -x "$VENV/bin/dlgrade" ]; then
        python3 -m venv "$VENV" && "$VENV/bin/pip" install --quiet -r grading_env/requirements.txt \
            -r grading_env/cuda-requirements.txt && "$VENV/bin/pip" install --quiet --no-deps \
            -r grading_env/data-packages.txt && "$VENV/bin/pip" install --quiet --no-deps -e . \
            || { fail "venv" "(pip install of the pins)"; exit 1; }
    fi
    run() {
        local device="$1"; shift
        if [ "$device" = CPU ]; then CUDA_VISIBLE_DEVICES= "$VENV/bin/dlgrade" "$@"; else "$VENV/bin/dlgrade" "$@"; fi
    }
    python_in() { "$VENV/bin/python" -c "$1"; }
    SUBMISSIONS="$PWD/$OUT/submissions" OUT_IN="$PWD/$OUT" SUB_IN="$PWD/$OUT/submissions" HOST_PYTHON="$VENV/bin/python"
fi

gpus=$(python_in 'import tensorflow as tf; print(len(tf.config.list_physical_devices("GPU")))' 2>"$OUT/tf.log" \
    | tail -1)
[ "${gpus:-0}" -ge 1 ] 2>/dev/null && note "TensorFlow sees the GPU" "$gpus GPU(s)" \
    || fail "TensorFlow sees the GPU" "(0 GPUs; $OUT/tf.log)"

# Submissions: each exercise's solution with the reference weights of this machine's training cache.
mkdir -p "$SUBMISSIONS"
[ -x "$HOST_PYTHON" ] || HOST_PYTHON=python3  # reads the exercises and this machine's training cache
exercises="${EXERCISES:-$(PYTHONPATH=autograder "$HOST_PYTHON" -c \
    'from dlgrade.exercise import exercise_ids; print(*exercise_ids())' 2>/dev/null \
    || ls autograder/exercises | grep '^ch')}"
for id in $exercises; do
    mkdir -p "$SUBMISSIONS/$id" && cp "solutions/$id/$id.ipynb" "$SUBMISSIONS/$id/"
    PYTHONPATH=autograder "$HOST_PYTHON" - "$id" "$SUBMISSIONS/$id" <<'PY' 2>/dev/null || true
import shutil, sys
from dlgrade.datasets.locate import cache_root
from dlgrade.exercise import load_exercise
from dlgrade.reference_weights import weights_key
exercise = load_exercise(sys.argv[1])
if exercise.reference_weights:
    folder = cache_root() / "reference-weights" / exercise.id / weights_key(exercise)
    for name in exercise.reference_weights["files"]:
        shutil.copy(folder / name, sys.argv[2])
PY
done

seconds() { python3 -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.1f}")' "$1" "$2"; }
# grade_one DEVICE ID NAME: seconds and score of one grading
grade_one() {
    local start end score
    start=$(date +%s.%N)
    run "$1" grade "$SUB_IN/$2" --exercise "$2" --out "$OUT_IN/$3" >"$OUT/$3.log" 2>&1
    end=$(date +%s.%N)
    score=$(python3 -c 'import json, sys; r = json.load(open(sys.argv[1]))
print("%g/%g" % (r["score"], r["max_score"]))' "$OUT/$3/results.json" 2>/dev/null || echo "no results")
    echo "$(seconds "$start" "$end") $score"
}

printf '\n%-20s %8s %8s %11s %11s\n' exercise "GPU s" "CPU s" "GPU score" "CPU score" | tee -a "$OUT/table.txt"
for id in $exercises; do
    read -r gpu_s gpu_score < <(grade_one GPU "$id" "$id-gpu")
    read -r cpu_s cpu_score < <(grade_one CPU "$id" "$id-cpu")
    printf '%-20s %8s %8s %11s %11s\n' "$id" "$gpu_s" "$cpu_s" "$gpu_score" "$cpu_score" | tee -a "$OUT/table.txt"
    case "$gpu_score" in */*) [ "${gpu_score%/*}" = "${gpu_score#*/}" ] || failed=1;; *) failed=1;; esac
done

start=$(date +%s.%N)
for i in 1 2 3 4; do grade_one GPU ch04_xor "parallel-$i" >"$OUT/parallel-$i.txt" & done
wait
end=$(date +%s.%N)
printf '\n%-44s %s s wall; %s\n' "four ch04_xor gradings at once (GPU)" "$(seconds "$start" "$end")" \
    "$(cat "$OUT"/parallel-*.txt | tr '\n' ' ')" | tee -a "$OUT/table.txt"
grep -qv '16/16' "$OUT"/parallel-*.txt && failed=1
nvidia-smi --query-gpu=memory.used --format=csv,noheader >>"$OUT/nvidia-smi.txt" 2>&1
exit $failed
