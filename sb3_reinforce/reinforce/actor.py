"""
The rollout actor: the policy, frozen for one rollout, in the cheapest exact form for acting.

REINFORCE changes its weights only once per batch of complete episodes, and needs neither log-probabilities
nor values while acting (both are recomputed with gradients on the whole batch in ``train()``). So at the start
of each rollout the actor is *compiled* once:

- :class:`NumpyActor`: for SB3's stock ``MlpPolicy`` (flattened, standardized or one-hot observations, an ``MlpExtractor`` of
  ``Linear`` layers and element-wise activations), the actor's weights are copied into numpy arrays and the
  forward pass is a few matrix products: at batch size 1 that costs a fraction of a torch call.
- :class:`TorchActor`: everything else (``CnnPolicy``, ``MultiInputPolicy``, custom extractors or activations,
  policy subclasses) runs the policy's own torch forward pass under ``torch.inference_mode()``.

Both draw the actions from the distribution parameters with a numpy ``Generator`` seeded from the model's seed,
so a run is reproducible; gSDE noise matrices come from the policy itself (``policy.reset_noise``). A policy
subclass that builds its distribution differently (action masking, custom heads) or an unknown distribution is
sampled by ``policy.get_distribution(obs).get_actions()``, SB3's own path.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.distributions import (
    BernoulliDistribution,
    CategoricalDistribution,
    DiagGaussianDistribution,
    Distribution,
    MultiCategoricalDistribution,
    StateDependentNoiseDistribution,
)
from stable_baselines3.common.policies import ActorCriticCnnPolicy, ActorCriticPolicy, MultiInputActorCriticPolicy
from stable_baselines3.common.preprocessing import is_image_space
from stable_baselines3.common.torch_layers import FlattenExtractor, MlpExtractor
from stable_baselines3.common.utils import obs_as_tensor
from torch import nn

from sb3_reinforce.reinforce.observation_normalizer import ObservationNormalizer

Params = dict[str, np.ndarray]

STOCK_POLICIES = (ActorCriticPolicy, ActorCriticCnnPolicy, MultiInputActorCriticPolicy)


def _elu(alpha: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda x: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def _leaky_relu(slope: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda x: np.where(x > 0, x, slope * x)


def _numpy_linear(layer: nn.Linear) -> tuple[np.ndarray, np.ndarray]:
    """``x @ weight + bias`` of a torch ``Linear`` layer, as C-contiguous float32 copies."""
    bias = th.zeros(layer.out_features) if layer.bias is None else layer.bias
    return np.ascontiguousarray(layer.weight.detach().cpu().numpy().T), bias.detach().cpu().numpy().copy()


def _numpy_activation(module: nn.Module) -> Callable[[np.ndarray], np.ndarray] | None:
    """The numpy twin of an element-wise torch activation, or None if there is none here."""
    # In place where it is safe: an activation always follows a Linear layer, whose output is a fresh array
    if type(module) is nn.Tanh:
        return lambda x: np.tanh(x, out=x)
    if type(module) is nn.ReLU:
        return lambda x: np.maximum(x, 0, out=x)
    if type(module) is nn.ELU:
        return _elu(float(module.alpha))  # type: ignore[arg-type]
    if type(module) is nn.LeakyReLU:
        return _leaky_relu(float(module.negative_slope))
    if type(module) is nn.Sigmoid:
        return lambda x: 1.0 / (1.0 + np.exp(-x))
    if type(module) is nn.Identity:
        return lambda x: x
    return None


class SamplingNoise:
    """
    The random draws of the rollout actions, made in blocks from one seeded generator.

    Sampling through a fixed transform of noise is exact and costs two numpy operations per step, while a draw
    per step costs more than the env step itself at batch size 1:

    - categorical: ``argmax(logits + Gumbel noise)`` (the Gumbel-max trick);
    - Bernoulli: ``logits > L`` with ``L`` logistic, since ``P(L < x) = sigmoid(x)``;
    - diagonal Gaussian: ``mean + std * N(0, 1)``.

    It lives as long as the model (the blocks carry over from one rollout to the next), so the same seed gives
    the same actions.

    :param seed: Seed of the generator (None: fresh entropy)
    :param block_size: Draws per block
    """

    def __init__(self, seed: int | None = None, block_size: int = 4096) -> None:
        self.rng = np.random.default_rng(seed)
        self.block_size = block_size
        self._blocks: dict[str, np.ndarray] = {}
        self._positions: dict[str, int] = {}

    def _draw(self, kind: str, n: int) -> np.ndarray:
        if kind == "normal":
            return self.rng.standard_normal(n)
        uniform = self.rng.random(n)
        if kind == "gumbel":
            return -np.log(-np.log(uniform))
        if kind == "logistic":
            return np.log(uniform) - np.log1p(-uniform)
        raise ValueError(f"Unknown noise kind {kind!r}")

    def take(self, kind: str, shape: tuple[int, ...]) -> np.ndarray:
        """The next ``prod(shape)`` draws of one kind (``"gumbel"``, ``"logistic"`` or ``"normal"``), float32."""
        size = math.prod(shape)
        block, position = self._blocks.get(kind), self._positions.get(kind, 0)
        if block is None or position + size > len(block):
            block = self._draw(kind, max(self.block_size, size)).astype(np.float32)
            self._blocks[kind], position = block, 0
        self._positions[kind] = position + size
        return block[position : position + size].reshape(shape)


class RolloutActor:
    """
    Distribution parameters and action sampling of a frozen policy, for one rollout.

    :param policy: The policy (its weights must not change while this actor is used)
    :param noise: The random draws the actions are made from
    """

    def __init__(self, policy: ActorCriticPolicy, noise: SamplingNoise) -> None:
        self.policy = policy
        self.noise = noise
        self.dist = policy.action_dist
        self._std = policy.log_std.detach().exp().cpu().numpy() if isinstance(self.dist, DiagGaussianDistribution) else None
        self._noise_mat: np.ndarray | None = None
        self._noise_mats: np.ndarray | None = None
        # Which distribution is resolved once: isinstance on SB3's (abstract) distribution classes costs more than
        # the sampling itself at batch size 1
        self._sampler = self._pick_sampler()
        if isinstance(self.dist, StateDependentNoiseDistribution):
            self._read_noise()

    def env_actions(self, actions: np.ndarray) -> np.ndarray:
        """What the env is given for the sampled (flat) actions: reshaped to the Box's shape, then clipped or unscaled."""
        space = self.policy.action_space
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

    def latent(self, obs: Any) -> tuple[np.ndarray, np.ndarray]:
        """The action net's output and the actor's latent features (``latent_pi``), for a batch of observations."""
        raise NotImplementedError

    def reset_noise(self, n_envs: int, env_indices: np.ndarray | None = None) -> None:
        """
        Sample new gSDE exploration matrices (through the policy, as SB3 does): for every env, or only for
        ``env_indices`` (the others keep theirs; with one env, its matrix is ``exploration_mat``).
        """
        self.policy.reset_noise(n_envs)
        self._read_noise(env_indices)

    def _read_noise(self, env_indices: np.ndarray | None = None) -> None:
        assert isinstance(self.dist, StateDependentNoiseDistribution)
        fresh_mat = self.dist.exploration_mat.detach().cpu().numpy()
        fresh_mats = self.dist.exploration_matrices.detach().cpu().numpy()
        if env_indices is None or self._noise_mats is None or self._noise_mat is None:
            self._noise_mat, self._noise_mats = fresh_mat, fresh_mats
        else:
            self._noise_mats[env_indices] = fresh_mats[env_indices]
            if len(fresh_mats) == 1:
                self._noise_mat = fresh_mat

    def params(self, obs: Any) -> Params:
        """
        Parameters of the action distribution in ``obs``, as ``policy.get_distribution(obs)`` has them.

        ``logits`` (categorical, multi-categorical, Bernoulli), ``mean`` and ``std`` (diagonal Gaussian), or
        ``mean`` and ``noise`` (gSDE: the exploration noise ``latent_sde @ exploration_matrix``, before any tanh).
        """
        out, latent_pi = self.latent(obs)
        if isinstance(self.dist, DiagGaussianDistribution):
            assert self._std is not None
            return {"mean": out, "std": np.broadcast_to(self._std, out.shape)}
        if isinstance(self.dist, StateDependentNoiseDistribution):
            assert self._noise_mat is not None and self._noise_mats is not None
            if len(latent_pi) == 1 or len(latent_pi) != len(self._noise_mats):
                noise = latent_pi @ self._noise_mat
            else:  # one exploration matrix per env
                noise = np.einsum("bi,bij->bj", latent_pi, self._noise_mats)
            return {"mean": out, "noise": noise}
        return {"logits": out}

    def mode(self, obs: Any) -> np.ndarray:
        """The most likely action in each observation (``deterministic=True``), flat as :meth:`sample` returns them."""
        dist = self.dist
        out, _ = self.latent(obs)
        if isinstance(dist, CategoricalDistribution):
            return out.argmax(axis=-1)
        if isinstance(dist, MultiCategoricalDistribution):
            splits = np.split(out, np.cumsum(dist.action_dims)[:-1], axis=-1)
            return np.stack([logits.argmax(axis=-1) for logits in splits], axis=-1)
        if isinstance(dist, BernoulliDistribution):
            return (out > 0).astype(np.float32)
        if isinstance(dist, StateDependentNoiseDistribution) and dist.bijector is not None:
            return np.tanh(out)
        return out

    def sample(self, obs: Any) -> np.ndarray:
        """
        Sample one action per observation, flat as the rollout buffer stores them.

        :return: Shape ``(n,)`` for ``Discrete``, ``(n, action_dim)`` otherwise (before any clipping)
        """
        return self._sampler(obs)

    def _pick_sampler(self) -> Callable[[Any], np.ndarray]:
        dist = self.dist
        if isinstance(dist, StateDependentNoiseDistribution):
            return self._sample_sde
        if isinstance(dist, CategoricalDistribution):
            return self._sample_categorical
        if isinstance(dist, MultiCategoricalDistribution):
            return self._sample_multi_categorical
        if isinstance(dist, BernoulliDistribution):
            return self._sample_bernoulli
        return self._sample_gaussian

    def _sample_sde(self, obs: Any) -> np.ndarray:
        # gSDE: the noise is a deterministic function of the state for a given exploration matrix
        params = self.params(obs)
        actions = params["mean"] + params["noise"]
        assert isinstance(self.dist, StateDependentNoiseDistribution)
        return np.tanh(actions) if self.dist.bijector is not None else actions

    def _sample_categorical(self, obs: Any) -> np.ndarray:
        out, _ = self.latent(obs)
        return (out + self.noise.take("gumbel", out.shape)).argmax(axis=-1)

    def _sample_multi_categorical(self, obs: Any) -> np.ndarray:
        out, _ = self.latent(obs)
        assert isinstance(self.dist, MultiCategoricalDistribution)
        perturbed = out + self.noise.take("gumbel", out.shape)
        splits = np.split(perturbed, np.cumsum(self.dist.action_dims)[:-1], axis=-1)
        return np.stack([logits.argmax(axis=-1) for logits in splits], axis=-1)

    def _sample_bernoulli(self, obs: Any) -> np.ndarray:
        out, _ = self.latent(obs)
        return (out > self.noise.take("logistic", out.shape)).astype(np.float32)

    def _sample_gaussian(self, obs: Any) -> np.ndarray:
        # Diagonal Gaussian: the action net outputs the mean, the std is a state-independent parameter
        out, _ = self.latent(obs)
        out += self._std * self.noise.take("normal", out.shape)  # `out` is a fresh array
        return out


class NumpyActor(RolloutActor):
    """The actor of a stock ``MlpPolicy`` as numpy arrays: a few matrix products per step."""

    def __init__(self, policy: ActorCriticPolicy, noise: SamplingNoise) -> None:
        super().__init__(policy, noise)
        self.observation_space = policy.observation_space
        # The one-hot rows of a Discrete observation, built once (not at every step)
        self._one_hot = (
            np.eye(int(self.observation_space.n), dtype=np.float32)
            if isinstance(self.observation_space, spaces.Discrete)
            else None
        )
        self.scale_images = policy.normalize_images and is_image_space(policy.observation_space)
        extractor = policy.pi_features_extractor
        self.normalize = extractor.numpy_normalizer() if isinstance(extractor, ObservationNormalizer) else None
        # Copies: the torch parameters are updated in place after the rollout
        self.hidden: list[tuple[np.ndarray, np.ndarray] | Callable[[np.ndarray], np.ndarray]] = []
        for module in policy.mlp_extractor.policy_net:
            if isinstance(module, nn.Linear):
                self.hidden.append(_numpy_linear(module))
            else:
                activation = _numpy_activation(module)
                assert activation is not None, "checked by NumpyActor.supports()"
                self.hidden.append(activation)
        self.out_weight, self.out_bias = _numpy_linear(policy.action_net)  # type: ignore[arg-type]

    @staticmethod
    def supports(policy: ActorCriticPolicy) -> bool:
        """Whether the policy's actor is exactly a chain of numpy-expressible layers over flattened observations."""
        space = policy.observation_space
        extractor = policy.pi_features_extractor
        return (
            type(policy) is ActorCriticPolicy
            and policy.device.type == "cpu"
            and isinstance(space, (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary))
            and type(extractor) in (FlattenExtractor, ObservationNormalizer)
            and type(policy.mlp_extractor) is MlpExtractor
            and all(isinstance(m, nn.Linear) or _numpy_activation(m) is not None for m in policy.mlp_extractor.policy_net)
            and type(policy.action_net) is nn.Linear
            and type(policy.action_dist) in _DISTRIBUTIONS
        )

    def _features(self, obs: np.ndarray) -> np.ndarray:
        # SB3's preprocess_obs: one-hot for (multi-)discrete observations, /255 for images, float otherwise
        space = self.observation_space
        if isinstance(space, spaces.Discrete):
            assert self._one_hot is not None
            return self._one_hot[np.asarray(obs, dtype=np.int64).reshape(-1)]
        if isinstance(space, spaces.MultiDiscrete):
            obs = np.asarray(obs, dtype=np.int64).reshape(len(obs), -1)
            offsets = np.r_[0, np.cumsum(space.nvec.reshape(-1))[:-1]]
            features = np.zeros((len(obs), int(space.nvec.sum())), dtype=np.float32)
            features[np.arange(len(obs))[:, None], offsets + obs] = 1.0
            return features
        if obs.dtype == np.float32 and obs.ndim == 2:
            features = obs  # the common case: nothing to convert (and nothing writes into the features)
        else:
            features = np.asarray(obs, dtype=np.float32).reshape(len(obs), -1)
        if self.normalize is not None:
            return self.normalize(features)
        return features / np.float32(255.0) if self.scale_images else features

    def latent(self, obs: Any) -> tuple[np.ndarray, np.ndarray]:
        x = self._features(obs)
        # One observation (one env): vector-matrix products, cheaper than products of (1, n) matrices
        single = len(x) == 1
        if single:
            x = x[0]
        for layer in self.hidden:
            if isinstance(layer, tuple):
                x = np.dot(x, layer[0])
                x += layer[1]
            else:
                x = layer(x)
        out = np.dot(x, self.out_weight)
        out += self.out_bias
        return (out[None], x[None]) if single else (out, x)


class TorchActor(RolloutActor):
    """Any SB3 actor-critic policy, run by torch without gradients (CNN, Dict observations, custom networks)."""

    def latent(self, obs: Any) -> tuple[np.ndarray, np.ndarray]:
        policy = self.policy
        with th.inference_mode():
            features = super(ActorCriticPolicy, policy).extract_features(
                obs_as_tensor(obs, policy.device),  # type: ignore[arg-type]
                policy.pi_features_extractor,
            )
            latent_pi = policy.mlp_extractor.forward_actor(features)
            out = policy.action_net(latent_pi)
        return out.cpu().numpy(), latent_pi.cpu().numpy()

    def sample(self, obs: Any) -> np.ndarray:
        if type(self.policy) not in STOCK_POLICIES or type(self.dist) not in _DISTRIBUTIONS:
            # Subclasses may build their distribution differently (action masking, custom heads): respect them
            with th.no_grad():
                distribution: Distribution = self.policy.get_distribution(obs_as_tensor(obs, self.policy.device))
                return distribution.get_actions().cpu().numpy()
        return super().sample(obs)


_DISTRIBUTIONS = (
    CategoricalDistribution,
    MultiCategoricalDistribution,
    BernoulliDistribution,
    DiagGaussianDistribution,
    StateDependentNoiseDistribution,
)


def make_rollout_actor(policy: ActorCriticPolicy, noise: SamplingNoise) -> RolloutActor:
    """
    Compile the policy's actor for one rollout: numpy for stock MLP policies, torch otherwise.

    :param policy: The policy, frozen while the actor is used (rebuild the actor after each update)
    :param noise: The random draws the actions are made from
    """
    if NumpyActor.supports(policy):
        return NumpyActor(policy, noise)
    return TorchActor(policy, noise)
