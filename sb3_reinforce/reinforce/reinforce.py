"""REINFORCE: Monte-Carlo policy gradient on complete episodes, as an SB3 on-policy algorithm."""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.policies import ActorCriticCnnPolicy, ActorCriticPolicy, BasePolicy, MultiInputActorCriticPolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule
from stable_baselines3.common.utils import explained_variance, obs_as_tensor
from stable_baselines3.common.vec_env import VecEnv
from torch.nn import functional as F

from sb3_reinforce.reinforce.episode_buffer import EpisodeRolloutBuffer, _stack
from sb3_reinforce.reinforce.policies import sample_actions

SelfReinforce = TypeVar("SelfReinforce", bound="Reinforce")

BASELINES = ("none", "value")


def _check_number(name: str, value: Any, low: float, high: float = float("inf"), low_inclusive: bool = True) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r} of type {type(value).__name__}")
    in_range = (value >= low if low_inclusive else value > low) and value <= high
    if not in_range:
        bracket = "[" if low_inclusive else "("
        raise ValueError(f"{name} must be in {bracket}{low}, {high}], got {value!r}")


class Reinforce(OnPolicyAlgorithm):
    """
    REINFORCE: Monte-Carlo policy gradient (Williams, 1992), optionally with a learned value baseline.

    Paper: https://doi.org/10.1007/BF00992696 (Williams, 1992, "Simple statistical gradient-following algorithms
    for connectionist reinforcement learning")
    Introduction: Sutton & Barto, Reinforcement Learning: An Introduction (2nd ed.), sections 13.3-13.4,
    and https://spinningup.openai.com/en/latest/algorithms/vpg.html

    Each update uses ``n_episodes`` *complete* episodes played by the current policy and takes one gradient
    step on the surrogate ``-1/N sum_i sum_t log pi(a_t|s_t) * G_t`` (N episodes), where ``G_t`` is the discounted
    return (reward-to-go by default), optionally minus a learned baseline ``V(s_t)``. The sum over the steps of an
    episode is averaged over episodes, not steps: the number of steps in a batch depends on the actions, and dividing
    by it would bias the estimate toward short episodes. As in most implementations the ``gamma^t`` factor of the
    textbook estimator is dropped. The whole batch goes through the networks at once (memory grows with it).

    Episodes are collected across the ``n_envs`` envs of the VecEnv. To keep the batch an unbiased sample of
    episodes, the envs are reset at the start of each rollout, and the batch holds the first ``n_episodes``
    episodes to *start*, each followed to its end, however long. Whether an episode belongs to the batch is
    decided when it starts, before its length is known; stopping as soon as ``n_episodes`` episodes have
    *finished* would over-sample short ones. Envs with no episode left to play keep stepping (a VecEnv steps
    all its envs) until the last one ends; those steps are discarded (and left out of the ``rollout/`` episode
    statistics) but counted in ``num_timesteps``, and they still update ``VecNormalize`` statistics.
    With ``n_envs=1`` nothing is discarded. The mid-episode reset needs ``Monitor(allow_early_resets=True)``,
    SB3's default. SB3's ``n_steps`` is not used: ``n_episodes`` sets the size of a rollout.

    An episode cut by a time limit (``TimeLimit.truncated``) is not a termination: with a value baseline its
    return is bootstrapped with the critic's ``V(s_T)`` (``bootstrap_truncated=True``), but only once the critic
    has been trained at least once; without a value baseline it is treated as terminal.

    :param policy: The policy model to use (MlpPolicy, CnnPolicy, MultiInputPolicy, ...)
    :param env: The environment to learn from (if registered in Gym, can be str)
    :param learning_rate: The learning rate, it can be a function of the current progress remaining (from 1 to 0)
    :param n_episodes: Number of complete episodes per update (over all envs)
    :param gamma: Discount factor, in [0, 1]
    :param baseline: ``"none"`` (plain REINFORCE) or ``"value"`` (REINFORCE with a learned state-value baseline,
        trained with ``vf_coef``)
    :param gae_lambda: Factor of the Generalized Advantage Estimator, with ``baseline="value"`` only.
        ``1.0`` gives the pure Monte-Carlo advantage ``G_t - V(s_t)``; smaller values trade variance for bias
    :param reward_to_go: Weight each action by the return that follows it (True) or by the return of the whole
        episode, as in Williams' original estimator (False, only without a baseline)
    :param normalize_returns: Standardize the policy-gradient weights (returns, or advantages with a value
        baseline) over the batch to zero mean and unit variance, as the notebook did
    :param bootstrap_truncated: With a value baseline, bootstrap the return of time-limit-truncated episodes
        with ``V(s_T)``
    :param ent_coef: Entropy coefficient for the loss calculation
    :param vf_coef: Value function coefficient for the loss calculation (value baseline)
    :param max_grad_norm: The maximum value for the gradient clipping
    :param max_episode_steps: Bound on the length of one episode: an env whose episodes run longer (for instance
        one with no ``TimeLimit``) raises a ``RuntimeError`` instead of hanging the rollout forever
    :param use_sde: Whether to use generalized State Dependent Exploration (gSDE)
        instead of action noise exploration (default: False)
    :param sde_sample_freq: Sample a new noise matrix every n steps when using gSDE
        Default: -1 (only sample at the beginning of the rollout)
    :param stats_window_size: Window size for the rollout logging, specifying the number of episodes to average
        the reported success rate, mean episode length, and mean reward over
    :param tensorboard_log: the log location for tensorboard (if None, no logging)
    :param policy_kwargs: additional arguments to be passed to the policy on creation
    :param verbose: Verbosity level: 0 for no output, 1 for info messages (such as device or wrappers used), 2 for
        debug messages
    :param seed: Seed for the pseudo random generators
    :param device: Device (cpu, cuda, ...) on which the code should be run.
        Setting it to auto, the code will be run on the GPU if possible.
    :param _init_setup_model: Whether or not to build the network at the creation of the instance
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        "MlpPolicy": ActorCriticPolicy,
        "CnnPolicy": ActorCriticCnnPolicy,
        "MultiInputPolicy": MultiInputActorCriticPolicy,
    }
    supported_action_spaces = (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)
    rollout_buffer: EpisodeRolloutBuffer  # type: ignore[assignment]

    def __init__(
        self,
        policy: str | type[ActorCriticPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 1e-3,
        n_episodes: int = 10,
        gamma: float = 0.99,
        baseline: str = "none",
        gae_lambda: float = 1.0,
        reward_to_go: bool = True,
        normalize_returns: bool = True,
        bootstrap_truncated: bool = True,
        ent_coef: float = 0.0,
        vf_coef: float = 0.5,
        max_grad_norm: float = 0.5,
        max_episode_steps: int = 100_000,
        use_sde: bool = False,
        sde_sample_freq: int = -1,
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        _init_setup_model: bool = True,
    ):
        self._check_hyperparameters(
            learning_rate,
            n_episodes,
            gamma,
            baseline,
            gae_lambda,
            reward_to_go,
            ent_coef,
            vf_coef,
            max_grad_norm,
            max_episode_steps,
        )
        super().__init__(
            policy,
            env,
            learning_rate=learning_rate,
            n_steps=1,  # unused: rollouts are whole episodes, see ``n_episodes``
            gamma=gamma,
            gae_lambda=gae_lambda,
            ent_coef=ent_coef,
            vf_coef=vf_coef,
            max_grad_norm=max_grad_norm,
            use_sde=use_sde,
            sde_sample_freq=sde_sample_freq,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            policy_kwargs=policy_kwargs,
            verbose=verbose,
            device=device,
            seed=seed,
            _init_setup_model=False,
            supported_action_spaces=None,  # checked below with a TypeError rather than SB3's assert
        )
        action_space = getattr(self, "action_space", None)  # None when loading: set from the saved data
        if action_space is not None and not isinstance(action_space, self.supported_action_spaces):
            raise TypeError(
                f"Reinforce does not support the action space {self.action_space}: "
                f"supported are {', '.join(space.__name__ for space in self.supported_action_spaces)}"
            )
        self.n_episodes = n_episodes
        self.baseline = baseline
        self.reward_to_go = reward_to_go
        self.normalize_returns = normalize_returns
        self.bootstrap_truncated = bootstrap_truncated
        self.max_episode_steps = max_episode_steps

        if _init_setup_model:
            self._setup_model()

    @staticmethod
    def _check_hyperparameters(
        learning_rate: Any,
        n_episodes: Any,
        gamma: Any,
        baseline: Any,
        gae_lambda: Any,
        reward_to_go: Any,
        ent_coef: Any,
        vf_coef: Any,
        max_grad_norm: Any,
        max_episode_steps: Any,
    ) -> None:
        if not callable(learning_rate):
            _check_number("learning_rate", learning_rate, 0.0, low_inclusive=False)
        for name, value in (("n_episodes", n_episodes), ("max_episode_steps", max_episode_steps)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"{name} must be an int, got {value!r} of type {type(value).__name__}")
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        _check_number("gamma", gamma, 0.0, 1.0)
        _check_number("gae_lambda", gae_lambda, 0.0, 1.0)
        if baseline not in BASELINES:
            raise ValueError(f"Unknown baseline {baseline!r}: expected one of {', '.join(map(repr, BASELINES))}")
        if gae_lambda < 1.0 and baseline != "value":
            raise ValueError(f"gae_lambda={gae_lambda} < 1 needs a critic: use baseline='value' (got baseline={baseline!r})")
        if not reward_to_go and baseline == "value":
            raise ValueError("reward_to_go=False (whole-episode returns) cannot be combined with baseline='value'")
        _check_number("ent_coef", ent_coef, 0.0)
        _check_number("vf_coef", vf_coef, 0.0)
        _check_number("max_grad_norm", max_grad_norm, 0.0, low_inclusive=False)

    def _setup_model(self) -> None:
        # Like OnPolicyAlgorithm._setup_model, with an episodic buffer instead of the fixed-size RolloutBuffer
        self._setup_lr_schedule()
        self.set_random_seed(self.seed)
        self.rollout_buffer = EpisodeRolloutBuffer(
            self.observation_space,
            self.action_space,
            device=self.device,
            gamma=self.gamma,
            gae_lambda=self.gae_lambda,
            n_envs=self.n_envs,
        )
        self.policy = self.policy_class(  # type: ignore[assignment]
            self.observation_space, self.action_space, self.lr_schedule, use_sde=self.use_sde, **self.policy_kwargs
        )
        self.policy = self.policy.to(self.device)
        self._maybe_recommend_cpu()

    @property
    def _critic_is_trained(self) -> bool:
        return self.baseline == "value" and self._n_updates > 0

    def collect_rollouts(
        self,
        env: VecEnv,
        callback: BaseCallback,
        rollout_buffer: EpisodeRolloutBuffer,  # type: ignore[override]
        n_rollout_steps: int,
    ) -> bool:
        """
        Play the first ``n_episodes`` episodes that start from now to their end and store them in ``rollout_buffer``.

        :param env: The training environment
        :param callback: Callback that will be called at each step
            (and at the beginning and end of the rollout)
        :param rollout_buffer: Buffer to fill with the episodes
        :param n_rollout_steps: Ignored: a rollout is ``n_episodes`` complete episodes
        :return: True if the episodes were all collected, False if a callback stopped training
        """
        assert self._last_obs is not None, "No previous observation was provided"
        # Switch to eval mode (this affects batch norm / dropout)
        self.policy.set_training_mode(False)
        rollout_buffer.reset()
        # Episodes left half-played by the previous rollout came from an older policy: start afresh
        if not np.all(self._last_episode_starts):
            self._last_obs = env.reset()  # type: ignore[assignment]
            self._last_episode_starts = np.ones(env.num_envs, dtype=bool)
        if self.use_sde:
            self.policy.reset_noise(env.num_envs)

        callback.on_rollout_start()

        # The batch is the first n_episodes episodes to start; `active` marks the envs playing one of them
        active = np.arange(env.num_envs) < self.n_episodes
        n_started = int(active.sum())
        episode_steps = np.zeros(env.num_envs, dtype=np.int64)
        n_steps = 0
        while active.any():
            if self.use_sde and self.sde_sample_freq > 0 and n_steps % self.sde_sample_freq == 0:
                # Sample a new noise matrix
                self.policy.reset_noise(env.num_envs)

            with th.no_grad():
                obs_tensor = obs_as_tensor(self._last_obs, self.device)  # type: ignore[arg-type]
                actions = sample_actions(self.policy, obs_tensor).cpu().numpy()

            # Rescale and perform action
            clipped_actions = actions
            if isinstance(self.action_space, spaces.Box):
                if self.policy.squash_output:
                    clipped_actions = self.policy.unscale_action(clipped_actions)
                else:
                    # The Gaussian is unbounded: clip for the env, but learn from the sampled action
                    clipped_actions = np.clip(actions, self.action_space.low, self.action_space.high)

            new_obs, rewards, dones, infos = env.step(clipped_actions)
            self.num_timesteps += env.num_envs
            n_steps += 1

            # Give access to local variables
            callback.update_locals(locals())
            if not callback.on_step():
                # Training stops mid-episode: make the next rollout start from a reset, never from a stale observation
                self._last_obs = new_obs  # type: ignore[assignment]
                self._last_episode_starts = np.zeros(env.num_envs, dtype=bool)
                return False

            # Episode statistics only from the batch: the discarded episodes that finish are biased toward short ones
            batch_envs = np.flatnonzero(active)
            self._update_info_buffer([infos[idx] for idx in batch_envs], dones[batch_envs])
            self._check_finite(rewards, new_obs, active)

            rollout_buffer.add(self._last_obs, actions, rewards, active, dones, infos)  # type: ignore[arg-type]
            episode_steps = np.where(dones, 0, episode_steps + 1)
            if np.any(episode_steps[active] >= self.max_episode_steps):
                raise RuntimeError(
                    f"An episode ran for {self.max_episode_steps} steps without ending (max_episode_steps="
                    f"{self.max_episode_steps}). REINFORCE learns from complete episodes: wrap the env in "
                    "gymnasium.wrappers.TimeLimit (or register it with max_episode_steps), or raise max_episode_steps."
                )
            for env_idx in np.flatnonzero(dones & active):
                # The env starts a new episode: it joins the batch only while the batch is not full
                active[env_idx] = n_started < self.n_episodes
                n_started += int(active[env_idx])

            self._last_obs = new_obs  # type: ignore[assignment]
            self._last_episode_starts = dones

        rollout_buffer.finalize()
        self._compute_returns(rollout_buffer)

        callback.update_locals(locals())
        callback.on_rollout_end()
        return True

    @staticmethod
    def _check_finite(rewards: np.ndarray, observations: Any, active: np.ndarray) -> None:
        """Fail at the step where the env goes wrong, not later as NaN weights."""
        if not np.all(np.isfinite(rewards[active])):
            bad = int(np.flatnonzero(~np.isfinite(rewards) & active)[0])
            raise ValueError(
                f"The env returned a non-finite reward {float(rewards[bad])} (env index {bad}): "
                "REINFORCE would turn it into NaN weights. Check the env's reward (and any reward wrapper)."
            )
        for key, obs in observations.items() if isinstance(observations, dict) else [(None, observations)]:
            if np.issubdtype(obs.dtype, np.floating) and not np.all(np.isfinite(obs)):
                bad = int(np.flatnonzero(~np.isfinite(obs.reshape(len(obs), -1)).all(axis=1))[0])
                where = "" if key is None else f" under key {key!r}"
                raise ValueError(f"The env returned a non-finite observation{where} (env index {bad}): {obs[bad]}")

    def _compute_returns(self, rollout_buffer: EpisodeRolloutBuffer) -> None:
        """Compute returns and advantages of the finished batch, with the critic's values if it is a baseline."""
        values: np.ndarray | None = None
        bootstrap_values: np.ndarray | None = None
        if self.baseline == "value":
            with th.no_grad():
                observations = rollout_buffer.obs_to_torch(rollout_buffer.observations)
                values = self.policy.predict_values(observations).flatten().cpu().numpy()
            # Never bootstrap from a critic that has not been trained yet: treat the time limit as terminal then
            if self.bootstrap_truncated and self._critic_is_trained and rollout_buffer.truncated.any():
                terminal_obs = rollout_buffer.obs_to_torch(_stack(rollout_buffer.terminal_observations))
                with th.no_grad():
                    bootstrap_values = self.policy.predict_values(terminal_obs).flatten().cpu().numpy()
        rollout_buffer.compute_returns_and_advantage(values, bootstrap_values, reward_to_go=self.reward_to_go)

    def train(self) -> None:
        """
        Update policy using the currently gathered rollout buffer (one gradient step on the whole batch).
        """
        # Switch to train mode (this affects batch norm / dropout)
        self.policy.set_training_mode(True)
        # Update optimizer learning rate
        self._update_learning_rate(self.policy.optimizer)

        batch = self.rollout_buffer.get()
        actions = batch.actions
        if isinstance(self.action_space, spaces.Discrete):
            # Convert discrete action from float to long
            actions = actions.long().flatten()

        values, log_prob, entropy = self.policy.evaluate_actions(batch.observations, actions)
        values = values.flatten()

        # Policy-gradient weights: returns (no baseline) or advantages (value baseline)
        weights = batch.advantages
        if self.normalize_returns and len(weights) > 1:
            weights = (weights - weights.mean()) / (weights.std() + 1e-8)

        # Policy gradient loss: its gradient is the REINFORCE estimator, averaged over episodes,
        # -1/N sum_i sum_t G_t grad log pi(a_t|s_t). Dividing by the number of steps instead would weigh each
        # batch by 1/(total length), a random quantity tied to the returns: a bias toward short episodes.
        policy_loss = -(weights * log_prob).sum() / self.rollout_buffer.n_episodes

        # Entropy loss favor exploration
        if entropy is None:
            # Approximate entropy when no analytical form
            entropy_loss = -th.mean(-log_prob)
        else:
            entropy_loss = -th.mean(entropy)

        loss = policy_loss + self.ent_coef * entropy_loss
        if self.baseline == "value":
            # Value loss using the Monte-Carlo (lambda-)returns as targets
            value_loss = F.mse_loss(batch.returns, values)
            loss = loss + self.vf_coef * value_loss

        if not th.isfinite(loss):
            # Stop before the step rather than write NaN into the weights (and into the next checkpoint)
            raise RuntimeError(
                f"Non-finite loss {loss.item()} (policy_gradient_loss={policy_loss.item()}): training stopped before "
                f"this update, the weights are unchanged. Lower the learning rate "
                f"(now {self.policy.optimizer.param_groups[0]['lr']}) or check the env's rewards."
            )

        # Optimization step
        self.policy.optimizer.zero_grad()
        loss.backward()
        # Clip grad norm
        grad_norm = th.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
        self.policy.optimizer.step()
        self._n_updates += 1

        buffer = self.rollout_buffer
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/policy_gradient_loss", policy_loss.item())
        self.logger.record("train/entropy_loss", entropy_loss.item())
        self.logger.record("train/loss", loss.item())
        self.logger.record("train/grad_norm", grad_norm.item())
        self.logger.record("train/episodes_per_update", buffer.n_episodes)
        self.logger.record("train/steps_per_update", buffer.size)
        self.logger.record("train/return_mean", float(buffer.returns.mean()))
        self.logger.record("train/return_std", float(buffer.returns.std()))
        self.logger.record("train/truncated_episodes", int(buffer.truncated.sum()))
        if self.baseline == "value":
            self.logger.record("train/value_loss", value_loss.item())
            self.logger.record("train/explained_variance", explained_variance(buffer.values, buffer.returns))
        if hasattr(self.policy, "log_std"):
            self.logger.record("train/std", th.exp(self.policy.log_std).mean().item())

    def learn(
        self: SelfReinforce,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 1,
        tb_log_name: str = "Reinforce",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfReinforce:
        return super().learn(
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            progress_bar=progress_bar,
        )
