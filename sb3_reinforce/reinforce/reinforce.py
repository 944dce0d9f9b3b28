"""REINFORCE: Monte-Carlo policy gradient on complete episodes, as an SB3 on-policy algorithm."""

from __future__ import annotations

from typing import Any, ClassVar, Literal, TypeVar

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.policies import ActorCriticCnnPolicy, ActorCriticPolicy, BasePolicy, MultiInputActorCriticPolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule
from stable_baselines3.common.utils import explained_variance
from stable_baselines3.common.vec_env import VecEnv, unwrap_vec_normalize

from sb3_reinforce.common.validation import check_bool, check_int, check_number
from sb3_reinforce.reinforce.actor import SamplingNoise, make_rollout_actor
from sb3_reinforce.reinforce.baselines import Baseline, make_baseline
from sb3_reinforce.reinforce.critic import critic_values, fit_critic
from sb3_reinforce.reinforce.env_checks import check_finite_step, warn_about_env
from sb3_reinforce.reinforce.episode_buffer import EpisodeRolloutBuffer
from sb3_reinforce.reinforce.episode_scheduler import EpisodeScheduler
from sb3_reinforce.reinforce.observation_normalizer import ObservationNormalizer, normalizable, observation_normalizers
from sb3_reinforce.reinforce.policy_update import LossTerms, PolicyUpdate
from sb3_reinforce.reinforce.resume import ResumableOnPolicyAlgorithm

SelfReinforce = TypeVar("SelfReinforce", bound="Reinforce")

# Settings of the critic, with their defaults: given otherwise with a critic-free baseline, they would be ignored
CRITIC_DEFAULTS = {"critic_epochs": 10, "vf_coef": 0.5}

#: Plain REINFORCE (Williams, 1992): no baseline, one gradient step per batch of episodes, no entropy bonus, as
#: Reinforce's defaults were before the defaults study (tuning/defaults/).
#: ``Reinforce("MlpPolicy", env, **PLAIN_REINFORCE)``
PLAIN_REINFORCE: dict[str, Any] = {
    "learning_rate": 1e-3,
    "baseline": "none",
    "n_epochs": 1,
    "minibatch_size": None,
    "ent_coef": 0.0,
    "normalize_observations": False,
}


class Reinforce(ResumableOnPolicyAlgorithm):
    """
    REINFORCE: Monte-Carlo policy gradient (Williams, 1992), with a choice of baselines: running mean, leave-one-out
    (RLOO), group-relative (GRPO) or a learned value function.

    Paper: https://doi.org/10.1007/BF00992696 (Williams, 1992, "Simple statistical gradient-following algorithms
    for connectionist reinforcement learning")
    Introduction: Sutton & Barto, Reinforcement Learning: An Introduction (2nd ed.), sections 13.3-13.4,
    and https://spinningup.openai.com/en/latest/algorithms/vpg.html

    Each update plays ``n_episodes`` *complete* episodes with the current policy and takes the REINFORCE gradient
    step on::

        L = 1/N sum_i sum_{t<T_i} [ -w_t log pi(a_t|s_t) - ent_coef * H(pi(.|s_t)) + vf_coef * (V(s_t) - R_t)^2 ]

    over N episodes of ``T_i`` steps, where ``w_t`` is the discounted return (reward-to-go by default) minus a
    baseline, standardized over the batch with ``normalize_returns``, and ``R_t`` the critic's targets (value baseline
    only). Every term is summed over an episode and averaged over episodes: a mean over steps would weigh each batch
    by ``1/sum_i T_i``, a random quantity tied to the returns (a bias toward short episodes). As in most
    implementations the ``gamma^t`` factor of the textbook estimator is dropped.

    The defaults (a study across the suite, ``tuning/defaults/``) subtract a learned value (GAE 0.95), follow the
    REINFORCE step with importance-weighted minibatch passes bounded by ``target_kl``, and standardize ``Box``
    observations inside the policy (``normalize_observations="auto"``); ``**PLAIN_REINFORCE``: Williams'.

    A batch is the first ``n_episodes`` episodes to *start*, each played to its end
    (:class:`~sb3_reinforce.reinforce.episode_scheduler.EpisodeScheduler`, ``model.episode_scheduler``); with
    ``n_envs > 1`` the steps of envs left without a batch episode are discarded (``rollout/discarded_fraction``) but
    counted in ``num_timesteps``. SB3's ``n_steps`` is not used. An episode cut by a time limit is not a
    termination: with a value baseline its return is bootstrapped with ``V(s_T)`` once the critic has been trained.

    :param policy: The policy model to use (MlpPolicy, CnnPolicy, MultiInputPolicy, ...)
    :param env: The environment to learn from (if registered in Gym, can be str)
    :param learning_rate: The learning rate, it can be a function of the current progress remaining (from 1 to 0)
    :param n_episodes: Number of complete episodes per update (over all envs)
    :param batch_size: Number of steps per forward/backward pass in the update (None: the whole batch at once); the
        chunks' gradients are accumulated into the batch's one gradient step (bounded memory, the same update)
    :param gamma: Discount factor, in [0, 1]
    :param baseline: What is subtracted from the returns (:mod:`~sb3_reinforce.reinforce.baselines`): ``"none"``
        (Williams, 1992), ``"mean"`` (running mean of the returns), ``"leave_one_out"`` (RLOO), ``"group"`` (GRPO, with
        ``group_size``), ``"value"`` (a learned critic with GAE), or a :class:`~sb3_reinforce.reinforce.baselines.Baseline`
    :param group_size: Episodes per group started from one state, with ``baseline="group"`` only
    :param baseline_decay: Decay of the running mean of ``baseline="mean"`` (default 0.9), in [0, 1)
    :param gae_lambda: Factor of the Generalized Advantage Estimator, with ``baseline="value"`` only (None: 0.95).
        ``1.0`` gives the pure Monte-Carlo advantage ``G_t - V(s_t)``; smaller values trade variance for bias
    :param reward_to_go: Weight each action by the return that follows it (True) or by the return of the whole
        episode, as in Williams' original estimator (False; not with ``baseline="value"``)
    :param normalize_returns: Standardize the policy-gradient weights (advantages) over the batch to zero mean and
        unit variance, as the notebook did (with ``baseline="group"``: within each group, as GRPO)
    :param bootstrap_truncated: With a value baseline, bootstrap time-limit-truncated returns with ``V(s_T)``
    :param normalize_observations: Standardize the observations inside the policy, with running statistics of the
        observations of every batch learned from (the features extractor is then an
        :class:`~sb3_reinforce.reinforce.observation_normalizer.ObservationNormalizer`, saved with the model): for
        ``Box`` observations that are not images, with SB3's default features extractor. ``"auto"``: wherever that
        applies and the env is not a ``VecNormalize`` that normalizes them already; ``True``: a ``ValueError`` where it
        does not apply. Once the model is built it says whether the policy normalizes (True or False)
    :param ent_coef: Entropy coefficient for the loss calculation (a bonus of ``ent_coef * H`` per step); it can be a
        function of the current progress remaining (from 1 to 0), as the learning rate, for example
        ``LinearSchedule(0.03)`` (0.2.0's default): a bonus that keeps the policy exploring while nothing is learned
        yet and lets it settle by the end (logged as ``train/ent_coef``). The default is none: with normalized
        observations it no longer paid (the defaults study)
    :param vf_coef: Value function coefficient for the loss calculation (value baseline only)
    :param critic_epochs: Passes of the critic over each batch (value baseline only): it learns with every policy
        step, then in ``critic_epochs - 1`` passes of its own (a critic that learns slowly removes little variance)
    :param n_epochs: Passes of the policy over each batch: the REINFORCE step, then ``n_epochs - 1`` passes of steps
        whose terms are weighted by the importance ratio ``pi(a|s) / pi_old(a|s)`` to the policy that played the batch
        (the per-step surrogate of TRPO/PPO, :mod:`~sb3_reinforce.reinforce.policy_update`): more learning from each
        batch of episodes, at the cost of a bias that grows as the policy moves away from the batch's
    :param minibatch_size: Env steps per gradient step in the passes after the REINFORCE step, the policy's and the
        critic's, shuffled (None: the whole batch, one step per pass)
    :param target_kl: Stop an update's importance-weighted steps before the one at which the estimated KL
        divergence from the batch's policy exceeds this value (None: no limit)
    :param max_grad_norm: The maximum norm of the gradient, applied to the actor's and the critic's parameters
        separately (parameters shared by both, such as a shared CNN, count with the actor)
    :param max_episode_steps: Bound on the length of one episode: an env whose episodes run longer (for instance
        one with no ``TimeLimit``) raises a ``RuntimeError`` instead of hanging the rollout forever
    :param use_sde: Whether to use generalized State Dependent Exploration (gSDE) instead of action noise exploration
    :param sde_sample_freq: Sample a new noise matrix every n steps when using gSDE. Default: -1, a new matrix for
        each episode (per env); A2C/PPO's -1 samples once per rollout, but a REINFORCE batch is a sample of
        independent episodes. Only ``1`` makes the summed per-step score unbiased (docs/reinforce.md, "gSDE")
    :param stats_window_size: Number of episodes the ``rollout/`` success rate, length and reward are averaged over
    :param tensorboard_log: the log location for tensorboard (if None, no logging)
    :param policy_kwargs: additional arguments to be passed to the policy on creation
    :param verbose: Verbosity level: 0 for no output, 1 for info messages, 2 for debug messages
    :param seed: Seed for the pseudo random generators
    :param device: Device (cpu, cuda, ...) on which the code should be run ("auto": the GPU if possible)
    :param _init_setup_model: Whether or not to build the network at the creation of the instance
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        "MlpPolicy": ActorCriticPolicy,
        "CnnPolicy": ActorCriticCnnPolicy,
        "MultiInputPolicy": MultiInputActorCriticPolicy,
    }
    supported_action_spaces = (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)
    rollout_buffer: EpisodeRolloutBuffer  # type: ignore[assignment]
    ent_coef: float | Schedule  # type: ignore[assignment]

    def __init__(
        self,
        policy: str | type[ActorCriticPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 3e-4,
        n_episodes: int = 10,
        batch_size: int | None = None,
        gamma: float = 0.99,
        baseline: str | Baseline = "value",
        group_size: int | None = None,
        baseline_decay: float | None = None,
        gae_lambda: float | None = None,
        reward_to_go: bool = True,
        normalize_returns: bool = True,
        bootstrap_truncated: bool = True,
        normalize_observations: bool | Literal["auto"] = "auto",
        ent_coef: float | Schedule = 0.0,
        vf_coef: float = 0.5,
        critic_epochs: int = 10,
        n_epochs: int = 10,
        minibatch_size: int | None = 64,
        target_kl: float | None = 0.05,
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
        # Checked before anything is built: a bad value fails here, named, not later as a NaN
        if not callable(learning_rate):
            check_number("learning_rate", learning_rate, 0.0, low_inclusive=False)
        self.n_episodes = check_int("n_episodes", n_episodes, minimum=1)
        self.batch_size = check_int("batch_size", batch_size, minimum=1, allow_none=True)
        check_number("gamma", gamma, 0.0, 1.0)  # gae_lambda: checked by the value baseline, the one that uses it
        self.reward_to_go = check_bool("reward_to_go", reward_to_go)
        self.normalize_returns = check_bool("normalize_returns", normalize_returns)
        self.bootstrap_truncated = check_bool("bootstrap_truncated", bootstrap_truncated)
        if not (isinstance(normalize_observations, str) and normalize_observations == "auto"):
            if not isinstance(normalize_observations, (bool, np.bool_)):  # "false" would count as true
                raise TypeError(f"normalize_observations must be True, False or 'auto', got {normalize_observations!r}")
            normalize_observations = bool(normalize_observations)
        self.normalize_observations = normalize_observations
        check_bool("use_sde", use_sde)
        check_int("sde_sample_freq", sde_sample_freq)
        check_number("vf_coef", vf_coef, 0.0)
        if callable(ent_coef):
            # A schedule is checked at both ends of training: a negative bonus would reward a collapsing policy
            for progress_remaining in (1.0, 0.0):
                check_number(f"ent_coef({progress_remaining})", ent_coef(progress_remaining), 0.0)
        else:
            check_number("ent_coef", ent_coef, 0.0)
        check_number("max_grad_norm", max_grad_norm, 0.0, low_inclusive=False)
        self.critic_epochs = check_int("critic_epochs", critic_epochs, minimum=1)
        self.n_epochs = check_int("n_epochs", n_epochs, minimum=1)
        self.minibatch_size = check_int("minibatch_size", minibatch_size, minimum=1, allow_none=True)
        self.target_kl = None if target_kl is None else check_number("target_kl", target_kl, 0.0, low_inclusive=False)
        self.max_episode_steps = check_int("max_episode_steps", max_episode_steps, minimum=1)
        check_int("stats_window_size", stats_window_size, minimum=1)
        self.baseline = baseline
        self.baseline_estimator = make_baseline(
            baseline, group_size=group_size, baseline_decay=baseline_decay, gae_lambda=gae_lambda
        )
        self.baseline_estimator.check(n_episodes, reward_to_go)
        for name, value in {"critic_epochs": critic_epochs, "vf_coef": vf_coef}.items():
            if value != CRITIC_DEFAULTS[name] and not self.baseline_estimator.uses_critic:
                raise ValueError(f"{name}={value} sets the critic, which baseline={baseline!r} has none of: use 'value'")
        super().__init__(
            policy,
            env,
            learning_rate=learning_rate,
            n_steps=256,  # not a rollout length (rollouts are whole episodes, see n_episodes): the buffer's initial capacity
            gamma=gamma,
            gae_lambda=getattr(self.baseline_estimator, "gae_lambda", 1.0),  # SB3 keeps it; the baseline uses it
            ent_coef=ent_coef,  # type: ignore[arg-type]  # SB3's A2C/PPO take a float only
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
        if self.normalize_observations is not False and getattr(self, "observation_space", None) is not None:
            self._use_observation_normalizer()
        if _init_setup_model:
            self._setup_model()

    def _use_observation_normalizer(self) -> None:
        """Make :class:`ObservationNormalizer` the policy's features extractor (``normalize_observations``)."""
        extractor = self.policy_kwargs.get("features_extractor_class", ObservationNormalizer)
        problem = None
        if extractor is not ObservationNormalizer:
            problem = (
                f"standardizes the observations in the features extractor, and policy_kwargs names another one "
                f"({extractor!r}): normalize inside it, or with VecNormalize"
            )
        elif not normalizable(self.observation_space):
            problem = f"is for Box observations that are not images, got {self.observation_space!r}"
        if self.normalize_observations == "auto":
            vec_normalize = unwrap_vec_normalize(self.env) if self.env is not None else None
            if problem is not None or (vec_normalize is not None and vec_normalize.norm_obs):
                return
        elif problem is not None:
            raise ValueError(f"normalize_observations=True {problem}")
        self.policy_kwargs = {**self.policy_kwargs, "features_extractor_class": ObservationNormalizer}

    def _setup_model(self) -> None:
        super()._setup_model()  # EpisodeRolloutBuffer through SB3's rollout_buffer_class hook, then the policy
        # What "auto" became, or what a model saved before the setting existed does
        self.normalize_observations = bool(observation_normalizers(self.policy))
        self._sampling_noise = SamplingNoise(self.seed)
        self.episode_scheduler = EpisodeScheduler(
            self.n_episodes, self.baseline_estimator.group_size, max_episode_steps=self.max_episode_steps
        )
        if self.env is not None:
            warn_about_env(self.env, self.n_episodes, self.max_episode_steps)

    def set_random_seed(self, seed: int | None = None) -> None:
        super().set_random_seed(seed)
        # The actions of a rollout are drawn from this noise (see RolloutActor)
        if seed is not None:
            self._sampling_noise = SamplingNoise(seed)

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "_sampling_noise", "episode_scheduler"]

    def _set_training_mode(self, mode: bool) -> None:
        # A walk over every module: skipped when nothing changes (it costs as much as a small update)
        if self.policy.training != mode:
            self.policy.set_training_mode(mode)

    def collect_rollouts(
        self,
        env: VecEnv,
        callback: BaseCallback,
        rollout_buffer: EpisodeRolloutBuffer,  # type: ignore[override]
        n_rollout_steps: int,
    ) -> bool:
        """
        Play the episodes of one batch to their end (see :class:`EpisodeScheduler`) and store them in ``rollout_buffer``.

        The policy does not change during a rollout, so it is compiled once into its cheapest exact form
        (:func:`~sb3_reinforce.reinforce.actor.make_rollout_actor`) and only sampled from, step after step.

        :param env: The training environment
        :param callback: Callback that will be called at each step (and at the beginning and end of the rollout)
        :param rollout_buffer: Buffer to fill with the episodes
        :param n_rollout_steps: Ignored: a rollout is ``n_episodes`` complete episodes
        :return: True if the episodes were all collected, False if a callback stopped training
        """
        assert self._last_obs is not None, "No previous observation was provided"
        # Switch to eval mode (this affects batch norm / dropout)
        self._set_training_mode(False)
        rollout_buffer.reset()
        scheduler = self.episode_scheduler
        # The resumable point (resume.py): taken before anything is drawn; every env is reset unless learn() just did
        self._start_episodes(scheduler.start(env, self._take_resume_point(), self._sampling_noise.rng))
        actor = make_rollout_actor(self.policy, self._sampling_noise)
        if self.use_sde:
            actor.reset_noise(env.num_envs)

        callback.on_rollout_start()

        n_steps = 0
        while not scheduler.batch_complete:
            if self.use_sde and self.sde_sample_freq > 0 and n_steps % self.sde_sample_freq == 0:
                # Sample a new noise matrix
                actor.reset_noise(env.num_envs)

            actions = actor.sample(self._last_obs)
            new_obs, rewards, dones, infos = env.step(actor.env_actions(actions))
            self.num_timesteps += env.num_envs
            n_steps += 1

            # Give access to local variables
            callback.update_locals(locals())
            if not callback.on_step():
                # Training stops mid-episode: make the next rollout start from a reset, never from a stale observation
                self._last_obs = new_obs  # type: ignore[assignment]
                self._last_episode_starts = np.zeros(env.num_envs, dtype=bool)
                return False

            check_finite_step(rewards, new_obs, scheduler.in_batch)
            rollout_buffer.add(self._last_obs, actions, rewards, scheduler.in_batch, dones)  # type: ignore[arg-type]
            if np.count_nonzero(dones):
                # Episode statistics only from the batch: the discarded episodes that finish are biased toward short ones
                batch_envs = np.flatnonzero(scheduler.in_batch)
                self._update_info_buffer([infos[idx] for idx in batch_envs], dones[batch_envs])
                rollout_buffer.end_episodes(infos, dones & scheduler.in_batch, scheduler.groups)
                if self.use_sde and self.sde_sample_freq <= 0:
                    # Each episode explores with its own noise matrix (see sde_sample_freq)
                    actor.reset_noise(env.num_envs, np.flatnonzero(dones))
            self._last_obs = new_obs  # type: ignore[assignment]
            self._last_episode_starts = dones
            if self._start_episodes(scheduler.step(env, dones)) and self.use_sde and self.sde_sample_freq <= 0:
                actor.reset_noise(env.num_envs)

        rollout_buffer.finalize()
        self._compute_returns(rollout_buffer)
        self.logger.record("rollout/discarded_fraction", scheduler.discarded_fraction)

        callback.update_locals(locals())
        callback.on_rollout_end()
        return True

    def _start_episodes(self, reset_obs: np.ndarray | None) -> bool:
        """Take the observations of an env reset by the scheduler, if it reset it."""
        if reset_obs is None:
            return False
        self._last_obs = reset_obs  # type: ignore[assignment]
        self._last_episode_starts = np.ones(len(self.episode_scheduler.in_batch), dtype=bool)
        return True

    def _compute_returns(self, rollout_buffer: EpisodeRolloutBuffer) -> None:
        """Compute returns and advantages of the finished batch, with the critic's values if it is a baseline."""
        values, bootstrap_values = None, None
        if self.baseline_estimator.uses_critic:
            # Never bootstrap from a critic that has not been trained yet: treat the time limit as terminal then
            bootstrap = self.bootstrap_truncated and self._n_updates > 0
            values, bootstrap_values = critic_values(self.policy, rollout_buffer, bootstrap)
        rollout_buffer.compute_returns_and_advantage(
            self.baseline_estimator, values, bootstrap_values, self.reward_to_go, self.normalize_returns
        )
        self.baseline_estimator.update(rollout_buffer)

    def train(self) -> None:
        """
        Update the policy on the gathered batch: one REINFORCE gradient step, then ``n_epochs - 1`` passes of
        importance-weighted steps until ``target_kl`` (:mod:`~sb3_reinforce.reinforce.policy_update`), then the critic.
        """
        self._set_training_mode(True)  # (batch norm, dropout)
        self._update_learning_rate(self.policy.optimizer)
        buffer = self.rollout_buffer
        with_critic = self.baseline_estimator.uses_critic
        ent_coef = self._current_ent_coef()
        update = PolicyUpdate(self.policy, buffer, self.batch_size, ent_coef, self.vf_coef, with_critic, self.max_grad_norm)
        # The behaviour policy's probabilities, needed only by the steps after the first
        old_log_probs = update.log_probs() if self.n_epochs > 1 else None
        reinforce_step = update.step()
        assert reinforce_step is not None  # only a step with a target_kl is ever skipped
        if with_critic:
            self.logger.record("train/value_grad_norm", reinforce_step.value_grad_norm)
        n_steps, approx_kl = 1, 0.0
        for indices in update.minibatches(self.n_epochs - 1, self.minibatch_size, self._sampling_noise.rng):
            terms = update.step(old_log_probs, indices, self.target_kl)
            if terms is None:
                break  # the KL bound is reached: this update is over
            n_steps, approx_kl = n_steps + 1, terms.approx_kl
        self._n_updates += 1
        if with_critic and self.critic_epochs > 1:
            # Passes over the batch, in minibatches like the importance-weighted steps
            passes = update.minibatches(self.critic_epochs - 1, self.minibatch_size, self._sampling_noise.rng)
            fit_critic(self.policy, buffer, passes, self.batch_size, self.vf_coef, self.max_grad_norm)
        if self.normalize_observations:
            # Last: the batch was played and learned from with the same statistics (observation_normalizer.py)
            observations = buffer.to_torch(buffer.observations)  # type: ignore[arg-type]  # a Box: an array
            for normalizer in observation_normalizers(self.policy):
                normalizer.update(observations)
        if self.n_epochs > 1:
            self.logger.record("train/policy_steps", n_steps)
            self.logger.record("train/approx_kl", approx_kl)
        # The REINFORCE step's loss and gradient: what an update is, whatever steps follow
        self._record_train_stats(reinforce_step, ent_coef)
        self._end_update()

    def _current_ent_coef(self) -> float:
        """The entropy coefficient of this update: ``ent_coef``, or its schedule at the current progress."""
        if not callable(self.ent_coef):
            return self.ent_coef
        return check_number("ent_coef", self.ent_coef(self._current_progress_remaining), 0.0)

    def _record_train_stats(self, terms: LossTerms, ent_coef: float) -> None:
        buffer = self.rollout_buffer
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/baseline", self.baseline_estimator.name, exclude=("stdout", "log", "json", "csv"))
        self.logger.record("train/policy_gradient_loss", terms.policy)
        self.logger.record("train/entropy_loss", terms.entropy)
        self.logger.record("train/ent_coef", ent_coef)
        self.logger.record("train/loss", terms.policy + ent_coef * terms.entropy + self.vf_coef * terms.value)
        self.logger.record("train/grad_norm", terms.grad_norm)
        self.logger.record("train/episodes_per_update", buffer.n_episodes)
        self.logger.record("train/steps_per_update", buffer.n_steps)
        self.logger.record("train/return_mean", float(buffer.returns.mean()))
        self.logger.record("train/return_std", float(buffer.returns.std()))
        self.logger.record("train/truncated_episodes", int(buffer.truncated.sum()))
        # Variance diagnostic: the spread of the policy-gradient weights after the baseline, before any normalization
        self.logger.record("train/pg_weight_std", float(buffer.advantages.std()))
        for key, value in self.baseline_estimator.diagnostics().items():
            self.logger.record(f"train/{key}", value)
        if self.baseline_estimator.uses_critic:
            self.logger.record("train/value_loss", terms.value)
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
        return super().learn(total_timesteps, callback, log_interval, tb_log_name, reset_num_timesteps, progress_bar)
