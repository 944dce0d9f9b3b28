#!/usr/bin/env bash
# The defaults study (tuning/defaults/README.md): each candidate set of defaults for Reinforce(...), on the plain
# classic envs of the suite with their budgets, on tuning seed(s) ${SEEDS:-0}; one benchmark output folder per
# candidate (records resume like any grid's).
#
#   tuning/defaults/run.sh [CANDIDATE...]
set -euo pipefail
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=1 SDL_VIDEODRIVER=dummy
ENVS=(CartPole-v1 Acrobot-v1 MountainCar-v0 MountainCarContinuous-v0 Pendulum-v1 LunarLander-v3)
# The candidates with a value baseline share the step sizes of PPO (no clipping): 10 critic passes, 10 policy passes
# (importance-weighted after the first) in minibatches of 64 bounded by KL 0.05, lr 3e-4
PASSES="reinforce:critic_epochs=10 reinforce:n_epochs=10 reinforce:minibatch_size=64 reinforce:target_kl=0.05 reinforce:learning_rate=0.0003"
GAE="reinforce:baseline=value reinforce:gae_lambda=0.95 $PASSES"
# No entropy bonus: the default when the first candidates ran (0.1.0; 0.2.0's default was a bonus that fades, and
# 0.3.0 went back to none). Their records name no ent_coef, so that run.sh, now naming it, would run them again (bit for
# bit). Likewise the observations as the env gives them, the only way before 0.3.0 (its default is "auto")
NO_BONUS="reinforce:ent_coef=0.0"
RAW_OBS="reinforce:normalize_observations=False"
declare -A CANDIDATES=(
    # Reinforce's defaults before the study (PLAIN_REINFORCE): one REINFORCE step per batch of 10 episodes, no baseline
    [before]="reinforce:learning_rate=0.001 reinforce:baseline=none reinforce:n_epochs=1 reinforce:minibatch_size=None $NO_BONUS $RAW_OBS"
    # A value baseline with Monte-Carlo returns
    [mc]="reinforce:baseline=value reinforce:gae_lambda=1.0 $PASSES $NO_BONUS $RAW_OBS"
    # The same with GAE(0.95)
    [gae]="$GAE $NO_BONUS $RAW_OBS"
    # `gae` with an entropy bonus of 0.03: on MountainCar-v0 it keeps the policy exploring while no episode reaches the
    # flag (tuning/README.md, "Why MountainCar-v0 without shaping stays at -200")
    [gae-ent0.03]="$GAE reinforce:ent_coef=0.03 $RAW_OBS"
    # The same bonus fading linearly to 0 over training: exploration while nothing is learned yet, a settled policy at
    # the end (the constant bonus cost LunarLander-v3 its precision). Reinforce's defaults in 0.2.0
    [gae-entlin0.03]="$GAE reinforce:ent_coef=lin_0.03 $RAW_OBS"
    # Observations standardized inside the policy by running statistics (normalize_observations, 0.3.0): on the plain
    # MountainCar-v0 the velocity (|v| < 0.07) barely reaches the policy's units otherwise. With the fading bonus, and
    # without (0.1.0's defaults): Reinforce's defaults since 0.3.0
    [gae-entlin0.03-obsnorm]="$GAE reinforce:ent_coef=lin_0.03 reinforce:normalize_observations=True"
    [gae-obsnorm]="$GAE $NO_BONUS reinforce:normalize_observations=True"
)
for name in "${@:-before mc gae}"; do
    for candidate in $name; do
        # shellcheck disable=SC2086
        "${PYTHON:-.venv/bin/python}" -m sb3_reinforce benchmark --algos reinforce --settings defaults \
            --envs "${ENVS[@]}" --seeds ${SEEDS:-0 0} --workers 1 --out "tuning/defaults/$candidate" \
            ${CANDIDATES[$candidate]:+--hyperparams ${CANDIDATES[$candidate]}}
    done
done
