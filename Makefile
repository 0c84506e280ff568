# Two set-up commands on a fresh machine: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The CPU build of torch is installed first, so the package's `torch>=2.2` range is already met
# and pip never pulls a multi-GB CUDA build.
TORCH  := torch==2.13.0
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/rnnlab forecast fit --data airline-passengers --time-col Month --target Passengers \
		--lookback 36 --horizon 12 --log --ensemble 5 --refit \
		--batch-size 8 --seed 0 --out runs/demo-airline --overwrite

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check rnnlab tests bench

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
