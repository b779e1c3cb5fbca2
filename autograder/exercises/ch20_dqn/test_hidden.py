"""Hidden checks for ch20_dqn: targets and a training step against the reference, a short run of the training
loop, and the submitted network playing CartPole on the grader's side (measurements in exercise.toml).

The play check grades a policy *learned by deep Q-learning*, so its points count only with evidence of learning:
the grader's short run of the student's own train_dqn (from the grader's start) must change the Q-network. A
hand-set controller (push right when pole angle + 0.5 x angular velocity > 0 averages 500 on the grader's seeds)
fits in the exercise's network, so the play alone cannot tell learning from hand-tuning (issue 11; mutant
hand_set_controller). The gate asks for learning, not for a flawless loop: the loop's details have their own
checks, and a student whose loop has a counting bug keeps the play points for weights it did learn."""
import numpy as np
import pytest

from dlgrade.checks import as_array, as_arrays, assert_trained_like_reference, submitted_weights

WEIGHTS = "cartpole_dqn.weights.h5"
# CartPole-v1 terminates an episode when |pole angle| > 12 degrees or |cart position| > 2.4.
ANGLE_LIMIT, POSITION_LIMIT = 12 * 2 * np.pi / 360, 2.4
# The grader's own episodes: seeds students never see, 500 steps at most.
EVALUATION_SEEDS = [int(s) for s in np.random.default_rng(20_2005).integers(10**6, 10**7, size=20)]
# The notes' DQN (discount 0.618, 24-12 network, target copied every 100 steps) is unstable: over 9 runs of up to
# 60,000-71,000 steps the kept weights averaged 248-500 on 20 fresh seeds (3 runs 500; see exercise.toml); the
# reference (train_reference.py) averages 413.2 on these seeds. Full marks from 200 (48 below the worst run),
# partial credit down to 50 (random pushes average about 22, always pushing one way about 9).
FULL_MARKS_RETURN, FLOOR_RETURN = 200.0, 50.0

# The short training run every loop check looks at (a few seconds): steps are counted from 1, training every
# 4th step from step 200 (memory of 200) gives steps 200, 204, ..., 348: 38 steps (1-based or 0-based counting
# alike); the last target copy is at step 350 (351 when counting from 0), after the last training step.
# The starting network always pushes right (the pole falls after about 9 steps), and episodes are truncated
# after 10 steps, so the run holds both kinds of episode ends (seeds 5-7: 28-31 terminated, 6-9 truncated).
LOOP = dict(total_steps=351, seed=5, batch_size=32, min_replay_size=200, train_every=4, target_update_every=50,
            epsilon_decay=0.3, max_episode_steps=10)
EXPECTED_TRAIN_STEPS = 38
UNTRAINED_STEPS = 190  # transitions surely chosen with the starting weights (no training before step 200)
# Measured with the reference's loop (run seeds 5-7): from episode 8 on, 95-100 % of the actions are greedy (the
# check asks for 85 %); in episodes 0-1, 8 of about 20 actions differ from the greedy one (the check asks for 3).


def greedy(weights, observations):
    """The greedy actions of the exercise's network with these weights (numpy forward pass)."""
    hidden = np.maximum(observations @ weights[0] + weights[1], 0.0)
    hidden = np.maximum(hidden @ weights[2] + weights[3], 0.0)
    return np.argmax(hidden @ weights[4] + weights[5], axis=1)


def no_learning_shown(request) -> str:
    """Why the grader's short run of the student's train_dqn (``loop_run``) shows no learning; '' when it does."""
    try:
        run = request.getfixturevalue("loop_run")
    except Exception as error:  # whatever stopped the run (the loop checks show it in full), it showed no learning
        return f"it stopped with an error ({(str(error) or type(error).__name__).splitlines()[0][:300]})"
    if all(np.array_equal(q, s) for q, s in zip(run["q"], run["start"])):
        return "the Q-network's weights did not change"
    return ""


def episodes_of(observations, next_observations):
    """Episode index of every stored transition: a new episode starts where an observation is not the
    previous transition's next observation."""
    starts = np.r_[False, np.any(observations[1:] != next_observations[:-1], axis=1)]
    return np.cumsum(starts)


@pytest.mark.points(2)
def test_targets_on_a_probe_minibatch(student, reference, random_weights, probe_minibatch):
    """q_learning_targets equals the reference's on real transitions, terminated ones included"""
    q_network, target_network = student.build_q_network(), student.build_q_network()
    ours_q, ours_target = reference.live("build_q_network"), reference.live("build_q_network")
    shapes = [w.shape for w in ours_q.get_weights()]
    for student_model, our_model, seed in ((q_network, ours_q, 61), (target_network, ours_target, 62)):
        weights = random_weights(shapes, seed=seed)
        student_model.set_weights(weights)
        our_model.set_weights(weights)
    got = as_array(student.q_learning_targets(q_network, target_network, probe_minibatch, discount=0.9),
                   what="q_learning_targets")
    expected = np.asarray(reference.live("q_learning_targets", ours_q, ours_target, probe_minibatch, discount=0.9))
    assert got.shape == expected.shape, f"targets of shape {got.shape}; expected {expected.shape} (one row per transition)"
    actions, terminated = probe_minibatch[1], probe_minibatch[4].astype(bool)
    wrong = ~np.isclose(got, expected, atol=1e-4, rtol=1e-4)
    taken = np.zeros_like(wrong)
    taken[np.arange(len(actions)), actions] = True
    assert not np.any(wrong & ~taken), (
        f"in {int(np.any(wrong & ~taken, axis=1).sum())} rows the action not taken has a changed value: it should "
        "keep the Q-network's own prediction")
    bad_terminal, bad_other = int(np.sum(wrong & taken & terminated[:, None])), int(np.sum(wrong & taken & ~terminated[:, None]))
    assert not bad_terminal, f"the targets of {bad_terminal} of {int(terminated.sum())} terminated transitions are wrong"
    assert not bad_other, (
        f"the targets of {bad_other} of {int((~terminated).sum())} non-terminal transitions are wrong: check the "
        "discount, the maximum over actions and which network predicts the next observations")


@pytest.mark.points(2)
def test_training_step_matches_the_reference(student, reference, random_weights, probe_minibatch):
    """three train_on_minibatch steps move the Q-network exactly as the reference's do; the target stays"""
    q_network, target_network = student.build_q_network(), student.build_q_network()
    ours_q, ours_target = reference.live("build_q_network"), reference.live("build_q_network")
    shapes = [w.shape for w in ours_q.get_weights()]
    start, target_start = random_weights(shapes, seed=71), random_weights(shapes, seed=72)
    q_network.set_weights(start)
    target_network.set_weights(target_start)
    ours_q.set_weights(start)
    ours_target.set_weights(target_start)
    for _ in range(3):
        student.train_on_minibatch(q_network, target_network, probe_minibatch, discount=0.9)
        reference.live("train_on_minibatch", ours_q, ours_target, probe_minibatch, discount=0.9)
    assert_trained_like_reference(
        q_network.get_weights(), ours_q.get_weights(), start, what="after 3 training steps on the grader's minibatch",
        hint="one Adam step (learning rate 1e-3) per call on the Huber loss between the Q-network's predictions and "
             "the Q-learning targets")
    after_target = as_arrays(target_network.get_weights(), what="target weights")
    assert all(np.array_equal(a, b) for a, b in zip(after_target, target_start)), (
        "train_on_minibatch changed the target network: only the Q-network trains")


@pytest.fixture(scope="module")
def loop_run(student, controller_weights):
    """Run the student's train_dqn for 351 steps from a network that always pushes right (see LOOP)."""
    start = controller_weights(0.0, 0.0, offset=1.0)
    q_network, target_network = student.build_q_network(), student.build_q_network()
    q_network.set_weights(start)
    target_network.set_weights(start)
    memory = student.ReplayMemory(capacity=1000)
    student.train_dqn(q_network, target_network, memory, **LOOP)
    return {"start": start, "q": as_arrays(q_network.get_weights(), what="Q-network weights"),
            "target": as_arrays(target_network.get_weights(), what="target weights"),
            "iterations": int(as_array(q_network.optimizer.iterations, what="optimizer.iterations")),
            "transitions": as_arrays(memory.arrays(), what="memory.arrays()")}


@pytest.mark.points(2)
def test_training_loop_trains_and_updates_the_target(loop_run):
    """train_dqn: one transition stored per step, a training step every 4 steps, target copies every 50"""
    stored = len(loop_run["transitions"][2])
    assert stored == LOOP["total_steps"], (
        f"after train_dqn(total_steps=351) into an empty memory of capacity 1000, it holds {stored} transitions; "
        "store every step's transition once")
    assert abs(loop_run["iterations"] - EXPECTED_TRAIN_STEPS) <= 1, (
        f"the Q-network's optimizer took {loop_run['iterations']} steps in a run of 351 steps with min_replay_size=200 "
        f"and train_every=4; expected {EXPECTED_TRAIN_STEPS}: one minibatch every train_every steps once the memory "
        "holds min_replay_size transitions, counting the steps of the whole run")
    assert any(not np.array_equal(q, s) for q, s in zip(loop_run["q"], loop_run["start"])), "the Q-network never changed"
    target_is_start = all(np.array_equal(t, s) for t, s in zip(loop_run["target"], loop_run["start"]))
    assert not target_is_start, "the target network still holds its starting weights: copy the Q-network into it every target_update_every steps"
    assert all(np.array_equal(t, q) for t, q in zip(loop_run["target"], loop_run["q"])), (
        "at the end of the run (no training step after the last copy at step 350) the target network should hold "
        "exactly the Q-network's weights: copy them every target_update_every steps, counting the steps of the whole run")


@pytest.mark.points(2)
def test_training_loop_stores_terminated_not_truncated(loop_run):
    """train_dqn: episodes end when terminated or truncated; only a fallen pole is stored as terminated"""
    observations, _, _, next_observations, terminated = loop_run["transitions"]
    terminated = terminated.astype(bool)
    episode = episodes_of(observations, next_observations)
    lengths = np.bincount(episode)
    assert lengths.max() <= LOOP["max_episode_steps"], (
        f"an episode lasted {lengths.max()} steps with max_episode_steps=10: reset the environment when an "
        "episode is truncated as well as when it terminates")
    fell = (np.abs(next_observations[:, 2]) > ANGLE_LIMIT) | (np.abs(next_observations[:, 0]) > POSITION_LIMIT)
    last = np.r_[episode[1:] != episode[:-1], False]
    truncated = last & ~fell
    assert truncated.any() and fell.any(), "the run should hold terminated and truncated episodes; train_dqn did not play as asked"
    stored_wrong = int(np.sum(terminated & ~fell))
    assert not stored_wrong, (
        f"{stored_wrong} transitions are stored as terminated although the pole was still up (the episode was "
        "truncated at max_episode_steps): store terminated, not terminated or truncated")
    missed = int(np.sum(fell & ~terminated))
    assert not missed, f"{missed} transitions where the pole fell are not stored as terminated"


@pytest.mark.points(2)
def test_training_loop_explores_then_exploits(loop_run):
    """train_dqn: random actions early, greedy ones once epsilon has decayed (before any training step)"""
    observations, actions, _, next_observations, _ = loop_run["transitions"]
    episode = episodes_of(observations, next_observations)[:UNTRAINED_STEPS]
    agrees = actions[:UNTRAINED_STEPS].astype(int) == greedy(loop_run["start"], observations[:UNTRAINED_STEPS])
    early, late = episode <= 1, episode >= 8  # epsilon_at(e, decay=0.3): 1.0 and 0.74 early, at most 0.10 late
    assert late.sum() >= 20, f"only {int(late.sum())} of the first {UNTRAINED_STEPS} steps belong to episode 8 or later"
    late_share = float(agrees[late].mean())
    assert late_share >= 0.85, (
        f"from episode 8 on (epsilon at most 0.10 with decay 0.3) only {late_share:.0%} of the actions are the greedy "
        "ones of the Q-network: use epsilon_at(episode, decay=epsilon_decay) and the highest Q-value")
    random_early = int(np.sum(~agrees[early]))
    assert random_early >= 3, (
        f"in the first two episodes (epsilon 1.0 and 0.74) only {random_early} of {int(early.sum())} actions differ "
        "from the greedy one: explore with probability epsilon")


def test_evaluate_policy_plays_greedy_episodes(student, controller_weights, play_greedy, reference):
    """evaluate_policy: one greedy episode per seed, from env.reset(seed=seed)"""
    weights = controller_weights(0.0, 1.0)  # a weaker controller: returns differ from seed to seed
    q_network = student.build_q_network()
    q_network.set_weights(weights)
    seeds = [3, 14, 15, 92]
    got = as_array(student.evaluate_policy(q_network, seeds, max_episode_steps=300), what="evaluate_policy").reshape(-1)
    ours = reference.live("build_q_network")
    ours.set_weights(weights)
    expected = play_greedy(ours, seeds, max_episode_steps=300)
    assert got.shape == expected.shape, f"evaluate_policy returned {got.shape[0]} returns for {len(seeds)} seeds"
    assert np.sum(got == expected) >= 3, (
        f"returns {got.tolist()} for seeds {seeds} with max_episode_steps=300; the grader's greedy episodes returned "
        f"{expected.tolist()}")


@pytest.mark.points(4)
@pytest.mark.visibility("visible")
def test_submitted_network_balances_the_pole(student, reference, play_greedy, request, credit, feedback):
    """cartpole_dqn.weights.h5 learned by your train_dqn: the grader plays 20 greedy episodes on its seeds; average 200"""
    weights = submitted_weights(student.build_q_network(), WEIGHTS,
                                how_to_make_it="run the training cell, which saves it")
    ours = reference.live("build_q_network")
    expected = [w.shape for w in ours.get_weights()]
    assert [w.shape for w in weights] == expected, f"{WEIGHTS} does not have the exercise's weight shapes"
    ours.set_weights(weights)
    returns = play_greedy(ours, EVALUATION_SEEDS)
    average = float(returns.mean())
    feedback.line_plot("The grader's episodes: return of your greedy policy", {"return": returns},
                       xlabel="episode", ylabel="return (500 at most)")
    feedback.report_measured(f"average return over the grader's {len(returns)} greedy episodes", average,
                             FULL_MARKS_RETURN)
    message = (f"average return of your network over the grader's 20 episodes: {average:.1f} (lowest "
               f"{returns.min():.0f}); {FULL_MARKS_RETURN:.0f} or more earns full marks")
    reason = no_learning_shown(request)
    assert not reason, (
        f"{message}, but these points are for a policy your deep Q-learning learned, and the grader's run of your "
        f"train_dqn ({LOOP['total_steps']} steps from its own starting weights) shows no learning: {reason}. See the "
        "training-loop checks; submit the weights your train_dqn trained")
    assert average > FLOOR_RETURN, message
    if average < FULL_MARKS_RETURN:
        credit.give((average - FLOOR_RETURN) / (FULL_MARKS_RETURN - FLOOR_RETURN), message)
