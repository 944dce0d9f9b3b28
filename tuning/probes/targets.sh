#!/usr/bin/env bash
# Probes for the suite's unmet targets (tuning/README.md, "Probes"): an entry of reinforce.yml against variants of it,
# each on tuning seeds ${SEEDS}, one benchmark output folder per variant, tuning/probes/ENV-VARIANT (records resume
# like any grid's). Tuning seeds only: the held-out seeds 1000-1009 are refused.
#
#   SEEDS="1 2 3 4 5 6" tuning/probes/targets.sh ENV_ID VARIANT...
set -euo pipefail
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=1 SDL_VIDEODRIVER=dummy
env_id=$1
shift
declare -A VARIANTS=(
    # The entry as it is
    [CartPole-v1:entry]=""
    # Its learning rate decayed linearly to 0: the last batches move the policy less
    [CartPole-v1:lin]="reinforce:learning_rate=lin_7.2e-4"
    [MountainCarContinuous-v0:entry]=""
    # 10 importance-weighted passes in minibatches of 64 bounded by KL 0.05, 10 critic passes (the defaults' update)
    [MountainCarContinuous-v0:passes]="reinforce:n_epochs=10 reinforce:minibatch_size=64 reinforce:target_kl=0.05 reinforce:critic_epochs=10"
    # The same with a smaller step size
    [MountainCarContinuous-v0:passes-lr1e-3]="reinforce:n_epochs=10 reinforce:minibatch_size=64 reinforce:target_kl=0.05 reinforce:critic_epochs=10 reinforce:learning_rate=lin_0.001"
)
for seed in ${SEEDS:?set SEEDS to tuning seeds}; do
    if (( seed >= 1000 && seed < 1010 )); then
        echo "seed $seed is a held-out seed (docs/held_out_seeds.md): probe on seeds 0-99" >&2
        exit 2
    fi
done
for variant in "$@"; do
    key="$env_id:$variant"
    [[ -v VARIANTS[$key] ]] || { echo "unknown variant $key (known: ${!VARIANTS[*]})" >&2; exit 2; }
    # shellcheck disable=SC2086
    "${PYTHON:-.venv/bin/python}" -m sb3_reinforce benchmark --algos reinforce --envs "$env_id" \
        --seeds $SEEDS --workers 1 --out "tuning/probes/$env_id-$variant" \
        ${VARIANTS[$key]:+--hyperparams ${VARIANTS[$key]}}
done
