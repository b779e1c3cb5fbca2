"""Public checks for ch13_vae: the loss, the sampler, the shapes of the encoder and decoder, a training step."""
import numpy as np
import pytest

from dlgrade.checks import as_array, assert_close, assert_same_architecture, canonical_layers

# Probe latent values: zero mean and unit variance (KL 0), then means and log-variances of both signs.
PROBE_MEAN = np.array([[0.0, 0.0], [1.0, -2.0], [0.5, 0.5], [-1.5, 0.25], [0.0, 0.0]], np.float32)
PROBE_LOG_VAR = np.array([[0.0, 0.0], [0.0, 0.0], [-1.0, 1.0], [0.5, -2.0], [2.0, -3.0]], np.float32)
# Measured on the reference: 1.199 -> 0.913 (-24 %) after these two steps from the sandbox's seeded start.
MIN_RELATIVE_DROP = 0.1


def relu_moved_before_reshape(summary):
    """The canonical layers with an activation that follows a Reshape or Flatten folded into the layer before
    that (an element-wise activation commutes with a reshape: Dense(784) + Reshape + ReLU computes what
    Dense(784, activation="relu") + Reshape does)."""
    sequence = canonical_layers(summary)
    index = 1
    while index < len(sequence) - 1:
        before, layer, after = sequence[index - 1], sequence[index], sequence[index + 1]
        if (layer["class_name"] in ("Reshape", "Flatten") and after["class_name"] == "Activation"
                and before.get("activation", "linear") == "linear" and "activation" in before):
            before["activation"] = after["activation"]
            del sequence[index + 1]
        index += 1
    return {**summary, "layers": sequence}


def probe_pictures(count):
    """Pictures in [0, 1] and decoded pictures in [0.02, 0.98] (away from the clipping of the cross-entropy)."""
    rng = np.random.default_rng(1313)
    images = rng.uniform(0, 1, (count, 28, 28, 1)).astype(np.float32)
    images[0] = images[0] > 0.5
    return images, rng.uniform(0.02, 0.98, (count, 28, 28, 1)).astype(np.float32)


def test_prepare_images(student):
    """prepare_images: (n, 28, 28) integers from 0 to 255 become float32 pictures (n, 28, 28, 1) in [0, 1]"""
    images = np.random.default_rng(13).integers(0, 256, (3, 28, 28)).astype(np.uint8)
    images[0, 0, :2] = 0, 255
    got = as_array(student.prepare_images(images), what="prepare_images(images)")
    assert got.shape == (3, 28, 28, 1), (
        f"prepare_images gave shape {got.shape} for 3 digits of (28, 28); expected (3, 28, 28, 1): one channel last")
    assert got.dtype == np.float32, f"prepare_images gave {got.dtype} pixels; expected float32"
    assert_close(got, images.reshape(3, 28, 28, 1) / np.float32(255.0), rtol=1e-6, atol=1e-7,
                 what="prepare_images: the pixels divided by 255, in [0, 1]")


@pytest.mark.points(2)
def test_kl_divergence_on_probes(student, reference):
    """kl_divergence: one value per picture, the KL divergence to N(0, 1) summed over the 2 latent dimensions"""
    got = as_array(student.kl_divergence(PROBE_MEAN, PROBE_LOG_VAR), what="kl_divergence(z_mean, z_log_var)")
    expected = reference.kl_divergence(PROBE_MEAN, PROBE_LOG_VAR)
    assert got.shape == (5,), f"kl_divergence gave shape {got.shape} for 5 pictures; expected (5,): sum over axis -1 only"
    assert abs(float(got[0])) < 1e-6, (
        f"kl_divergence of z_mean 0, z_log_var 0 (exactly N(0, 1)) is {float(got[0]):.4g}, expected 0")
    assert_close(got, expected, rtol=1e-5, atol=1e-5,
                 what="kl_divergence on probe means and log-variances (check the sign and exp(z_log_var))")


@pytest.mark.points(2)
def test_reconstruction_and_total_loss(student, reference):
    """reconstruction_loss averages the binary cross-entropy over the pixels; vae_loss adds 0.1 x KL, mean over the batch"""
    images, decoded = probe_pictures(5)
    got = as_array(student.reconstruction_loss(images, decoded), what="reconstruction_loss(images, decoded)")
    assert got.shape == (5,), f"reconstruction_loss gave shape {got.shape} for 5 pictures; expected (5,)"
    assert_close(got, reference.reconstruction_loss(images, decoded), rtol=1e-4, atol=1e-5,
                 what="reconstruction_loss on probe pictures (the cross-entropy averaged over all 784 pixels)")
    total = as_array(student.vae_loss(images, decoded, PROBE_MEAN, PROBE_LOG_VAR), what="vae_loss(...)")
    assert total.size == 1, f"vae_loss should be one number (the mean over the batch), got shape {total.shape}"
    assert_close(total.reshape(()), reference.vae_loss(images, decoded, PROBE_MEAN, PROBE_LOG_VAR), rtol=1e-4, atol=1e-5,
                 what="vae_loss on probe values (reconstruction + 0.1 x KL, averaged over the pictures)")


@pytest.mark.points(2)
def test_reparametrize_with_injected_epsilon(student, reference):
    """reparametrize(z_mean, z_log_var, epsilon) = z_mean + exp(z_log_var / 2) * epsilon, on probes"""
    epsilon = np.random.default_rng(7).normal(size=PROBE_MEAN.shape).astype(np.float32)
    got = as_array(student.reparametrize(PROBE_MEAN, PROBE_LOG_VAR, epsilon), what="reparametrize(...)")
    assert_close(got, reference.reparametrize(PROBE_MEAN, PROBE_LOG_VAR, epsilon), rtol=1e-5, atol=1e-6,
                 what="z from probe means, log-variances and the grader's epsilon (z_log_var is log(sigma**2))")


@pytest.mark.points(2)
def test_sampler_draws_epsilon_with_the_given_sigma(student):
    """build_sampler(epsilon_sigma): a model (z_mean, z_log_var) -> z whose noise has standard deviation epsilon_sigma"""
    rows = 4000
    means = np.tile(np.array([[1.0, -2.0], [0.0, 0.5]], np.float32), (rows // 2, 1))
    log_vars = np.tile(np.array([[0.0, np.log(4.0)], [-np.log(4.0), 0.0]], np.float32), (rows // 2, 1))
    sigma = np.exp(0.5 * log_vars)
    for epsilon_sigma in (0.5, 0.1):
        z = as_array(student.build_sampler(epsilon_sigma)([means, log_vars]), what=f"build_sampler({epsilon_sigma})(...)")
        assert z.shape == means.shape, f"the sampler gave shape {z.shape} for {rows} rows of 2; expected {means.shape}"
        noise = (z.astype(np.float64) - means) / sigma
        spread = float(noise.std())
        assert abs(spread - epsilon_sigma) < 0.1 * epsilon_sigma and abs(float(noise.mean())) < 0.1 * epsilon_sigma, (
            f"with epsilon_sigma={epsilon_sigma}, (z - z_mean) / exp(z_log_var / 2) has mean {float(noise.mean()):.3g} "
            f"and standard deviation {spread:.3g} over {rows} draws; expected mean 0 and standard deviation "
            f"{epsilon_sigma}: draw epsilon with that standard deviation and use reparametrize")


@pytest.mark.points(2)
def test_encoder_and_decoder_outputs(student, reference, digits):
    """encoder: (None, 28, 28, 1) -> two (None, 2); decoder: (None, 2) -> (None, 28, 28, 1) in [0, 1]; the notes' sizes"""
    encoder, decoder = student.build_encoder(), student.build_decoder()
    encoded, decoding = encoder.describe(), decoder.describe()
    assert encoded.get("input_shapes") == [[None, 28, 28, 1]], f"the encoder's input has shape {encoded.get('input_shapes')}"
    assert encoded.get("output_shapes") == [[None, 2], [None, 2]], (
        f"the encoder's outputs have shapes {encoded.get('output_shapes')}; expected [z_mean, z_log_var], each (None, 2)")
    assert decoding.get("input_shapes") == [[None, 2]], f"the decoder's input has shape {decoding.get('input_shapes')}"
    assert decoding.get("output_shapes") == [[None, 28, 28, 1]], (
        f"the decoder's output has shape {decoding.get('output_shapes')}; expected (None, 28, 28, 1)")
    for name, summary in (("build_encoder", encoded), ("build_decoder", decoding)):
        assert_same_architecture(
            relu_moved_before_reshape(summary), relu_moved_before_reshape(reference.described(name)),
            what=f"{name}() (Part 4's network)")
    z_mean, _ = (as_array(a, what="encoder output") for a in encoder(digits[:8]))
    assert z_mean.shape == (8, 2), f"encoding 8 digits gave z_mean of shape {z_mean.shape}"
    z = np.random.default_rng(3).normal(0, 3, (64, 2)).astype(np.float32)
    pictures = as_array(decoder(z), what="decoder(z)")
    assert pictures.shape == (64, 28, 28, 1), f"decoding 64 latent points gave shape {pictures.shape}"
    low, high = float(np.min(pictures)), float(np.max(pictures))
    assert np.all(np.isfinite(pictures)) and low >= 0.0 and high <= 1.0, (
        f"decoded pixels range from {low:.3g} to {high:.3g}; the binary cross-entropy needs them in [0, 1]: "
        "end the decoder with a sigmoid")


def test_train_step_lowers_the_loss(student, digits, loss_terms):
    """VAE.train_step: two steps on a batch of 64 digits lower the loss of those digits"""
    encoder, decoder = student.build_encoder(), student.build_decoder()

    def loss():
        z_mean, z_log_var = (as_array(a, what="encoder output") for a in encoder(digits, training=True))
        decoded = as_array(decoder(z_mean, training=True), what="decoder output")
        reconstruction, kl = loss_terms(digits, decoded, z_mean, z_log_var)
        return float(np.mean(reconstruction + 0.1 * kl))

    before = loss()
    vae = student.build_vae(encoder, student.build_sampler(0.1), decoder)
    for _ in range(2):
        logs = vae.train_step(digits)
    assert isinstance(logs, dict) and "loss" in logs, (
        f"train_step should return a dict of numbers with a 'loss' entry, got {type(logs).__name__}")
    after = loss()
    assert np.isfinite(after) and after <= (1 - MIN_RELATIVE_DROP) * before, (
        f"the loss of the 64 digits went from {before:.4f} to {after:.4f} after two calls of vae.train_step(digits); "
        f"expected a drop of at least {MIN_RELATIVE_DROP:.0%}: check that train_step applies the gradients of "
        "vae_loss to the encoder's and decoder's weights")
