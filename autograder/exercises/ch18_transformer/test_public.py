"""Public checks for ch18_transformer: tokens, positional encoding, masks, attention, loss and accuracy, the
model's output shape and translate's return type. Values are compared with the reference solution's on
probe inputs."""
import numpy as np
import pytest

from dlgrade.checks import as_array, assert_close

RESERVED = ("[PAD]", "[START]", "[END]")


def test_encode_pairs_pads_and_cuts(student, student_tokenizers, pairs, encode):
    """encode_pairs: [START] ... [END] ids, padded with 0 to the longest sentence, cut to max_tokens"""
    portuguese, english = pairs[0][:6], pairs[1][:6]
    for max_tokens in (20, 6):
        got = student.encode_pairs(student_tokenizers, portuguese, english, max_tokens=max_tokens)
        for index, language in enumerate(("pt", "en")):
            array = as_array(got[index], what=f"encode_pairs(...)[{index}] ({language})")
            expected = encode(portuguese, english, max_tokens)[index]
            assert array.shape == expected.shape and np.array_equal(array, expected), (
                f"{language} ids for 6 sentences with max_tokens={max_tokens}: got shape {array.shape}, expected "
                f"{expected.shape}; first row {array[0].tolist()} (tokenize, cut each row to max_tokens, pad with 0)")


def test_positional_encoding(student, reference):
    """positional_encoding(50, 16): sines in the even columns, cosines in the odd ones, shape (1, 50, 16)"""
    expected = reference.positional_encoding(50, 16)
    got = as_array(student.positional_encoding(50, 16), what="positional_encoding(50, 16)")
    assert_close(got, expected, rtol=1e-5, atol=1e-5, what="positional_encoding(50, 16)")


@pytest.mark.points(2)
def test_padding_and_look_ahead_masks(student):
    """create_padding_mask, create_look_ahead_mask and create_masks give exactly the masks of the notes"""
    seq = np.array([[5, 3, 0, 0], [1, 0, 2, 0]], np.int64)
    padding = as_array(student.create_padding_mask(seq), what="create_padding_mask")
    expected_padding = (seq == 0).astype(np.float32)[:, None, None, :]
    assert padding.shape == (2, 1, 1, 4), f"create_padding_mask: shape {padding.shape}, expected (batch, 1, 1, seq_len)"
    assert np.array_equal(padding, expected_padding), f"create_padding_mask: 1 marks padding (id 0); got {padding.ravel().tolist()}"
    look_ahead = as_array(student.create_look_ahead_mask(4), what="create_look_ahead_mask(4)")
    assert np.array_equal(look_ahead, np.triu(np.ones((4, 4)), 1)), (
        f"create_look_ahead_mask(4) gave {look_ahead.tolist()}: row i must hide (1) every later position j > i")
    target = np.array([[2, 7, 0], [2, 8, 9]], np.int64)
    masks = [as_array(m, what=f"create_masks(...)[{i}]") for i, m in enumerate(student.create_masks(seq, target))]
    assert np.array_equal(masks[0], expected_padding) and np.array_equal(masks[2], expected_padding), \
        "create_masks: the first and third masks are the padding mask of the input sentence"
    combined = np.maximum((target == 0)[:, None, None, :], np.triu(np.ones((3, 3)), 1)).astype(np.float32)
    assert masks[1].shape == (2, 1, 3, 3) and np.array_equal(masks[1], combined), (
        f"create_masks: the decoder's mask should combine the look-ahead mask with the target's padding mask "
        f"(shape (2, 1, 3, 3)); got shape {masks[1].shape}")


@pytest.mark.points(2)
def test_scaled_dot_product_attention(student, reference):
    """scaled_dot_product_attention: output and weights, with and without a padding mask"""
    rng = np.random.default_rng(18)
    q, k, v = (rng.normal(size=shape).astype(np.float32) for shape in ((2, 2, 4, 8), (2, 2, 5, 8), (2, 2, 5, 3)))
    mask = np.array([[0, 0, 0, 1, 1], [0, 0, 0, 0, 1]], np.float32)[:, None, None, :]
    for name, m in (("no mask", None), ("a padding mask", mask)):
        expected_output, expected_weights = reference.scaled_dot_product_attention(q, k, v, m)
        output, weights = student.scaled_dot_product_attention(q, k, v, m)
        assert_close(as_array(weights, what="attention weights"), expected_weights, rtol=1e-5, atol=1e-6,
                     what=f"attention weights with {name} (softmax over the keys of q k^T / sqrt(d_k), mask * -1e9 added)")
        assert_close(as_array(output, what="attention output"), expected_output, rtol=1e-5, atol=1e-5,
                     what=f"attention output with {name}")


@pytest.mark.points(2)
def test_masked_loss_and_accuracy(student, reference):
    """masked_loss and masked_accuracy average over the non-padding tokens only (a row may be all padding)"""
    rng = np.random.default_rng(1818)
    real = np.array([[4, 9, 3, 0, 0], [0, 0, 0, 0, 0], [5, 6, 2, 8, 3]], np.int64)
    pred = rng.normal(0.0, 2.0, (3, 5, 10)).astype(np.float32)
    pred[0, 0, 4] = pred[2, 1, 6] = pred[2, 3, 8] = pred[0, 3, 1] = 9.0   # some right, one right on padding
    loss = as_array(student.masked_loss(real, pred), what="masked_loss")
    assert_close(loss.reshape(()), reference.masked_loss(real, pred), rtol=1e-5, atol=1e-6,
                 what="masked_loss (cross-entropy from logits, averaged over the 8 tokens that are not padding)")
    accuracy = as_array(student.masked_accuracy(real, pred), what="masked_accuracy")
    assert_close(accuracy.reshape(()), reference.masked_accuracy(real, pred), rtol=1e-6, atol=1e-6,
                 what="masked_accuracy (right tokens among the 8 that are not padding)")


def test_transformer_output_shape(student_tiny, vocab_sizes):
    """build_transformer: logits of shape (batch, target length, English vocabulary size)"""
    model = student_tiny
    inp = np.array([[2, 30, 40, 4, 3, 0], [2, 31, 4, 3, 0, 0]], np.int64)
    tar = np.array([[2, 27, 50, 4], [2, 27, 4, 3]], np.int64)
    logits = as_array(model((inp, tar)), what="transformer((inp, tar))")
    assert logits.shape == (2, 4, vocab_sizes[1]), (
        f"transformer((inp, tar)) gave shape {logits.shape}; expected (2, 4, {vocab_sizes[1]}): one logit per English token")


def test_translate_returns_a_string(student, student_tokenizers, student_tiny):
    """translate(transformer, tokenizers, sentence, max_length=5) returns a str without reserved tokens"""
    text = student.translate(student_tiny, student_tokenizers, "O menino lê o livro.", max_length=5)
    assert isinstance(text, str), f"translate returned {getattr(text, 'type_name', type(text).__name__)}, not a str"
    assert not any(token in text for token in RESERVED), f"translate returned {text!r}: drop [START], [END] and [PAD]"
    assert len(text.split()) <= 5, f"translate returned {len(text.split())} words with max_length=5"
