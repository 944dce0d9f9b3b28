#!/usr/bin/env bash
# Tune one env's entry of reinforce.yml with RL Zoo's -optimize (Optuna, TPE sampler, median pruner).
#
#   tuning/tune.sh ENV_ID TRIAL_BUDGET TOTAL_TRIALS [TUNING_SEED]
#
# The study lives in tuning/studies/ENV_ID.log (an Optuna journal file, committed): running the script again, on
# this machine or another, continues the same study up to TOTAL_TRIALS. Each trial trains for TRIAL_BUDGET env steps
# on the tuning seed (0-99 only: 1000-1009 are the held-out seeds of docs/held_out_seeds.md) and is scored by the
# zoo's last evaluation (10 deterministic episodes, the env's own reward). Then:
#   python -m sb3_reinforce.zoo best --storage tuning/studies/ENV_ID.log --study-name ENV_ID
set -euo pipefail
env_id=$1 budget=$2 trials=$3 seed=${4:-0}
if (( seed >= 1000 && seed < 1010 )); then
    echo "seed $seed is a held-out seed (docs/held_out_seeds.md): tune on seeds 0-99" >&2
    exit 2
fi
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1 SDL_VIDEODRIVER=dummy
exec "${PYTHON:-.venv/bin/python}" -m sb3_reinforce.zoo train --env "$env_id" -optimize \
    --max-total-trials "$trials" --n-jobs 1 --sampler tpe --pruner median --n-startup-trials 8 \
    --n-evaluations 5 --eval-episodes 10 -n "$budget" --seed "$seed" \
    --storage "tuning/studies/$env_id.log" --study-name "$env_id" \
    -f "${TUNING_LOGS:-/tmp/sb3_reinforce_tuning}" --no-optim-plots --verbose 0
