"""Hidden checks for ch13_vae: one training step against the reference's, and the submitted weights on the
digits the grader kept aside (measurements in exercise.toml)."""
import numpy as np
import pytest

from dlgrade.checks import as_array, as_arrays, assert_close, submitted_weights

WEIGHTS = "vae.weights.h5"
HOW_TO_MAKE_IT = f"run the training cell, which saves it with vae.save_weights('{WEIGHTS}')"
# Pixel-mean binary cross-entropy of the 1,000 held-out digits decoded from z = z_mean (exercise.toml): the
# reference trained by train_reference.py 0.2132 (an unseeded run 0.2127), the same budget with seeds 1-3 in a
# script 0.2156, 0.2148, 0.2124; every digit decoded to the mean training digit (a decoder that ignores z) 0.2627.
# Full marks up to 0.225 (0.0094 above the worst run), partial credit below 0.26.
FULL_MARKS, FLOOR = 0.225, 0.26
# One train_step from the same weights: each weight array within this share of how far the step moved it
# (measured: the reference in the sandbox and on the trusted side agree exactly, 0.00).
STEP_TOLERANCE = 0.1


def inject(remote, arrays, what):
    """Set the grader's arrays into a student's model, after checking that the shapes agree."""
    shapes = [w.shape for w in as_arrays(remote.get_weights(), what=what)]
    expected = [a.shape for a in arrays]
    assert shapes == expected, (
        f"{what} has weight shapes {shapes}; the exercise's network has {expected}: build it as Part 4 says")
    remote.set_weights(arrays)


def load_submitted(student, reference):
    """The submitted file loaded with the student's code, its arrays set into the reference's encoder and decoder."""
    encoder, decoder = student.build_encoder(), student.build_decoder()
    submitted_weights(student.build_vae(encoder, student.build_sampler(0.1), decoder), WEIGHTS,
                      how_to_make_it=HOW_TO_MAKE_IT)
    ours = reference.live("build_encoder"), reference.live("build_decoder")
    for model, remote, what in zip(ours, (encoder, decoder), ("the encoder", "the decoder")):
        arrays = as_arrays(remote.get_weights(), what=f"{what} loaded from {WEIGHTS}")
        expected = [w.shape for w in model.get_weights()]
        assert [a.shape for a in arrays] == expected, f"{what} in {WEIGHTS} does not have the exercise's weight shapes"
        model.set_weights(arrays)
    return decoder, ours


def test_encoder_and_decoder_compute_the_reference_outputs(student, reference, digits):
    """with the grader's weights, build_encoder() and build_decoder() compute the reference's outputs (inference mode)"""
    # The 1-D arrays (biases, batch-normalization scales, offsets and moving statistics) are shifted away from
    # their initial values, so that the order of ReLU and BatchNormalization changes the outputs.
    rng = np.random.default_rng(1313)
    probes = {"build_encoder": (digits[:16], "16 digits"),
              "build_decoder": (rng.normal(0, 1.5, (16, 2)).astype(np.float32), "16 latent points")}
    for build, (inputs, what) in probes.items():
        ours = reference.live(build)
        arrays = [w + rng.uniform(0.2, 0.6, w.shape).astype(w.dtype) if w.ndim == 1 else w
                  for w in (np.asarray(w) for w in ours.get_weights())]
        ours.set_weights(arrays)
        theirs = getattr(student, build)()
        inject(theirs, arrays, f"{build}()")
        outputs, expected = theirs(inputs, training=False), ours(inputs, training=False)
        if build == "build_encoder":  # [z_mean, z_log_var]
            got, expected = as_arrays(outputs, what=f"{build}() on {what}"), [np.asarray(t) for t in expected]
        else:
            got, expected = [as_array(outputs, what=f"{build}() on {what}")], [np.asarray(expected)]
        for g, e in zip(got, expected):
            assert_close(g, e, rtol=1e-4, atol=1e-5,
                         what=f"{build}() with the grader's weights on {what} (training=False): Part 4's layers in "
                              "that order, each Conv2D or Dense followed by ReLU, then BatchNormalization")


@pytest.mark.points(2)
def test_train_step_matches_the_reference(student, reference, digits):
    """VAE.train_step on 32 digits (epsilon_sigma 0, from the grader's weights) changes the weights as the reference's does"""
    ours_encoder, ours_decoder = reference.live("build_encoder"), reference.live("build_decoder")
    start = [np.asarray(w) for w in ours_encoder.get_weights()], [np.asarray(w) for w in ours_decoder.get_weights()]
    encoder, decoder = student.build_encoder(), student.build_decoder()
    inject(encoder, start[0], "build_encoder()")
    inject(decoder, start[1], "build_decoder()")
    batch = digits[:32]
    student.build_vae(encoder, student.build_sampler(0.0), decoder).train_step(batch)
    got = (as_arrays(encoder.get_weights(), what="encoder weights after train_step")
           + as_arrays(decoder.get_weights(), what="decoder weights after train_step"))
    reference.live("build_vae", ours_encoder, reference.live("build_sampler", 0.0), ours_decoder).train_step(batch)
    expected = [np.asarray(w) for w in ours_encoder.get_weights() + ours_decoder.get_weights()]
    names = [f"encoder array {i}" for i in range(len(start[0]))] + [f"decoder array {i}" for i in range(len(start[1]))]
    worst, where = 0.0, ""
    for name, g, e, s in zip(names, got, expected, start[0] + start[1]):
        moved = float(np.linalg.norm(e - s))
        ratio = float(np.linalg.norm(g - e)) / max(moved, 1e-7)
        if ratio > worst:
            worst, where = ratio, name
    assert worst <= STEP_TOLERANCE, (
        f"after one call of your VAE's train_step on 32 digits (sampler with epsilon_sigma=0, so z = z_mean) from the grader's "
        f"weights, {where} differs from the expected one by {worst:.2f} times the step's own size: train_step "
        "should minimise vae_loss (pixel-mean cross-entropy + 0.1 x KL) with Adam, calling the encoder and decoder "
        "with training=True")


@pytest.mark.points(3)
@pytest.mark.visibility("visible")
def test_submitted_weights_reconstruct_held_out_digits(student, reference, hidden_data, digits, loss_terms, credit,
                                                       feedback):
    """vae.weights.h5 reconstructs the digits the grader kept aside (z = z_mean) within the measured error"""
    # The held-out digits go to the grader's own encoder and decoder (the submitted weights copied in) and are only
    # scored; the pictures on the feedback page are digits of the student's own split (issue 11: a held-out digit
    # is its own expected output).
    _, (encoder, decoder) = load_submitted(student, reference)
    images, _ = hidden_data("mnist_5k")
    x = np.asarray(images, np.float32).reshape(-1, 28, 28, 1) / 255.0
    z_mean, z_log_var = (np.asarray(t) for t in encoder(x, training=False))
    decoded = np.asarray(decoder(z_mean, training=False))
    reconstruction, kl = loss_terms(x, decoded, z_mean, z_log_var)
    error = float(np.mean(reconstruction))
    own = digits[:16]
    own_decoded = np.asarray(decoder(np.asarray(encoder(own, training=False)[0]), training=False))
    feedback.image_grid("Digits of your own data (odd places) and their reconstructions from z = z_mean",
                        [picture for pair in zip(own, own_decoded) for picture in pair],
                        captions=["digit", "decoded"] * 16)
    feedback.report_measured(f"reconstruction error on {len(x)} held-out digits (pixel-mean binary cross-entropy)",
                             error, FULL_MARKS, lower_is_better=True)
    message = (f"reconstruction error of {WEIGHTS} on {len(x)} held-out digits: {error:.4f} (pixel-mean binary "
               f"cross-entropy, KL {float(np.mean(kl)):.3f}); {FULL_MARKS} or less earns full marks, {FLOOR} or more "
               "none (near 0.26 every digit decodes to the same blur: the decoder ignores z; check the sampler's "
               "epsilon_sigma and the KL weight, and train longer)")
    assert np.isfinite(error) and error < FLOOR, message
    if error > FULL_MARKS:
        credit.give((FLOOR - error) / (FLOOR - FULL_MARKS), message)


@pytest.mark.points(2)
@pytest.mark.visibility("visible")
def test_decoded_grid_is_the_manifold(student, reference, feedback):
    """decode_grid: the (15, 15, 28, 28) decodings of the latent grid around the origin, finite, in [0, 1]"""
    decoder, (_, ours) = load_submitted(student, reference)
    grid = as_array(student.decode_grid(decoder, 15, 1.0), what="decode_grid(decoder, 15, 1.0)")
    assert grid.shape == (15, 15, 28, 28), f"decode_grid(decoder, 15, 1.0) gave shape {grid.shape}; expected (15, 15, 28, 28)"
    assert np.all(np.isfinite(grid)) and grid.min() >= 0 and grid.max() <= 1, (
        f"decoded pixels range from {np.nanmin(grid):.3g} to {np.nanmax(grid):.3g} ({int(np.sum(~np.isfinite(grid)))} "
        "not finite); pictures should be finite, in [0, 1]")
    rows, columns = np.linspace(0, 14, 4).astype(int), np.linspace(0, 14, 8).astype(int)
    values = np.linspace(-1.0, 1.0, 15)
    feedback.image_grid("Your decode_grid, every other point (rows: z[1] from 1.0 down; columns: z[0] from -1.0)",
                        [grid[i, j] for i in rows for j in columns],
                        captions=[f"({values[j]:.1f}, {values[::-1][i]:.1f})" for i in rows for j in columns])
    assert_close(grid, reference.live("decode_grid", ours, 15, 1.0), atol=1e-4, rtol=0,
                 what="decode_grid with your submitted decoder weights, against the latent points of Part 6 "
                      "(picture [i, j] decodes z = (xs[j], ys[i]), ys = xs[::-1]), decoded in inference mode")
