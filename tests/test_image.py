"""The grading image, built and graded in for real: `make image`, then gradings inside containers with no
network (reference, template, every exercise's reference, the worst hostile submissions, Gradescope's
layout, a container without SYS_ADMIN), and a non-root process that tries to read hidden material.

DLGRADE_DOCKER_TESTS: unset or "auto", run when a Docker engine answers and skip otherwise; "require" (what
`make test` sets after grading_env/docker_engine.sh started an engine), a missing engine fails; "skip", never
run (about 8 minutes, more with a cold build). When `make test` started the image's build in the background,
the tests wait for it, then run `make image` (a few seconds when nothing changed since)."""
import json
import os
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from dlgrade.exercise import exercise_ids, load_exercise
from dlgrade.reference_weights import reference_files

ROOT = Path(__file__).resolve().parents[1]
IMAGE = os.environ.get("DLGRADE_IMAGE", "dlgrade")
HOSTILE = ROOT / "tests" / "hostile"
FULL_MARKS = 16
NEURON_POINTS = 2


def docker_client() -> str | None:
    """A client that can build with BuildKit: one with buildx, or Debian's docker.io client (it has it built in)."""
    if shutil.which("docker") and subprocess.run(["docker", "buildx", "version"], capture_output=True).returncode == 0:
        return "docker"
    return "/usr/bin/docker" if os.access("/usr/bin/docker", os.X_OK) else shutil.which("docker")


DOCKER = docker_client()


def engine_problem() -> str | None:
    if DOCKER is None:
        return "no docker client (apt-get install docker.io; grading_env/docker_engine.sh start starts the engine)"
    done = subprocess.run([DOCKER, "version", "--format", "{{.Server.Version}}"], capture_output=True, text=True)
    if done.returncode != 0:
        said = (done.stderr.strip().splitlines() or ["no answer"])[-1][:200]
        return f"no Docker engine answers ({said}); grading_env/docker_engine.sh start starts one as root"
    return None


MODE = os.environ.get("DLGRADE_DOCKER_TESTS", "auto")
PROBLEM = "DLGRADE_DOCKER_TESTS=skip" if MODE == "skip" else engine_problem()
if PROBLEM and MODE == "require":
    raise RuntimeError(f"DLGRADE_DOCKER_TESTS=require but {PROBLEM}")
pytestmark = pytest.mark.skipif(PROBLEM is not None, reason=PROBLEM or "")


def wait_for_background_build(timeout_s: float = 3600) -> None:
    """Wait for the build `make test` started (grading_env/docker_engine.sh tests), and fail with its log's end."""
    pid_file, status_file = ROOT / "build" / "image-build.pid", ROOT / "build" / "image-build.status"
    if not pid_file.exists():
        return
    deadline = time.monotonic() + timeout_s
    while not status_file.exists() and time.monotonic() < deadline:
        time.sleep(2)
    status = status_file.read_text().strip() if status_file.exists() else "still running"
    log = ROOT / "build" / "image-build.log"
    assert status == "0", f"background `make image`: {status}\n" + (log.read_text()[-3000:] if log.exists() else "")


@pytest.fixture(scope="module")
def image() -> str:
    """The grading image, built by `make image` (BuildKit's cache makes a rebuild of unchanged sources quick)."""
    wait_for_background_build()
    done = subprocess.run(["make", "image", f"IMAGE={IMAGE}", f"DOCKER={DOCKER}"], cwd=ROOT, capture_output=True,
                          text=True, timeout=3600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return IMAGE


def docker_run(image: str, *arguments: str, mounts: dict[Path, str] = {}, sys_admin: bool = True,
               user: str | None = None, entrypoint: str | None = None, env: dict[str, str] = {},
               timeout: int = 900) -> subprocess.CompletedProcess:
    command = [DOCKER, "run", "--rm", "--network", "none"]
    if sys_admin:
        command += ["--cap-add", "SYS_ADMIN", "--security-opt", "apparmor=unconfined"]
    for source, target in mounts.items():
        command += ["-v", f"{source}:{target}"]
    for name, value in env.items():
        command += ["-e", f"{name}={value}"]
    command += ["--user", user] if user else []
    command += ["--entrypoint", entrypoint] if entrypoint else []
    return subprocess.run([*command, image, *arguments], capture_output=True, text=True, timeout=timeout)


def grade(image: str, submission: Path, exercise_id: str, out: Path, *extra: str, sys_admin: bool = True) -> dict:
    """`dlgrade grade` inside a container with no network; the submission read-only, results written to out."""
    out.mkdir(parents=True, exist_ok=True)
    target = "/submission/" + submission.name if submission.is_file() else "/submission"
    source = submission.parent if submission.is_file() else submission
    done = docker_run(image, "grade", target, "--exercise", exercise_id, "--out", "/results", *extra,
                      mounts={source: "/submission:ro", out: "/results"}, sys_admin=sys_admin)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads((out / "results.json").read_text())


def reference_submission(exercise_id: str, folder: Path) -> Path:
    """The solution notebook with the reference weights CI trains (trained here when not cached yet)."""
    exercise = load_exercise(exercise_id)
    folder.mkdir(parents=True)
    shutil.copy(exercise.solution, folder)
    for path in reference_files(exercise):
        shutil.copy(path, folder)
    return folder


def test_ch04_reference_full_marks_and_template_zero(image, tmp_path):
    exercise = load_exercise("ch04_xor")
    reference = grade(image, exercise.solution, "ch04_xor", tmp_path / "reference")
    assert reference["score"] == reference["max_score"] == FULL_MARKS
    isolation = reference["extra_data"]["isolation"].split(",")
    assert {"network", "mount", "pid", "file-view", "rlimits"} <= set(isolation), isolation
    assert any(layer.startswith("uid=61") for layer in isolation), isolation
    template = grade(image, ROOT / "assignments" / "ch04_xor" / "ch04_xor.ipynb", "ch04_xor", tmp_path / "template")
    assert template["score"] == 0 and template["max_score"] == FULL_MARKS


OTHER_EXERCISES = [e for e in exercise_ids() if e != "ch04_xor"]


@pytest.fixture(scope="module")
def references_graded_in_the_image(image, tmp_path_factory) -> dict[str, dict]:
    """Every other exercise's reference graded in the image, two containers at a time (the weights are trained
    first, one at a time, where the cache lacks them)."""
    folder = tmp_path_factory.mktemp("references")
    submissions = {e: reference_submission(e, folder / e / "submission") for e in OTHER_EXERCISES}

    def graded(exercise_id: str) -> dict | AssertionError:
        try:
            return grade(image, submissions[exercise_id], exercise_id, folder / exercise_id / "out")
        except AssertionError as failure:  # reported by that exercise's test, not by all of them
            return failure

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(OTHER_EXERCISES, pool.map(graded, OTHER_EXERCISES)))


@pytest.mark.parametrize("exercise_id", OTHER_EXERCISES)
def test_every_reference_earns_full_marks_in_the_image(references_graded_in_the_image, exercise_id):
    results = references_graded_in_the_image[exercise_id]
    if isinstance(results, AssertionError):
        raise results
    assert results["score"] == results["max_score"] > 0, [t for t in results["tests"] if t["score"] < t["max_score"]]


# the worst of tests/hostile/: file -> (text that must appear in results.json, the highest score it may earn)
WORST = {
    "read_hidden": ("", FULL_MARKS - NEURON_POINTS),
    "network": ("Network is unreachable", FULL_MARKS - NEURON_POINTS),
    "fork_bomb": ("graded cell 'neuron'", FULL_MARKS - NEURON_POINTS),
    "memory_bomb": ("MemoryError", FULL_MARKS - 4),
}


@pytest.mark.parametrize("name", sorted(WORST))
def test_worst_hostile_submissions_are_contained_in_the_image(image, name, tmp_path):
    expected, highest = WORST[name]
    results = grade(image, HOSTILE / f"{name}.ipynb", "ch04_xor", tmp_path / "out",
                    "--call-timeout", "10", "--startup-timeout", "60")
    text = json.dumps(results)
    assert results["max_score"] == FULL_MARKS and results["score"] <= highest, f"{name}: {results['score']}"
    assert expected in text and "LEAKED" not in text and "BEGIN SOLUTION" not in text and "def test_" not in text
    assert {"network", "mount", "pid", "file-view"} <= set(results["extra_data"]["isolation"].split(","))


def test_gradescope_layout_writes_results(image, tmp_path):
    submission, results = tmp_path / "submission", tmp_path / "results"
    submission.mkdir()
    results.mkdir()
    shutil.copy(load_exercise("ch04_xor").solution, submission)
    done = docker_run(image, mounts={submission: "/autograder/submission:ro", results: "/autograder/results"},
                      entrypoint="/autograder/run_autograder", env={"DLGRADE_EXERCISE": "ch04_xor"})
    assert done.returncode == 0, done.stderr[-2000:]
    written = json.loads((results / "results.json").read_text())
    assert written["score"] == FULL_MARKS and all({"name", "score", "max_score"} <= set(t) for t in written["tests"])


def test_without_sys_admin_grading_needs_the_weaker_isolation_flag(image, tmp_path):
    reference = load_exercise("ch04_xor").solution
    out = tmp_path / "refused"
    out.mkdir()
    done = docker_run(image, "grade", f"/submission/{reference.name}", "--exercise", "ch04_xor", "--out", "/results",
                      mounts={reference.parent: "/submission:ro", out: "/results"}, sys_admin=False)
    assert "--allow-weaker-isolation" in done.stdout + done.stderr + (
        (out / "results.json").read_text() if (out / "results.json").exists() else "")
    weaker = grade(image, reference, "ch04_xor", tmp_path / "weaker", "--allow-weaker-isolation", sys_admin=False)
    assert weaker["score"] == FULL_MARKS
    isolation = weaker["extra_data"]["isolation"].split(",")
    assert "network" not in isolation and "pid" not in isolation, isolation


def test_a_non_root_process_cannot_read_hidden_material(image):
    probe = ("import sys\n"
             "paths = ['/opt/dlgrade/autograder/exercises/ch04_xor/test_hidden.py',\n"
             "         '/opt/dlgrade/solutions/ch04_xor/ch04_xor.ipynb', '/opt/dlgrade/data', '/opt/dlgrade/cache']\n"
             "for path in paths:\n"
             "    try:\n"
             "        open(path).read() if path.endswith(('.py', '.ipynb')) else __import__('os').listdir(path)\n"
             "        print('READ', path)\n"
             "    except PermissionError:\n"
             "        print('denied', path)\n")
    done = docker_run(image, "-c", probe, user="61000:61000", entrypoint="python3", sys_admin=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("denied") == 4 and "READ" not in done.stdout, done.stdout
