"""Inputs shared by the ch18_transformer tests (trusted side only)."""
import numpy as np
import pytest

from dlgrade.checks import as_array


@pytest.fixture(scope="session")
def pairs(student_data):
    """The student split: Portuguese sentences and their English translations, as lists of str."""
    portuguese, english = student_data("pt_en_generated")
    return [str(s) for s in portuguese], [str(s) for s in english]


@pytest.fixture(scope="session")
def tokenizers(pairs):
    """The grader's tokenizers, learned from the student split as the sandbox's are (same token ids)."""
    from dlgrade.datasets import build_translation_tokenizers

    return build_translation_tokenizers(*pairs)


@pytest.fixture(scope="session")
def vocab_sizes(tokenizers):
    return tokenizers.pt.get_vocab_size(), tokenizers.en.get_vocab_size()


TINY = {"num_layers": 1, "d_model": 16, "num_heads": 2, "dff": 32, "dropout_rate": 0.0}


@pytest.fixture(scope="session")
def student_tiny(student, vocab_sizes):
    """The student's build_transformer with 1 layer, d_model 16, 2 heads, dff 32 and no dropout (a remote model,
    shared by the checks: each sets the weights it needs)."""
    return student.build_transformer(*vocab_sizes, **TINY)


@pytest.fixture(scope="session")
def reference_tiny(reference, vocab_sizes):
    """The same small transformer from the reference (trusted side, hidden checks only)."""
    return reference.live("build_transformer", *vocab_sizes, **TINY)


@pytest.fixture
def student_tokenizers(student):
    """The tokenizers as the student's notebook gets them (load_translation_tokenizers() in the sandbox)."""
    return student.load_translation_tokenizers()


@pytest.fixture(scope="session")
def encode(tokenizers):
    """encode(portuguese, english) → padded int64 (pt, en) ids, cut to 20 tokens, with the grader's tokenizers."""
    def encode_pairs(portuguese, english, max_tokens=20):
        pt = tokenizers.pt.tokenize(list(portuguese))[:, :max_tokens].to_tensor().numpy()
        en = tokenizers.en.tokenize(list(english))[:, :max_tokens].to_tensor().numpy()
        return pt.astype(np.int64), en.astype(np.int64)
    return encode_pairs


def _seeded_weights(shapes, seed):
    """Probe weights: kernels and embeddings ~ N(0, 1/fan_in), vectors (biases, layer-norm scales) ~ N(0, 0.5)."""
    rng = np.random.default_rng(seed)
    return [(rng.normal(0.0, 1.0 / np.sqrt(shape[0]), shape) if len(shape) == 2 else rng.normal(0.0, 0.5, shape))
            .astype(np.float32) for shape in shapes]


@pytest.fixture
def same_weights():
    """same_weights(student_layer, our_layer, seed): seeded probe weights put into both (each already built),
    after checking the student's layer holds weights of the same shapes in the same order."""
    def copy_in(theirs, ours, seed, *, what):
        shapes = [tuple(w.shape) for w in ours.get_weights()]
        got = [tuple(as_array(w, what=f"{what} weights").shape) for w in theirs.get_weights()]
        assert got == shapes, (f"{what} holds weights of shapes {got}; the grader's holds {shapes}. Keep the given "
                               "__init__ (the sub-layers and their order) and create no other weights")
        weights = _seeded_weights(shapes, seed)
        ours.set_weights(weights)
        theirs.set_weights(weights)
        return weights
    return copy_in

