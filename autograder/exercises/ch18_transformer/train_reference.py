"""Train the ch18 reference as the exploration cell does, with CI's budget of epochs."""
import numpy as np

EPOCHS, BATCH_SIZE, WARMUP_STEPS, SEED = 4, 64, 400, 18


def train(*, reference, data, out_dir):
    import keras
    import tensorflow as tf

    from dlgrade.datasets import build_translation_tokenizers

    keras.utils.set_random_seed(SEED)
    portuguese, english = data("pt_en_generated")
    tokenizers = build_translation_tokenizers(portuguese, english)
    pt_ids, en_ids = reference.encode_pairs(tokenizers, portuguese, english)
    batches = tf.data.Dataset.from_tensor_slices((pt_ids, en_ids)).shuffle(len(pt_ids), seed=SEED).batch(BATCH_SIZE)
    transformer = reference.build_transformer(tokenizers.pt.get_vocab_size(), tokenizers.en.get_vocab_size())
    train_step = reference.make_train_step(transformer, reference.make_optimizer(64, warmup_steps=WARMUP_STEPS))
    history = []
    for _ in range(EPOCHS):
        results = np.array([[float(v) for v in train_step(inp, tar)] for inp, tar in batches])
        history.append(results.mean(axis=0).tolist())
    transformer.save_weights(str(out_dir / "translator.weights.h5"))
    return {"epochs": EPOCHS, "warmup_steps": WARMUP_STEPS, "loss_by_epoch": [round(l, 4) for l, _ in history],
            "train_token_accuracy_by_epoch": [round(a, 4) for _, a in history]}
