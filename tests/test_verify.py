"""`dlgrade verify` for every exercise that exists: reference = full marks, template = zero, every mutant
fails the tests it declares, every honest variant keeps full marks."""
import pytest

from dlgrade.exercise import exercise_ids, load_exercise
from dlgrade.mutants import load_patches
from dlgrade.verify import verify_exercise

EXERCISES = exercise_ids()


@pytest.fixture(scope="module", params=EXERCISES)
def verification(request, tmp_path_factory):
    exercise_id = request.param
    checks = verify_exercise(exercise_id=exercise_id, work_dir=tmp_path_factory.mktemp(exercise_id), jobs=2)
    return exercise_id, {check.subject: check for check in checks}


def test_reference_earns_full_marks(verification):
    _, checks = verification
    check = checks["reference"]
    assert check.ok and check.score == check.max_score > 0, check.detail


def test_template_earns_zero(verification):
    _, checks = verification
    assert checks["template"].ok and checks["template"].score == 0


def test_every_mutant_loses_what_it_declares_and_every_variant_keeps_full_marks(verification):
    exercise_id, checks = verification
    folder = load_exercise(exercise_id).folder
    assert len(load_patches(folder / "mutants")) >= 4, f"{exercise_id} needs at least four mutants"
    assert len(load_patches(folder / "variants")) >= 6, (
        f"{exercise_id} needs at least six honest variants, one per freedom the template leaves open")
    failures = [f"{subject}: {check.detail}" for subject, check in checks.items()
                if subject.startswith(("mutant", "variant")) and not check.ok]
    assert not failures, failures
