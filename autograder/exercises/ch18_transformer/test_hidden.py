"""Hidden checks for ch18_transformer: every layer against the reference with the same probe weights copied
into both, the schedule, the compiled training step, greedy decoding, and the submitted weights on the
grader's held-out sentence pairs (measurements in exercise.toml)."""
import numpy as np
import pytest

from dlgrade.checks import as_array, assert_close, assert_learning_rates, assert_optimizer, submitted_weights

WEIGHTS = "translator.weights.h5"
# Teacher-forced token accuracy on the 1,200 held-out pairs: the reference reaches 0.998-1.000 over 3 seeds
# (0.989 with a shorter warm-up); full marks from 0.95, partial credit above 0.60 (one epoch gives 0.67).
FULL_MARKS, FLOOR = 0.95, 0.60
TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}
SGD_RATE = 0.5
MAX_LENGTH = 12
CHAIN_WORDS = ["the", "girl", "reads", "newspaper", "today", "."]   # distinct: the next token depends on the last
AFTER_END = "house"   # what decoding that does not stop after [END] appends


def _probe(seed, *shape):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def _padding(lengths, size):
    """(batch, 1, 1, size) padding mask of sequences of these lengths."""
    return (np.arange(size)[None, :] >= np.array(lengths)[:, None]).astype(np.float32)[:, None, None, :]


def _look_ahead(lengths, size):
    return np.maximum(_padding(lengths, size), np.triu(np.ones((size, size), np.float32), 1))


@pytest.mark.points(2)
def test_multi_head_attention_layer(student, reference, same_weights):
    """MultiHeadAttention(16, 4): output and attention weights equal the reference's with the same weights"""
    v, q = _probe(1, 2, 5, 16), _probe(2, 2, 4, 16)
    mask = _padding([5, 3], 5)
    ours, theirs = reference.live("MultiHeadAttention", 16, 4), student.MultiHeadAttention(16, 4)
    ours(v, v, q, attention_mask=mask)
    theirs(v, v, q, attention_mask=mask)
    same_weights(theirs, ours, 11, what="MultiHeadAttention(16, 4)")
    expected_output, expected_weights = (np.asarray(t) for t in ours(v, v, q, attention_mask=mask))
    output, weights = theirs(v, v, q, attention_mask=mask)
    assert_close(as_array(weights, what="attention weights"), expected_weights, **TOLERANCE,
                 what="MultiHeadAttention attention weights, shape (batch, heads, queries, keys)")
    assert_close(as_array(output, what="MultiHeadAttention output"), expected_output, **TOLERANCE,
                 what="MultiHeadAttention output (heads put back side by side, then the last Dense layer)")


def test_point_wise_feed_forward_network(student, reference, same_weights):
    """point_wise_feed_forward_network(16, 32) computes the reference's function with the same weights"""
    x = _probe(3, 2, 5, 16)
    ours, theirs = reference.live("point_wise_feed_forward_network", 16, 32), student.point_wise_feed_forward_network(16, 32)
    ours(x)
    theirs(x)
    same_weights(theirs, ours, 12, what="point_wise_feed_forward_network(16, 32)")
    assert_close(as_array(theirs(x), what="feed-forward output"), np.asarray(ours(x)), **TOLERANCE,
                 what="feed-forward output (Dense(dff, relu) then Dense(d_model))")


@pytest.mark.points(2)
def test_encoder_layer(student, reference, same_weights):
    """EncoderLayer(16, 4, 32) with a padding mask equals the reference with the same weights"""
    x, mask = _probe(4, 2, 5, 16), _padding([5, 2], 5)
    ours, theirs = reference.live("EncoderLayer", 16, 4, 32), student.EncoderLayer(16, 4, 32)
    ours(x, training=False, padding_mask=mask)
    theirs(x, training=False, padding_mask=mask)
    same_weights(theirs, ours, 13, what="EncoderLayer(16, 4, 32)")
    assert_close(as_array(theirs(x, training=False, padding_mask=mask), what="EncoderLayer output"),
                 np.asarray(ours(x, training=False, padding_mask=mask)), **TOLERANCE,
                 what="EncoderLayer output (attention and feed-forward, each with dropout, residual sum, layer norm)")


@pytest.mark.points(2)
def test_decoder_layer(student, reference, same_weights):
    """DecoderLayer(16, 4, 32) with look-ahead and padding masks equals the reference with the same weights"""
    x, enc_output = _probe(5, 2, 4, 16), _probe(6, 2, 5, 16)
    masks = {"look_ahead_mask": _look_ahead([4, 3], 4), "padding_mask": _padding([5, 2], 5)}
    ours, theirs = reference.live("DecoderLayer", 16, 4, 32), student.DecoderLayer(16, 4, 32)
    ours(x, enc_output, training=False, **masks)
    theirs(x, enc_output, training=False, **masks)
    same_weights(theirs, ours, 14, what="DecoderLayer(16, 4, 32)")
    expected = [np.asarray(t) for t in ours(x, enc_output, training=False, **masks)]
    got = theirs(x, enc_output, training=False, **masks)
    assert isinstance(got, (tuple, list)) and len(got) == 3, "DecoderLayer should return (output, weights of block 1, of block 2)"
    for value, wanted, what in zip(got, expected, ("output", "self-attention weights (block 1)",
                                                   "weights of the attention over the encoder output (block 2)")):
        assert_close(as_array(value, what=f"DecoderLayer {what}"), wanted, **TOLERANCE, what=f"DecoderLayer {what}")


@pytest.mark.points(2)
def test_encoder_and_decoder_stacks(student, reference, same_weights):
    """Encoder and Decoder (2 layers, embeddings scaled by sqrt(d_model), positional encoding) equal the reference"""
    inp = np.array([[2, 7, 9, 11, 4, 3], [2, 8, 4, 3, 0, 0]], np.int64)
    tar = np.array([[2, 5, 6, 4, 3], [2, 9, 4, 0, 0]], np.int64)
    arguments = (2, 16, 4, 32, 30, 20)
    enc_mask = _padding([6, 4], 6)
    ours, theirs = reference.live("Encoder", *arguments), student.Encoder(*arguments)
    ours(inp, training=False, padding_mask=enc_mask)
    theirs(inp, training=False, padding_mask=enc_mask)
    same_weights(theirs, ours, 15, what="Encoder(2, 16, 4, 32, 30, 20)")
    enc_output = np.asarray(ours(inp, training=False, padding_mask=enc_mask))
    assert_close(as_array(theirs(inp, training=False, padding_mask=enc_mask), what="Encoder output"), enc_output,
                 **TOLERANCE, what="Encoder output (embedding * sqrt(d_model) + positional encoding, dropout, layers)")
    masks = {"look_ahead_mask": _look_ahead([5, 3], 5), "padding_mask": enc_mask}
    ours, theirs = reference.live("Decoder", *arguments), student.Decoder(*arguments)
    ours(tar, enc_output, training=False, **masks)
    theirs(tar, enc_output, training=False, **masks)
    same_weights(theirs, ours, 16, what="Decoder(2, 16, 4, 32, 30, 20)")
    expected, expected_attention = ours(tar, enc_output, training=False, **masks)
    got = theirs(tar, enc_output, training=False, **masks)
    assert isinstance(got, (tuple, list)) and len(got) == 2 and isinstance(got[1], dict), \
        "Decoder should return (output, a dict of attention weights)"
    assert sorted(got[1]) == sorted(expected_attention), (
        f"Decoder attention weights are named {sorted(got[1])}; expected {sorted(expected_attention)}")
    assert_close(as_array(got[0], what="Decoder output"), np.asarray(expected), **TOLERANCE,
                 what="Decoder output (embedding * sqrt(d_model) + positional encoding, dropout, layers)")


@pytest.mark.points(2)
def test_transformer_logits(student_tiny, reference_tiny, pairs, encode, same_weights):
    """build_transformer: logits on real sentence pairs equal the reference's with the same weights (masks made inside)"""
    inp, tar = encode(pairs[0][:8], pairs[1][:8])
    tar_inp = tar[:, :-1]
    ours, theirs = reference_tiny, student_tiny
    same_weights(theirs, ours, 17, what="build_transformer(..., num_layers=1, d_model=16, num_heads=2, dff=32)")
    expected = np.asarray(ours((inp, tar_inp), training=False))
    assert_close(as_array(theirs((inp, tar_inp), training=False), what="transformer logits"), expected, **TOLERANCE,
                 what="transformer((inp, tar), training=False) logits")


def compiled_with(student, optimizer) -> dict:
    """What compile records of an optimizer made by the student's code (class, settings, learning rate at the
    probe steps), read from a one-layer model compiled with it in the sandbox."""
    keras = student.keras
    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
    model.compile(optimizer=optimizer, loss="mse")
    return model.describe()["compiled"]


def test_learning_rate_schedule(student, reference):
    """CustomSchedule(64, warmup_steps=40): warm-up then 1/sqrt(step); make_optimizer: Adam on it (0.9, 0.98, 1e-9)"""
    from dlgrade.sandbox.probes import learning_rates

    steps = np.array([1, 5, 20, 39, 40, 41, 100, 1000, 4000], np.int64)
    expected = np.asarray(reference.live("CustomSchedule", 64, warmup_steps=40)(steps))
    got = as_array(student.CustomSchedule(64, warmup_steps=40)(steps), what="CustomSchedule(64, 40)(steps)")
    assert_close(got.reshape(-1), expected, rtol=1e-5, atol=1e-9, what=f"learning rates at steps {steps.tolist()}")
    what, words = "make_optimizer(64, warmup_steps=40)", "Adam with beta_1 0.9, beta_2 0.98 and epsilon 1e-9"
    compiled = compiled_with(student, student.make_optimizer(64, warmup_steps=40))
    assert_optimizer(compiled, "Adam", words=words, what=what, beta_1=0.9, beta_2=0.98, epsilon=1e-9)
    assert_learning_rates(compiled, learning_rates(reference.live("make_optimizer", 64, warmup_steps=40)),
                          words="Adam's learning rate is CustomSchedule(d_model, warmup_steps)", what=what)


@pytest.mark.points(3)
def test_compiled_training_step(student, reference, student_tiny, reference_tiny, pairs, encode, same_weights):
    """make_train_step: a tf.function whose 3 SGD steps from the grader's weights give the reference's losses and weights"""
    import keras

    inp, tar = encode(pairs[0][:16], pairs[1][:16])
    ours, theirs = reference_tiny, student_tiny
    start = same_weights(theirs, ours, 18, what="build_transformer(..., num_layers=1, d_model=16, num_heads=2, dff=32)")
    step = student.make_train_step(theirs, student.keras.optimizers.SGD(learning_rate=SGD_RATE))
    assert "Function" in step.type_name, (
        f"make_train_step returned a {step.type_name}; it should return the step compiled with @tf.function")
    got = [[float(as_array(v, what="train_step(inp, tar)")) for v in step(inp, tar)] for _ in range(3)]
    our_step = reference.live("make_train_step", ours, keras.optimizers.SGD(learning_rate=SGD_RATE))
    expected = [[float(np.asarray(v)) for v in our_step.python_function(inp, tar)] for _ in range(3)]
    assert_close(np.array(got), np.array(expected), rtol=1e-4, atol=1e-6,
                 what="(loss, accuracy) of 3 steps on one batch (teacher forcing: read tar[:, :-1], predict tar[:, 1:])")
    after = [as_array(w, what="weights after training") for w in theirs.get_weights()]
    wanted = [np.asarray(w) for w in ours.get_weights()]
    moved = max(float(np.max(np.abs(w - s))) for w, s in zip(wanted, start))
    worst = max(float(np.max(np.abs(a - w))) for a, w in zip(after, wanted))
    assert worst <= 1e-3 * moved, (
        f"after 3 steps (SGD, learning rate {SGD_RATE}) your weights differ from the expected ones by up to {worst:.2g} "
        f"(the steps moved them by up to {moved:.2g}): apply the gradients of the masked loss to "
        "transformer.trainable_variables with the optimizer given")


def _chain_weights(model, chain, seed):
    """Probe weights for the reference's ``model``, under which the decoder's next token depends on its last token only, so greedy decoding
    from [START] follows ``chain`` (ids) whatever the input sentence: layer norms are the
    identity, every sub-layer is faint, and the final layer maps each chain token's embedding to the next one."""
    rng = np.random.default_rng(seed)
    weights = [(rng.normal(0.0, 0.05, tuple(v.shape)) if len(v.shape) != 1 or v.path.endswith("/bias") else
                np.full(tuple(v.shape), 1.0 if v.path.endswith("/gamma") else 0.0)).astype(np.float32) for v in model.weights]
    embedding = next(i for i, v in enumerate(model.weights) if v is model.decoder.embedding.embeddings)
    weights[embedding] = rng.normal(0.0, 1.0, weights[embedding].shape).astype(np.float32)
    weights[-2][:], weights[-1][:] = 0.0, 0.0
    for current, following in zip(chain[:-1], chain[1:]):
        row = weights[embedding][current] - weights[embedding][current].mean()
        weights[-2][:, following] = 10.0 * row / np.linalg.norm(row)
    return weights


def _greedy(model, inp, start_id, end_id, max_length):
    """The grader's own greedy decoding (trusted side): the ids from [START] on."""
    output = np.array([[start_id]], np.int64)
    while output.shape[1] < max_length and output[0, -1] != end_id:
        next_id = int(np.argmax(np.asarray(model((inp, output), training=False))[0, -1]))
        output = np.concatenate([output, [[next_id]]], axis=1)
    return output


@pytest.mark.points(2)
def test_greedy_decoding(student, student_tiny, reference_tiny, student_tokenizers, tokenizers, pairs, same_weights):
    """translate: greedy decoding until [END] gives the text the grader's decoding gives with the same weights"""
    ours, theirs = reference_tiny, student_tiny
    same_weights(theirs, ours, 19, what="build_transformer(..., num_layers=1, d_model=16, num_heads=2, dff=32)")
    start_id, end_id = tokenizers.en.start_id, tokenizers.en.end_id
    words = tokenizers.en.get_vocab()
    chain = [start_id] + [words.index(w) for w in CHAIN_WORDS] + [end_id]
    weights = _chain_weights(ours, chain + [words.index(AFTER_END)], 19)
    ours.set_weights(weights)
    sentence = pairs[0][3]
    output = _greedy(ours, tokenizers.pt.tokenize([sentence]).to_tensor().numpy(), start_id, end_id, MAX_LENGTH)
    assert output[0].tolist() == chain, f"grader problem (please report it): probe decoding gave {output[0].tolist()}"
    expected = tokenizers.en.detokenize(output)[0].numpy().decode()
    theirs.set_weights(weights)
    got = student.translate(theirs, student_tokenizers, sentence, max_length=MAX_LENGTH)
    assert isinstance(got, str), f"translate returned {getattr(got, 'type_name', type(got).__name__)}, not a str"
    assert got == expected, (
        f"with the grader's probe weights, translate gave {got!r}; greedy decoding gives {expected!r} "
        "(start from [START], append the arg-max id of the last position, stop after [END], detokenize)")


@pytest.mark.points(4)
@pytest.mark.visibility("visible")
def test_submitted_weights_token_accuracy(student, reference, hidden_data, pairs, tokenizers, vocab_sizes, encode,
                                          credit, feedback):
    """translator.weights.h5 predicts 95 % of the next tokens of held-out pairs (teacher forcing)"""
    # The held-out pairs are scored here only; the example translations in the message are of pairs from the
    # student's own split, so the message never shows a held-out sentence with its translation (issue 11).
    arrays = submitted_weights(student.build_transformer(*vocab_sizes), WEIGHTS, how_to_make_it=
                               f"run the training cell, which saves it with transformer.save_weights('{WEIGHTS}')")
    model = reference.live("build_transformer", *vocab_sizes)
    expected_shapes, got_shapes = [w.shape for w in model.get_weights()], [a.shape for a in arrays]
    assert got_shapes == expected_shapes, (
        f"{WEIGHTS} holds arrays of shapes {got_shapes}; the exercise's transformer (build_transformer with its "
        f"defaults) has {expected_shapes}")
    model.set_weights(arrays)
    portuguese, english = hidden_data("pt_en_generated")
    inp, tar = encode(portuguese, english)
    logits = np.concatenate([np.asarray(model((inp[i:i + 300], tar[i:i + 300, :-1]), training=False))
                             for i in range(0, len(inp), 300)])
    real, right = tar[:, 1:], logits.argmax(axis=-1) == tar[:, 1:]
    accuracy = float(right[real != 0].mean())
    by_position = [float(right[:, i][real[:, i] != 0].mean()) for i in range(real.shape[1]) if np.any(real[:, i] != 0)]
    feedback.line_plot("Held-out pairs: token accuracy by position in the English sentence",
                       {"your weights": by_position}, xlabel="target position", ylabel="accuracy")
    feedback.report_measured(f"token accuracy on {len(inp)} held-out pairs", accuracy, FULL_MARKS)
    examples = "\n".join(f"  {pairs[0][i]} -> {reference.live('translate', model, tokenizers, pairs[0][i])}"
                         f"   (expected: {pairs[1][i]})" for i in range(4))
    message = (f"token accuracy of your weights on {len(inp)} held-out pairs: {accuracy:.3f}; {FULL_MARKS} earns "
               f"full marks.\nGreedy translations with your weights of sentences from your own data:\n{examples}")
    assert accuracy > FLOOR, message + "\nTrain longer (see the exploration cell) and submit the saved weights"
    credit.give(min(1.0, (accuracy - FLOOR) / (FULL_MARKS - FLOOR)), message)
