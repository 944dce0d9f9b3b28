"""
RL Baselines3 Zoo (``rl_zoo3``) integration: ``reinforce`` as one of the zoo's algorithms.

An external algorithm joins the zoo the way SBX does: it is added to ``rl_zoo3.ALGOS`` (and, for ``-optimize``, its
sampler to ``rl_zoo3.hyperparams_opt.HYPERPARAMS_SAMPLER``) before the zoo builds its parser. :func:`register` does
that; ``python -m sb3_reinforce.zoo train|enjoy|record_video ...`` registers and then runs the zoo's own scripts
with the hyperparameters shipped in this package (:data:`HYPERPARAMS_FILE`, see ``docs/zoo.md``).

``rl_zoo3`` is optional: ``pip install "sb3-reinforce[zoo]"``. Nothing here imports it before :func:`register`
is called.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from sb3_reinforce.experiments.zoo_entries import ZOO_HYPERPARAMS_FILE
from sb3_reinforce.zoo.sampler import convert_reinforce_params, sample_reinforce_params

ALGO_NAME = "reinforce"
INSTALL_HINT = 'pip install "sb3-reinforce[zoo]"'
# Shipped as package data (setup.cfg), found beside this module rather than in the working directory; the command
# line reads the same file (sb3_reinforce.experiments.zoo_entries)
HYPERPARAMS_FILE = ZOO_HYPERPARAMS_FILE


def import_zoo(module: str = "rl_zoo3") -> ModuleType:
    """
    Import a module of RL Zoo, with an error that says how to install it.

    :param module: Module to import, ``rl_zoo3`` or one of its submodules
    :return: The module
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        # Only a missing zoo (or one of its own dependencies) gets the hint; the original error is chained
        raise ImportError(
            f"The RL Zoo integration needs rl_zoo3, which could not be imported ({error}). Install it with: {INSTALL_HINT}"
        ) from error


def register() -> None:
    """
    Add ``reinforce`` to RL Zoo: the algorithm to ``rl_zoo3.ALGOS``, its Optuna sampler to
    ``rl_zoo3.hyperparams_opt.HYPERPARAMS_SAMPLER`` and its converter of stored trial values to
    ``HYPERPARAMS_CONVERTER`` (used by the zoo's ``--trial-id``). Calling it again changes nothing.

    It must run before the zoo's ``train``/``enjoy`` build their parsers (``--algo`` choices are read then). The zoo's
    modules share these dicts, so registering once is enough for all of them.
    """
    from sb3_reinforce import Reinforce

    rl_zoo3 = import_zoo()
    hyperparams_opt = import_zoo("rl_zoo3.hyperparams_opt")
    rl_zoo3.ALGOS[ALGO_NAME] = Reinforce
    hyperparams_opt.HYPERPARAMS_SAMPLER[ALGO_NAME] = sample_reinforce_params
    hyperparams_opt.HYPERPARAMS_CONVERTER[ALGO_NAME] = convert_reinforce_params


__all__ = [
    "ALGO_NAME",
    "HYPERPARAMS_FILE",
    "INSTALL_HINT",
    "convert_reinforce_params",
    "import_zoo",
    "register",
    "sample_reinforce_params",
]
