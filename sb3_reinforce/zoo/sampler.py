"""
Optuna search space of :class:`~sb3_reinforce.Reinforce` for RL Zoo's ``-optimize``.

:func:`sample_reinforce_params` has the signature of the zoo's samplers (``rl_zoo3.hyperparams_opt``) and returns
constructor arguments ready for ``Reinforce``. :func:`convert_reinforce_params` turns the raw values stored in an
Optuna trial (``trial.params``) into the same arguments: the zoo uses it for ``--trial-id``, and
:func:`to_yaml_entry` writes them back as an entry of a hyperparameter file.

This module imports neither Optuna nor RL Zoo: both come with the ``zoo`` extra, and ``optuna.Trial`` is only
needed by the caller. ``policy_kwargs`` are read and written by :mod:`sb3_reinforce.experiments.policy_kwargs`, the
parser the command line uses too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from torch import nn

from sb3_reinforce.experiments.hyperparameters import LinearSchedule
from sb3_reinforce.experiments.policy_kwargs import format_policy_kwargs, parse_policy_kwargs
from sb3_reinforce.reinforce.reinforce import CRITIC_DEFAULTS

if TYPE_CHECKING:
    import optuna

# Baselines sampled by -optimize. A new baseline of Reinforce joins the search by being added here, and, if it
# learns a critic, to CRITIC_BASELINES (``gae_lambda`` and ``vf_coef`` are sampled only for those). "group" is left
# out: it also needs a ``group_size`` dividing ``n_episodes``, and resets its envs in same-seed waves.
BASELINES: tuple[str, ...] = ("none", "mean", "leave_one_out", "value")
CRITIC_BASELINES: tuple[str, ...] = ("value",)
# Reinforce's critic-only settings at the values that make no difference without a critic
CRITIC_NEUTRAL_SETTINGS: dict[str, Any] = {"gae_lambda": 1.0, **CRITIC_DEFAULTS}

N_EPISODES = (2, 4, 8, 16, 32)
# Policy steps per batch: 1 is plain REINFORCE, more are importance-weighted (bounded by target_kl)
N_EPOCHS = (1, 5, 10, 20)
TARGET_KLS = (0.01, 0.02, 0.05, 0.1)
# Steps per importance-weighted gradient step (None: the whole batch)
MINIBATCH_SIZES = (None, 64, 256)
LEARNING_RATE_SCHEDULES = ("constant", "linear")
CRITIC_EPOCHS = (1, 5, 10)
# 1.0 is the Monte-Carlo advantage G_t - V(s_t): a categorical keeps it reachable exactly
GAE_LAMBDAS = (0.9, 0.95, 0.98, 0.99, 1.0)

NET_ARCHS: dict[str, dict[str, list[int]]] = {
    "tiny": dict(pi=[64], vf=[64]),
    "small": dict(pi=[64, 64], vf=[64, 64]),
    "medium": dict(pi=[256, 256], vf=[256, 256]),
}
ACTIVATION_FNS: dict[str, type[nn.Module]] = {"tanh": nn.Tanh, "relu": nn.ReLU}


def sample_reinforce_params(trial: optuna.Trial, n_actions: int, n_envs: int, additional_args: dict) -> dict[str, Any]:
    """
    Sample the hyperparameters of one trial (the zoo's sampler interface).

    :param trial: The Optuna trial
    :param n_actions: Dimension of a ``Box`` action space (0 for other spaces): the initial log standard deviation
        of the Gaussian policy is sampled only when it is positive
    :param n_envs: Number of envs of the training VecEnv (unused: ``n_episodes`` counts episodes over all envs)
    :param additional_args: Extra information from the zoo (HER settings; unused)
    :return: Keyword arguments for ``Reinforce``
    """
    params: dict[str, Any] = {
        "learning_rate": trial.suggest_float("learning_rate", 1e-4, 3e-2, log=True),
        "lr_schedule": trial.suggest_categorical("lr_schedule", LEARNING_RATE_SCHEDULES),
        "n_episodes": trial.suggest_categorical("n_episodes", N_EPISODES),
        "one_minus_gamma": trial.suggest_float("one_minus_gamma", 1e-4, 0.05, log=True),
        "baseline": trial.suggest_categorical("baseline", BASELINES),
        "normalize_returns": trial.suggest_categorical("normalize_returns", [True, False]),
        "ent_coef": trial.suggest_float("ent_coef", 1e-8, 0.05, log=True),
        "max_grad_norm": trial.suggest_float("max_grad_norm", 0.3, 10.0, log=True),
        "net_arch": trial.suggest_categorical("net_arch", list(NET_ARCHS)),
        "activation_fn": trial.suggest_categorical("activation_fn", list(ACTIVATION_FNS)),
    }
    # Conditional parameters: only the baselines with a critic have a lambda and a value loss
    if params["baseline"] in CRITIC_BASELINES:
        params["gae_lambda"] = trial.suggest_categorical("gae_lambda", GAE_LAMBDAS)
        params["vf_coef"] = trial.suggest_float("vf_coef", 0.2, 1.0)
        params["critic_epochs"] = trial.suggest_categorical("critic_epochs", CRITIC_EPOCHS)
    params["n_epochs"] = trial.suggest_categorical("n_epochs", N_EPOCHS)
    if params["n_epochs"] > 1:
        params["target_kl"] = trial.suggest_categorical("target_kl", TARGET_KLS)
    # Minibatches serve the importance-weighted passes and the critic's extra passes: sampled whenever either runs,
    # so that no trial leans on the default
    if params["n_epochs"] > 1 or params.get("critic_epochs", 1) > 1:
        params["minibatch_size"] = trial.suggest_categorical("minibatch_size", MINIBATCH_SIZES)
    if n_actions > 0:
        params["log_std_init"] = trial.suggest_float("log_std_init", -2.0, 1.0)
    # Shown in the zoo's report beside the raw values
    trial.set_user_attr("gamma", 1 - params["one_minus_gamma"])
    return convert_reinforce_params(params)


def convert_reinforce_params(sampled_params: dict[str, Any]) -> dict[str, Any]:
    """
    Turn raw trial values into ``Reinforce`` keyword arguments.

    :param sampled_params: Values as Optuna stores them (``one_minus_gamma``, ``net_arch`` and ``activation_fn``
        by name, ``log_std_init``, ``lr_schedule``), as in ``trial.params``
    :return: Keyword arguments for ``Reinforce`` (``gamma``, and ``policy_kwargs`` with classes; ``gae_lambda=1.0``
        and the other critic settings at their neutral values for a baseline without a critic)
    """
    hyperparams = dict(sampled_params)
    if hyperparams.get("baseline", CRITIC_BASELINES[0]) not in CRITIC_BASELINES:
        # The zoo applies a trial's values on top of the env's entry: a critic setting kept from an entry tuned with a
        # critic would make Reinforce reject the trial, so each is reset to its neutral value
        hyperparams.update(CRITIC_NEUTRAL_SETTINGS)
    if hyperparams.pop("lr_schedule", "constant") == "linear":
        hyperparams["learning_rate"] = LinearSchedule(hyperparams["learning_rate"])
    if "one_minus_gamma" in hyperparams:
        hyperparams["gamma"] = 1 - hyperparams.pop("one_minus_gamma")
    policy_kwargs: dict[str, Any] = {}
    if "net_arch" in hyperparams:
        policy_kwargs["net_arch"] = NET_ARCHS[hyperparams.pop("net_arch")]
    if "activation_fn" in hyperparams:
        policy_kwargs["activation_fn"] = ACTIVATION_FNS[hyperparams.pop("activation_fn")]
    if "log_std_init" in hyperparams:
        policy_kwargs["log_std_init"] = hyperparams.pop("log_std_init")
    if policy_kwargs:
        hyperparams["policy_kwargs"] = policy_kwargs
    return hyperparams


def policy_kwargs_to_yaml(policy_kwargs: dict[str, Any]) -> str:
    """
    Write ``policy_kwargs`` as the Python expression the zoo's files use (the zoo evaluates it with ``nn`` in scope).

    :param policy_kwargs: Policy keyword arguments, activation functions as classes of ``torch.nn``
    :return: For instance ``"dict(net_arch=dict(pi=[64], vf=[64]), activation_fn=nn.Tanh)"``
    """
    return format_policy_kwargs(policy_kwargs)


def to_yaml_entry(hyperparams: dict[str, Any], base: dict[str, Any] | None = None) -> dict[str, Any]:
    """
    An entry of a zoo hyperparameter file: ``base`` (env setup, budget) overridden by ``hyperparams``.

    :param hyperparams: ``Reinforce`` keyword arguments, for instance from :func:`convert_reinforce_params`
    :param base: The entry the study started from (``n_timesteps``, ``policy``, ``env_wrapper``, ``normalize``, ...)
    :return: A dict that ``yaml.safe_dump`` writes in the zoo's format (numbers as floats, ``policy_kwargs`` as text)
    """
    entry = dict(base or {})
    entry.setdefault("policy", "MlpPolicy")
    for key, value in hyperparams.items():
        if key == "policy_kwargs" and isinstance(value, dict):
            # Keep the base's policy options (for instance an activation function it did not tune)
            # The zoo's files write it as a Python expression: read by the package's one policy_kwargs parser
            base_kwargs = parse_policy_kwargs(entry.get("policy_kwargs") or {})
            value = policy_kwargs_to_yaml({**base_kwargs, **value})
        elif isinstance(value, LinearSchedule):
            value = f"lin_{value.initial_value:.3g}"
        elif hasattr(value, "item"):
            # numpy scalars from Optuna: plain Python numbers for safe_dump
            value = value.item()
        entry[key] = value
    if entry.get("baseline", "none") not in CRITIC_BASELINES:
        # Neutral without a critic, and refused by Reinforce otherwise: an entry does not carry them
        for key in CRITIC_NEUTRAL_SETTINGS:
            entry.pop(key, None)
    return entry
