"""The offline Portuguese→English tokenizers (dlgrade.datasets.tokenizers): the TED tokenizers' interface,
vocabularies that depend only on the sentences (the sandbox and the grader must agree on every id), and
loading from a student split file."""
import numpy as np
import pytest

from dlgrade.datasets import build_translation_tokenizers, load_translation_tokenizers
from dlgrade.datasets.generated import translation_pairs
from dlgrade.datasets.splits import student_file_name
from dlgrade.datasets.tokenizers import RESERVED_TOKENS, learn_vocabulary


@pytest.fixture(scope="module")
def corpus():
    return translation_pairs(count=400, seed=3)


@pytest.fixture(scope="module")
def tokenizers(corpus):
    return build_translation_tokenizers(*corpus)


def test_vocabulary_is_deterministic_and_starts_with_the_reserved_tokens(corpus):
    first, second = learn_vocabulary(corpus[1]), learn_vocabulary(list(corpus[1]))
    assert first == second
    assert first[:4] == RESERVED_TOKENS == ["[PAD]", "[UNK]", "[START]", "[END]"]
    assert {"the", "boy", "newspaper", "."} <= set(first)


def test_tokenize_frames_sentences_and_detokenize_reads_them_back(tokenizers):
    ids = tokenizers.en.tokenize(["The boy reads the newspaper.", "The girl sees the red car today."])
    rows = ids.to_list()
    assert [row[0] for row in rows] == [tokenizers.en.start_id] * 2 and [row[-1] for row in rows] == [tokenizers.en.end_id] * 2
    assert ids.dtype.name == "int64"
    text = [t.decode() for t in tokenizers.en.detokenize(ids).numpy()]
    assert text == ["the boy reads the newspaper .", "the girl sees the red car today ."]
    padded = ids.to_tensor().numpy()
    assert [t.decode() for t in tokenizers.en.detokenize(padded).numpy()] == text
    tokens = tokenizers.en.lookup(ids).to_list()[0]
    assert tokens == [b"[START]", b"the", b"boy", b"reads", b"the", b"newspaper", b".", b"[END]"]


def test_portuguese_is_lower_cased_without_accents(tokenizers):
    ids = tokenizers.pt.tokenize(["As crianças não leem o jornal."])
    assert [t.decode() for t in tokenizers.pt.detokenize(ids).numpy()] == ["as criancas nao leem o jornal ."]


def test_interface_of_the_ted_tokenizers(tokenizers):
    for language in (tokenizers.pt, tokenizers.en):
        assert isinstance(language.get_vocab_size(), int) and language.get_vocab_size() == len(language.get_vocab())
        assert language.get_reserved_tokens() == RESERVED_TOKENS
        assert language.get_vocab()[language.start_id] == "[START]" and language.get_vocab()[language.end_id] == "[END]"
    assert tokenizers.en.tokenize([""]).to_list() == [[tokenizers.en.start_id, tokenizers.en.end_id]]


def test_unknown_words_and_reserved_ids_inside_pieces(tokenizers):
    ids = tokenizers.en.tokenize(["The boy sees the xylophone."]).to_list()[0]
    assert tokenizers.en.get_vocab().index("[UNK]") in ids
    vocab = tokenizers.en.get_vocab()
    glued = [[tokenizers.en.start_id, vocab.index("##s"), vocab.index("the"), tokenizers.en.end_id, 0, 0]]
    text = tokenizers.en.detokenize(np.array(glued)).numpy()[0].decode()
    assert not any(token in text for token in ("[START]", "[END]", "[PAD]")), text


def test_loaded_from_a_student_split_file(tmp_path, corpus, tokenizers):
    np.savez(tmp_path / student_file_name("pt_en_generated"), x=np.array(corpus[0]), y=np.array(corpus[1]))
    loaded = load_translation_tokenizers(tmp_path)
    assert loaded.pt.get_vocab() == tokenizers.pt.get_vocab() and loaded.en.get_vocab() == tokenizers.en.get_vocab()
    assert load_translation_tokenizers(tmp_path) is loaded   # built once per process
