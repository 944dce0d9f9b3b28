# The README quotes these targets. `make train` and `make test` bootstrap the virtual environment themselves.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
LINT_PATHS = sb3_reinforce/ tests/ examples/ benchmark/
# The CPU build of torch, installed first: an unpinned torch can pull a multi-GB CUDA build
TORCH_PIN ?= torch==2.13.0
# Extras of the package to install: CI adds the optional integrations (EXTRAS=tests,zoo,ray) and runs their tests too
EXTRAS ?= tests
# pytest workers of `make test` (auto: one per core)
TEST_WORKERS ?= auto
export OMP_NUM_THREADS ?= 1
export SDL_VIDEODRIVER ?= dummy

.PHONY: install train test lint format check-format type commit-checks benchmark throughput cartpole clean

$(BIN)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install "$(TORCH_PIN)"
	$(BIN)/pip install -e ".[$(EXTRAS)]"
	touch $@

install: $(BIN)/.installed

# The main job: the notebook's experiment done right (MountainCarContinuous-v0, `solved` preset), trained on CPU,
# saved to models/, logged to runs/, then scored on the true reward over 100 deterministic episodes
train: install
	$(BIN)/python -m sb3_reinforce train --preset solved --seed 0 --save-path models/mountain_car_solved --force --tensorboard-log runs

# -n: one pytest worker per core (pytest-xdist; worksteal balances the long tests); --durations: the slowest tests,
# in every log, so that the suite's time stays visible
test: install
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist worksteal --durations=15

lint: install
	$(BIN)/ruff check $(LINT_PATHS)

check-format: install
	$(BIN)/ruff format --check $(LINT_PATHS)

format: install
	$(BIN)/ruff check --select I $(LINT_PATHS) --fix
	$(BIN)/ruff format $(LINT_PATHS)

type: install
	$(BIN)/mypy

commit-checks: format type lint

# Reinforce vs PPO, SAC and A2C over 10 seeds (see BENCHMARKS.md); long: about 2 hours on 2 cores
benchmark: install
	$(BIN)/python -m sb3_reinforce benchmark --seeds 10 --out benchmark_results

throughput: install
	$(BIN)/python examples/throughput.py --env CartPole-v1 --timesteps 30000 --repeats 3

cartpole: install
	$(BIN)/python examples/train_cartpole.py --seeds 0 1 2 3 4 --timesteps 150000

clean:
	rm -rf $(VENV) models runs benchmark_results .pytest_cache .mypy_cache .ruff_cache
