"""Train the ch16 reference as the exploration cell does, with CI's budget of epochs."""
import numpy as np

EPOCHS, LOOK_BACK = 100, 3


def train(*, reference, data, out_dir):
    months, passengers = data("airline_passengers")
    series = passengers[np.argsort(months)]
    train_part, test_part = reference.chronological_split(series)
    scaler = reference.fit_scaler(train_part)
    train_x, train_y = reference.make_windows(reference.scale(train_part, scaler), LOOK_BACK)
    test_x, test_y = reference.make_windows(reference.scale(test_part, scaler), LOOK_BACK)
    model = reference.build_model(LOOK_BACK)
    losses = reference.train(model, train_x, train_y, epochs=EPOCHS)
    model.save_weights(str(out_dir / "airline_lstm.weights.h5"))
    return {"epochs": EPOCHS, "final_loss": losses[-1],
            "train_rmse": reference.rmse_passengers(reference.predict_series(model, train_x), train_y, scaler),
            "test_rmse": reference.rmse_passengers(reference.predict_series(model, test_x), test_y, scaler)}
