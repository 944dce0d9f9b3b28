"""
The experiment layer: presets, envs, one run config, and the train / save / load / evaluate API.

The command line (:mod:`sb3_reinforce.cli`), the benchmark (:mod:`sb3_reinforce.benchmark`) and the examples all
run through it:

* :mod:`~sb3_reinforce.experiments.mountain_car`: the notebook's MountainCar reward, the energy potential, its policy;
* :mod:`~sb3_reinforce.experiments.presets`: :data:`PRESETS`, the named recipes;
* :mod:`~sb3_reinforce.experiments.envs`: :class:`EnvSetup`, the training env and the true-reward evaluation env;
* :mod:`~sb3_reinforce.experiments.config`: :class:`RunConfig`, hyperparameter parsing and building;
* :mod:`~sb3_reinforce.experiments.run`: :func:`train`, :func:`load_run`, :func:`evaluate`;
* :mod:`~sb3_reinforce.experiments.media`: :func:`play` and :func:`record` a saved model;
* :mod:`~sb3_reinforce.experiments.records`: atomic files and machine information.
"""

from sb3_reinforce.experiments import media, run
from sb3_reinforce.experiments.config import ALGOS, RunConfig, make_config
from sb3_reinforce.experiments.envs import EnvSetup, make_eval_env, make_train_env
from sb3_reinforce.experiments.presets import PRESETS, Preset
from sb3_reinforce.experiments.run import EvalResult, LoadedRun, TrainResult, evaluate, load_run, train

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
    "make_config",
    "make_eval_env",
    "make_train_env",
    "media",
    "run",
    "train",
]
