"""
The narrative of ``BENCHMARKS.md``: the text that does not come from the records. The report
(:func:`~sb3_reinforce.benchmark.page_builder.markdown_page`) fills in the ``{fields}`` and adds every table, number and
sentence drawn from the records; edit the text here, not in the page, which ``--report-only`` overwrites.
"""

from __future__ import annotations

__all__ = ["SECTIONS"]

#: The page's fixed text, by section; ``{runs}`` (the records' folder), ``{rebuild}`` (the command that rebuilt the
#: page) and ``{template}`` (this module's path) are filled in by the report
SECTIONS: dict[str, str] = dict(
    header="""\
# Benchmarks

<!-- Generated from the run records in {runs}/ by: {rebuild}
Do not edit: the text is in {template}, the numbers come from the records. -->

REINFORCE (this package) against Stable-Baselines3's PPO, A2C and SAC on the suite of envs of `docs/suite.md`: the
final reward, how many seeds reach the threshold, how many env steps and how many seconds of training it takes to
get there, and what the zoo publishes for the peers. Every number, table, figure and sentence below is computed
from the run records committed in `{runs}/` (one JSON file per run: settings, versions, periodic evaluations, final
score, timings, load average); `{rebuild}` rebuilds this page and its figures from them, byte for byte, on any
machine with the same library versions.
""",
    status="""\
## What the records hold

One row per env of the suite (then any other env with records), one column per algorithm: the seeds with a finished
run of its tuned settings (failed runs in brackets), then "+N defaults" for its runs with default settings (their own
section below), "no records yet" where the grid of issue 22 plans runs that are not recorded, "n/a"
where the algorithm cannot act in the env, and "zoo figure only" for SAC on the MuJoCo tasks (about 50 env steps per
second on 2 cores: the zoo's published score is shown instead). Runs and run time: every run on the env, those with
default settings included (their own section below); run time is the sum of the runs' wall times (one core per
run, evaluations included).
""",
    still_to_run="""\
**Still to run**: the runs of the grid of issue 22 (REINFORCE's entries on the held-out seeds 1000-1009, the peers
with the zoo's settings and every algorithm's defaults on 1000-1004) that have no record yet, and the run time they
would take, estimated from the records: the mean wall time of the same algorithm, settings and env; marked ~, the
seconds per env step of the algorithm's other runs on the env (other settings: another speed) times the budget.
Until they are recorded, the tables below have no row of theirs and no comparison with them.
""",
    suite="""\
## The suite

Threshold: the target of issue 19 for the IQM over the held-out seeds; the page scores every run against it (seeds
solved, steps and seconds to reach and stay at it), whatever threshold a record was written with (the records keep
theirs in `threshold`; a difference is noted under the env). Random: the mean return of uniformly random actions
over 100 episodes (`sb3_reinforce.benchmark.suite.random_policy_score`). Normalized score: (score - random) /
(threshold - random), 0 for the random policy and 1 at the threshold. Published: the peers' scores in
rl-baselines3-zoo's `benchmark.md` (one run each, deterministic evaluation; MuJoCo tasks there are `-v3` and
LunarLander `-v2`), and Tianshou's REINFORCE where issue 19 quotes it: reference marks, not runs of ours. The suite's
numbers are in `sb3_reinforce/benchmark/suite.py`.
""",
    results="""\
## Results per env

Final reward: the deterministic policy on the env's true reward, the mean over the final evaluation's episodes of
each seed; its interquartile mean (IQM) across seeds with a 95 % percentile-bootstrap confidence interval
(`scipy.stats.bootstrap`, 2000 resamples, a fixed generator seed). The interval is over training seeds only: every
run plays the same evaluation episodes, so what that one set of episodes adds to every score alike is not in it (on
Pendulum-v1, whose return depends on the start angle, it is larger than the interval: benchmark/checks/README.md).
Solved: seeds whose final reward reaches the threshold. First / stays ≥ thr.: the env steps of the first periodic
evaluation at or above the threshold, and of the one from which every later evaluation stays there (median across
seeds [25th, 75th percentile]; "never": not reached; "(k/n seeds)": only k seeds got there). Training seconds:
`learn()` time with the evaluations left out, at those same evaluations (one core per run; the benchmark records
them at each evaluation, "n/a" for records written before it did). Published: the zoo's figure for the algorithm on
the env (one run, its own budget).

The figures show, per algorithm, the IQM across seeds at each evaluation with its bootstrap band, against env steps
(left) and against training seconds (right: at each evaluation, the median across seeds of the seconds of training),
with the threshold, the random policy and the published figures as horizontal lines.
""",
    timing="""\
Timings are comparable only between runs that had a core each, on the same kind of CPU: the column "CPU" counts the
runs of each row by the processor their record names (the grid ran on more than one machine; "How it was run" lists
them). The records hold the 1-minute load average when each run started and ended: a run is "loaded" when either
exceeds the machine's CPU count by more than 0.5 (more runnable processes than cores: the run shared its core),
"quiet" otherwise, "unknown" for records written before the benchmark recorded it. Rewards and evaluations depend on
neither.
""",
    across="""\
## Across envs

Per algorithm, the IQM of the normalized final rewards of all its runs on envs of the suite, with a 95 % CI from a
bootstrap stratified over envs (each env's seeds resampled on their own; Agarwal et al. 2021). Algorithms compare
only over the same envs: where their envs differ, a second table keeps the envs that every algorithm ran.
""",
    defaults="""\
## Out of the box: each algorithm's defaults

Every algorithm with its constructor's defaults (`Reinforce("MlpPolicy", env)`, `PPO("MlpPolicy", env)`,
`A2C("MlpPolicy", env)`) on the plain env: one env, no normalization wrapper, no shaping, the suite's budget, the
same seeds (`--settings defaults`). This is what a user gets before tuning anything; Reinforce's defaults (since 0.3.0)
standardize the observations inside the policy, PPO's and A2C's do not. Each cell: the final
reward's IQM [95 % CI] across seeds and the seeds that reach the threshold; then the normalized score across envs as
above, over the envs every algorithm ran and over those Reinforce and each peer ran. These runs appear nowhere else on
the page.
""",
    when="""\
## When to choose REINFORCE

Drawn only from the tables above, per env: REINFORCE's final reward against each peer's (higher or lower when the
95 % CIs do not overlap), the seeds solved, and the training seconds and env steps to the threshold.
""",
    how="""\
## How it was run

Each command below added runs to `{runs}/` (the grid skips runs already recorded with the same settings, so a grid
cut short resumes, on any machine, from the records that are committed). Every run trains through
`sb3_reinforce.experiments.run.train`, as `python -m sb3_reinforce train` does, on one core (`OMP_NUM_THREADS=1`, one
torch thread), and is scored with the same evaluation: the env's true reward and own time limit, the training
action interface, the training run's observation statistics frozen, deterministic actions, the same episode seeds
for every run. REINFORCE runs each env's entry of `sb3_reinforce/zoo/hyperparams/reinforce.yml`; PPO, A2C and SAC
run rl-baselines3-zoo 2.9.2's tuned hyperparameters (`sb3_reinforce/benchmark/peers.py`, checked against the
installed `rl_zoo3` by `tests/test_benchmark.py`; the zoo's `-v4` entries for the MuJoCo `-v5` tasks, its budgets
capped at 1M steps), SB3's defaults where the zoo has no entry. Runs with `--settings defaults` use every algorithm's
constructor defaults on the plain env for the suite's budget instead; their records are named `ALGO-defaults__...`.
Without `--eval-freq`, a run is evaluated 20 times over its budget. Where a peer's runs disagree with the zoo's
published figure, [benchmark/checks/](benchmark/checks/README.md) trains the same peer with the zoo's own train script
on the same seeds, as a check that our runs are faithful.
""",
    rebuild="""\
To add runs, run the grid with `--out {runs_folder}`, commit the new records, then rebuild this page, which also
rewrites, in `{runs_folder}/`, the figures (`curves_<env>.png`), `table.md`, `summary.json`,
`summary_across_envs.json` and `evaluations.csv` / `.json`:

```bash
OMP_NUM_THREADS=1 python -m sb3_reinforce benchmark --algos ALGO... --envs ENV_ID... --seeds SEED... --out {runs_folder}
{rebuild}
```

### Running on a cluster

The same grid runs as Ray tasks on an existing Ray cluster, one task per run (one CPU, one torch thread), and its
records merge with local ones. Install `sb3-reinforce[ray]` (the same version, the same Ray version) on every node,
start the cluster (`ray start --head --port=6379` on one node, `ray start --address=HEAD:6379` on the others), and
add `--ray-address auto` (or `HOST:6379`, or `ray://HOST:10001` from outside the cluster) to the grid's command;
`--workers` is then ignored. Each record comes back to the driver, which writes it into `--out`: no shared disk is
needed, and a grid resumes with the same `--out` whichever executor ran its first part. A run whose worker process
dies is run again up to `--max-retries` times (default 2), then recorded as failed; an exception inside a run is not
retried. Ctrl-C keeps the finished runs; the same command resumes.
""",
    per_run="""\
## Per run
""",
)
