"""
Aggregate statistics across seeds: the interquartile mean (IQM) and its stratified bootstrap confidence interval.

Agarwal et al. 2021, "Deep Reinforcement Learning at the Edge of the Statistical Precipice"
(https://arxiv.org/abs/2108.13264): with few seeds, report the IQM (the mean of the middle 50 % of the scores,
``scipy.stats.trim_mean(x, 0.25)``) with a stratified bootstrap confidence interval, not a median or a mean alone.

The bootstrap is :func:`scipy.stats.bootstrap` (percentile method, as in the paper's ``rliable`` library). Each
stratum (an env) is resampled on its own and the IQM is taken over the pooled resampled scores, so every resample
keeps the same number of runs per env. Per algorithm x env there is a single stratum: a plain bootstrap over seeds.

scipy is an optional dependency (``pip install "sb3-reinforce[benchmark]"``); it is imported only here. This module
imports neither SB3 nor torch, nor the rest of the package: it reads plain records.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from typing import Any

import numpy as np

__all__ = [
    "BENCHMARK_INSTALL",
    "evaluation_train_times",
    "interval_estimate",
    "iqm",
    "require_scipy",
    "summarize_across_envs",
]

BENCHMARK_INSTALL = 'pip install "sb3-reinforce[benchmark]"'
#: Bootstrap resamples: enough for stable 2.5 / 97.5 percentiles, fast on a laptop (vectorized)
N_RESAMPLES = 2000
CONFIDENCE = 0.95


def require_scipy() -> None:
    """
    Check that scipy (for the confidence intervals) can be imported; called before any training.

    :raise ImportError: Naming the command that installs it
    """
    try:
        import scipy.stats  # noqa: F401
    except ImportError as error:
        raise ImportError(f"the benchmark's confidence intervals need scipy: {BENCHMARK_INSTALL}") from error


def iqm(scores: Sequence[float] | np.ndarray) -> float:
    """
    Interquartile mean: the mean of the scores left after cutting 25 % at each end.

    >>> iqm([0.0, 1.0, 2.0, 3.0, 100.0, -100.0, 4.0, 5.0])
    2.5

    :param scores: At least one score
    :raise ValueError: For no score
    """
    from scipy.stats import trim_mean

    values = np.asarray(scores, dtype=float)
    if values.size == 0:
        raise ValueError("iqm needs at least one score, got none")
    return float(trim_mean(values, 0.25))


def _pooled_iqm(*strata: np.ndarray, axis: int = -1) -> np.ndarray:
    from scipy.stats import trim_mean

    return np.asarray(trim_mean(np.concatenate(strata, axis=axis), 0.25, axis=axis))


def interval_estimate(
    strata: Sequence[Sequence[float]],
    confidence: float = CONFIDENCE,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> dict[str, Any]:
    """
    The IQM of the pooled scores and its stratified bootstrap confidence interval.

    :param strata: The scores of each stratum (e.g. one list of per-seed final scores per env; one list for a
        single algorithm x env)
    :param confidence: Confidence level of the interval
    :param n_resamples: Bootstrap resamples
    :param seed: Seed of the bootstrap's random generator: the same scores and seed give the same interval
    :return: ``dict(iqm=..., ci_low=..., ci_high=..., n=..., confidence=...)``; the bounds are None when some
        stratum has fewer than 2 scores (no interval can be estimated from one seed)
    :raise ValueError: For no scores, or a confidence level outside (0, 1)
    """
    from scipy.stats import bootstrap

    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    arrays = [np.asarray(stratum, dtype=float) for stratum in strata]
    if not arrays or any(array.size == 0 for array in arrays):
        raise ValueError(f"every stratum needs at least one score, got sizes {[array.size for array in arrays]}")
    estimate: dict[str, Any] = dict(
        iqm=iqm(np.concatenate(arrays)), ci_low=None, ci_high=None, n=int(sum(a.size for a in arrays)), confidence=confidence
    )
    if min(array.size for array in arrays) < 2:
        return estimate
    if all(np.ptp(array) == 0 for array in arrays):  # no spread to resample (scipy warns about degenerate data)
        estimate.update(ci_low=estimate["iqm"], ci_high=estimate["iqm"])
        return estimate
    result = bootstrap(
        tuple(arrays),
        _pooled_iqm,
        n_resamples=n_resamples,
        vectorized=True,
        paired=False,  # each stratum is resampled on its own: the stratified bootstrap
        confidence_level=confidence,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    estimate.update(ci_low=float(result.confidence_interval.low), ci_high=float(result.confidence_interval.high))
    return estimate


def evaluation_train_times(record: dict[str, Any]) -> list[float | None]:
    """
    The seconds of training at each periodic evaluation of a run record (its ``eval_train_times``), None for each
    evaluation of a record that has none (records written before the benchmark recorded them).

    >>> evaluation_train_times(dict(evaluations=[{}, {}], eval_train_times=[0.0, 1.5]))
    [0.0, 1.5]
    >>> evaluation_train_times(dict(evaluations=[{}, {}]))
    [None, None]
    """
    n_points = len(record.get("evaluations") or [])
    times = record.get("eval_train_times")
    if not isinstance(times, list) or len(times) != n_points:
        return [None] * n_points
    return [None if seconds is None else float(seconds) for seconds in times]


def summarize_across_envs(
    rows: Sequence[dict[str, Any]],
    normalize: Callable[[str, float], float | None],
    algo_rank: Callable[[str], Any] | None = None,
    envs: Collection[str] | None = None,
) -> list[dict[str, Any]]:
    """
    Per algorithm (and budget-free): the IQM of the normalized final rewards over every env where it finished runs,
    with a 95 % confidence interval from a bootstrap stratified over the envs (each env's seeds resampled on their
    own).

    :param rows: The rows of :func:`~sb3_reinforce.benchmark.summary.summarize`
    :param normalize: ``normalize(env_id, score)``: the normalized score, or None to leave the env out
        (:func:`~sb3_reinforce.benchmark.suite.normalized_score`)
    :param algo_rank: Sort key of the algorithms (:func:`~sb3_reinforce.benchmark.peers.algo_rank`); None: in the
        order they first appear in ``rows``
    :param envs: Only these envs (None: every env of ``rows``)
    :return: One row per algorithm: ``algo``, ``envs``, ``n_runs``, ``iqm``, ``ci`` (None with fewer than 2 seeds
        on some env), ``solved_fraction``
    """
    strata: dict[str, list[tuple[str, list[float], int, int]]] = defaultdict(list)
    for row in rows:
        if not row["final"] or (envs is not None and row["env_id"] not in envs):
            continue
        scaled = [normalize(row["env_id"], value) for value in row["final"]]
        normalized = None if any(value is None for value in scaled) else [float(v) for v in scaled if v is not None]
        if normalized is not None:
            strata[row["algo"]].append((row["env_id"], normalized, row["solved"], row["n_ok"] + row["n_failed"]))
    summary = []
    for algo in strata if algo_rank is None else sorted(strata, key=algo_rank):
        estimate = interval_estimate([scores for _, scores, _, _ in strata[algo]])
        summary.append(
            dict(
                algo=algo,
                envs=[env_id for env_id, _, _, _ in strata[algo]],
                n_runs=estimate["n"],
                iqm=estimate["iqm"],
                ci=None if estimate["ci_low"] is None else [estimate["ci_low"], estimate["ci_high"]],
                solved_fraction=sum(s for _, _, s, _ in strata[algo]) / sum(n for _, _, _, n in strata[algo]),
            )
        )
    return summary
