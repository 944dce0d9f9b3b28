"""
Recheck the best trials of a tuning study on more tuning seeds, at the entry's full budget.

An Optuna trial is one run on one seed, scored by a 10-episode evaluation: the best trial is partly the luckiest. This
script trains the ``--top`` best trials of a study (``tuning/tune.sh``) on ``--seeds`` (tuning seeds, 0-99: never the
held-out 1000-1009), scores each run on the env's own reward over ``--final-episodes`` deterministic episodes, and
ranks the candidates by their worst seed, then the IQM of their seeds. The ranking and each candidate's entry go to
``tuning/rechecks/ENV_ID.json``; the winner is what goes into ``reinforce.yml``.

    python tuning/recheck.py CartPole-v1 --top 5 --seeds 1 2 3 4 5

Needs the ``zoo`` extra (Optuna).
"""

from __future__ import annotations

import argparse
import copy
import json
import shlex
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch as th

from sb3_reinforce.benchmark.stats import iqm
from sb3_reinforce.benchmark.suite import HELD_OUT_SEEDS
from sb3_reinforce.experiments.config import RunConfig
from sb3_reinforce.experiments.run import train
from sb3_reinforce.experiments.zoo_entries import SHAPING_WRAPPERS, load_zoo_entries, preset_from_zoo_entry
from sb3_reinforce.zoo.cli import load_study, option_value
from sb3_reinforce.zoo.sampler import convert_reinforce_params, to_yaml_entry

TUNING = Path(__file__).resolve().parent


def candidate_entry(env_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """The trial's entry of ``reinforce.yml``: the env's current entry with the trial's hyperparameters."""
    entry = to_yaml_entry(convert_reinforce_params(params), base=copy.deepcopy(load_zoo_entries()[env_id]))
    for wrapper in entry.get("env_wrapper", []):
        # A potential-based shaping is neutral only with the algorithm's own discount: follow the tuned gamma
        if isinstance(wrapper, dict) and next(iter(wrapper)) in SHAPING_WRAPPERS:
            kwargs = next(iter(wrapper.values()))
            if "gamma" in kwargs:
                kwargs["gamma"] = entry["gamma"]
    return entry


def study_budget(study: Any) -> int | None:
    """The ``-n`` (trial budget) of the command that ran the study, as the zoo records it."""
    command = study.user_attrs.get("command")
    value = option_value(shlex.split(command), ("-n", "--n-timesteps")) if command else None
    return None if value is None else int(value)


def recheck(
    env_id: str, top: int, seeds: list[int], final_episodes: int, eval_freq: int, timesteps: int | None = None
) -> list[dict[str, Any]]:
    if set(seeds) & set(HELD_OUT_SEEDS):
        raise ValueError(f"seeds {sorted(set(seeds) & set(HELD_OUT_SEEDS))} are held out (docs/held_out_seeds.md)")
    study = load_study(str(TUNING / "studies" / f"{env_id}.log"), env_id)
    # The trials' budget, which is the entry's: a linear schedule decays over it
    timesteps = timesteps or study_budget(study)
    trials = [trial for trial in study.trials if trial.state.name == "COMPLETE"]
    trials.sort(key=lambda trial: trial.value, reverse=True)
    candidates = []
    for trial in trials[:top]:
        entry = candidate_entry(env_id, trial.params)
        if timesteps is not None:
            entry["n_timesteps"] = float(timesteps)
        preset = preset_from_zoo_entry(env_id, entry)
        finals, times, curves = [], [], []
        for seed in seeds:
            config = RunConfig("reinforce", preset.setup, preset.hyperparams, seed, preset.timesteps, preset.n_envs)
            start = time.perf_counter()
            result = train(config, eval_freq=eval_freq, eval_episodes=final_episodes)
            assert result.evaluation is not None
            finals.append(result.evaluation.mean_reward)
            times.append(time.perf_counter() - start)
            curves.append([point["mean_reward"] for point in result.evaluations])
        candidate = dict(
            trial=trial.number,
            trial_value=trial.value,
            finals=finals,
            iqm=iqm(finals),
            worst=min(finals),
            seconds=times,
            curves=curves,
            entry=entry,
        )
        print(
            f"trial {trial.number} (study value {trial.value:.1f}): IQM {candidate['iqm']:.1f}, worst "
            f"{candidate['worst']:.1f}, finals {' '.join(f'{final:.1f}' for final in finals)}",
            flush=True,
        )
        candidates.append(candidate)
    # The worst seed first: the targets ask for every (or nine in ten) seeds to reach a score, not for a high mean
    candidates.sort(key=lambda candidate: (candidate["worst"], candidate["iqm"]), reverse=True)
    return candidates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("env_id")
    parser.add_argument("--top", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--final-episodes", type=int, default=50)
    parser.add_argument("--eval-freq", type=int, default=0, help="periodic evaluations (0: none)")
    parser.add_argument("--timesteps", type=int, default=None, help="budget of each run (the study's -n)")
    args = parser.parse_args()
    th.set_num_threads(1)
    candidates = recheck(args.env_id, args.top, args.seeds, args.final_episodes, args.eval_freq, args.timesteps)
    out = TUNING / "rechecks" / f"{args.env_id}.json"
    out.parent.mkdir(exist_ok=True)
    record = dict(env_id=args.env_id, seeds=args.seeds, final_episodes=args.final_episodes, candidates=candidates)
    out.write_text(json.dumps(record, indent=1, default=float) + "\n")
    best = candidates[0]
    print(f"best: trial {best['trial']}, IQM {best['iqm']:.1f} worst {best['worst']:.1f} -> {out}")
    print(json.dumps(best["entry"], default=float))


if __name__ == "__main__":
    np.set_printoptions(precision=2)
    main()
