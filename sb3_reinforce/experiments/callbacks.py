"""
The experiment layer's callbacks: they log the true (unshaped) return and evaluate on the true reward, and work with
any SB3 algorithm (on- or off-policy), not only with :class:`~sb3_reinforce.Reinforce`.
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecEnv, sync_envs_normalization

from sb3_reinforce.common.validation import check_int
from sb3_reinforce.reinforce import Reinforce
from sb3_reinforce.wrappers import TRUE_EPISODE_KEY


class TrueReturnLogger(BaseCallback):
    """
    Log ``rollout/ep_true_rew_mean``: the mean *true* (unshaped) return of the last ``window`` training episodes.

    A shaped return says nothing about whether the task is solved. The reward-shaping wrappers report the env's
    own return of each finished episode in ``info["true_episode"]`` (:data:`~sb3_reinforce.wrappers.TRUE_EPISODE_KEY`);
    this callback collects it from the ``infos`` of every step and records the windowed mean at the end of each
    rollout, so it is dumped with SB3's own ``rollout/`` keys (PPO, A2C, SAC, ..., Reinforce).

    With :class:`~sb3_reinforce.Reinforce` and several envs, only the episodes of the batch are counted: its
    episode scheduler exposes the mask ``in_batch`` of the envs playing a batch episode
    (:attr:`~sb3_reinforce.reinforce.episode_scheduler.EpisodeScheduler.in_batch`), and the discarded episodes that
    finish while the last batch episodes are played out are biased toward short ones.

    :param window: Number of episodes the mean is taken over (SB3's ``stats_window_size`` is 100)
    :param verbose: Verbosity level
    """

    def __init__(self, window: int = 100, verbose: int = 0) -> None:
        super().__init__(verbose)
        self.window = check_int("window", window, minimum=1)
        self.true_returns: deque[float] = deque(maxlen=self.window)

    def _on_training_start(self) -> None:
        # Like SB3's ep_info_buffer: a fresh run (reset_num_timesteps=True) starts with fresh statistics
        if self.model.num_timesteps == 0:
            self.true_returns.clear()

    def _on_step(self) -> bool:
        infos = self.locals.get("infos", [])
        scheduler = getattr(self.model, "episode_scheduler", None)
        in_batch = None if scheduler is None else scheduler.in_batch
        for env_idx, info in enumerate(infos):
            true_episode = info.get(TRUE_EPISODE_KEY)
            if true_episode is not None and (in_batch is None or bool(in_batch[env_idx])):
                self.true_returns.append(float(true_episode["r"]))
        return True

    def _on_rollout_end(self) -> None:
        if self.true_returns:
            self.logger.record("rollout/ep_true_rew_mean", float(np.mean(self.true_returns)))


class ShapedReturnLogger(BaseCallback):
    """
    Log ``rollout/ep_shaped_rew_mean``: the mean return of the reward the agent is trained on (last ``window`` episodes).

    When the shaping wrappers sit outside SB3's ``Monitor`` (``make_vec_env(wrapper_class=...)``),
    ``rollout/ep_rew_mean`` is the env's true return; this sums the rewards that the algorithm receives, per env,
    over each finished episode.

    :param window: Number of episodes the mean is taken over
    :param verbose: Verbosity level
    """

    def __init__(self, window: int = 100, verbose: int = 0) -> None:
        super().__init__(verbose)
        self.window = check_int("window", window, minimum=1)
        self._running: np.ndarray | None = None
        self.shaped_returns: deque[float] = deque(maxlen=self.window)

    def _on_rollout_start(self) -> None:
        # Reinforce starts every rollout with fresh episodes (resetting any half-played one)
        if isinstance(self.model, Reinforce) and self._running is not None:
            self._running[:] = 0.0

    def _on_step(self) -> bool:
        rewards = np.asarray(self.locals["rewards"], dtype=np.float64).reshape(-1)
        dones = np.asarray(self.locals["dones"], dtype=bool).reshape(-1)
        if self._running is None:
            self._running = np.zeros_like(rewards)
        self._running += rewards
        for idx in np.flatnonzero(dones):
            self.shaped_returns.append(float(self._running[idx]))
            self._running[idx] = 0.0
        if dones.any():
            self.logger.record("rollout/ep_shaped_rew_mean", float(np.mean(self.shaped_returns)))
        return True


class TrueRewardEvaluator(BaseCallback):
    """
    Evaluate the model on the env's true reward every ``eval_freq`` env steps, at step 0 and when training ends.

    Before each evaluation the observation statistics of the training env (if any) are copied, frozen, into the
    evaluation env (SB3's ``sync_envs_normalization``) and its envs are reseeded with ``eval_seed + i``, so every
    evaluation plays the same episodes. Evaluations are due at steps ``0, eval_freq, 2 * eval_freq, ...`` below
    ``budget``, and once more when training ends (recorded with ``target = budget``). Each is logged as
    ``eval/mean_reward`` and ``eval/mean_ep_length`` and kept in :attr:`evaluations`; the time spent evaluating is
    summed in :attr:`eval_time`, so that it can be left out of the training speed. Unlike SB3's ``EvalCallback``, the
    schedule counts env steps (not calls), so runs with different numbers of envs are evaluated at the same steps.

    With :attr:`record_train_time` on (:func:`recording_train_time`; the benchmark's runs), each point also holds
    ``train_time``: the seconds of training when it was taken (``learn()`` so far, evaluations left out). It is off by
    default because the points are otherwise reproducible: a resumed run has the same points as an uninterrupted one.
    A resumed run's clock continues from its last evaluation before the checkpoint (the training between that
    evaluation and the checkpoint is not counted).

    :param eval_env: The evaluation env: the training action interface, the true reward, the env's own time limit
        (wrapped in a frozen ``VecNormalize`` if the training env normalizes observations)
    :param eval_freq: Evaluate every ``eval_freq`` env steps (summed over the training envs); 0: never during training
        (:meth:`evaluate` can still be called)
    :param n_eval_episodes: Episodes per periodic evaluation
    :param budget: The training budget (the target step recorded for the evaluation at the end)
    :param eval_seed: Seed of the first evaluation env
    :param verbose: Verbosity level: 0 no output, 1 one line per evaluation
    """

    #: Add ``train_time`` (seconds of training so far) to each evaluation point (:func:`recording_train_time`)
    record_train_time: ClassVar[bool] = False

    def __init__(
        self, eval_env: VecEnv, eval_freq: int, n_eval_episodes: int, budget: int, eval_seed: int = 0, verbose: int = 0
    ) -> None:
        super().__init__(verbose=verbose)
        self.eval_env = eval_env
        self.eval_freq = check_int("eval_freq", eval_freq, minimum=0)
        self.n_eval_episodes = check_int("n_eval_episodes", n_eval_episodes, minimum=1)
        self.budget = budget
        self.eval_seed = eval_seed
        self.evaluations: list[dict[str, Any]] = []
        self.eval_time = 0.0
        self._next_target = 0
        self._clock_start = time.perf_counter()
        self._eval_time_at_start = 0.0
        self._train_time_before = 0.0

    def on_training_start(self, locals_: dict[str, Any], globals_: dict[str, Any]) -> None:
        # Started here, not in _on_training_start: a resumed run's evaluator (checkpoints.ResumedEvaluator) skips that
        self._clock_start = time.perf_counter()
        self._eval_time_at_start = self.eval_time
        last = self.evaluations[-1] if self.evaluations else {}
        self._train_time_before = float(last.get("train_time", 0.0))
        super().on_training_start(locals_, globals_)

    @property
    def train_time(self) -> float:
        """Seconds of training so far: ``learn()`` (since the run started or resumed), evaluations left out."""
        evaluating = self.eval_time - self._eval_time_at_start
        return self._train_time_before + max(time.perf_counter() - self._clock_start - evaluating, 0.0)

    def evaluate(self, n_episodes: int) -> tuple[list[float], list[int]]:
        """
        Play ``n_episodes`` deterministic episodes of the current policy on the evaluation env.

        :param n_episodes: Number of episodes
        :return: The true return and the length of each episode
        """
        start = time.perf_counter()
        train_env = self.model.get_env()
        if train_env is not None:
            sync_envs_normalization(train_env, self.eval_env)
        self.eval_env.seed(self.eval_seed)
        rewards, lengths = evaluate_policy(
            self.model, self.eval_env, n_eval_episodes=n_episodes, deterministic=True, return_episode_rewards=True, warn=False
        )
        self.eval_time += time.perf_counter() - start
        return [float(r) for r in rewards], [int(n) for n in lengths]  # type: ignore[union-attr]

    def _record(self, target: int) -> None:
        train_time = self.train_time  # read before the evaluation, which it leaves out
        rewards, lengths = self.evaluate(self.n_eval_episodes)
        point: dict[str, Any] = dict(
            target=target,
            timesteps=int(self.num_timesteps),
            mean_reward=float(np.mean(rewards)),
            std_reward=float(np.std(rewards)),
            mean_length=float(np.mean(lengths)),
            n_episodes=len(rewards),
        )
        if self.record_train_time:
            point["train_time"] = train_time
        self.evaluations.append(point)
        self.logger.record("eval/mean_reward", point["mean_reward"])
        self.logger.record("eval/mean_ep_length", point["mean_length"])
        self.logger.dump(self.num_timesteps)
        if self.verbose >= 1:
            print(f"Eval at {self.num_timesteps} steps: {point['mean_reward']:.2f} +/- {point['std_reward']:.2f}")

    def _on_training_start(self) -> None:
        if self.eval_freq > 0:
            self._record(0)
            self._next_target = self.eval_freq

    def _on_step(self) -> bool:
        if self.eval_freq > 0 and self.num_timesteps >= self._next_target and self._next_target < self.budget:
            self._record(self._next_target)
            while self._next_target <= self.num_timesteps:
                self._next_target += self.eval_freq
        return True

    def _on_training_end(self) -> None:
        if self.eval_freq > 0:
            self._record(self.budget)


@contextlib.contextmanager
def recording_train_time() -> Iterator[None]:
    """
    Within the block, every :class:`TrueRewardEvaluator` adds ``train_time`` (seconds of training) to its evaluation
    points: the benchmark's runs use it for the wall time to a threshold and the curves against time.
    """
    previous = TrueRewardEvaluator.record_train_time
    TrueRewardEvaluator.record_train_time = True
    try:
        yield
    finally:
        TrueRewardEvaluator.record_train_time = previous
