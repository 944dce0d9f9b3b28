"""
Command line: train, evaluate, watch and record agents on the presets of :mod:`sb3_reinforce.experiments.presets`.

    python -m sb3_reinforce train --preset solved --seed 0 --save-path models/mcc_solved_seed0
    python -m sb3_reinforce evaluate --model models/mcc_solved_seed0 --episodes 100 --json
    python -m sb3_reinforce evaluate --model reinforce_cartpole --env CartPole-v1   # saved from Python
    python -m sb3_reinforce enjoy --model models/mcc_solved_seed0 --episodes 3
    python -m sb3_reinforce record --model models/mcc_solved_seed0 --output docs/mountain_car.gif
    python -m sb3_reinforce train --preset solved --seed 0 --save-path models/mcc_solved_seed0 --resume  # after a kill
    python -m sb3_reinforce benchmark --help

This module only parses arguments and prints; the work is done by :mod:`sb3_reinforce.experiments` (its
``ValueError`` / ``TypeError`` become one-line errors with exit code 2, unusable saved files exit code 1).
User guide: ``docs/cli.md``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import sb3_reinforce
from sb3_reinforce.common.arguments import HelpFormatter, non_negative_int, positive_int
from sb3_reinforce.experiments import checkpoints, media, run, saved
from sb3_reinforce.experiments import config as run_config
from sb3_reinforce.experiments.envs import ACTION_INTERFACES, SHAPINGS
from sb3_reinforce.experiments.mountain_car import MOUNTAIN_CAR
from sb3_reinforce.experiments.presets import DEFAULT_PRESET, NO_PRESET, PRESETS

__all__ = ["build_parser", "main"]

PROG = "sb3-reinforce"


def hyperparameter(text: str) -> tuple[str, Any]:
    """argparse type of ``--hp KEY=VALUE`` (:func:`~sb3_reinforce.experiments.config.parse_hyperparameter`)."""
    try:
        return run_config.parse_hyperparameter(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


_NAME_WIDTH = max(len(name) for name in PRESETS)
_PRESET_LINES = "\n".join(
    f"  {name:{_NAME_WIDTH}s} {preset.description} ({preset.setup.env_id}, {preset.timesteps} steps)"
    for name, preset in PRESETS.items()
)
_TRAIN_EPILOG = f"""
presets (--preset; with neither --preset nor --env: {DEFAULT_PRESET}); every other flag overrides the preset's value:
{_PRESET_LINES}
  {NO_PRESET:{_NAME_WIDTH}s} no recipe: the env's plain setup and the algorithm's default hyperparameters

--env alone (no --preset) starts from the env's entry of reinforce.yml, the preset named by its env id, when it has
one (the suite's envs, docs/suite.md); from the plain setup otherwise: the env's own action space, reward and time
limit, no observation normalization, the algorithm's default hyperparameters and {run_config.DEFAULT_TIMESTEPS} steps
(--preset none: the plain setup for any env). --actions, --shaping, --hp... still apply; a preset named with another
env is an error. The run prints the preset, env setup and hyperparameters it uses.

--algo ppo|a2c|sac: the preset's env setup (actions, shaping, time limit, normalization) is kept, its REINFORCE
hyperparameters are dropped: the algorithm runs with SB3's defaults plus --hp. sac needs --actions continuous.

--hp values: true/false (also yes/no, on/off, True/False, as the RL Zoo's YAML), numbers, lin_<x> schedules, strings,
Python literals; policy_kwargs in the RL Zoo's notation, e.g. "policy_kwargs=dict(net_arch=[64, 64],
activation_fn=nn.ReLU, ortho_init=False, optimizer_class=th.optim.RMSprop, optimizer_kwargs=dict(eps=1e-5))".

save paths: the default, models/<algo>_<preset or env>_seed<seed>, is numbered (_1, _2...) rather than overwritten;
an explicit --save-path with files is an error unless --force. The model is saved before the final evaluation.

examples:
  {PROG} train --preset solved --seed 0 --save-path models/mcc_solved_seed0
  {PROG} train --preset notebook --seed 0 --tensorboard-log runs
  {PROG} train --env Acrobot-v1 --seed 3                        # Acrobot-v1's tuned entry
  {PROG} train --env {MOUNTAIN_CAR} --preset none --hp use_sde=true      # plain defaults, gSDE exploration
  {PROG} train --algo sac --actions continuous --shaping none --timesteps 50000
"""


def _add_model_arguments(parser: argparse.ArgumentParser, episodes: int) -> None:
    parser.add_argument(
        "--model",
        required=True,
        help="saved model P or P.zip (P.json, P_vecnormalize.pkl beside it; saved from Python: add --env)",
    )
    parser.add_argument("--env", default=None, help="env id: required for a model saved from Python (the run's env)")
    parser.add_argument("--vecnormalize", default=None, help="VecNormalize statistics of a model saved from Python")
    parser.add_argument("--algo", choices=list(run_config.ALGOS), default=None, help="algorithm of a model saved from Python")
    parser.add_argument("--episodes", type=positive_int, default=episodes, help=f"number of episodes ({episodes})")
    parser.add_argument("--seed", type=int, default=run.DEFAULT_EVAL_SEED, help="seed of the evaluation env (0)")
    parser.add_argument("--stochastic", action="store_true", help="sample actions instead of the deterministic policy")


def _add_train_arguments(tr: argparse.ArgumentParser) -> None:
    # Defaults are written in the help text itself (no ArgumentDefaultsHelpFormatter: it would print them twice)
    tr.add_argument(
        "--preset",
        choices=[*sorted(PRESETS), NO_PRESET],
        default=None,
        help=f"recipe to start from ({DEFAULT_PRESET} without --env; {NO_PRESET}: the algorithm's defaults)",
    )
    tr.add_argument(
        "--env",
        default=None,
        help="Gymnasium env id (the preset's env); alone: its entry of reinforce.yml, or its plain setup",
    )
    tr.add_argument("--algo", choices=list(run_config.ALGOS), default="reinforce", help="algorithm (reinforce)")
    tr.add_argument("--timesteps", type=positive_int, default=None, help="training budget in env steps (the preset's)")
    tr.add_argument("--seed", type=int, default=0, help="seed of the algorithm and the training envs (0)")
    tr.add_argument("--n-envs", type=positive_int, default=None, help="number of training envs (the preset's)")
    tr.add_argument("--actions", choices=ACTION_INTERFACES, default=None, help="bernoulli wraps a Box env (the preset's)")
    tr.add_argument(
        "--shaping", choices=list(SHAPINGS), default=None, help="seed: notebook's 0.1*x^2, energy: potential (the preset's)"
    )
    tr.add_argument("--max-episode-steps", type=positive_int, default=None, help="time limit of training episodes")
    tr.add_argument("--normalize-obs", action=argparse.BooleanOptionalAction, default=None, help="VecNormalize observations")
    tr.add_argument(
        "--hp",
        type=hyperparameter,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="algorithm hyperparameter (repeatable), e.g. --hp learning_rate=3e-3 --hp use_sde=false "
        '--hp "policy_kwargs=dict(net_arch=[64, 64], activation_fn=nn.ReLU)" (see below)',
    )
    tr.add_argument("--tensorboard-log", default=None, help="TensorBoard folder (true and shaped returns, losses)")
    tr.add_argument(
        "--save-path", default=None, help="save to P.zip, P.json, P_vecnormalize.pkl (models/<run name>, numbered)"
    )
    tr.add_argument("--force", action="store_true", help="overwrite the files of an existing --save-path")
    tr.add_argument("--no-save", action="store_true", help="do not save the model")
    tr.add_argument(
        "--checkpoint-freq",
        type=non_negative_int,
        default=None,
        metavar="N",
        help=f"write P_checkpoint.zip every N env steps ({checkpoints.DEFAULT_CHECKPOINT_FREQ}; 0: only on Ctrl-C; "
        "reinforce only), removed when the run is done",
    )
    tr.add_argument(
        "--resume",
        action="store_true",
        help="continue the stopped run at --save-path (without it: the newest default path with a checkpoint) from its "
        "checkpoint, bit-exactly: give the run's other arguments again (docs/resume.md)",
    )
    tr.add_argument("--eval-episodes", type=non_negative_int, default=100, help="episodes of the final evaluation (100)")
    tr.add_argument("--eval-seed", type=int, default=run.DEFAULT_EVAL_SEED, help="seed of the evaluation env (0)")
    tr.add_argument("--eval-freq", type=non_negative_int, default=0, help="evaluate every N steps (0: never)")
    tr.add_argument("--eval-freq-episodes", type=positive_int, default=10, help="episodes of each periodic evaluation (10)")
    tr.add_argument("--no-progress-bar", action="store_true", help="hide the progress bar (CI logs)")
    tr.add_argument("--verbose", type=int, choices=(0, 1, 2), default=0, help="SB3 verbosity (0; 1: log tables)")
    tr.add_argument("--device", default="auto", help="torch device (auto)")
    tr.add_argument("--num-threads", type=int, default=1, help="torch CPU threads (1; -1: torch's default)")


def build_parser() -> argparse.ArgumentParser:
    """The ``sb3-reinforce`` argument parser (``benchmark`` forwards its arguments to :mod:`sb3_reinforce.benchmark`)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="REINFORCE for Stable-Baselines3: train, evaluate, watch and record agents on MountainCar and other envs.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {sb3_reinforce.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{train,evaluate,enjoy,record,benchmark}")
    raw = argparse.RawDescriptionHelpFormatter
    tr = sub.add_parser(
        "train",
        help="train an agent, save it and evaluate it on the true task",
        description="Train, save (P.zip, P.json, P_vecnormalize.pkl) and evaluate on the env's true reward.",
        epilog=_TRAIN_EPILOG,
        formatter_class=raw,
    )
    _add_train_arguments(tr)
    ev = sub.add_parser("evaluate", help="mean true reward of a saved model", formatter_class=raw)
    _add_model_arguments(ev, episodes=100)
    ev.add_argument("--json", action="store_true", help="print only one JSON object on stdout (the summary on stderr)")
    en = sub.add_parser("enjoy", help="play episodes with a saved model", formatter_class=raw)
    _add_model_arguments(en, episodes=3)
    en.add_argument("--render", choices=("none", "human"), default="none", help="human opens a window (none)")
    rec = sub.add_parser("record", help="render a saved model to a GIF or MP4", formatter_class=raw)
    _add_model_arguments(rec, episodes=1)
    rec.add_argument("--output", required=True, help="video file: .gif or .mp4 (mp4 needs imageio-ffmpeg)")
    rec.add_argument("--frame-skip", type=positive_int, default=1, help="keep one frame in N (1)")
    rec.add_argument("--fps", type=float, default=None, help="frame rate (the env's, divided by --frame-skip)")
    rec.add_argument("--scale", type=float, default=1.0, help="resize frames by this factor (1.0)")
    rec.add_argument("--max-frames", type=positive_int, default=None, help="stop after N frames")
    rec.add_argument("--snapshot", default=None, help="also save one frame as an image (e.g. frame.png)")
    rec.add_argument("--snapshot-index", type=int, default=None, help="frame saved by --snapshot (mid first episode)")
    # Its arguments (and --help) belong to sb3_reinforce.benchmark
    sub.add_parser("benchmark", help="compare Reinforce with SB3's algorithms (see `benchmark --help`)", add_help=False)
    return parser


def _benchmark(argv: list[str]) -> int:
    try:
        benchmark = importlib.import_module("sb3_reinforce.benchmark")  # imported only when asked for
    except ImportError as error:
        raise ValueError(f"the benchmark is not available: {error}") from error
    parser = argparse.ArgumentParser(prog=f"{PROG} benchmark", formatter_class=HelpFormatter)
    benchmark.add_arguments(parser)
    return int(benchmark.run_grid(parser.parse_args(argv)) or 0)


def _progress_bar_available() -> bool:
    try:
        import rich  # noqa: F401
        import tqdm  # noqa: F401
    except ImportError:
        print("tqdm and rich are not installed (pip install sb3_reinforce[extra]): no progress bar", file=sys.stderr)
        return False
    return True


def _train(args: argparse.Namespace, argv: list[str]) -> int:
    keys = ("preset", "timesteps", "seed", "n_envs", "actions", "shaping", "max_episode_steps", "normalize_obs")
    config = run_config.make_config(
        env_id=args.env, algo=args.algo, hyperparams=dict(args.hp), **{key: getattr(args, key) for key in keys}
    )
    if not checkpoints.supports_checkpoints(config.algo_class) and (args.resume or args.checkpoint_freq):
        raise ValueError(
            f"--resume and --checkpoint-freq need --algo reinforce: {config.algo} cannot resume a run exactly "
            "(SB3 issue #1526)"
        )
    if args.resume and args.no_save:
        raise ValueError("--resume continues a saved run: it cannot be combined with --no-save")
    save_path = None
    if not args.no_save:
        default = f"models/{config.algo}_{config.preset or config.env_id}_seed{config.seed}"
        if args.resume:
            save_path = _resume_path(args.save_path, default)
        else:
            save_path = saved.choose_save_path(args.save_path, default, force=args.force)
    store, checkpoint_freq = _checkpoint_store(args, config, save_path)
    if args.num_threads > 0:
        import torch as th

        th.set_num_threads(args.num_threads)
    for line in run_config.describe_run(config):
        print(line)
    result = run.train(
        config,
        save_path=save_path,
        tensorboard_log=args.tensorboard_log,
        progress_bar=not args.no_progress_bar and _progress_bar_available(),
        eval_episodes=args.eval_episodes,
        eval_seed=args.eval_seed,
        eval_freq=args.eval_freq,
        eval_freq_episodes=args.eval_freq_episodes,
        verbose=args.verbose,
        device=args.device,
        command=shlex.join([PROG, *argv]),
        checkpoint=store,
        checkpoint_freq=checkpoint_freq,
        resume=args.resume,
    )
    if result.resumed_from is not None:
        print(f"Resumed from {store} at {result.resumed_from} steps")
    if result.interrupted:
        hint = f": --resume continues from {store}" if store is not None and store.path.is_file() else ""
        print(f"Interrupted after {result.num_timesteps} steps{hint}", file=sys.stderr)
    name = config.algo_class.__name__
    print(f"Trained {name} on {config.env_id} for {result.num_timesteps} steps in {result.train_time:.1f} s")
    if result.saved is not None and save_path is not None:
        note = ""
        if result.interrupted:
            earlier = run.RunPaths.of(save_path).model
            note = f" (interrupted: the earlier model {earlier} is kept)" if earlier.is_file() else " (interrupted)"
        print(f"Saved {run.RunPaths(result.saved).model}{note}")
    if result.evaluation_interrupted:
        print("Final evaluation interrupted (the model was saved before it)", file=sys.stderr)
    if result.evaluation is not None:
        print(f"Evaluation: {result.evaluation.summary()}")
    return 130 if result.interrupted or result.evaluation_interrupted else 0


def _resume_path(save_path: str | None, default: str) -> Path:
    """The run ``--resume`` continues: ``--save-path``, else the default path or a numbered one, newest checkpoint first."""
    if save_path is not None:
        base = run.RunPaths.of(save_path).base
        if not checkpoints.checkpoint_path(base).is_file():
            raise ValueError(
                f"nothing to resume: no checkpoint {checkpoints.checkpoint_path(base)} (the run finished, or it stopped "
                "before its first checkpoint, written every --checkpoint-freq steps)"
            )
        return base
    paths, found = run.RunPaths.of(default), []
    candidate, number = paths, 0
    while candidate.existing() or checkpoints.checkpoint_path(candidate.base).is_file():
        if checkpoints.checkpoint_path(candidate.base).is_file():
            found.append(candidate.base)
        number += 1
        candidate = run.RunPaths(paths.base.with_name(f"{paths.base.name}_{number}"))
    if not found:
        raise ValueError(
            f"nothing to resume: no checkpoint {checkpoints.checkpoint_path(paths.base)} (nor at its numbered paths); "
            "give the run's --save-path"
        )
    return max(found, key=lambda base: checkpoints.checkpoint_path(base).stat().st_mtime)


def _checkpoint_store(
    args: argparse.Namespace, config: run_config.RunConfig, save_path: Path | None
) -> tuple[checkpoints.FileCheckpoint | None, int]:
    """Where ``train`` keeps its checkpoint (None: nowhere) and how often it writes it."""
    if save_path is None:
        if args.checkpoint_freq:
            raise ValueError("--checkpoint-freq needs a saved run: the checkpoint is written beside it (drop --no-save)")
        return None, 0
    if not checkpoints.supports_checkpoints(config.algo_class):
        return None, 0
    store = checkpoints.FileCheckpoint(checkpoints.checkpoint_path(save_path))
    if not args.resume and store.path.is_file() and not args.force:
        raise ValueError(f"{store.path} exists (a run there was stopped): --resume continues it, --force starts over")
    freq = checkpoints.DEFAULT_CHECKPOINT_FREQ if args.checkpoint_freq is None else args.checkpoint_freq
    return store, freq


def _dispatch(args: argparse.Namespace, extra: list[str], argv: list[str]) -> int:
    if args.command == "benchmark":
        return _benchmark(extra)
    if args.command == "train":
        return _train(args, argv)
    loaded = saved.load_run(args.model, env_id=args.env, vecnormalize_path=args.vecnormalize, algo=args.algo)
    deterministic = not args.stochastic
    if args.command == "evaluate":
        result = run.evaluate(loaded, n_episodes=args.episodes, seed=args.seed, deterministic=deterministic)
        if args.json:
            # stdout carries the JSON alone, so that `... --json | jq` works; the human summary goes to stderr
            print(result.summary(), file=sys.stderr)
            print(result.to_json())
        else:
            print(result.summary())
    elif args.command == "enjoy":
        render_mode = None if args.render == "none" else args.render
        returns = []
        for episode_return, length in media.play(loaded, args.episodes, args.seed, render_mode, deterministic):
            returns.append(episode_return)
            print(f"Episode {len(returns)}: true return {episode_return:.2f}, length {length}")
        print(f"Mean true return over {len(returns)} episodes: {np.mean(returns):.2f} +/- {np.std(returns):.2f}")
    else:
        keys = ("seed", "frame_skip", "fps", "scale", "snapshot", "snapshot_index", "max_frames")
        video = media.record(
            loaded,
            args.output,
            n_episodes=args.episodes,
            deterministic=deterministic,
            **{k: getattr(args, k) for k in keys},
        )
        print(f"Wrote {video.n_frames} frames ({video.width}x{video.height}, {video.fps:g} fps) to {args.output}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """
    Entry point of ``sb3-reinforce`` and ``python -m sb3_reinforce``.

    :param argv: Arguments (default: ``sys.argv[1:]``)
    :return: Exit code: 0 on success, 2 for bad arguments, 1 for a model that cannot be used, 130 if interrupted
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "benchmark":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if not (args.command == "enjoy" and args.render == "human"):
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # headless rendering: pygame needs no display for rgb_array
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    try:
        return _dispatch(args, extra, argv)
    except (ValueError, TypeError) as error:
        message = str(error)
        # SB3 starts some messages with "Error: "; one "error:" on the line is enough
        message = message.removeprefix("Error: ")
        print(f"{PROG} {args.command}: error: {message}", file=sys.stderr)
        return 1 if isinstance(error, run.RunFilesError) else 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
