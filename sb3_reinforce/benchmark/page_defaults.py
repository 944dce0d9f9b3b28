"""
The defaults comparison on the benchmark's page (:func:`defaults_section`): every algorithm with its constructor's
defaults on the plain env, per env and as an across-env IQM of normalized scores (issue 19's "better defaults").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sb3_reinforce.benchmark.formatting import fmt_budget, fmt_iqm, table_header, table_row
from sb3_reinforce.benchmark.page import SECTIONS
from sb3_reinforce.benchmark.page_results import ci_verdict
from sb3_reinforce.benchmark.peers import algo_rank
from sb3_reinforce.benchmark.stats import summarize_across_envs
from sb3_reinforce.benchmark.suite import DEFAULTS_ALGOS, SUITE, normalized_score
from sb3_reinforce.benchmark.tables import markdown_across_envs

__all__ = ["defaults_section"]

#: How the pairwise table words :func:`~sb3_reinforce.benchmark.page_results.ci_verdict`
_VERDICTS = dict(higher="higher", lower="lower", unclear="no clear difference", single="no CI (a single seed)")


def defaults_section(rows: Sequence[dict[str, Any]]) -> str:
    """
    One table, one row per env, one column per algorithm run with ``--settings defaults``: the final reward's IQM
    [95 % CI] and the seeds solved; then the normalized score across the envs every algorithm ran.

    :param rows: The rows of :func:`~sb3_reinforce.benchmark.summary.summarize` (those of other settings are skipped)
    """
    defaults = [row for row in rows if row["settings"] == "defaults" and not row["not_applicable"]]
    lines = [SECTIONS["defaults"]]
    if not defaults:
        lines.append("No runs with default settings recorded yet.")
        return "\n".join(lines) + "\n"
    algos = sorted({row["algo"] for row in defaults}, key=algo_rank)
    # A column for each algorithm the grid runs with its defaults, recorded or not
    columns = sorted({*DEFAULTS_ALGOS, *algos}, key=algo_rank)
    envs = list(dict.fromkeys(row["env_id"] for row in defaults))
    lines += table_header(["env", "budget", *columns])
    for env_id in envs:
        mine = {row["algo"]: row for row in defaults if row["env_id"] == env_id}
        budget = next(iter(mine.values()))["budget"]
        lines.append(table_row([env_id, fmt_budget(budget), *(_cell(mine.get(algo)) for algo in columns)]))
    seeds = {algo: sorted({seed for row in defaults if row["algo"] == algo for seed in row["seeds"]}) for algo in algos}
    lines += ["", "Seeds: " + "; ".join(f"{algo} {_seed_list(seeds[algo])}" for algo in algos) + ".", ""]

    finished = [row for row in defaults if row["n_ok"]]
    common = [env_id for env_id in envs if env_id in SUITE and all(_has(finished, env_id, a) for a in algos)]
    if len(algos) < 2 or not common:
        lines.append("No env of the suite has finished runs of two algorithms or more yet: no across-env comparison.")
        return "\n".join(lines) + "\n"
    summary = summarize_across_envs(finished, normalized_score, algo_rank, set(common))
    lines.append(f"Across the envs every algorithm with records ran ({', '.join(common)}):\n")
    lines.append(markdown_across_envs(summary, "normalized final reward"))
    if "reinforce" in algos:
        lines.append(_against_each_peer(finished, envs, [algo for algo in algos if algo != "reinforce"]))
    return "\n".join(lines) + "\n"


def _against_each_peer(rows: Sequence[dict[str, Any]], envs: Sequence[str], peers: Sequence[str]) -> str:
    """Reinforce against one peer at a time, over the envs of the suite both finished runs on: more envs per pair."""
    lines = [
        "Reinforce against each peer, over the envs of the suite both have runs on (the normalized final reward's IQM "
        "[95 % CI]; higher or lower where the intervals do not overlap):\n",
        *table_header(["peer", "envs", "runs (reinforce / peer)", "reinforce", "peer", "reinforce is"]),
    ]
    for peer in peers:
        shared = [e for e in envs if e in SUITE and _has(rows, e, "reinforce") and _has(rows, e, peer)]
        if not shared:
            continue
        pair = [row for row in rows if row["algo"] in ("reinforce", peer)]
        ours, theirs = summarize_across_envs(pair, normalized_score, algo_rank, set(shared))
        cells = [peer, ", ".join(shared), f"{ours['n_runs']} / {theirs['n_runs']}"]
        cells += [fmt_iqm(ours["iqm"], ours["ci"], "{:.3f}"), fmt_iqm(theirs["iqm"], theirs["ci"], "{:.3f}")]
        lines.append(table_row([*cells, _VERDICTS[ci_verdict(ours["ci"], theirs["ci"])]]))
    return "\n".join(lines) + "\n"


def _has(rows: Sequence[dict[str, Any]], env_id: str, algo: str) -> bool:
    return any(row["env_id"] == env_id and row["algo"] == algo for row in rows)


def _cell(row: dict[str, Any] | None) -> str:
    if row is None:
        return "no records yet"
    if not row["n_ok"]:
        return f"{row['n_failed']} failed"
    cell = fmt_iqm(row["final_iqm"], row["final_ci"])
    if row["threshold"] is not None:
        cell += f" ({row['solved']}/{row['n_ok'] + row['n_failed']} solved)"
    return cell


def _seed_list(seeds: Sequence[int]) -> str:
    """``1000-1004`` for a run of consecutive seeds, else the seeds."""
    if len(seeds) > 2 and list(seeds) == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}-{seeds[-1]}"
    return ", ".join(map(str, seeds))
