#!/usr/bin/env bash
# The grading image's Python packages, downloaded on the host into a wheelhouse that `docker build` installs
# with `pip install --no-index`, so the build needs no network and installs the same files every time:
# grading_env/requirements.txt, cuda-requirements.txt and data-packages.txt (each pinned), pip's own wheels,
# for the image's CPython 3.11 on manylinux x86_64. A wheelhouse complete for the current pin files is left
# as it is, without asking the index (so a warm `make image` runs offline).
#   grading_env/make_wheelhouse.sh [DIR]        (default build/image/wheels)
set -euo pipefail
cd "$(dirname "$0")/.."
DEST="${1:-build/image/wheels}"
PIP="${PIP:-python3 -m pip}"
PINS=(grading_env/requirements.txt grading_env/cuda-requirements.txt grading_env/data-packages.txt)
STAMP="$(cat "${PINS[@]}" "$0" | sha256sum | cut -c1-64)"
if [ "$(cat "$DEST/.complete" 2>/dev/null)" = "$STAMP" ]; then
    echo "wheelhouse $DEST: complete for the current pins"
    exit 0
fi
mkdir -p "$DEST"
platforms=()
for tag in manylinux2014_x86_64 manylinux_2_{5..36}_x86_64 linux_x86_64; do  # bookworm: glibc 2.36
    platforms+=(--platform "$tag")
done
# --no-deps: the pin files are the whole closure (pip freeze), so nothing unpinned can slip in.
$PIP download --quiet --dest "$DEST" --only-binary=:all: --no-deps --python-version "${PYTHON_VERSION:-3.11.7}" \
    --implementation cp \
    --abi cp311 --abi abi3 --abi none "${platforms[@]}" \
    "${PINS[@]/#/-r}" setuptools==75.6.0  # setuptools: the build backend of `pip install -e .` in the image
# Debian bookworm's Python is 3.11.2: name the wheels that declare a newer one (installed with
# --ignore-requires-python; the Dockerfile says which and why).
python3 - "$DEST" <<'PY'
import re, sys, zipfile
from pathlib import Path
for wheel in sorted(Path(sys.argv[1]).glob("*.whl")):
    with zipfile.ZipFile(wheel) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        found = re.search(r"^Requires-Python: *>= *3\.11\.(\d+)", z.read(meta).decode("utf-8", "replace"), re.M)
    if found and int(found.group(1)) > 2:
        print(f"wheelhouse: {wheel.name} requires Python >= 3.11.{found.group(1)} (Debian bookworm has 3.11.2)")
PY
echo "$STAMP" > "$DEST/.complete"
echo "wheelhouse $DEST: $(ls "$DEST" | wc -l) files, $(du -sh "$DEST" | cut -f1)"
