"""
The results on the benchmark's page (:func:`~sb3_reinforce.benchmark.page_builder.markdown_page`): per env the
final rewards, seeds solved, steps and seconds of training to the threshold and the learning curves
(:func:`env_section`); the normalized score across envs (:func:`across_section`); when to choose REINFORCE, from
its rows against each peer's (:func:`when_section`). Also the labels the page's other sections share: an algorithm's
row (:func:`row_label`), its seeds (:func:`seeds_cell`) and the algorithms not recorded yet (:func:`missing_algos`).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from typing import Any

from sb3_reinforce.benchmark.formatting import (
    fmt_budget,
    fmt_iqm,
    fmt_num,
    fmt_reach,
    fmt_reach_time,
    fmt_seconds,
    fmt_solved,
    fmt_spread,
    fmt_steps,
    quantiles,
    table_header,
    table_row,
)
from sb3_reinforce.benchmark.page import SECTIONS
from sb3_reinforce.benchmark.peers import algo_rank
from sb3_reinforce.benchmark.stats import summarize_across_envs
from sb3_reinforce.benchmark.suite import SUITE, PublishedScore, SuiteEnv, normalized_score
from sb3_reinforce.benchmark.tables import markdown_across_envs

__all__ = [
    "across_envs_summary",
    "across_section",
    "ci_verdict",
    "env_section",
    "missing_algos",
    "row_label",
    "seeds_cell",
    "when_section",
]


def row_label(row: dict[str, Any], rows: Sequence[dict[str, Any]]) -> str:
    """The algorithm, with its budget and settings when it ran with several on the env."""
    same = [other for other in rows if other["env_id"] == row["env_id"] and other["algo"] == row["algo"]]
    label = row["algo"]
    if len({other["budget"] for other in same}) > 1:
        label += f" {fmt_budget(row['budget'])}"
    if len({other["settings"] for other in same}) > 1:
        label += f" ({row['settings']})"
    elif len({other["variant"] for other in same}) > 1:
        label += f" ({row['variant']})"
    return label


def missing_algos(env_id: str, rows: Sequence[dict[str, Any]]) -> list[str]:
    """The algorithms the grid plans on ``env_id`` that have no record there."""
    env = SUITE.get(env_id)
    seen = {row["algo"] for row in rows if row["env_id"] == env_id}
    return [algo for algo in (env.algos if env else ()) if algo not in seen]


def seeds_cell(row: dict[str, Any]) -> str:
    if row["not_applicable"]:
        return "n/a"
    return str(row["n_ok"]) + (f" ({row['n_failed']} failed)" if row["n_failed"] else "")


def _published(env: SuiteEnv | None, algo: str) -> str:
    marks = [mark for mark in env.published if mark.algo == algo] if env else []
    return "; ".join(f"{fmt_num(mark.score)} ({fmt_budget(mark.timesteps)})" for mark in marks) or "—"


def _normalized(env: SuiteEnv | None, row: dict[str, Any]) -> str:
    if env is None or row["final_iqm"] is None:
        return "—"
    ci = None if row["final_ci"] is None else [env.normalize(value) for value in row["final_ci"]]
    return fmt_iqm(env.normalize(row["final_iqm"]), ci, "{:.3f}")


def _load_summary(flags: Sequence[str]) -> str:
    counts = Counter(flags)
    return ", ".join(f"{counts[flag]} {flag}" for flag in ("quiet", "loaded", "unknown") if counts[flag]) or "—"


def _cpu_summary(cpus: Sequence[str]) -> str:
    return ", ".join(f"{n} {cpu}" for cpu, n in sorted(Counter(cpus).items())) or "—"


def env_section(
    env_id: str,
    rows: Sequence[dict[str, Any]],
    records: Sequence[dict[str, Any]],
    figure: str | None,
) -> str:
    env = SUITE.get(env_id)
    mine = [row for row in rows if row["env_id"] == env_id]
    lines = [f"### {env_id}", ""]
    threshold = env.target if env else next((row["threshold"] for row in mine), None)
    facts = [f"Threshold {threshold:g}" if threshold is not None else "No threshold"]
    if env:
        facts += [
            f"issue 19's goal: {env.goal}",
            f"budget {fmt_budget(env.budget)}",
            f"random policy {fmt_num(env.random_score)}",
        ]
    lines += ["; ".join(facts) + ".", ""]
    if not mine:
        planned = ", ".join(env.algos) if env else ""
        lines.append(f"No records yet (the grid plans {planned})." if planned else "No records yet.")
        return "\n".join(lines) + "\n"
    for row in mine:
        if row["recorded_thresholds"]:
            written = ", ".join(f"{value:g}" for value in row["recorded_thresholds"])
            lines.append(
                f"The {row_label(row, rows)} records were written with threshold {written}: solved, first and stays "
                f"are recomputed here against {threshold:g} from their evaluations and final scores."
            )
            lines.append("")
    missing = missing_algos(env_id, rows)
    header = ["algo", "seeds", "budget", "n_envs", "solved at end", "final reward IQM [95 % CI]", "normalized"]
    header += ["first ≥ thr.", "stays ≥ thr.", "published"]
    lines += table_header(header)
    for row in mine:
        seeds = f"n/a: {row['not_applicable']}" if row["not_applicable"] else seeds_cell(row)
        cells = [row_label(row, rows), seeds, "—" if row["not_applicable"] else fmt_budget(row["budget"])]
        cells += ["—" if row["n_envs"] is None or row["not_applicable"] else str(row["n_envs"]), fmt_solved(row)]
        cells += [fmt_iqm(row["final_iqm"], row["final_ci"]), _normalized(env, row)]
        cells += [fmt_reach(row, "first"), fmt_reach(row, "stays"), _published(env, row["algo"])]
        lines.append(table_row(cells))
    for algo in missing:
        lines.append(table_row([algo, "no records yet", *("—" for _ in header[2:-1]), _published(env, algo)]))
    lines.append("")
    header = ["algo", "training s to first ≥ thr.", "training s to stay ≥ thr.", "training s per run"]
    header += ["wall s per run", "train fps", "machine load", "CPU"]
    lines += table_header(header)
    for row in mine:
        if row["not_applicable"]:
            continue
        train_time = [value for value in row["train_time"] if value is not None]
        cells = [row_label(row, rows), fmt_reach_time(row, "first_time"), fmt_reach_time(row, "stays_time")]
        cells += [fmt_spread(train_time, lambda x: f"{x:,.1f}"), fmt_spread(row["wall_time"], lambda x: f"{x:,.1f}")]
        cells += [fmt_spread(row["fps"], lambda x: f"{x:,.0f}"), _load_summary(row["load"]), _cpu_summary(row["cpu"])]
        lines.append(table_row(cells))
    if figure is not None:
        lines += ["", f"![{env_id}: learning curves against env steps and seconds of training]({figure})"]
    return "\n".join(lines) + "\n"


def across_envs_summary(rows: Sequence[dict[str, Any]], envs: Collection[str] | None = None) -> list[dict[str, Any]]:
    """
    The normalized final reward across the suite's envs, per algorithm as the page labels it (with its budget or
    settings where it has several on an env), in the grid's order: the page's table, and the report's
    ``summary_across_envs.json``.

    :param rows: The rows of :func:`~sb3_reinforce.benchmark.summary.summarize` to compare (the tuned ones)
    :param envs: Only these envs (None: every env of the suite in ``rows``)
    """
    pairs = [(dict(row, algo=row_label(row, rows)), row) for row in rows if not row["not_applicable"]]
    order = {row["algo"]: (algo_rank(source["algo"]), row["algo"]) for row, source in pairs}
    return summarize_across_envs([row for row, _ in pairs], normalized_score, order.__getitem__, envs)


def across_section(rows: Sequence[dict[str, Any]]) -> str:
    summary = across_envs_summary(rows)
    lines = [SECTIONS["across"]]
    if not summary:
        lines.append("No finished run on an env of the suite yet.")
        return "\n".join(lines) + "\n"
    heading = "normalized final reward"
    lines.append(markdown_across_envs(summary, heading))
    env_sets = [set(row["envs"]) for row in summary]
    if len(summary) == 1:
        lines.append(f"Only {summary[0]['algo']} has finished runs on the suite: there is nothing to compare it with yet.")
    elif any(envs != env_sets[0] for envs in env_sets):
        common = set.intersection(*env_sets)
        if common:
            lines.append("On the envs every algorithm ran (" + ", ".join(e for e in SUITE if e in common) + "):\n")
            common_summary = across_envs_summary(rows, common)
            lines.append(markdown_across_envs(common_summary, heading))
        else:
            lines.append(
                "No env has finished runs of every algorithm: the rows above cover different envs and do not compare."
            )
    return "\n".join(lines) + "\n"


# -- When to choose REINFORCE ---------------------------------------------------------------------------------------


def when_section(rows: Sequence[dict[str, Any]], envs: Sequence[str]) -> str:
    lines = [SECTIONS["when"]]
    verdicts: dict[str, list[str]] = defaultdict(list)
    bullets = []
    for env_id in envs:
        env = SUITE.get(env_id)
        finished = [row for row in rows if row["env_id"] == env_id and row["n_ok"] > 0]
        ours = [row for row in finished if row["algo"] == "reinforce"]
        peers = [row for row in finished if row["algo"] != "reinforce"]
        missing = [algo for algo in missing_algos(env_id, rows) if algo != "reinforce"]
        no_peer = f"no records of {', '.join(missing)} yet" if missing else "no peer records yet"
        if not ours:
            bullets.append(f"- **{env_id}**: no REINFORCE records yet: no comparison.")
            verdicts["none"].append(env_id)
            continue
        for row in ours:
            who = row_label(row, rows)
            head = f"- **{env_id}**" + (f", {who}" if who != "reinforce" else "")
            summary = f"REINFORCE's final reward IQM {fmt_iqm(row['final_iqm'], row['final_ci'])}"
            if row["threshold"] is not None:
                summary += f", {row['solved']}/{row['n_ok'] + row['n_failed']} seeds solved"
            if not peers:
                bullets.append(f"{head}: {summary}; {no_peer}: no comparison.")
                verdicts["none"].append(env_id)
                continue
            sentences = [_compare(row, peer, rows, env) for peer in peers]
            tail = f"; {no_peer}" if missing else ""
            bullets.append(f"{head}: {summary}{tail}.\n" + "\n".join(f"  - {s}" for s in sentences))
            for peer in peers:
                verdicts[_verdict(row, peer)].append(f"{env_id} vs {row_label(peer, rows)}")
                if _below_published(peer, env) is not None:
                    verdicts["below_published"].append(f"{env_id} vs {row_label(peer, rows)}")
    lines += [_verdict_line(verdicts), "", *bullets]
    return "\n".join(lines) + "\n"


def _verdict_line(verdicts: dict[str, list[str]]) -> str:
    """The comparisons of the final reward, counted: higher, lower, no clear difference; the envs with none."""

    def listed(kind: str) -> str:
        items = list(dict.fromkeys(verdicts.get(kind, [])))
        return f"{len(items)}" + (f" ({', '.join(items)})" if items else "")

    return (
        f"REINFORCE's final reward against a peer's, over the comparisons below: higher in {listed('higher')}, lower "
        f"in {listed('lower')}, no clear difference in {listed('unclear')}, no CI (a single seed) in {listed('single')}. "
        "Envs without a comparison yet: "
        f"{listed('none')}. Peers whose runs all score below the zoo's published figure (their whole 95 % CI): "
        f"{listed('below_published')}."
    )


def ci_verdict(ours: Sequence[float] | None, theirs: Sequence[float] | None) -> str:
    """``higher`` / ``lower`` when two 95 % CIs do not overlap, else ``unclear`` (``single``: one has no CI)."""
    if ours is None or theirs is None:
        return "single"
    if ours[0] > theirs[1]:
        return "higher"
    if ours[1] < theirs[0]:
        return "lower"
    return "unclear"


def _verdict(ours: dict[str, Any], peer: dict[str, Any]) -> str:
    """:func:`ci_verdict` of two rows' final rewards."""
    return ci_verdict(ours["final_ci"], peer["final_ci"])


def _compare(ours: dict[str, Any], peer: dict[str, Any], rows: Sequence[dict[str, Any]], env: SuiteEnv | None) -> str:
    """One sentence: REINFORCE's row against a peer's, from their numbers only."""
    name = row_label(peer, rows)
    a, b = ours["final_iqm"], peer["final_iqm"]
    parts = []
    verdict = dict(
        higher="**higher**",
        lower="**lower**",
        unclear="no clear difference (the 95 % CIs overlap)",
        single="cannot tell (a single seed has no CI)",
    )[_verdict(ours, peer)]
    gap = f"{a - b:+.1f}"
    if env is not None:
        gap += f", {env.normalize(a) - env.normalize(b):+.3f} normalized"
    parts.append(
        f"vs {name}: final reward {verdict}, IQM {fmt_iqm(a, ours['final_ci'])} against {fmt_iqm(b, peer['final_ci'])} ({gap})"
    )
    if ours["threshold"] is not None:
        parts.append(
            f"seeds solved {ours['solved']}/{ours['n_ok'] + ours['n_failed']} against "
            f"{peer['solved']}/{peer['n_ok'] + peer['n_failed']}"
        )
        ours_t, peer_t = _median_reached(ours["first_time"]), _median_reached(peer["first_time"])
        if ours_t is None or peer_t is None:
            who = [label for label, value in ((row_label(ours, rows), ours_t), (name, peer_t)) if value is None]
            parts.append("training seconds to the threshold not recorded for " + " and ".join(who))
        elif math.isinf(ours_t) or math.isinf(peer_t):
            parts.append(
                f"median training seconds to first reach the threshold {fmt_seconds(ours_t)} against {fmt_seconds(peer_t)}"
            )
        else:
            ratio = peer_t / ours_t if ours_t > 0 else math.inf
            parts.append(
                f"median training seconds to first reach the threshold {fmt_seconds(ours_t)} against "
                f"{fmt_seconds(peer_t)} ({ratio:.2f}x)"
            )
        ours_s, peer_s = quantiles(ours["stays"], (0.5,))[0], quantiles(peer["stays"], (0.5,))[0]
        parts.append(f"median env steps to stay at it {fmt_steps(ours_s)} against {fmt_steps(peer_s)}")
    below = _below_published(peer, env)
    if below is not None:
        parts.append(
            f"{name}'s whole CI lies below the zoo's published {fmt_num(below.score)} ({below.source}): whether our "
            "peer runs are faithful is checked in benchmark/checks/README.md"
        )
    return "; ".join(parts) + "."


def _below_published(peer: dict[str, Any], env: SuiteEnv | None) -> PublishedScore | None:
    """The zoo's published mark for a peer's tuned runs when their whole 95 % CI lies below it (None otherwise)."""
    if env is None or peer["settings"] != "tuned" or peer["final_ci"] is None:
        return None
    marks = [mark for mark in env.published if mark.algo == peer["algo"] and mark.score > peer["final_ci"][1]]
    return max(marks, key=lambda mark: mark.score, default=None)


def _median_reached(values: Sequence[float | None]) -> float | None:
    """The median of the seeds' values that are known (``inf``: never; None: unknown); None if none is."""
    known = [value for value in values if value is not None]
    return quantiles(known, (0.5,))[0] if known else None
