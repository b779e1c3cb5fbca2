"""Word-piece tokenizers for the Portuguese→English exercise, with the interface of the TED ones.

Online, the course loads TensorFlow's ready-made TED tokenizers::

    keras.utils.get_file("ted_hrlr_translate_pt_en_converter.zip",
                         "https://storage.googleapis.com/download.tensorflow.org/models/"
                         "ted_hrlr_translate_pt_en_converter.zip", cache_dir=".", cache_subdir="", extract=True)
    tokenizers = tf.saved_model.load("ted_hrlr_translate_pt_en_converter")

Offline (tests, CI, grading) :func:`load_translation_tokenizers` builds the same kind of tokenizer with
``tensorflow_text``: a ``BertTokenizer`` (lower case, accents stripped) over a vocabulary learned by
``bert_vocab_from_dataset`` from the student split of ``pt_en_generated``. The vocabulary depends only on
the split, so the sandbox and the grader, each building it from the same file, get identical token ids.
Building takes about a second per language; the result is kept per split file for the process.
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

RESERVED_TOKENS = ["[PAD]", "[UNK]", "[START]", "[END]"]
VOCAB_SIZE = 1000   # an upper bound: the generated corpus has about a hundred words per language


class SentenceTokenizer:
    """One language: ``tokenize`` (strings → ragged int64 ids framed by [START] and [END]), ``detokenize``
    (ids → one string per row, reserved tokens dropped), ``lookup`` (ids → token strings),
    ``get_vocab_size``, ``get_reserved_tokens``, ``get_vocab``; ``start_id``/``end_id`` are the frame's ids."""

    def __init__(self, vocab: list[str]):
        import tensorflow as tf
        import tensorflow_text as text

        self._tf = tf
        self.vocab = list(vocab)
        table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(tf.constant(self.vocab), tf.range(len(self.vocab), dtype=tf.int64)),
            default_value=-1)
        self._tokenizer = text.BertTokenizer(table, lower_case=True, unknown_token="[UNK]")
        self._vocab_tensor = tf.constant(self.vocab)
        self.start_id, self.end_id = self.vocab.index("[START]"), self.vocab.index("[END]")
        self._dropped_ids = [self.vocab.index("[PAD]"), self.start_id, self.end_id]

    def tokenize(self, strings):
        """A ragged (sentences, tokens) int64 tensor: [START], the word pieces, [END]."""
        tf = self._tf
        pieces = self._tokenizer.tokenize(tf.convert_to_tensor(strings, tf.string)).merge_dims(-2, -1)
        rows = pieces.bounding_shape()[0]
        starts = tf.fill([rows, 1], tf.constant(self.start_id, tf.int64))
        ends = tf.fill([rows, 1], tf.constant(self.end_id, tf.int64))
        return tf.concat([starts, pieces, ends], axis=1)

    def detokenize(self, token_ids):
        """One string (bytes) per row of ids: [PAD], [START] and [END] dropped, pieces joined into words."""
        tf = self._tf
        ids = _as_ids(tf, token_ids)
        if not isinstance(ids, tf.RaggedTensor):
            ids = tf.RaggedTensor.from_tensor(ids)
        keep = tf.reduce_all(tf.stack([tf.not_equal(ids, i) for i in self._dropped_ids]), axis=0)
        words = self._tokenizer.detokenize(tf.ragged.boolean_mask(ids, keep))
        return tf.strings.reduce_join(words, separator=" ", axis=-1)

    def lookup(self, token_ids):
        """The token string of every id (same shape, ragged or dense)."""
        tf = self._tf
        ids = _as_ids(tf, token_ids)
        return tf.gather(self._vocab_tensor, ids) if not isinstance(ids, tf.RaggedTensor) else \
            tf.ragged.map_flat_values(lambda flat: tf.gather(self._vocab_tensor, flat), ids)

    def get_vocab_size(self) -> int:
        return len(self.vocab)

    def get_reserved_tokens(self) -> list[str]:
        return list(RESERVED_TOKENS)

    def get_vocab(self) -> list[str]:
        return list(self.vocab)


def _as_ids(tf, token_ids):
    """The ids as int64, ragged or dense as given."""
    if isinstance(token_ids, tf.RaggedTensor):
        return tf.cast(token_ids, tf.int64)
    return tf.cast(tf.convert_to_tensor(token_ids), tf.int64)


class TranslationTokenizers:
    """``tokenizers.pt`` and ``tokenizers.en``, as with the TED tokenizers."""

    def __init__(self, pt_vocab: list[str], en_vocab: list[str]):
        self.pt = SentenceTokenizer(pt_vocab)
        self.en = SentenceTokenizer(en_vocab)


def learn_vocabulary(sentences) -> list[str]:
    """The word-piece vocabulary of ``sentences`` (reserved tokens first), deterministic for the same input."""
    import tensorflow as tf
    from tensorflow_text.tools.wordpiece_vocab import bert_vocab_from_dataset as bert_vocab

    dataset = tf.data.Dataset.from_tensor_slices([str(s) for s in sentences]).batch(1000)
    return bert_vocab.bert_vocab_from_dataset(dataset, vocab_size=VOCAB_SIZE, reserved_tokens=RESERVED_TOKENS,
                                              bert_tokenizer_params={"lower_case": True}, learn_params={})


def build_translation_tokenizers(portuguese, english) -> TranslationTokenizers:
    """Tokenizers whose vocabularies are learned from these sentences (the grader passes the student split);
    the same sentences give the same (already built) tokenizers for the rest of the process."""
    return _tokenizers_for(tuple(map(str, portuguese)), tuple(map(str, english)))


@functools.cache
def _tokenizers_for(portuguese: tuple[str, ...], english: tuple[str, ...]) -> TranslationTokenizers:
    return TranslationTokenizers(learn_vocabulary(portuguese), learn_vocabulary(english))


def load_translation_tokenizers(folder: str | Path | None = None) -> TranslationTokenizers:
    """Tokenizers for the exercise's Portuguese→English pairs (``tokenizers.pt``, ``tokenizers.en``), learned
    from the student split in ``data/`` (see :func:`dlgrade.datasets.load_translation_pairs`)."""
    from dlgrade.datasets.loaders import load_translation_pairs

    portuguese, english = load_translation_pairs(folder)
    return build_translation_tokenizers(np.asarray(portuguese), np.asarray(english))
