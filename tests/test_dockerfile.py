"""The grading image, checked without a Docker engine: the Dockerfile parsed (base image, COPY sources,
offline installs of the pins of grading_env, GPU settings, datasets, users, permissions, entrypoints), and
its entrypoint scripts and data staging commands run outside Docker. tests/test_image.py builds the image
and grades in it where a Docker engine runs."""
import glob
import importlib.metadata
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser
from packaging.requirements import Requirement

from dlgrade.exercise import load_exercise

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = DockerfileParser(path=str(ROOT / "Dockerfile"))
INSTRUCTIONS = [(i["instruction"], i["value"]) for i in DOCKERFILE.structure if i["instruction"] != "COMMENT"]
RUNS = [value for instruction, value in INSTRUCTIONS if instruction == "RUN"]
ENV = DOCKERFILE.envs


def pins(path: Path) -> dict[str, str]:
    lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
    return {Requirement(line).name.lower(): str(Requirement(line).specifier)[2:] for line in lines if "==" in line}


def run_commands() -> list[list[str]]:
    """Each simple command of every RUN instruction, split like a shell would."""
    return [shlex.split(part) for run in RUNS for part in re.split(r"&&|;", run) if part.strip()]


def test_base_image_is_pinned_to_the_local_python():
    image = DOCKERFILE.baseimage  # BASE_IMAGE's default: Docker Hub's image, for users who reach it
    assert re.fullmatch(r"python:(\d+)\.(\d+)\.(\d+)-slim-\w+(@sha256:[0-9a-f]{64})?", image), image
    major, minor = map(int, re.match(r"python:(\d+)\.(\d+)", image).groups())
    assert (major, minor) == sys.version_info[:2], f"image Python {major}.{minor}, local {sys.version_info[:2]}"
    assert DockerfileParser(path=str(ROOT / "Dockerfile"), build_args={"BASE_IMAGE": "local"}).baseimage == "local"
    makefile = (ROOT / "Makefile").read_text()  # the local base: Debian bookworm, whose python3 is 3.11 too
    assert "BASE_IMAGE ?= dlgrade-base:bookworm" in makefile and "--build-arg BASE_IMAGE=$(BASE_IMAGE)" in makefile
    assert "--include=python3,python3-venv,ca-certificates bookworm" in (ROOT / "grading_env/make_base.sh").read_text()


def test_every_copy_source_exists():
    copies = [shlex.split(value) for instruction, value in INSTRUCTIONS if instruction == "COPY"]
    assert copies
    for arguments in copies:
        sources = [a for a in arguments[:-1] if not a.startswith("--")]
        for source in sources:
            staged = source.startswith("build/image/")  # made by `make image`, listed in its recipe
            assert staged or glob.glob(str(ROOT / source)), f"COPY source {source} does not exist"
            assert not staged or source in (ROOT / "Makefile").read_text(), source
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "results", "build", "!build/image"} <= set(ignored)


def test_pins_agree_with_grading_env():
    installs = [c for c in run_commands() if c[:2] == ["pip", "install"]]
    assert all("--no-index" in c and c[c.index("--find-links") + 1] == "/wheels" for c in installs), installs
    assert all(run.startswith("--mount=type=bind,source=build/image/wheels,target=/wheels ")
               for run in RUNS if "pip install" in run)
    files = {arg for c in installs for flag, arg in zip(c, c[1:]) if flag == "-r"}
    assert files == {"grading_env/requirements.txt", "grading_env/cuda-requirements.txt",
                     "grading_env/data-packages.txt"}
    no_deps = [c for c in installs if "--no-deps" in c]
    assert any("grading_env/data-packages.txt" in c for c in no_deps), "data packages go in without dependencies"
    local = pins(ROOT / "grading_env" / "requirements.txt") | pins(ROOT / "grading_env" / "data-packages.txt")
    for command in installs:
        for argument in command:
            if "==" in argument:
                requirement = Requirement(argument)
                assert local.get(requirement.name.lower()) == str(requirement.specifier)[2:], argument
    makefile = (ROOT / "Makefile").read_text()  # the local .venv installs the same files (Gradescope's image: one
    assert "-r grading_env/requirements.txt" in makefile  # exercise's part of them, tests/test_gradescope_setup.py)
    assert "--no-deps -r grading_env/data-packages.txt" in makefile
    wheelhouse = (ROOT / "grading_env" / "make_wheelhouse.sh").read_text()  # downloads the same three files
    assert all(f"grading_env/{name}" in wheelhouse for name in ("requirements.txt", "cuda-requirements.txt",
                                                                  "data-packages.txt"))
    assert "--no-deps" in wheelhouse and "--only-binary=:all:" in wheelhouse and "--python-version" in wheelhouse


def test_cuda_pins_satisfy_tensorflow_and_cover_its_gpu_extra():
    declared = [Requirement(r) for r in importlib.metadata.requires("tensorflow") if 'extra == "and-cuda"' in r]
    cuda = pins(ROOT / "grading_env" / "cuda-requirements.txt")
    assert declared, "tensorflow declares no and-cuda extra"
    for requirement in declared:
        version = cuda.get(requirement.name.lower())
        assert version is not None, f"{requirement.name} is not pinned"
        assert requirement.specifier.contains(version), f"{requirement.name}=={version} outside {requirement.specifier}"


def test_gpu_settings_datasets_users_and_permissions():
    assert ENV["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"
    data_dir, cache = ENV["DLGRADE_DATA_DIR"], ENV["DLGRADE_CACHE"]
    commands = run_commands()
    workdir = next(value for instruction, value in INSTRUCTIONS if instruction == "WORKDIR")
    copies = [shlex.split(value) for instruction, value in INSTRUCTIONS if instruction == "COPY"]
    assert ["build/image/data", str(Path(data_dir).relative_to(workdir))] in copies  # staged on the host, offline:
    assert "data fetch --all --offline --dest build/image/data" in (ROOT / "Makefile").read_text()
    assert ["dlgrade", "data", "prepare"] in commands and ["dlgrade", "data", "list"] in commands  # list verifies
    useradd = next(c for c in commands if c[0] == "useradd")
    assert int(useradd[useradd.index("--uid") + 1]) >= 1000 and "/usr/sbin/nologin" in useradd
    chmod = next(c for c in commands if c[0] == "chmod" and "go-rwx" in c)
    hidden = {str(Path(workdir, p)) for p in chmod[3:]}
    assert {f"{workdir}/autograder/exercises", f"{workdir}/solutions", data_dir, cache} <= hidden
    assert ENV["DLGRADE_COURSE_ROOT"] == workdir


def test_entrypoints_exist():
    entrypoint = json.loads(next(value for instruction, value in INSTRUCTIONS if instruction == "ENTRYPOINT"))
    scripts = importlib.metadata.distribution("dlgrade").entry_points
    assert entrypoint[0] in {e.name for e in scripts if e.group == "console_scripts"}
    copy = next(shlex.split(v) for i, v in INSTRUCTIONS if i == "COPY" and v.endswith("/autograder/run_autograder"))
    script = ROOT / copy[0]
    assert os.access(script, os.X_OK) and subprocess.run(["bash", "-n", str(script)]).returncode == 0
    assert ENV["DLGRADE_EXERCISE"] == "${EXERCISE}" or "EXERCISE" in DOCKERFILE.args


def test_readme_says_how_to_build_and_run_the_image():
    readme = (ROOT / "README.md").read_text()
    assert "docker build" in readme and "--network none" in readme and "--gpus all" in readme
    assert "not verified here" in readme.lower() or "was not verified" in readme.lower()


def test_run_autograder_grades_outside_docker(tmp_path):
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    shutil.copy(load_exercise("ch04_xor").solution, root / "submission")
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), DLGRADE_EXERCISE="ch04_xor",
               DLGRADE_BIN=str(Path(sys.executable).with_name("dlgrade")))
    done = subprocess.run([str(ROOT / "grading_env" / "run_autograder")], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == results["max_score"] == 16
    env.pop("DLGRADE_EXERCISE")
    done = subprocess.run([str(ROOT / "grading_env" / "run_autograder")], env=env, capture_output=True, text=True)
    assert done.returncode == 2 and "DLGRADE_EXERCISE is not set" in done.stderr


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None, reason="needs root and unshare -n")
def test_build_time_data_commands_without_network(tmp_path):
    """The image build's data steps, run here in a network namespace with no network: every dataset with
    an offline copy is fetched and verified; one that needs a download fails with a clear message."""
    data, cache = tmp_path / "data", tmp_path / "cache"
    env = dict(os.environ, DLGRADE_DATA_DIR=str(data), DLGRADE_CACHE=str(cache))
    cli = [str(Path(sys.executable).with_name("dlgrade")), "data"]
    done = subprocess.run(["unshare", "--net", *cli, "fetch", "--all", "--dest", str(data)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert "mnist: FAILED" in done.stderr and "storage.googleapis.com" in done.stderr
    for name in ("banknotes", "fashion_mnist", "mnist_5k", "airline_passengers", "auto_mpg"):
        assert (data / name).is_dir(), name
    listed = subprocess.run([*cli, "list"], env=dict(env, COLUMNS="250"), capture_output=True, text=True,
                            timeout=300)  # wide enough that no row wraps, however long the temporary path
    rows = [line for line in listed.stdout.splitlines() if "│ banknotes " in line or "│ fashion_mnist " in line]
    assert len(rows) == 2 and all("data directory" in row and "verified" in row for row in rows)
    assert subprocess.run([*cli, "prepare"], env=env, capture_output=True, timeout=300).returncode == 0
