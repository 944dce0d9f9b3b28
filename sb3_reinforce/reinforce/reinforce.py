"""REINFORCE: Monte-Carlo policy gradient on complete episodes, as an SB3 on-policy algorithm."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.policies import ActorCriticCnnPolicy, ActorCriticPolicy, BasePolicy, MultiInputActorCriticPolicy
from stable_baselines3.common.preprocessing import is_image_space
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule
from stable_baselines3.common.utils import explained_variance, is_vectorized_observation
from stable_baselines3.common.vec_env import VecEnv

from sb3_reinforce.reinforce.actor import NumpyActor, RolloutActor, SamplingNoise, make_rollout_actor
from sb3_reinforce.reinforce.episode_buffer import EpisodeRolloutBuffer

SelfReinforce = TypeVar("SelfReinforce", bound="Reinforce")

BASELINES = ("none", "mean", "leave_one_out", "group", "value")


@dataclass
class _CompiledActor:
    """The numpy actor of ``predict(deterministic=True)``, with the weight versions it was compiled from."""

    policy: BasePolicy
    parameters: list[th.nn.Parameter]
    versions: list[int] = field(default_factory=list)
    actor: RolloutActor | None = None


def _check_number(
    name: str, value: Any, low: float, high: float = float("inf"), low_inclusive: bool = True, high_inclusive: bool = True
) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r} of type {type(value).__name__}")
    in_range = (value >= low if low_inclusive else value > low) and (value <= high if high_inclusive else value < high)
    if not in_range:
        brackets = ("[" if low_inclusive else "(") + f"{low}, {high}" + ("]" if high_inclusive else ")")
        raise ValueError(f"{name} must be in {brackets}, got {value!r}")


def _check_baseline(baseline: str, n_episodes: int, group_size: Any, baseline_decay: Any) -> None:
    """The options of each baseline go with that baseline only."""
    if baseline == "group":
        if group_size is None:
            raise ValueError("baseline='group' needs group_size (the number of episodes started from one state)")
        if isinstance(group_size, bool) or not isinstance(group_size, (int, np.integer)):
            raise TypeError(f"group_size must be an int, got {group_size!r} of type {type(group_size).__name__}")
        if group_size < 2:
            raise ValueError(f"group_size must be >= 2 (a group compares its episodes), got {group_size}")
        if n_episodes % group_size != 0:
            raise ValueError(f"n_episodes={n_episodes} must be a multiple of group_size={group_size}")
    elif group_size is not None:
        raise ValueError(f"group_size={group_size} is only used with baseline='group' (got baseline={baseline!r})")
    if baseline == "leave_one_out" and n_episodes < 2:
        raise ValueError(f"baseline='leave_one_out' needs n_episodes >= 2 (the other episodes), got {n_episodes}")
    if baseline_decay is not None:
        if baseline != "mean":
            raise ValueError(f"baseline_decay is only used with baseline='mean' (got baseline={baseline!r})")
        _check_number("baseline_decay", baseline_decay, 0.0, 1.0, high_inclusive=False)


class Reinforce(OnPolicyAlgorithm):
    """
    REINFORCE: Monte-Carlo policy gradient (Williams, 1992), with a choice of baselines: running mean, leave-one-out
    (RLOO), group-relative (GRPO) or a learned value function.

    Paper: https://doi.org/10.1007/BF00992696 (Williams, 1992, "Simple statistical gradient-following algorithms
    for connectionist reinforcement learning")
    Introduction: Sutton & Barto, Reinforcement Learning: An Introduction (2nd ed.), sections 13.3-13.4,
    and https://spinningup.openai.com/en/latest/algorithms/vpg.html

    Each update uses ``n_episodes`` *complete* episodes played by the current policy and takes one gradient
    step on the loss (N episodes, ``T_i`` steps in episode ``i``)::

        L = 1/N sum_i sum_{t<T_i} [ -w_t log pi(a_t|s_t) - ent_coef * H(pi(.|s_t)) + vf_coef * (V(s_t) - R_t)^2 ]

    where the weight ``w_t`` is the discounted return (reward-to-go by default), optionally minus a baseline, and
    standardized over the batch with ``normalize_returns``; ``R_t`` are the critic's targets (value baseline only).
    **Every term has the same scale**: a sum over the steps of an episode, averaged over episodes. Averaging
    over steps instead would weigh each batch by ``1/sum_i T_i``, a random quantity tied to the returns (a bias
    toward short episodes); and one scale for all terms keeps ``ent_coef`` and ``vf_coef`` relative to the
    policy gradient what they are in A2C and PPO (where all terms are per-step means). Summed per episode, the
    entropy term is the maximum-entropy RL bonus ``ent_coef * H`` per step. Only the overall magnitude differs
    from A2C's (about ``T`` times larger): Adam is insensitive to it, ``max_grad_norm`` is not (it clips the
    norm of this per-episode gradient). As in most implementations the ``gamma^t`` factor of the textbook
    estimator is dropped. The batch goes through the networks at once, or in chunks of ``batch_size`` steps
    whose gradients are accumulated (the same gradient, with bounded memory).

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
    :param batch_size: Number of steps per forward/backward pass in the update (None: the whole batch at once).
        The gradients of the chunks are accumulated into the one gradient step of the batch: it bounds memory
        (``CnnPolicy`` with long episodes) without changing the update
    :param gamma: Discount factor, in [0, 1]
    :param baseline: What is subtracted from the returns ``G_t`` to reduce the variance of the gradient:

        - ``"none"``: nothing, plain REINFORCE (Williams, 1992);
        - ``"mean"``: a running average of the returns, ``b <- d * b + (1 - d) * mean(G)`` with ``d = baseline_decay``,
          updated after each batch so that a batch's baseline never depends on the batch itself (the textbook
          baseline, Sutton & Barto section 13.4). With ``normalize_returns=True`` the batch standardization removes any
          constant, so this baseline only matters with ``normalize_returns=False``;
        - ``"leave_one_out"``: for step ``t`` of episode ``i``, the mean of the returns from step ``t`` of the *other*
          episodes of the batch that last more than ``t`` steps, 0 if none (RLOO: Kool et al., 2019; Ahmadian et al.,
          2024, https://arxiv.org/abs/2402.14740). Episodes of different lengths: each step is compared only with the
          episodes still running at that step. With ``reward_to_go=False``: the mean of the other episodes' returns;
        - ``"group"``: episodes come in groups of ``group_size`` started from the same initial state, and each is
          compared with its group (GRPO, Shao et al., 2024, https://arxiv.org/abs/2402.03300):
          ``(G - mean_group) / (std_group + 1e-8)`` per step over the group's episodes still running at that step
          with ``normalize_returns=True`` (GRPO; the std division rescales each group and is not unbiased), the
          leave-one-out baseline within the group without it (unbiased). Episodes are played in *waves*: at the start
          of each wave every env is reset, env ``i`` playing episode ``k + i`` with the seed of its group (with
          ``n_envs=1`` a group is ``group_size`` resets with one seed; with ``n_envs > 1`` a group's episodes run side by
          side), and an env that finishes early keeps stepping, discarded, until the wave ends. ``VecNormalize``
          sees identical first observations within a group. Truncated episodes are treated as terminal;
        - ``"value"``: a learned state-value baseline ``V(s_t)``, trained with ``vf_coef``, with GAE(``gae_lambda``)
          (Schulman et al., 2015, https://arxiv.org/abs/1506.02438).

        ``"none"``, ``"mean"``, ``"leave_one_out"`` and ``"value"`` leave the expected gradient unchanged.
    :param group_size: Episodes per group, with ``baseline="group"`` only (``n_episodes`` must be a multiple of it)
    :param baseline_decay: Decay ``d`` of the running average of ``baseline="mean"`` (default 0.9), in [0, 1)
    :param gae_lambda: Factor of the Generalized Advantage Estimator, with ``baseline="value"`` only.
        ``1.0`` gives the pure Monte-Carlo advantage ``G_t - V(s_t)``; smaller values trade variance for bias
    :param reward_to_go: Weight each action by the return that follows it (True) or by the return of the whole
        episode, as in Williams' original estimator (False, only without a baseline)
    :param normalize_returns: Standardize the policy-gradient weights (returns, or advantages after the baseline)
        over the batch to zero mean and unit variance, as the notebook did (with ``baseline="group"``: within each
        group, as GRPO)
    :param bootstrap_truncated: With a value baseline, bootstrap the return of time-limit-truncated episodes
        with ``V(s_T)``
    :param ent_coef: Entropy coefficient for the loss calculation (a bonus of ``ent_coef * H`` per step)
    :param vf_coef: Value function coefficient for the loss calculation (value baseline)
    :param critic_epochs: Gradient steps of the critic per batch (value baseline): the first with the policy's, the
        others on the critic alone, on the same targets. A critic that takes one step per batch of episodes learns
        slowly, and an inaccurate baseline removes little variance
    :param max_grad_norm: The maximum norm of the gradient, applied to the actor's and the critic's parameters
        separately (a large value error does not shrink the policy step; parameters shared by both, such as a shared
        CNN, count with the actor). It clips the per-episode gradient, see above
    :param max_episode_steps: Bound on the length of one episode: an env whose episodes run longer (for instance
        one with no ``TimeLimit``) raises a ``RuntimeError`` instead of hanging the rollout forever
    :param use_sde: Whether to use generalized State Dependent Exploration (gSDE)
        instead of action noise exploration (default: False)
    :param sde_sample_freq: Sample a new noise matrix every n steps when using gSDE.
        Default: -1, a new noise matrix for each episode (per env). This differs from A2C/PPO, where -1 samples once
        per rollout: a REINFORCE batch is a sample of *independent* episodes, and episodes sharing one exploration
        function would be one sample counted ``n_episodes`` times. Only ``1`` (a new matrix every step) makes the
        summed per-step score unbiased: with a matrix shared by several steps, each step is credited with the effect
        of the others (docs/reinforce.md, "gSDE and REINFORCE")
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
        batch_size: int | None = None,
        gamma: float = 0.99,
        baseline: str = "none",
        group_size: int | None = None,
        baseline_decay: float | None = None,
        gae_lambda: float = 1.0,
        reward_to_go: bool = True,
        normalize_returns: bool = True,
        bootstrap_truncated: bool = True,
        ent_coef: float = 0.0,
        vf_coef: float = 0.5,
        critic_epochs: int = 1,
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
            batch_size,
            critic_epochs,
            gamma,
            baseline,
            group_size,
            baseline_decay,
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
            n_steps=256,  # not a rollout length (rollouts are whole episodes, see n_episodes): the buffer's initial capacity
            gamma=gamma,
            gae_lambda=gae_lambda,
            ent_coef=ent_coef,
            vf_coef=vf_coef,
            max_grad_norm=max_grad_norm,
            use_sde=use_sde,
            sde_sample_freq=sde_sample_freq,
            rollout_buffer_class=EpisodeRolloutBuffer,  # type: ignore[arg-type]
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
        self.batch_size = batch_size
        self.critic_epochs = critic_epochs
        self.baseline = baseline
        self.group_size = group_size
        self.baseline_decay = 0.9 if baseline_decay is None else baseline_decay
        # The running average of returns of baseline="mean" (None until a first batch has been seen)
        self._return_baseline: float | None = None
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
        batch_size: Any,
        critic_epochs: Any,
        gamma: Any,
        baseline: Any,
        group_size: Any,
        baseline_decay: Any,
        gae_lambda: Any,
        reward_to_go: Any,
        ent_coef: Any,
        vf_coef: Any,
        max_grad_norm: Any,
        max_episode_steps: Any,
    ) -> None:
        if not callable(learning_rate):
            _check_number("learning_rate", learning_rate, 0.0, low_inclusive=False)
        counts = {"n_episodes": n_episodes, "max_episode_steps": max_episode_steps, "critic_epochs": critic_epochs}
        for name, value in counts.items():
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"{name} must be an int, got {value!r} of type {type(value).__name__}")
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        if batch_size is not None:
            if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
                raise TypeError(f"batch_size must be an int or None, got {batch_size!r} of type {type(batch_size).__name__}")
            if batch_size < 1:
                raise ValueError(f"batch_size must be >= 1 (or None for the whole batch at once), got {batch_size}")
        _check_number("gamma", gamma, 0.0, 1.0)
        _check_number("gae_lambda", gae_lambda, 0.0, 1.0)
        if baseline not in BASELINES:
            raise ValueError(f"Unknown baseline {baseline!r}: expected one of {', '.join(map(repr, BASELINES))}")
        _check_baseline(baseline, n_episodes, group_size, baseline_decay)
        if gae_lambda < 1.0 and baseline != "value":
            raise ValueError(f"gae_lambda={gae_lambda} < 1 needs a critic: use baseline='value' (got baseline={baseline!r})")
        if not reward_to_go and baseline == "value":
            raise ValueError("reward_to_go=False (whole-episode returns) cannot be combined with baseline='value'")
        _check_number("ent_coef", ent_coef, 0.0)
        _check_number("vf_coef", vf_coef, 0.0)
        _check_number("max_grad_norm", max_grad_norm, 0.0, low_inclusive=False)

    def _setup_model(self) -> None:
        super()._setup_model()  # EpisodeRolloutBuffer through SB3's rollout_buffer_class hook, then the policy
        self._sampling_noise = SamplingNoise(self.seed)
        self._deterministic_actor: _CompiledActor | None = None

    def set_random_seed(self, seed: int | None = None) -> None:
        super().set_random_seed(seed)
        # The actions of a rollout are drawn from this noise (see RolloutActor)
        if seed is not None:
            self._sampling_noise = SamplingNoise(seed)

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "_sampling_noise", "_deterministic_actor"]

    def predict(
        self,
        observation: np.ndarray | dict[str, np.ndarray],
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
        """
        SB3's ``predict``. Deterministic actions of a stock ``MlpPolicy`` come from the compiled numpy actor of the
        rollouts (the same actions, several times cheaper at batch size 1, e.g. in ``evaluate_policy``); it is
        compiled again whenever the weights change in place (training, ``set_parameters``, ``load``, edits under
        ``torch.no_grad()``: each bumps the tensor's version counter). A parameter *replaced* by a new tensor object is
        not seen: change weights in place, as SB3 does.
        """
        actor = self._compiled_actor() if deterministic and not isinstance(observation, dict) else None
        if actor is None:
            return super().predict(observation, state, episode_start, deterministic)
        observation = np.asarray(observation)
        vectorized = is_vectorized_observation(observation, self.observation_space)
        actions = actor.mode(observation.reshape((-1, *(self.observation_space.shape or ()))))
        # As ActorCriticPolicy.predict: the action space's shape, then (Box) clipped or unscaled, as in the rollouts
        actions = self._to_env_actions(actions.reshape((-1, *(self.action_space.shape or ()))))
        return (actions if vectorized else actions.squeeze(axis=0)), state

    def _compiled_actor(self) -> RolloutActor | None:
        """The numpy actor of the current weights (None if the policy has none, see NumpyActor.supports)."""
        cached = self._deterministic_actor
        if cached is None or cached.policy is not self.policy:
            # Listed once per policy: walking the modules costs more than the forward pass
            parameters = list(self.policy.parameters())
            cached = self._deterministic_actor = _CompiledActor(self.policy, parameters)
        # Every in-place change of a tensor (optimizer steps, load_state_dict, edits under no_grad) bumps its version
        versions = [parameter._version for parameter in cached.parameters]
        if versions != cached.versions:
            supported = NumpyActor.supports(self.policy) and not is_image_space(self.observation_space)
            cached.actor = NumpyActor(self.policy, SamplingNoise(0)) if supported else None
            cached.versions = versions
        return cached.actor

    def _set_training_mode(self, mode: bool) -> None:
        # A walk over every module: skipped when nothing changes (it costs as much as a small update)
        if self.policy.training != mode:
            self.policy.set_training_mode(mode)

    def _fit_critic(self, n_steps: int, actor_params: list[th.nn.Parameter], critic_params: list[th.nn.Parameter]) -> None:
        """More gradient steps of the critic alone on the batch's targets (the actor, shared layers included, stays)."""
        buffer = self.rollout_buffer
        for _ in range(n_steps):
            self.policy.optimizer.zero_grad(set_to_none=True)
            for rollout_data in buffer.get(self.batch_size):
                values = self.policy.predict_values(rollout_data.observations)
                (self.vf_coef * self._value_loss(rollout_data.returns, values)).backward()
            for parameter in actor_params:
                parameter.grad = None  # Adam skips parameters without a gradient
            th.nn.utils.clip_grad_norm_(critic_params, self.max_grad_norm)
            self.policy.optimizer.step()

    def _value_loss(self, returns: th.Tensor, values: th.Tensor) -> th.Tensor:
        """The critic's squared error, summed over the steps and averaged over the episodes of the batch."""
        return ((returns - values.flatten()) ** 2).sum() / self.rollout_buffer.n_episodes

    def _parameter_groups(self) -> tuple[list[th.nn.Parameter], list[th.nn.Parameter]]:
        """The parameters of the actor (with any part shared with the critic) and those of the critic alone."""
        policy = self.policy
        critic_modules = [policy.value_net, policy.mlp_extractor.value_net]
        if not policy.share_features_extractor:
            critic_modules.append(policy.vf_features_extractor)
        critic_ids = {id(p) for module in critic_modules for p in module.parameters()}
        actor = [p for p in policy.parameters() if id(p) not in critic_ids]
        critic = [p for p in policy.parameters() if id(p) in critic_ids]
        return actor, critic

    @property
    def _critic_is_trained(self) -> bool:
        return self.baseline == "value" and self._n_updates > 0

    def _to_env_actions(self, actions: np.ndarray) -> np.ndarray:
        """What the env is given for the sampled (flat) actions: reshaped to the Box's shape, then clipped or unscaled."""
        space = self.action_space
        if not isinstance(space, spaces.Box):
            return actions
        if actions.shape[1:] != space.shape:
            actions = actions.reshape(-1, *space.shape)
        if self.policy.squash_output:
            return self.policy.unscale_action(actions)
        # The Gaussian is unbounded: clip a copy for the env, but learn from the sampled action
        # (np.maximum/np.minimum: np.clip costs several times more on the small arrays of one step)
        clipped = np.maximum(actions, space.low)
        return np.minimum(clipped, space.high, out=clipped)

    def collect_rollouts(
        self,
        env: VecEnv,
        callback: BaseCallback,
        rollout_buffer: EpisodeRolloutBuffer,  # type: ignore[override]
        n_rollout_steps: int,
    ) -> bool:
        """
        Play the first ``n_episodes`` episodes that start from now to their end and store them in ``rollout_buffer``.

        The policy does not change during a rollout, so it is compiled once into its cheapest exact form
        (:func:`~sb3_reinforce.reinforce.actor.make_rollout_actor`) and only sampled from, step after step.

        :param env: The training environment
        :param callback: Callback that will be called at each step
            (and at the beginning and end of the rollout)
        :param rollout_buffer: Buffer to fill with the episodes
        :param n_rollout_steps: Ignored: a rollout is ``n_episodes`` complete episodes
        :return: True if the episodes were all collected, False if a callback stopped training
        """
        assert self._last_obs is not None, "No previous observation was provided"
        # Switch to eval mode (this affects batch norm / dropout)
        self._set_training_mode(False)
        rollout_buffer.reset()
        grouped = self.baseline == "group"
        n_groups = self.n_episodes // self.group_size if grouped and self.group_size else 0
        group_seeds = self._sampling_noise.rng.integers(2**31 - 1, size=n_groups)
        env_groups = np.full(env.num_envs, -1, dtype=np.int64)
        if grouped:
            # Waves of episodes, each started by a reset of every env with the seed of its episode's group
            active, env_groups = self._start_wave(env, 0, group_seeds)
        else:
            # Episodes left half-played by the previous rollout came from an older policy: start afresh
            if not np.all(self._last_episode_starts):
                self._last_obs = env.reset()  # type: ignore[assignment]
                self._last_episode_starts = np.ones(env.num_envs, dtype=bool)
            # The batch is the first n_episodes episodes to start; `active` marks the envs playing one of them
            active = np.arange(env.num_envs) < self.n_episodes
        n_started = int(active.sum())
        actor = make_rollout_actor(self.policy, self._sampling_noise)
        if self.use_sde:
            actor.reset_noise(env.num_envs)

        callback.on_rollout_start()

        # Per-step work is kept to a few cheap calls: counters instead of array reductions where possible
        episode_start_step = np.zeros(env.num_envs, dtype=np.int64)
        n_steps = 0
        n_active = n_started
        while n_active > 0:
            if self.use_sde and self.sde_sample_freq > 0 and n_steps % self.sde_sample_freq == 0:
                # Sample a new noise matrix
                actor.reset_noise(env.num_envs)

            actions = actor.sample(self._last_obs)
            new_obs, rewards, dones, infos = env.step(self._to_env_actions(actions))
            self.num_timesteps += env.num_envs
            n_steps += 1

            # Give access to local variables
            callback.update_locals(locals())
            if not callback.on_step():
                # Training stops mid-episode: make the next rollout start from a reset, never from a stale observation
                self._last_obs = new_obs  # type: ignore[assignment]
                self._last_episode_starts = np.zeros(env.num_envs, dtype=bool)
                return False

            self._check_finite(rewards, new_obs, active)
            rollout_buffer.add(self._last_obs, actions, rewards, active, dones)  # type: ignore[arg-type]
            if np.count_nonzero(dones):
                self._end_episodes(rollout_buffer, infos, dones, active, env_groups)
                episode_start_step[dones] = n_steps
                for env_idx in np.flatnonzero(dones & active):
                    # The env starts a new episode: it joins the batch only while the batch is not full
                    # (with groups, only at the next wave)
                    active[env_idx] = not grouped and n_started < self.n_episodes
                    n_started += int(active[env_idx])
                n_active = int(np.count_nonzero(active))
                if self.use_sde and self.sde_sample_freq <= 0:
                    # Each episode explores with its own noise matrix (see sde_sample_freq)
                    actor.reset_noise(env.num_envs, np.flatnonzero(dones))
            if n_steps >= self.max_episode_steps and np.any(n_steps - episode_start_step[active] >= self.max_episode_steps):
                raise RuntimeError(
                    f"An episode ran for {self.max_episode_steps} steps without ending (max_episode_steps="
                    f"{self.max_episode_steps}). REINFORCE learns from complete episodes: wrap the env in "
                    "gymnasium.wrappers.TimeLimit (or register it with max_episode_steps), or raise max_episode_steps."
                )

            self._last_obs = new_obs  # type: ignore[assignment]
            self._last_episode_starts = dones
            if grouped and n_active == 0 and n_started < self.n_episodes:
                active, env_groups = self._start_wave(env, n_started, group_seeds)
                n_active = int(np.count_nonzero(active))
                n_started += n_active
                episode_start_step[:] = n_steps
                if self.use_sde and self.sde_sample_freq <= 0:
                    actor.reset_noise(env.num_envs)

        rollout_buffer.finalize()
        self._compute_returns(rollout_buffer)

        callback.update_locals(locals())
        callback.on_rollout_end()
        return True

    def _start_wave(self, env: VecEnv, first_episode: int, group_seeds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """
        Reset every env for the next wave of grouped episodes: env ``i`` plays episode ``first_episode + i`` (if the
        batch needs it), reset with the seed of that episode's group, so the episodes of a group start from the same
        state. The envs of the wave that are not needed are reset without a seed and their episodes discarded.

        :return: The mask of the envs playing a batch episode, and the group of each env's episode
        """
        episodes = first_episode + np.arange(env.num_envs)
        active = episodes < self.n_episodes
        groups = np.where(active, episodes // (self.group_size or 1), -1)
        # VecEnv.seed(s) seeds env i with s + i; the seed of every env's next reset is VecEnv._seeds
        env.unwrapped._seeds = [int(group_seeds[group]) if group >= 0 else None for group in groups]
        self._last_obs = env.reset()  # type: ignore[assignment]
        self._last_episode_starts = np.ones(env.num_envs, dtype=bool)
        return active, groups

    def _end_episodes(
        self,
        rollout_buffer: EpisodeRolloutBuffer,
        infos: list[dict[str, Any]],
        dones: np.ndarray,
        active: np.ndarray,
        env_groups: np.ndarray,
    ) -> None:
        """Book the episodes that ended at this step: statistics and, for batch episodes, how they ended."""
        # Episode statistics only from the batch: the discarded episodes that finish are biased toward short ones
        batch_envs = np.flatnonzero(active)
        self._update_info_buffer([infos[idx] for idx in batch_envs], dones[batch_envs])
        for env_idx in np.flatnonzero(dones & active):
            info = infos[env_idx]
            truncated = bool(info.get("TimeLimit.truncated", False))
            terminal_obs = info.get("terminal_observation")
            if truncated and terminal_obs is not None:
                # Bootstrapped with V(s_T): a NaN here would only surface one update later, as a NaN loss
                batch = {k: v[None] for k, v in terminal_obs.items()} if isinstance(terminal_obs, dict) else terminal_obs[None]
                self._check_finite_observations(batch, "terminal observation", env_indices=[env_idx])
            rollout_buffer.end_episode(int(env_idx), terminal_obs, truncated, int(env_groups[env_idx]))

    @staticmethod
    def _check_finite_observations(observations: Any, what: str = "observation", env_indices: Any = None) -> None:
        """Raise, naming the env, if a float observation of the batch ``observations`` (one row per env) is NaN or inf."""
        for key, obs in observations.items() if isinstance(observations, dict) else [(None, observations)]:
            obs = np.asarray(obs)
            if obs.dtype.kind == "f" and not np.isfinite(obs).all():
                row = int(np.flatnonzero(~np.isfinite(obs.reshape(len(obs), -1)).all(axis=1))[0])
                env_idx = row if env_indices is None else env_indices[row]
                where = "" if key is None else f" under key {key!r}"
                raise ValueError(f"The env returned a non-finite {what}{where} (env index {env_idx}): {obs[row]}")

    def _check_finite(self, rewards: np.ndarray, observations: Any, active: np.ndarray) -> None:
        """Fail at the step where the env goes wrong, not later as NaN weights."""
        # The common case first, as cheaply as possible: this runs at every env step. A sum is finite if and only if
        # every term is (or it overflowed: then the exact checks below find nothing); for the few numbers of a step,
        # Python floats cost less than numpy reductions
        if isinstance(observations, np.ndarray):
            if observations.size <= 256:
                if math.isfinite(sum(observations.ravel().tolist(), sum(rewards.tolist()))):
                    return
            elif math.isfinite(sum(rewards.tolist())) and (observations.dtype.kind != "f" or np.isfinite(observations).all()):
                return
        if not np.isfinite(rewards).all() and not np.all(np.isfinite(rewards[active])):
            bad = int(np.flatnonzero(~np.isfinite(rewards) & active)[0])
            raise ValueError(
                f"The env returned a non-finite reward {float(rewards[bad])} (env index {bad}): "
                "REINFORCE would turn it into NaN weights. Check the env's reward (and any reward wrapper)."
            )
        self._check_finite_observations(observations)

    def _compute_returns(self, rollout_buffer: EpisodeRolloutBuffer) -> None:
        """Compute returns and advantages of the finished batch, with the critic's values if it is a baseline."""
        values: np.ndarray | None = None
        bootstrap_values: np.ndarray | None = None
        if self.baseline == "value":
            with th.no_grad():
                observations = rollout_buffer.obs_to_torch(rollout_buffer.observations)
                values = self.policy.predict_values(observations).flatten().cpu().numpy()
                # Never bootstrap from a critic that has not been trained yet: treat the time limit as terminal then
                terminal_obs = rollout_buffer.terminal_observations
                if self.bootstrap_truncated and self._critic_is_trained and terminal_obs is not None:
                    terminal = rollout_buffer.obs_to_torch(terminal_obs)
                    bootstrap_values = self.policy.predict_values(terminal).flatten().cpu().numpy()
        rollout_buffer.compute_returns_and_advantage(
            values,
            bootstrap_values,
            reward_to_go=self.reward_to_go,
            baseline=self.baseline,
            return_baseline=self._return_baseline or 0.0,
            normalize_groups=self.normalize_returns,
        )
        if self.baseline == "mean":
            # Updated after use: the baseline of a batch never depends on the batch itself (unbiased)
            batch_mean = float(rollout_buffer.returns.mean())
            previous = batch_mean if self._return_baseline is None else self._return_baseline
            self._return_baseline = self.baseline_decay * previous + (1.0 - self.baseline_decay) * batch_mean

    def _policy_weights(self) -> th.Tensor:
        """The policy-gradient weights of the whole batch: returns or advantages, standardized if asked."""
        weights = self.rollout_buffer.to_torch(self.rollout_buffer.advantages)
        # With baseline="group" the weights are already standardized, group by group (GRPO)
        if self.normalize_returns and self.baseline != "group" and len(weights) > 1:
            weights = (weights - weights.mean()) / (weights.std() + 1e-8)
        return weights

    def train(self) -> None:
        """
        Update policy using the currently gathered rollout buffer (one gradient step on the whole batch).
        """
        # Switch to train mode (this affects batch norm / dropout)
        self._set_training_mode(True)
        # Update optimizer learning rate
        self._update_learning_rate(self.policy.optimizer)

        buffer = self.rollout_buffer
        weights = self._policy_weights()
        with_critic = self.baseline == "value"
        # Every term is a sum over the steps of an episode, averaged over the N episodes of the batch (see the class
        # docstring): the chunks of `batch_size` steps add up to exactly the whole-batch gradient
        per_episode = 1.0 / buffer.n_episodes
        policy_loss_sum, entropy_loss_sum, value_loss_sum = 0.0, 0.0, 0.0
        self.policy.optimizer.zero_grad()
        start = 0
        for rollout_data in buffer.get(self.batch_size):
            actions = rollout_data.actions
            if isinstance(self.action_space, spaces.Discrete):
                # Convert discrete action from float to long
                actions = actions.long().flatten()
            chunk_weights = weights[start : start + len(actions)]
            start += len(actions)

            if with_critic:
                values, log_prob, entropy = self.policy.evaluate_actions(rollout_data.observations, actions)
            else:
                # No critic in the loss: skip the value network's forward and backward passes
                distribution = self.policy.get_distribution(rollout_data.observations)
                log_prob, entropy = distribution.log_prob(actions), distribution.entropy()

            # Policy gradient loss: its gradient is the REINFORCE estimator, averaged over episodes,
            # -1/N sum_i sum_t G_t grad log pi(a_t|s_t). Dividing by the number of steps instead would weigh each
            # batch by 1/(total length), a random quantity tied to the returns: a bias toward short episodes.
            policy_loss = -(chunk_weights * log_prob).sum() * per_episode
            # Entropy loss favor exploration (approximated by -log_prob when there is no analytical form)
            entropy_loss = (log_prob if entropy is None else -entropy).sum() * per_episode
            loss = policy_loss + self.ent_coef * entropy_loss
            if with_critic:
                # Value loss using the Monte-Carlo (lambda-)returns as targets
                value_loss = self._value_loss(rollout_data.returns, values)
                loss = loss + self.vf_coef * value_loss
                value_loss_sum += value_loss.item()
            loss.backward()
            policy_loss_sum += policy_loss.item()
            entropy_loss_sum += entropy_loss.item()

        loss_value = policy_loss_sum + self.ent_coef * entropy_loss_sum + self.vf_coef * value_loss_sum
        if not np.isfinite(loss_value):
            # Stop before the step rather than write NaN into the weights (and into the next checkpoint)
            self.policy.optimizer.zero_grad()
            raise RuntimeError(
                f"Non-finite loss {loss_value} (policy_gradient_loss={policy_loss_sum}): training stopped before "
                f"this update, the weights are unchanged. Lower the learning rate "
                f"(now {self.policy.optimizer.param_groups[0]['lr']}) or check the env's rewards."
            )

        # Clip grad norm: the actor's and the critic's separately, so that a large value error cannot shrink the policy step
        actor_params, critic_params = self._parameter_groups()
        grad_norm = th.nn.utils.clip_grad_norm_(actor_params, self.max_grad_norm)
        if with_critic:
            value_grad_norm = th.nn.utils.clip_grad_norm_(critic_params, self.max_grad_norm)
            self.logger.record("train/value_grad_norm", value_grad_norm.item())
        self.policy.optimizer.step()
        self._n_updates += 1
        if with_critic and self.critic_epochs > 1:
            self._fit_critic(self.critic_epochs - 1, actor_params, critic_params)

        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/policy_gradient_loss", policy_loss_sum)
        self.logger.record("train/entropy_loss", entropy_loss_sum)
        self.logger.record("train/loss", loss_value)
        self.logger.record("train/grad_norm", grad_norm.item())
        self.logger.record("train/episodes_per_update", buffer.n_episodes)
        self.logger.record("train/steps_per_update", buffer.n_steps)
        self.logger.record("train/return_mean", float(buffer.returns.mean()))
        self.logger.record("train/return_std", float(buffer.returns.std()))
        self.logger.record("train/truncated_episodes", int(buffer.truncated.sum()))
        self.logger.record("train/baseline", self.baseline, exclude=("stdout", "log", "json", "csv"))
        # Variance diagnostic: the spread of the policy-gradient weights after the baseline, before any normalization
        self.logger.record("train/pg_weight_std", float(buffer.advantages.std()))
        if self.baseline == "mean":
            self.logger.record("train/return_baseline", float(self._return_baseline or 0.0))
        if with_critic:
            self.logger.record("train/value_loss", value_loss_sum)
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
