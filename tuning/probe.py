"""
A quick look at one configuration while tuning by hand: train Reinforce on an env (observations normalized) and print,
every eighth of the budget, the update's diagnostics and the returns of the last training episodes.

    python tuning/probe.py Pendulum-v1 1000000 '{"baseline": "value", "n_epochs": 10, "minibatch_size": 64}'

Tuning seed 0 unless ``--seed`` says otherwise (0-99: never the held-out 1000-1009).
"""

from __future__ import annotations

import argparse
import json

from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecNormalize

from sb3_reinforce import Reinforce

KEYS = ("train/policy_steps", "train/approx_kl", "train/explained_variance", "train/std")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("env_id")
    parser.add_argument("timesteps", type=int)
    parser.add_argument("hyperparams", type=json.loads, help="Reinforce's keyword arguments, as JSON")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if 1000 <= args.seed < 1010:
        parser.error(f"seed {args.seed} is held out (docs/held_out_seeds.md)")
    gamma = args.hyperparams.get("gamma", 0.99)
    env = VecNormalize(make_vec_env(args.env_id, seed=args.seed), norm_reward=False, gamma=gamma)
    model = Reinforce("MlpPolicy", env, seed=args.seed, **args.hyperparams)
    for _ in range(8):
        model.learn(args.timesteps // 8, reset_num_timesteps=False)
        logged = model.logger.name_to_value
        diagnostics = {key.split("/")[1]: round(float(logged[key]), 3) for key in KEYS if key in logged}
        returns = [round(info["r"]) for info in list(model.ep_info_buffer)[-4:]]
        print(model.num_timesteps, diagnostics, "last training returns:", returns, flush=True)


if __name__ == "__main__":
    main()
