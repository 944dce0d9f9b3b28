"""
The experiment layer: presets, envs, one run config, and the train / save / load / evaluate API.

The command line (:mod:`sb3_reinforce.cli`), the benchmark (:mod:`sb3_reinforce.benchmark`) and the examples all
run through it:

* :mod:`~sb3_reinforce.experiments.mountain_car`: the notebook's MountainCar reward, the energy potential, its policy;
* :mod:`~sb3_reinforce.experiments.presets`: :data:`PRESETS`, the named recipes;
* :mod:`~sb3_reinforce.experiments.envs`: :class:`EnvSetup`, the training env and the true-reward evaluation env;
* :mod:`~sb3_reinforce.experiments.policy_kwargs`: the one reader of ``policy_kwargs`` (the RL Zoo's notation);
* :mod:`~sb3_reinforce.experiments.hyperparameters`: :data:`ALGOS`, reading, checking and building hyperparameters;
* :mod:`~sb3_reinforce.experiments.config`: :class:`RunConfig` and :func:`make_config`;
* :mod:`~sb3_reinforce.experiments.run`: :func:`train` and :func:`evaluate`;
* :mod:`~sb3_reinforce.experiments.saved`: save paths, :func:`load_trained` and :func:`load_run`;
* :mod:`~sb3_reinforce.experiments.media`: :func:`play` and :func:`record` a saved model;
* :mod:`~sb3_reinforce.experiments.records`: atomic files and machine information.

A saved model and the env it acts in, in one call (``evaluate_policy`` then scores the true reward)::

    from sb3_reinforce.experiments import load_trained

    model, env = load_trained("models/mcc_solved_seed0")
"""

from sb3_reinforce.experiments import media, run
from sb3_reinforce.experiments.config import ALGOS, RunConfig, make_config
from sb3_reinforce.experiments.envs import EnvSetup, make_eval_env, make_train_env
from sb3_reinforce.experiments.policy_kwargs import parse_policy_kwargs
from sb3_reinforce.experiments.presets import PRESETS, Preset
from sb3_reinforce.experiments.run import EvalResult, TrainResult, evaluate, train
from sb3_reinforce.experiments.saved import LoadedRun, load_run, load_trained

__all__ = [
    "ALGOS",
    "PRESETS",
    "EnvSetup",
    "EvalResult",
    "LoadedRun",
    "Preset",
    "RunConfig",
    "TrainResult",
    "evaluate",
    "load_run",
    "load_trained",
    "make_config",
    "make_eval_env",
    "make_train_env",
    "media",
    "parse_policy_kwargs",
    "run",
    "train",
]
