"""
Benchmark: a grid of algorithms x envs x seeds, trained and scored side by side on the true reward.

``python -m sb3_reinforce benchmark`` (or ``python -m sb3_reinforce.benchmark``) trains every (algorithm, env, seed)
of the grid, evaluates each run periodically on the env's **true** reward, and writes to ``--out``:

* ``runs/<algo>__<env>__seed<N>.json`` (``<algo>-defaults__...`` with ``--settings defaults``: each algorithm's
  constructor defaults on the plain env): one file per run, written atomically when the run ends; a re-run of the
  same grid skips the runs that finished (status ``ok``) with the same settings, so an interrupted grid resumes
  (failed runs are run again; ``--force`` runs everything again, e.g. after a code change: the settings compared
  do not include the code);
* ``evaluations.csv`` / ``evaluations.json``: every evaluation point of every run;
* ``summary.json`` and ``table.md``: per algorithm x env, the interquartile mean (IQM) of the final reward across
  seeds with its 95 % bootstrap confidence interval, the fraction of seeds solved, and the median and interquartile
  range of the env steps to the env's reward threshold and of the training speed; ``summary_across_envs.json``:
  per algorithm, the IQM of the threshold-normalized final rewards with a bootstrap stratified over envs;
* ``curves_<env>.png``: learning curves (IQM across seeds, its bootstrap band shaded) per env, in two panels side by
  side: against env steps and against seconds of training (needs matplotlib: without it the curves are skipped, with
  a notice before any training);
* ``grid.json``: the shell-quoted command and the arguments of the last grid run, and ``commands``, the command of
  every grid run into ``--out`` (each once, in the order they first ran), which the page lists.

``--report-only`` trains nothing: from every run file of ``--out`` (whichever grids wrote them) and ``grid.json``'s
commands, it rewrites the evaluations, summaries, table and curves, and writes the benchmark's page to ``--page``
(``BENCHMARKS.md`` by default, which it replaces only with a report on the records it was generated from); a grid run
writes no page.

The package, in the order a grid flows through it:

* :mod:`~sb3_reinforce.benchmark.suite`: the envs of the suite, with their budgets, thresholds, random scores and
  published figures (plain data);
* :mod:`~sb3_reinforce.benchmark.peers`: the settings of each algorithm (REINFORCE's presets, the RL Zoo's tuned
  hyperparameters for PPO, SAC and A2C);
* :mod:`~sb3_reinforce.benchmark.plan`: the runs (:class:`RunTask`), resume, the reproduce command;
* :mod:`~sb3_reinforce.benchmark.executor`: ``run(task) -> record`` (writes nothing) and the local process pool;
* :mod:`~sb3_reinforce.benchmark.ray_executor`: the same as Ray tasks on a Ray cluster (``--ray-address``);
* :mod:`~sb3_reinforce.benchmark.driver`: the command line; writes each record as it comes back, then the report;
* :mod:`~sb3_reinforce.benchmark.report`: writes the report from the run records (:func:`write_report`) with the
  modules below (the page: ``page_builder``, ``page_results``, ``page_defaults``);
* :mod:`~sb3_reinforce.benchmark.summary`: the records loaded, scored against one threshold per env and summarized
  across seeds;
* :mod:`~sb3_reinforce.benchmark.stats`: IQM and bootstrap confidence intervals (scipy);
* :mod:`~sb3_reinforce.benchmark.formatting`: how numbers and table cells are written;
* :mod:`~sb3_reinforce.benchmark.tables`: ``table.md``;
* :mod:`~sb3_reinforce.benchmark.plots`: the learning curves;
* :mod:`~sb3_reinforce.benchmark.page_builder`: the page, from the text of :mod:`~sb3_reinforce.benchmark.page`,
  with its results sections in :mod:`~sb3_reinforce.benchmark.page_results`.

Evaluation (:class:`~sb3_reinforce.experiments.callbacks.TrueRewardEvaluator`) uses an env with the same action
interface as training, the training run's frozen observation-normalization statistics, but the env's own reward and time
limit, always the same episode seeds (:data:`EVAL_SEED`) and deterministic actions. The training speed (``fps``)
counts env steps per second of ``learn()`` excluding the time spent evaluating.
"""

from sb3_reinforce.benchmark.driver import add_arguments, main, run_grid
from sb3_reinforce.benchmark.executor import EVAL_SEED, LocalExecutor
from sb3_reinforce.benchmark.peers import DEFAULT_ENVS, ZOO_HYPERPARAMS, run_config
from sb3_reinforce.benchmark.plan import RunTask, parse_overrides
from sb3_reinforce.benchmark.ray_executor import RayExecutor
from sb3_reinforce.benchmark.report import write_report
from sb3_reinforce.benchmark.summary import steps_to_threshold

__all__ = [
    "DEFAULT_ENVS",
    "EVAL_SEED",
    "ZOO_HYPERPARAMS",
    "LocalExecutor",
    "RayExecutor",
    "RunTask",
    "add_arguments",
    "main",
    "parse_overrides",
    "run_config",
    "run_grid",
    "steps_to_threshold",
    "write_report",
]
