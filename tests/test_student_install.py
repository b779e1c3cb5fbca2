"""What a student installs, from a release bundle alone: the wheel holds all of dlgrade's package data; a fresh
virtual environment made from the unpacked bundle (`pip install -r requirements.txt`, as its README says) runs
`dlgrade check` on the template (no public points) and the reference (every public point) with no checkout in
reach; `check` outside a bundle says what to do, and inside a course checkout uses the instructor's public tests;
`pack` imports no TensorFlow and warns about graded cells left as handed out.

The fresh venv gets dlgrade only from the bundle's wheel. Its other packages are hard links to those of the
environment running the tests (same versions as grading_env/requirements.txt), so the install needs no network:
`pip install --no-index` must find every pin already satisfied and installs the wheel. The venv lives under
build/ in the checkout, not in /tmp: the sandbox gives student code a fresh /tmp, which would hide the
interpreter. Nothing of the checkout is on its sys.path."""
import json
import os
import shutil
import site
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import pytest

from dlgrade.distribution import STUDENT_SIDE, build_distributions, student_requirements
from dlgrade.exercise import load_exercise

ROOT = Path(__file__).resolve().parents[1]
EXERCISE = load_exercise("ch04_xor")


def package_files() -> set[str]:
    package = ROOT / "autograder" / "dlgrade"
    return {str(p.relative_to(package.parent)) for p in package.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


def test_wheel_and_sdist_hold_every_file_of_the_package(tmp_path):
    wheel, sdist = build_distributions(out_dir=tmp_path, root=ROOT)
    expected = package_files()
    assert "dlgrade/datasets/manifest.toml" in expected
    assert expected <= set(zipfile.ZipFile(wheel).namelist())
    with tarfile.open(sdist) as archive:
        in_sdist = {name.split("/", 2)[2] for name in archive.getnames() if name.count("/") >= 2}
    assert expected <= in_sdist


@pytest.mark.parametrize("exercise_id, extra", [("ch04_xor", set()), ("ch20_dqn", {"gymnasium"}),
                                                ("ch18_transformer", {"tensorflow-text"})])
def test_requirements_add_what_the_exercise_imports(exercise_id, extra):
    """ch20's notebook imports gymnasium; ch18's loads its tokenizers with dlgrade, which needs tensorflow-text."""
    exercise = load_exercise(exercise_id)
    text = student_requirements(sources=[exercise.solution, exercise.public_tests], wheel_name="dlgrade.whl")
    pinned = {line.split("==")[0] for line in text.splitlines() if "==" in line}
    assert pinned - set(STUDENT_SIDE) == extra


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release")
    done = subprocess.run([sys.executable, "-m", "dlgrade", "release", "ch04_xor", "--out", str(out)],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    unpacked = tmp_path_factory.mktemp("student")
    zipfile.ZipFile(out / "ch04_xor.zip").extractall(unpacked)
    return unpacked / "ch04_xor"


def seed_packages(site_packages: Path) -> None:
    """Hard links (copies across file systems) of this environment's installed packages, without dlgrade."""
    source = Path(site.getsitepackages()[0])
    for entry in source.iterdir():
        if entry.name.lower().startswith(("dlgrade", "__editable__")) or str(ROOT) in _pth_text(entry):
            continue
        if entry.is_dir():
            shutil.copytree(entry, site_packages / entry.name, copy_function=_link_or_copy, symlinks=True)
        else:
            _link_or_copy(entry, site_packages / entry.name)


def _pth_text(entry: Path) -> str:
    return entry.read_text(errors="replace") if entry.suffix == ".pth" else ""


def _link_or_copy(source, target) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


@pytest.fixture(scope="module")
def student_env(bundle) -> dict:
    """A fresh venv with what the bundle's requirements.txt installs; its bin/ and an environment with no
    checkout, course or grader cache in reach."""
    (ROOT / "build").mkdir(exist_ok=True)
    venv = Path(tempfile.mkdtemp(prefix="student-venv-", dir=ROOT / "build"))
    venv.chmod(0o755)  # mkdtemp's 0700 would shut out the sandbox's user (another one when the tests run as root)
    nowhere = Path(tempfile.mkdtemp(prefix="no-course-"))
    try:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        [site_packages] = venv.glob("lib/python*/site-packages")
        seed_packages(site_packages)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
        env.update(DLGRADE_COURSE_ROOT=str(nowhere), DLGRADE_CACHE=str(nowhere), PATH=f"{venv / 'bin'}:{env['PATH']}")
        installed = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-index", "-r",
                                    "requirements.txt"], cwd=bundle, env=env, capture_output=True, text=True)
        assert installed.returncode == 0, installed.stdout[-2000:] + installed.stderr[-2000:]
        yield {"bin": venv / "bin", "env": env, "site_packages": site_packages}
    finally:
        shutil.rmtree(venv, ignore_errors=True)
        shutil.rmtree(nowhere, ignore_errors=True)


def dlgrade(student_env, *args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(student_env["bin"] / "dlgrade"), *args], cwd=cwd, env=student_env["env"],
                          capture_output=True, text=True, timeout=600)


def test_the_bundle_names_what_to_install_and_run(bundle):
    readme = (bundle / "README.md").read_text()
    assert "pip install -r requirements.txt" in readme and "dlgrade check ch04_xor.ipynb" in readme
    requirements = (bundle / "requirements.txt").read_text().splitlines()
    wheels = [line for line in requirements if line.endswith(".whl")]
    assert len(wheels) == 1 and (bundle / wheels[0]).is_file()
    pinned = {line.split("==")[0] for line in requirements if "==" in line}
    grading_pins = set((ROOT / "grading_env" / "requirements.txt").read_text().splitlines())
    assert {"tensorflow", "keras", "numpy", "pytest"} <= pinned
    assert {"nbgrader", "SQLAlchemy"}.isdisjoint(pinned)  # the instructor's side stays out
    assert all(line in grading_pins for line in requirements if "==" in line)


def test_dlgrade_comes_from_the_bundles_wheel(student_env, bundle):
    where = subprocess.run([str(student_env["bin"] / "python"), "-c", "import dlgrade; print(dlgrade.__file__)"],
                           cwd=bundle, env=student_env["env"], capture_output=True, text=True, check=True)
    assert Path(where.stdout.strip()).is_relative_to(student_env["site_packages"])


def public_results(student_env, notebook: str, *, cwd: Path, out: Path) -> dict:
    done = dlgrade(student_env, "check", notebook, "--out", str(out), cwd=cwd)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((out / "results.json").read_text())


def test_check_from_the_installed_bundle(student_env, bundle, tmp_path):
    template = public_results(student_env, "ch04_xor.ipynb", cwd=bundle, out=tmp_path / "template")
    assert template["max_score"] > 0 and template["score"] == 0
    solved = tmp_path / "solved"
    shutil.copytree(bundle, solved)
    shutil.copy(EXERCISE.solution, solved / "ch04_xor.ipynb")
    reference = public_results(student_env, "ch04_xor.ipynb", cwd=solved, out=tmp_path / "reference")
    assert reference["score"] == reference["max_score"] == template["max_score"], json.dumps(reference)[:3000]


def test_check_outside_a_bundle_says_where_to_run_it(student_env, tmp_path):
    shutil.copy(EXERCISE.template, tmp_path / "ch04_xor.ipynb")
    done = dlgrade(student_env, "check", "ch04_xor.ipynb", cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "no checks found" in done.stderr and "unpacked bundle" in done.stderr


def test_check_in_a_course_checkout_runs_the_instructors_public_tests(student_env, tmp_path):
    """The template's own `!dlgrade check` cell, run from assignments/ch04_xor/ of the checkout."""
    env = dict(student_env["env"], DLGRADE_CACHE=str(tmp_path / "cache"))
    env.pop("DLGRADE_COURSE_ROOT")
    done = subprocess.run([str(student_env["bin"] / "dlgrade"), "check", "ch04_xor.ipynb", "--out", str(tmp_path)],
                          cwd=EXERCISE.template.parent, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["score"] == 0 and {t["visibility"] for t in results["tests"]} == {"visible"}
    assert len(results["tests"]) == (EXERCISE.public_tests.read_text().count("\ndef test_"))


NO_TENSORFLOW = ("import sys; sys.modules.update(tensorflow=None, keras=None); from dlgrade.cli import main; "
                 "main(['pack', *sys.argv[1:]])")


def pack_without_tensorflow(student_env, notebook: Path) -> subprocess.CompletedProcess:
    """``dlgrade pack`` where importing TensorFlow or Keras fails."""
    return subprocess.run([str(student_env["bin"] / "python"), "-c", NO_TENSORFLOW, notebook.name],
                          cwd=notebook.parent, env=student_env["env"], capture_output=True, text=True)


def test_pack_needs_no_tensorflow_and_warns_about_an_untouched_template(student_env, bundle, tmp_path):
    student = tmp_path / "student"
    shutil.copytree(bundle, student)
    untouched = pack_without_tensorflow(student_env, student / "ch04_xor.ipynb")
    assert untouched.returncode == 0, untouched.stderr[-2000:]
    assert "warning: 4 of 4 graded cells are still as handed out" in untouched.stderr
    assert (student / "ch04_xor-submission.zip").is_file()
    shutil.copy(EXERCISE.solution, student / "ch04_xor.ipynb")
    solved = pack_without_tensorflow(student_env, student / "ch04_xor.ipynb")
    assert solved.returncode == 0 and "warning" not in solved.stderr, solved.stderr[-2000:]
