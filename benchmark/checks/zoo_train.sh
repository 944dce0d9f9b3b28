#!/usr/bin/env bash
# Are our peer runs faithful to the RL Zoo? Train ALGO on ENV_ID with the zoo's own train script (its hyperparameters
# file, its env setup) on SEEDS, then score each model as the benchmark's final evaluation counts: 100 deterministic
# episodes on the env's own reward, the training run's observation statistics frozen; on the benchmark's episodes and
# on the check's (score_zoo_model.py).
# Compare with benchmark/results/runs/ALGO__ENV_ID__seedS.json (README.md here).
#
#   benchmark/checks/zoo_train.sh a2c LunarLander-v3 1000 1001 1002
#
# Needs the `zoo` extra. Models and logs go to ${OUT:-/tmp/zoo_check}; the scores to stdout.
set -euo pipefail
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=1 SDL_VIDEODRIVER=dummy
algo=$1 env_id=$2
shift 2
out=${OUT:-/tmp/zoo_check}
mkdir -p "$out"
# The zoo has no -v5 entries for the MuJoCo tasks, and its script would fall back to its "default" settings (the
# algorithm's defaults) there; our peer runs use the -v4 entry on -v5 (peers.ZOO_ENV_IDS). The check does the same:
# the zoo's own yml entry for the -v4 task, filed under the -v5 id in a yml of its own, read with --conf-file.
conf=$out/hyperparams_$algo.yml
"${PYTHON:-.venv/bin/python}" - "$algo" "$env_id" "$conf" <<'PY'
import sys
from pathlib import Path

import rl_zoo3
import yaml

from sb3_reinforce.benchmark.peers import ZOO_ENV_IDS

algo, env_id, conf = sys.argv[1:]
entries = yaml.safe_load((Path(rl_zoo3.__file__).parent / "hyperparams" / f"{algo}.yml").read_text())
zoo_id = ZOO_ENV_IDS.get(env_id, env_id)
if zoo_id not in entries:
    sys.exit(f"rl_zoo3's {algo}.yml has no entry for {zoo_id}: no peer run of ours to check")
Path(conf).write_text(yaml.safe_dump({env_id: entries[zoo_id]}))
print(f"{algo} {env_id}: the zoo's entry for {zoo_id}", file=sys.stderr)
PY
for seed in "$@"; do
    "${PYTHON:-.venv/bin/python}" -m rl_zoo3.train --algo "$algo" --env "$env_id" --seed "$seed" --eval-freq -1 \
        --conf-file "$conf" --device cpu -f "$out/$seed" > "$out.$seed.log" 2>&1 || { cat "$out.$seed.log"; exit 1; }
    "${PYTHON:-.venv/bin/python}" benchmark/checks/score_zoo_model.py "$out/$seed" "$algo" "$env_id"
done
