"""Hidden checks for ch08_fashion_cnn: the submitted weights on the grader's held-out pictures."""
import numpy as np
import pytest

from dlgrade.checks import submitted_weights

WEIGHTS = "fashion_cnn.weights.h5"
# Measured on the reference trained by train_reference.py (exercise.toml): full marks from FULL_MARKS.
FULL_MARKS, FLOOR = 0.85, 0.60
SHORT_NAMES = ["top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"]


@pytest.mark.points(4)
@pytest.mark.visibility("visible")
def test_submitted_weights_on_held_out_pictures(student, reference, hidden_data, small_batch, scale_images, credit,
                                                feedback):
    """fashion_cnn.weights.h5 reaches 85 % accuracy on 2,000 test pictures the grader kept aside"""
    # The held-out pictures are scored here only: the feedback shows their confusion matrix (counts) and the
    # mistakes on pictures of the student's own split, never a held-out picture with its label (issue 11).
    arrays = submitted_weights(student.build_model(), WEIGHTS, how_to_make_it=
                               f"run the training cell, which saves it with model.save_weights('{WEIGHTS}')")
    model = reference.live("build_model")
    expected = [w.shape for w in model.get_weights()]
    got = [a.shape for a in arrays]
    assert got == expected, f"the weights have shapes {got}; the exercise's network has {expected}"
    model.set_weights(arrays)
    images, labels = hidden_data("fashion_mnist")
    predicted = model.predict(scale_images(images), batch_size=250, verbose=0).argmax(axis=1)
    accuracy = float(np.mean(predicted == labels))
    matrix = np.array([[np.sum((labels == t) & (predicted == p)) for p in range(10)] for t in range(10)])
    feedback.matrix("Held-out pictures: true class (rows) against predicted class", matrix,
                    labels=SHORT_NAMES)
    own_images, own_labels = small_batch
    own_predicted = model.predict(scale_images(own_images), batch_size=256, verbose=0).argmax(axis=1)
    wrong = np.flatnonzero(own_predicted != own_labels)[:12]
    if len(wrong):
        feedback.image_grid(f"Pictures of your own data (the first {len(own_images)} of the training set) your "
                            "weights get wrong (true → predicted)", own_images[wrong] / 255.0,
                            captions=[f"{SHORT_NAMES[own_labels[i]]} → {SHORT_NAMES[own_predicted[i]]}"
                                      for i in wrong])
    feedback.report_measured(f"accuracy on {len(labels)} held-out pictures", accuracy, FULL_MARKS)
    message = f"accuracy of your weights on the held-out pictures: {accuracy:.3f}; {FULL_MARKS} earns full marks"
    assert accuracy > FLOOR, message + ". Train longer (see the exploration cell) and submit the saved weights"
    if accuracy < FULL_MARKS:
        credit.give((accuracy - FLOOR) / (FULL_MARKS - FLOOR), message)
