"""Inputs shared by the ch20_dqn tests (trusted side only): CartPole played by the grader, probe weights."""
import gymnasium as gym
import numpy as np
import pytest


@pytest.fixture(scope="session")
def play_greedy():
    """play_greedy(model, seeds, max_episode_steps) -> the return of one greedy episode per seed, played here.

    All episodes advance together, so the model answers one batch of the same shape per time step
    (``predict_on_batch``); the student's code is never asked anything but the weights.
    """
    def play(model, seeds, max_episode_steps=500):
        envs = [gym.make("CartPole-v1", max_episode_steps=max_episode_steps) for _ in seeds]
        observations = np.stack([env.reset(seed=int(seed))[0] for env, seed in zip(envs, seeds)])
        returns, playing = np.zeros(len(envs)), np.ones(len(envs), bool)
        while playing.any():
            actions = np.argmax(np.asarray(model.predict_on_batch(observations)), axis=1)  # finished rows ignored
            for row in np.flatnonzero(playing):
                observations[row], reward, terminated, truncated, _ = envs[row].step(int(actions[row]))
                returns[row] += reward
                playing[row] = not (terminated or truncated)
        return returns
    return play


@pytest.fixture(scope="session")
def controller_weights():
    """controller_weights(angle, angular_velocity, offset=0) -> weights of the exercise's 4-24-12-2 network whose
    greedy action pushes right exactly when s = angle * pole_angle + angular_velocity * pole_angular_velocity
    + offset > 0 (its Q-values are (relu(-s), relu(s))); every other weight is zero."""
    def weights(angle, angular_velocity, offset=0.0):
        k1, k2, k3 = np.zeros((4, 24), np.float32), np.zeros((24, 12), np.float32), np.zeros((12, 2), np.float32)
        b1 = np.zeros(24, np.float32)
        k1[2:, 0], k1[2:, 1] = (angle, angular_velocity), (-angle, -angular_velocity)
        b1[0], b1[1] = offset, -offset
        k2[0, 0], k2[1, 1] = 1.0, 1.0
        k3[0, 1], k3[1, 0] = 1.0, 1.0
        return [k1, b1, k2, np.zeros(12, np.float32), k3, np.zeros(2, np.float32)]
    return weights


@pytest.fixture(scope="session")
def random_weights():
    """random_weights(shapes, seed) -> He-uniform-like kernels and small biases of the given shapes."""
    def weights(shapes, seed):
        rng = np.random.default_rng(seed)
        arrays = []
        for shape in shapes:
            limit = np.sqrt(6.0 / shape[0]) if len(shape) == 2 else 0.1
            arrays.append(rng.uniform(-limit, limit, size=shape).astype(np.float32))
        return arrays
    return weights


@pytest.fixture(scope="session")
def probe_minibatch():
    """32 real CartPole transitions (random pushes, seed 2020), 8 of them the last of a terminated episode."""
    env, rng = gym.make("CartPole-v1"), np.random.default_rng(2020)
    observation, _ = env.reset(seed=2020)
    rows = {"plain": [], "terminated": []}
    while len(rows["plain"]) < 24 or len(rows["terminated"]) < 8:
        action = int(rng.integers(2))
        next_observation, reward, terminated, truncated, _ = env.step(action)
        rows["terminated" if terminated else "plain"].append((observation, action, reward, next_observation, terminated))
        observation = env.reset()[0] if terminated or truncated else next_observation
    chosen = rows["plain"][:24] + rows["terminated"][:8]
    order = np.random.default_rng(7).permutation(32)
    columns = list(zip(*[chosen[i] for i in order]))
    return (np.asarray(columns[0], np.float32), np.asarray(columns[1], np.int64), np.asarray(columns[2], np.float32),
            np.asarray(columns[3], np.float32), np.asarray(columns[4], np.float32))
