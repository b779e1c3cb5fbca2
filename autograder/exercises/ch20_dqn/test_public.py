"""Public checks for ch20_dqn: the network, the policy, the replay memory, target updates and targets."""
import numpy as np
import pytest

from dlgrade.checks import (as_array, as_arrays, assert_close, assert_loss, assert_optimizer,
                            assert_same_architecture, canonical_layers)

# He-uniform written out: VarianceScaling with these settings draws from the same distribution.
HE_UNIFORM = {"scale": 2.0, "mode": "fan_in", "distribution": "uniform"}
# Q-values and targets that differ by less than 1 (the Huber loss's quadratic part) and by more (its linear part).
TARGET_OFFSETS = np.array([[0.3, -3.0], [-0.6, 2.5], [4.0, 0.1], [-0.2, -1.7], [0.9, 6.0], [-5.0, 0.4]], np.float32)


def is_he_uniform(initializer) -> bool:
    """Whether a kernel_initializer config draws He-uniform weights, however it was written."""
    if not isinstance(initializer, dict):
        return initializer == "he_uniform"
    if initializer.get("class_name") == "HeUniform":
        return True
    config = initializer.get("config") or {}
    return initializer.get("class_name") == "VarianceScaling" and all(
        config.get(key) == value for key, value in HE_UNIFORM.items())


def huber(targets, predictions):
    """Keras' Huber loss (delta 1), averaged over the batch: 0.5 e^2 where |e| <= 1, |e| - 0.5 beyond."""
    error = np.abs(np.asarray(targets, np.float64) - np.asarray(predictions, np.float64))
    return float(np.mean(np.where(error <= 1.0, 0.5 * error ** 2, error - 0.5)))


@pytest.mark.points(2)
def test_q_network_architecture(student, reference, random_weights):
    """build_q_network: Dense(24, relu), Dense(12, relu), Dense(2, linear), He-uniform, Huber loss, Adam 1e-3"""
    model = student.build_q_network()
    summary = model.describe()
    assert summary["input_shapes"] == [[None, 4]], (
        f"input shape {summary['input_shapes']}; CartPole observations have 4 values: keras.Input(shape=(4,))")
    assert_same_architecture(summary, reference.described("build_q_network"), what="build_q_network()")
    initializers = [layer["config"].get("kernel_initializer") for layer in canonical_layers(summary)]
    assert all(is_he_uniform(i) for i in initializers), (
        f"kernel initialisers {[i.get('class_name') if isinstance(i, dict) else i for i in initializers]}; every "
        "layer uses He-uniform (kernel_initializer=\"he_uniform\")")
    words = "Adam with a learning rate of 1e-3"
    assert_optimizer(summary["compiled"], "Adam", words=words, what="build_q_network()", learning_rate=1e-3)
    assert_loss(summary["compiled"], "huber", words="the Huber loss", what="build_q_network()")
    # The probe batch only holds errors below 1; the Huber loss is linear beyond, so check there too.
    model.set_weights(random_weights([w.shape for w in as_arrays(model.get_weights(), what="weights")], seed=21))
    observations = np.random.default_rng(22).normal(0.0, 0.5, size=(len(TARGET_OFFSETS), 4)).astype(np.float32)
    predictions = as_array(model.predict_on_batch(observations), what="your network's Q-values")
    targets = (predictions + TARGET_OFFSETS).astype(np.float32)
    result = model.test_on_batch(observations, targets, return_dict=True)
    got = float(as_array(result["loss"], what="the compiled loss (test_on_batch)"))
    expected = huber(targets, predictions)
    assert np.isclose(got, expected, rtol=1e-4, atol=1e-6), (
        f"build_q_network(): on Q-values that miss their targets by 0.1 to 6, the compiled loss gives {got:.5g}; "
        f"the Huber loss gives {expected:.5g} (quadratic for errors up to 1, linear beyond)")


def test_epsilon_schedule(student, reference):
    """epsilon_at: decays from 1 towards 0.01 with the episode, at the rate given by decay"""
    episodes = [0, 1, 5, 20, 100, 300, 1000]
    got = [float(as_array(student.epsilon_at(e), what=f"epsilon_at({e})")) for e in episodes]
    expected = [reference.epsilon_at(e) for e in episodes]
    assert_close(np.array(got), np.array(expected), rtol=1e-4, atol=1e-6,
                 what=f"epsilon_at for episodes {episodes} (decay 0.01)")
    fast = float(as_array(student.epsilon_at(4, decay=0.5), what="epsilon_at(4, decay=0.5)"))
    assert_close(fast, reference.epsilon_at(4, decay=0.5), rtol=1e-4, atol=1e-6, what="epsilon_at(4, decay=0.5)")


def test_greedy_action_is_the_argmax(student, random_weights):
    """greedy_action: the action whose Q-value is highest, for weights and observations the grader chooses"""
    model = student.build_q_network()
    model.set_weights(random_weights([w.shape for w in as_arrays(model.get_weights(), what="weights")], seed=31))
    observations = np.random.default_rng(32).normal(0.0, 0.5, size=(24, 4)).astype(np.float32)
    q_values = as_array(model.predict_on_batch(observations), what="your network's Q-values")
    clear = np.abs(q_values[:, 0] - q_values[:, 1]) > 1e-3
    wrong = [i for i in np.flatnonzero(clear)
             if int(as_array(student.greedy_action(model, observations[i]), what="greedy_action")) != int(np.argmax(q_values[i]))]
    assert not wrong, (f"greedy_action disagrees with the highest Q-value of your own network for {len(wrong)} of "
                       f"{int(clear.sum())} observations (e.g. Q-values {q_values[wrong[0]].round(3).tolist()})")


@pytest.mark.points(2)
def test_replay_memory_keeps_the_latest_transitions(student):
    """ReplayMemory: 50,000 by default; keeps the latest `capacity` transitions in order; samples distinct ones"""
    assert int(student.ReplayMemory().capacity) == 50_000, "ReplayMemory() should hold 50,000 transitions"
    memory = student.ReplayMemory(capacity=10)
    for i in range(15):
        observation = np.array([i, i + 0.25, -i, 0.5], np.float32)
        memory.add(observation, i % 2, float(i), observation + 1.0, i % 3 == 0)
    observations, actions, rewards, next_observations, terminated = (
        as_array(a, what=f"arrays()[{k}]") for k, a in enumerate(memory.arrays()))
    kept = np.arange(5, 15)
    assert rewards.shape == (10,), f"after 15 additions to a memory of capacity 10, arrays() holds {rewards.shape[0]} transitions"
    assert np.array_equal(rewards, kept), f"rewards stored {rewards.tolist()}; expected the latest 10, oldest first"
    assert np.array_equal(observations[:, 0], kept) and np.array_equal(next_observations[:, 0], kept + 1), (
        "observations and next observations do not follow the rewards they were stored with")
    assert np.array_equal(actions, kept % 2) and np.array_equal(terminated.astype(bool), kept % 3 == 0), (
        "actions or terminated flags do not follow the transitions they were stored with")
    batch = [as_array(a, what=f"sample(...)[{k}]") for k, a in enumerate(memory.sample(6, student.np.random.default_rng(3)))]
    assert [b.shape for b in batch] == [(6, 4), (6,), (6,), (6, 4), (6,)], (
        f"sample(6, rng) returned shapes {[b.shape for b in batch]}; expected (6, 4), (6,), (6,), (6, 4), (6,)")
    sampled = batch[2]
    assert len(set(sampled.tolist())) == 6 and set(sampled.tolist()) <= set(kept.tolist()), (
        f"sample(6, rng) drew rewards {sampled.tolist()}: six distinct stored transitions expected")
    assert np.array_equal(batch[0][:, 0], sampled) and np.array_equal(batch[1], sampled.astype(int) % 2), (
        "a sampled transition mixes values stored with different transitions")


def test_update_target_copies_the_weights(student, random_weights):
    """update_target: the target network gets the Q-network's weights; the Q-network keeps them"""
    q_network, target_network = student.build_q_network(), student.build_q_network()
    shapes = [w.shape for w in as_arrays(q_network.get_weights(), what="weights")]
    ours, theirs = random_weights(shapes, seed=41), random_weights(shapes, seed=42)
    q_network.set_weights(ours)
    target_network.set_weights(theirs)
    student.update_target(q_network, target_network)
    after_target = as_arrays(target_network.get_weights(), what="target weights")
    after_q = as_arrays(q_network.get_weights(), what="Q-network weights")
    assert all(np.array_equal(a, b) for a, b in zip(after_target, ours)), (
        "after update_target(q_network, target_network), the target network does not hold the Q-network's weights")
    assert all(np.array_equal(a, b) for a, b in zip(after_q, ours)), "update_target changed the Q-network's weights"


@pytest.mark.points(2)
def test_targets_on_constant_networks(student):
    """q_learning_targets on networks whose Q-values are constants: only the taken action moves"""
    q_network, target_network = student.build_q_network(), student.build_q_network()
    zeros = [np.zeros_like(w) for w in as_arrays(q_network.get_weights(), what="weights")]
    # Zero kernels and hidden biases: the Q-network always says (0.5, -0.25), the target network (2, 3).
    q_network.set_weights(zeros[:-1] + [np.array([0.5, -0.25], np.float32)])
    target_network.set_weights(zeros[:-1] + [np.array([2.0, 3.0], np.float32)])
    observations = np.random.default_rng(51).normal(0.0, 0.1, size=(4, 4)).astype(np.float32)
    batch = (observations, np.array([0, 1, 1, 0]), np.ones(4, np.float32), observations[::-1].copy(),
             np.array([0.0, 0.0, 1.0, 0.0], np.float32))
    got = as_array(student.q_learning_targets(q_network, target_network, batch, discount=0.9), what="q_learning_targets")
    expected = np.array([[3.7, -0.25], [0.5, 3.7], [0.5, 1.0], [3.7, -0.25]])
    assert_close(got, expected, atol=1e-5, rtol=1e-5,
                 what="targets for actions (0, 1, 1, 0), rewards 1, discount 0.9, the third transition terminated")
