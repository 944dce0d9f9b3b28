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

from sb3_reinforce.benchmark.suite import SUITE
from sb3_reinforce.benchmark.summary import load_runs

STUDY = Path(__file__).resolve().parent


def main() -> str:
    finals: dict[str, dict[str, list[float]]] = {}
    seeds: set[int] = set()
    for folder in sorted(path for path in STUDY.iterdir() if (path / "runs").is_dir()):
        runs = [r for r in load_runs(folder) if r["status"] == "ok"]
        finals[folder.name] = {}
        for record in sorted(runs, key=lambda r: r["seed"]):
            finals[folder.name].setdefault(record["env_id"], []).append(record["final"]["mean_reward"])
            seeds.add(record["seed"])
    envs = [env_id for env_id in SUITE if any(env_id in by_env for by_env in finals.values())]
    lines = [
        "# The defaults study: results",
        "",
        "Written by `python tuning/defaults/compare.py` from the records in `tuning/defaults/<candidate>/runs/`.",
        f"Tuning seed(s) {', '.join(map(str, sorted(seeds)))}; the final reward per seed (100 deterministic episodes, "
        "the env's own reward), then the mean normalized score over the six envs (a candidate that has not finished "
        "them all: over those it finished, in brackets).",
        "",
        "| candidate | " + " | ".join(envs) + " | mean normalized |",
        "|---" * (len(envs) + 2) + "|",
    ]
    for name, by_env in finals.items():
        cells = [" ".join(f"{score:.1f}" for score in by_env.get(env_id, [])) or "—" for env_id in envs]
        normalized = [SUITE[env_id].normalize(score) for env_id in by_env for score in by_env[env_id]]
        mean = f"{np.mean(normalized):.3f}" if normalized else "—"
        if set(by_env) != set(envs):
            mean = f"({mean} over {len(by_env)} envs)"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {mean} |")
    text = "\n".join(lines) + "\n"
    (STUDY / "RESULTS.md").write_text(text, encoding="utf-8")
    return text


if __name__ == "__main__":
    print(main())
