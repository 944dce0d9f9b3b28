"""
Observations standardized inside the policy, with running statistics of the observations seen in training.

SB3 normalizes observations outside the model, with the ``VecNormalize`` env wrapper, whose statistics must then be
saved, loaded and applied beside the model. Here they live in the policy, as buffers of its features extractor: a
saved model carries them, and ``predict`` and ``evaluate_policy`` take the env's raw observations.

The statistics change only between updates (:meth:`ObservationNormalizer.update`, called by ``Reinforce.train()``
from the batch it has just learned from): a batch is played and learned from by one and the same policy, so the
REINFORCE step stays on-policy. ``VecNormalize`` updates them at every step of a rollout instead.
"""

from __future__ import annotations

from collections.abc import Callable

import gymnasium as gym
import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.preprocessing import is_image_space
from stable_baselines3.common.torch_layers import FlattenExtractor


def normalizable(observation_space: gym.Space) -> bool:
    """Whether ``observation_space`` is one :class:`ObservationNormalizer` reads: a ``Box`` that is not an image."""
    return isinstance(observation_space, spaces.Box) and not is_image_space(observation_space, check_channels=False)


class ObservationNormalizer(FlattenExtractor):
    """
    Flatten the observations, then standardize each feature with a running mean and variance, clipped to
    ``[-clip, clip]``: ``clip((obs - mean) / sqrt(var + epsilon), -clip, clip)``, as ``VecNormalize`` does.

    Until the first :meth:`update` the mean is 0 and the variance 1: the features are the observations, clipped.

    :param observation_space: A ``Box`` observation space, not an image
    :param clip: Bound on the standardized features (``VecNormalize``'s ``clip_obs``)
    :param epsilon: Added to the variance (``VecNormalize``'s ``epsilon``)
    :raises TypeError: If the observation space is not a ``Box``, or is an image (``normalize_images`` scales those)
    """

    count: th.Tensor
    mean: th.Tensor
    var: th.Tensor
    shift: th.Tensor
    scale: th.Tensor

    def __init__(self, observation_space: gym.Space, clip: float = 10.0, epsilon: float = 1e-8) -> None:
        if not normalizable(observation_space):
            raise TypeError(
                f"ObservationNormalizer standardizes Box observations that are not images, got {observation_space!r}"
            )
        super().__init__(observation_space)
        self.clip = float(clip)
        self.epsilon = float(epsilon)
        shape = (self.features_dim,)
        # Statistics in float64 (as VecNormalize's RunningMeanStd; the count starts at its 1e-4), and their float32
        # forms, which the forward pass and the numpy rollout actor use, so both compute the same features
        self.register_buffer("count", th.tensor(1e-4, dtype=th.float64))
        self.register_buffer("mean", th.zeros(shape, dtype=th.float64))
        self.register_buffer("var", th.ones(shape, dtype=th.float64))
        self.register_buffer("shift", th.zeros(shape, dtype=th.float32))
        self.register_buffer("scale", th.ones(shape, dtype=th.float32))

    def forward(self, observations: th.Tensor) -> th.Tensor:
        return th.clamp((self.flatten(observations) - self.shift) / self.scale, -self.clip, self.clip)

    def numpy_normalizer(self) -> Callable[[np.ndarray], np.ndarray]:
        """:meth:`forward` in numpy, on flattened float32 features, with the statistics of now (a rollout's actor)."""
        shift, scale, clip = self.shift.cpu().numpy().copy(), self.scale.cpu().numpy().copy(), self.clip

        def normalize(features: np.ndarray) -> np.ndarray:
            standardized = (features - shift) / scale  # a new array: the features are not written to
            # np.maximum/np.minimum: np.clip costs several times more on the small arrays of one step
            return np.minimum(np.maximum(standardized, -clip, out=standardized), clip, out=standardized)

        return normalize

    @th.no_grad()
    def update(self, observations: th.Tensor) -> None:
        """
        Merge the moments of a batch of observations into the running statistics (the parallel algorithm of
        Chan et al., as ``RunningMeanStd.update``).

        :param observations: A batch of observations, first dimension the batch
        """
        batch = self.flatten(observations).to(th.float64)
        batch_count = batch.shape[0]
        if batch_count == 0:
            return
        batch_mean = batch.mean(dim=0)
        batch_var = batch.var(dim=0, unbiased=False)
        delta = batch_mean - self.mean
        total = self.count + batch_count
        m2 = self.var * self.count + batch_var * batch_count + delta.square() * self.count * batch_count / total
        self.mean.add_(delta * batch_count / total)
        self.var.copy_(m2 / total)
        self.count.copy_(total)
        self.shift.copy_(self.mean.to(th.float32))
        self.scale.copy_(th.sqrt(self.var + self.epsilon).to(th.float32))


def observation_normalizers(policy: th.nn.Module) -> list[ObservationNormalizer]:
    """The normalizers of ``policy``: one per features extractor that is one (none, one, or the actor's and the critic's)."""
    return [module for module in policy.modules() if isinstance(module, ObservationNormalizer)]
