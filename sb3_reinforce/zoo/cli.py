"""
``python -m sb3_reinforce.zoo``: RL Zoo's scripts with ``reinforce`` registered, and two helpers.

    python -m sb3_reinforce.zoo train --env CartPole-v1 -f logs --seed 0
    python -m sb3_reinforce.zoo enjoy --env CartPole-v1 -f logs --no-render -n 2000
    python -m sb3_reinforce.zoo record_video --env CartPole-v1 -f logs -n 500
    python -m sb3_reinforce.zoo train --env CartPole-v1 -optimize --n-trials 20 --storage study.log --study-name cp
    python -m sb3_reinforce.zoo best --storage study.log --study-name cp --output tuned.yml
    python -m sb3_reinforce.zoo evaluate --env MountainCarContinuous-v0 -f logs --n-episodes 100

``train``, ``enjoy`` and ``record_video`` are the zoo's own scripts, run unchanged: every flag is passed through.
Two defaults differ: ``--algo`` is ``reinforce`` unless given, and ``train`` reads the hyperparameter file shipped
with this package unless ``-conf``/``--conf-file`` is given (write these two flags in full, not abbreviated).

``best`` prints the best trial of an Optuna study (journal file ``*.log``, as the zoo's ``--storage``, or a database
URL) and writes it back as an entry of a hyperparameter file. ``evaluate`` scores a model saved by ``train`` on the
env's own reward: the zoo's ``enjoy`` and its evaluations during training see the reward after the ``env_wrapper``
list (shaped, for MountainCarContinuous-v0), SB3's ``Monitor`` sits below those wrappers and records the env's own.
"""

from __future__ import annotations

import argparse
import os
import runpy
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sb3_reinforce.zoo import ALGO_NAME, HYPERPARAMS_FILE, import_zoo, register
from sb3_reinforce.zoo.sampler import convert_reinforce_params, to_yaml_entry

ZOO_SCRIPTS = ("train", "enjoy", "record_video")
HELPERS = ("best", "evaluate")
USAGE = f"""usage: python -m sb3_reinforce.zoo {{{",".join(ZOO_SCRIPTS + HELPERS)}}} [args ...]

  train, enjoy, record_video   RL Zoo's scripts with --algo {ALGO_NAME} registered (and the default; train reads
                               {HYPERPARAMS_FILE.name} shipped with sb3_reinforce unless -conf/--conf-file is given).
                               All of the zoo's flags pass through: python -m sb3_reinforce.zoo train --help
  best                         print the best trial of an Optuna study and write it as a hyperparameter-file entry
  evaluate                     score a model saved by train on the env's own reward (below the env_wrapper list)
"""


def option_value(args: Sequence[str], names: Sequence[str]) -> str | None:
    """
    The value of the last occurrence of an option (``--name value`` or ``--name=value``), as argparse reads it.

    :param args: Command-line arguments
    :param names: Spellings of the option, for instance ``("-conf", "--conf-file")``
    :return: Its value, or None if the option is absent
    """
    value = None
    for i, arg in enumerate(args):
        if arg in names and i + 1 < len(args):
            value = args[i + 1]
        elif "=" in arg and arg.split("=", 1)[0] in names:
            value = arg.split("=", 1)[1]
    return value


def zoo_arguments(script: str, args: Sequence[str]) -> list[str]:
    """
    The arguments given to the zoo's script: the user's, plus this entry point's defaults.

    :param script: ``train``, ``enjoy`` or ``record_video``
    :param args: The user's arguments
    :return: ``args``, with ``--algo reinforce`` if no algorithm is given and, for ``train`` with ``reinforce``,
        ``--conf-file`` pointing at the shipped hyperparameter file if none is given
    """
    args = list(args)
    if option_value(args, ("--algo",)) is None:
        args += ["--algo", ALGO_NAME]
    if (
        script == "train"
        and option_value(args, ("--algo",)) == ALGO_NAME
        and option_value(args, ("-conf", "--conf-file")) is None
        and not any(arg in ("-h", "--help") for arg in args)
    ):
        args += ["--conf-file", str(HYPERPARAMS_FILE)]
    return args


def run_zoo_script(script: str, args: Sequence[str]) -> None:
    """
    Register ``reinforce`` and run one of the zoo's scripts, unchanged, on ``args``.

    :param script: ``train``, ``enjoy`` or ``record_video``
    :param args: Its command-line arguments (without the script name)
    """
    if script not in ZOO_SCRIPTS:
        raise ValueError(f"Unknown zoo script {script!r}: expected one of {', '.join(ZOO_SCRIPTS)}")
    register()
    saved_argv = sys.argv
    # The zoo's scripts parse sys.argv themselves
    sys.argv = [f"{Path(sys.argv[0]).name} {script}", *zoo_arguments(script, args)]
    try:
        if script == "train":
            import_zoo("rl_zoo3.train").train()
        elif script == "enjoy":
            import_zoo("rl_zoo3.enjoy").enjoy()
        else:
            # record_video has no function: its code runs under `if __name__ == "__main__"`
            import_zoo("rl_zoo3")
            runpy.run_module("rl_zoo3.record_video", run_name="__main__")
    finally:
        sys.argv = saved_argv


def load_study(storage: str, study_name: str | None) -> Any:
    """
    Load an Optuna study from the storage string the zoo's ``--storage`` takes.

    :param storage: A journal file (a path ending in ``.log``, read with Optuna's ``JournalFileBackend``, as the
        zoo does) or a database URL (``sqlite:///study.db``, ``postgresql://...``, ``mysql+pymysql://...``)
    :param study_name: Name of the study (None: the storage's only study)
    :return: The ``optuna.Study``
    """
    optuna = import_zoo("optuna")
    if storage.endswith(".log"):
        if not os.path.isfile(storage):
            raise ValueError(f"Journal storage {storage!r} not found")
        storage_obj: Any = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(storage))
    else:
        storage_obj = storage
    return optuna.load_study(study_name=study_name, storage=storage_obj)


def env_of_study(study: Any) -> str | None:
    """The ``--env`` of the command that created the study (the zoo saves it as the user attribute ``command``)."""
    command = study.user_attrs.get("command")
    if not command:
        return None
    return option_value(shlex.split(command), ("--env",))


def base_entry(conf_file: str | Path, env_id: str) -> dict[str, Any]:
    """
    The entry of a zoo hyperparameter file that a study started from: the env's, else ``default``.

    :param conf_file: A ``.yml`` hyperparameter file
    :param env_id: Gymnasium id of the env
    :return: A copy of the entry
    """
    import yaml

    with open(conf_file) as file:
        entries = yaml.safe_load(file) or {}
    if env_id in entries:
        return dict(entries[env_id])
    if "default" in entries:
        return dict(entries["default"])
    raise ValueError(f"No entry for {env_id!r} and no 'default' entry in {conf_file}")


def best(args: Sequence[str]) -> dict[str, Any]:
    """
    ``best``: print the best trial of a study and its hyperparameters as a zoo entry; optionally write the entry.

    :param args: Command-line arguments (see ``python -m sb3_reinforce.zoo best --help``)
    :return: ``{env_id: entry}``
    """
    import yaml

    parser = argparse.ArgumentParser(prog="python -m sb3_reinforce.zoo best", description=best.__doc__)
    parser.add_argument("--storage", required=True, help="Journal file (*.log) or database URL, as the zoo's --storage")
    parser.add_argument("--study-name", default=None, help="Study name (default: the storage's only study)")
    parser.add_argument("--env", default=None, help="Env id of the entry (default: the --env the study was run with)")
    parser.add_argument(
        "-conf",
        "--conf-file",
        default=str(HYPERPARAMS_FILE),
        help="Hyperparameter file whose entry for the env is the base of the new one (default: the shipped file)",
    )
    parser.add_argument("-o", "--output", default=None, help="Write (or update) the entry in this .yml file")
    parsed = parser.parse_args(args)

    optuna = import_zoo("optuna")
    study = load_study(parsed.storage, parsed.study_name)
    env_id = parsed.env or env_of_study(study)
    if env_id is None:
        raise ValueError("The study does not say which env it tuned: pass --env")
    states = [trial.state for trial in study.trials]
    counts = ", ".join(f"{state.name.lower()} {states.count(state)}" for state in optuna.trial.TrialState)
    print(f"Study {study.study_name!r} ({parsed.storage}): {len(states)} trials ({counts})")
    trial = study.best_trial
    print(f"Best trial: number {trial.number}, value {trial.value:.2f}")
    print("Params:")
    for key, value in trial.params.items():
        print(f"    {key}: {value}")

    entry = {env_id: to_yaml_entry(convert_reinforce_params(trial.params), base_entry(parsed.conf_file, env_id))}
    text = yaml.safe_dump(entry, sort_keys=False)
    print(f"Entry for {env_id}:\n{text}", end="")
    if parsed.output is not None:
        entries: dict[str, Any] = {}
        if os.path.isfile(parsed.output):
            with open(parsed.output) as file:
                entries = yaml.safe_load(file) or {}
        entries.update(entry)
        with open(parsed.output, "w") as file:
            file.write(f"# Best trial {trial.number} of study {study.study_name!r} (value {trial.value:.2f})\n")
            yaml.safe_dump(entries, file, sort_keys=False)
        print(f"Wrote {env_id} to {parsed.output}")
    return entry


def evaluate(args: Sequence[str]) -> tuple[list[float], list[float]]:
    """
    ``evaluate``: score a model saved by the zoo's ``train`` on the env's own reward.

    The env is rebuilt as ``enjoy`` builds it (the saved ``config.yml``: ``env_wrapper`` list, ``env_kwargs``,
    frozen ``VecNormalize`` statistics). The score is SB3's ``Monitor`` return, which the zoo places below the
    ``env_wrapper`` list: the env's own reward. The return after those wrappers (what the agent was trained on)
    is printed beside it.

    :param args: Command-line arguments (see ``python -m sb3_reinforce.zoo evaluate --help``)
    :return: The env's own returns and the returns after the wrappers, one per episode
    """
    register()
    utils = import_zoo("rl_zoo3.utils")
    huggingface_sb3 = import_zoo("huggingface_sb3")
    from stable_baselines3.common.evaluation import evaluate_policy

    from sb3_reinforce import Reinforce

    parser = argparse.ArgumentParser(prog="python -m sb3_reinforce.zoo evaluate", description=evaluate.__doc__)
    parser.add_argument("--env", required=True, type=huggingface_sb3.EnvironmentName, help="Env id")
    parser.add_argument("-f", "--folder", default="logs", help="Log folder of the zoo's train")
    parser.add_argument("--exp-id", type=int, default=0, help="Experiment id (0: latest)")
    parser.add_argument("--load-best", action="store_true", help="Load best_model.zip instead of the final model")
    parser.add_argument("--n-episodes", type=int, default=100, help="Number of episodes")
    parser.add_argument("--seed", type=int, default=0, help="Seed of the evaluation env")
    parser.add_argument("--stochastic", action="store_true", help="Sample actions (default: deterministic)")
    parser.add_argument(
        "--env-kwargs",
        type=str,
        nargs="+",
        action=utils.StoreDict,
        help="Env constructor arguments overriding the saved ones, e.g. max_episode_steps:999",
    )
    parsed = parser.parse_args(args)
    if parsed.n_episodes < 1:
        raise ValueError(f"--n-episodes must be >= 1, got {parsed.n_episodes}")

    env_name = parsed.env
    _, model_path, log_path = utils.get_model_path(parsed.exp_id, parsed.folder, ALGO_NAME, env_name, parsed.load_best)
    hyperparams, stats_path = utils.get_saved_hyperparams(os.path.join(log_path, env_name), test_mode=True)
    # As enjoy: the yml's env_kwargs, replaced by train's --env-kwargs if any, updated by ours
    env_kwargs = dict(hyperparams.pop("env_kwargs", None) or {})
    args_file = Path(log_path) / env_name / "args.yml"
    if args_file.is_file():
        import yaml

        saved_args = yaml.load(args_file.read_text(), Loader=yaml.UnsafeLoader)
        if saved_args.get("env_kwargs") is not None:
            env_kwargs = dict(saved_args["env_kwargs"])
    env_kwargs.update(parsed.env_kwargs or {})
    env = utils.create_test_env(
        env_name.gym_id,
        n_envs=1,
        stats_path=stats_path,
        seed=parsed.seed,
        should_render=False,
        hyperparams=hyperparams,
        env_kwargs=env_kwargs,
    )
    model = Reinforce.load(model_path, device="cpu")

    wrapped_returns: list[float] = []
    running = [0.0]

    def sum_rewards(locals_: dict[str, Any], _globals: dict[str, Any]) -> None:
        # The reward the VecEnv returns: after the env_wrapper list (shaping included)
        running[0] += float(locals_["reward"])
        if locals_["done"]:
            wrapped_returns.append(running[0])
            running[0] = 0.0

    episodes = evaluate_policy(
        model,
        env,
        n_eval_episodes=parsed.n_episodes,
        deterministic=not parsed.stochastic,
        return_episode_rewards=True,
        callback=sum_rewards,
    )
    env.close()
    returns, lengths = episodes
    assert isinstance(returns, list) and isinstance(lengths, list)  # return_episode_rewards=True
    true_returns = [float(r) for r in returns]
    print(f"Model: {model_path}")
    print(
        f"Env's own reward (Monitor): {np.mean(true_returns):.2f} +/- {np.std(true_returns):.2f} "
        f"over {len(true_returns)} episodes (mean length {np.mean(lengths):.1f})"
    )
    print(
        f"Reward after the env_wrapper list: {np.mean(wrapped_returns):.2f} +/- {np.std(wrapped_returns):.2f} "
        f"over {len(wrapped_returns)} episodes"
    )
    return true_returns, wrapped_returns


def main(argv: Sequence[str] | None = None) -> int:
    """
    Entry point of ``python -m sb3_reinforce.zoo``.

    :param argv: Arguments (default: ``sys.argv[1:]``), the first one naming the command
    :return: Exit status
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(USAGE, end="")
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command in ZOO_SCRIPTS:
        run_zoo_script(command, rest)
    elif command == "best":
        best(rest)
    elif command == "evaluate":
        evaluate(rest)
    else:
        print(USAGE, end="", file=sys.stderr)
        print(f"error: unknown command {command!r}", file=sys.stderr)
        return 2
    return 0
