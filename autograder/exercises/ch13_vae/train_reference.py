"""Train the ch13 reference VAE as the exploration cell does, with CI's budget of epochs."""
import keras
import numpy as np

EPOCHS, BATCH_SIZE, EPSILON_SIGMA, SEED = 8, 32, 0.1, 1


def train(*, reference, data, out_dir):
    keras.utils.set_random_seed(SEED)
    images, _ = data("mnist_5k")
    x = reference.prepare_images(images)
    encoder, decoder = reference.build_encoder(), reference.build_decoder()
    vae = reference.build_vae(encoder, reference.build_sampler(EPSILON_SIGMA), decoder)
    history = vae.fit(x, epochs=EPOCHS, batch_size=BATCH_SIZE, verbose=0).history
    vae.save_weights(str(out_dir / "vae.weights.h5"))
    z_mean, z_log_var = encoder.predict(x, batch_size=250, verbose=0)
    decoded = decoder.predict(z_mean, batch_size=250, verbose=0)
    return {"epochs": EPOCHS, "batch_size": BATCH_SIZE, "epsilon_sigma": EPSILON_SIGMA, "seed": SEED,
            "train_digits": int(len(x)),
            "final_loss": round(float(history["loss"][-1]), 4),
            "train_reconstruction_from_z_mean": round(float(np.mean(reference.reconstruction_loss(x, decoded))), 4),
            "train_kl": round(float(np.mean(reference.kl_divergence(z_mean, z_log_var))), 4),
            "z_mean_spread": [round(float(v), 3) for v in np.percentile(np.abs(z_mean), [50, 95, 99])]}
