"""
Compare the candidates of the defaults study (``tuning/defaults/run.sh``): per env, each candidate's final reward on
the tuning seeds (100 deterministic episodes per seed, the env's own reward), and across envs the mean of the
normalized scores (:meth:`~sb3_reinforce.benchmark.suite.SuiteEnv.normalize`: 0 random, 1 the suite's target). The
table goes to ``tuning/defaults/RESULTS.md``; the winner becomes ``Reinforce``'s defaults.

    python tuning/defaults/compare.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sb3_reinforce.benchmark.formatting import table_header
from sb3_reinforce.benchmark.suite import SUITE
from sb3_reinforce.benchmark.summary import load_runs

STUDY = Path(__file__).resolve().parent


def main() -> str:
    # candidate -> env -> seed -> final reward
    finals: dict[str, dict[str, dict[int, float]]] = {}
    for folder in sorted(path for path in STUDY.iterdir() if (path / "runs").is_dir()):
        finals[folder.name] = {}
        for record in (r for r in load_runs(folder) if r["status"] == "ok"):
            finals[folder.name].setdefault(record["env_id"], {})[record["seed"]] = record["final"]["mean_reward"]
    envs = [env_id for env_id in SUITE if any(env_id in by_env for by_env in finals.values())]
    seeds = sorted({seed for by_env in finals.values() for by_seed in by_env.values() for seed in by_seed})
    lines = [
        "# The defaults study: results",
        "",
        "Written by `python tuning/defaults/compare.py` from the records in `tuning/defaults/<candidate>/runs/`.",
        f"Tuning seed(s) {', '.join(map(str, seeds))}; the final reward per seed, in seed order (100 deterministic "
        "episodes, the env's own reward), then per seed the mean normalized score over the six envs (a candidate "
        "that has not finished them all on a seed: over those it finished, in brackets). Compare candidates on the "
        "seeds they share.",
        "",
        *table_header(["candidate", *envs, *(f"mean normalized, seed {s}" for s in seeds)]),
    ]
    for name, by_env in finals.items():
        cells = [" ".join(f"{score:.1f}" for _, score in sorted(by_env.get(env_id, {}).items())) or "—" for env_id in envs]
        for seed in seeds:
            normalized = [SUITE[env_id].normalize(by_seed[seed]) for env_id, by_seed in by_env.items() if seed in by_seed]
            mean = f"{np.mean(normalized):.3f}" if normalized else "—"
            if normalized and len(normalized) != len(envs):
                mean = f"({mean} over {len(normalized)} envs)"
            cells.append(mean)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    (STUDY / "RESULTS.md").write_text(text, encoding="utf-8")
    return text


if __name__ == "__main__":
    print(main())
