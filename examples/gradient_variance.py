"""
Variance of the REINFORCE gradient estimate under each baseline, at one fixed policy on CartPole-v1.

A policy is trained briefly (``--pretrain`` steps of the ``cartpole`` preset) and then frozen. For each baseline,
``--batches`` batches of ``--episodes`` episodes are played with that policy and the loss gradient of each batch is
recorded (all actor parameters, before clipping, ``normalize_returns=False`` so that the baselines are compared as
they are). The critic of ``"value"`` is first fitted to the frozen policy's returns. ``"group"`` is the unbiased
variant (leave-one-out within groups of 5 episodes started from the same state; GRPO's std division changes the
gradient's scale and is left out). Reported: the total variance (trace of the covariance) of the batch gradient, its
ratio to no baseline, and the norm of the mean gradient (all baselines estimate the same gradient).

    python examples/gradient_variance.py --batches 300 --episodes 10 --pretrain 8000
"""

from __future__ import annotations

import argparse
import copy

import numpy as np
import torch as th
from stable_baselines3.common.callbacks import BaseCallback

from sb3_reinforce import Reinforce
from sb3_reinforce.experiments.config import build_kwargs
from sb3_reinforce.experiments.presets import PRESETS

BASELINES = {
    "none": {},
    "mean": {},
    "leave_one_out": {},
    "group": dict(group_size=5),
    "value": {},
}


def frozen_model(policy_state: dict, baseline: str, episodes: int, seed: int) -> Reinforce:
    """A model that shares the frozen policy and whose updates do not move it (SGD, learning rate 1e-12)."""
    model = Reinforce(
        "MlpPolicy",
        "CartPole-v1",
        n_episodes=episodes,
        baseline=baseline,
        normalize_returns=False,
        learning_rate=1e-12,
        max_grad_norm=1e12,
        policy_kwargs=dict(optimizer_class=th.optim.SGD, optimizer_kwargs={}),
        seed=seed,
        **BASELINES[baseline],
    )
    model.policy.load_state_dict(policy_state)
    return model


def fit_critic(model: Reinforce, batches: int = 40, epochs: int = 300) -> float:
    """Regress the critic on the Monte-Carlo returns of the frozen policy; returns the explained variance."""
    observations, returns = [], []

    class Collect(BaseCallback):
        def _on_rollout_end(self) -> None:
            buffer = self.model.rollout_buffer
            observations.append(buffer.observations.copy())
            # The Monte-Carlo return G_t = advantage + V(s_t) with gae_lambda = 1
            returns.append(buffer.returns.copy())

        def _on_step(self) -> bool:
            return True

    callback = Collect()
    while len(observations) < batches:
        model.learn(5_000, callback=callback, reset_num_timesteps=False, log_interval=10**9)
    obs = th.as_tensor(np.concatenate(observations))
    target = th.as_tensor(np.concatenate(returns))
    critic = [*model.policy.mlp_extractor.value_net.parameters(), *model.policy.value_net.parameters()]
    optimizer = th.optim.Adam(critic, lr=3e-3)
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = ((model.policy.predict_values(obs).flatten() - target) ** 2).mean()
        loss.backward()
        optimizer.step()
    with th.no_grad():
        residual = target - model.policy.predict_values(obs).flatten()
    return float(1 - residual.var() / target.var())


def batch_gradients(model: Reinforce, n_batches: int) -> np.ndarray:
    actor = [p for p in model._parameter_groups()[0] if p.requires_grad]
    gradients: list[np.ndarray] = []
    model.policy.optimizer.register_step_pre_hook(
        lambda *_: gradients.append(th.cat([p.grad.flatten() for p in actor]).numpy().copy())
    )
    while len(gradients) < n_batches:
        model.learn(20_000, reset_num_timesteps=False, log_interval=10**9)
    return np.array(gradients[:n_batches])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=300, help="batches (gradient samples) per baseline")
    parser.add_argument("--episodes", type=int, default=10, help="episodes per batch")
    parser.add_argument("--pretrain", type=int, default=8_000, help="steps of the cartpole preset before freezing")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    th.set_num_threads(1)

    preset = PRESETS["cartpole"]
    trainer = Reinforce("MlpPolicy", "CartPole-v1", seed=args.seed, **build_kwargs(preset.hyperparams))
    trainer.learn(args.pretrain)
    lengths = [info["l"] for info in trainer.ep_info_buffer][-20:]
    state = copy.deepcopy(trainer.policy.state_dict())
    print(
        f"CartPole-v1, policy frozen after {args.pretrain} steps of the cartpole preset (seed {args.seed}): "
        f"mean episode length {np.mean(lengths):.0f} over its last 20 training episodes"
    )
    print(f"{args.batches} batches of {args.episodes} episodes per baseline, normalize_returns=False, gamma 0.99")

    results = {}
    for baseline in BASELINES:
        model = frozen_model(state, baseline, args.episodes, args.seed + 1)
        note = ""
        if baseline == "value":
            note = f"critic fitted to the frozen policy (explained variance {fit_critic(model):.2f})"
        samples = batch_gradients(model, args.batches)
        results[baseline] = (samples.var(axis=0).sum(), np.linalg.norm(samples.mean(axis=0)), note)
    print("\n| baseline | gradient variance (trace) | vs none | norm of the mean gradient | |")
    print("|---|---|---|---|---|")
    for baseline, (variance, norm, note) in results.items():
        ratio = variance / results["none"][0]
        print(f"| `{baseline}` | {variance:.4g} | {ratio:.2f}x | {norm:.4g} | {note} |")


if __name__ == "__main__":
    main()
