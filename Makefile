# The commands of the README: `make run` and `make test` set up .venv first, `make test-min`
# .venv-min.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-min lint browser install dev bench fuzz chaos equivalence calibrate clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "flowsim needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
dev: $(VENV)/.installed-dev

# The default scenario: Venezuela under sanctions, against the baseline its file names
# (meta.baseline), which the same command runs beside it; ten replications give every
# finding its 95% interval.
run: install
	$(BIN)/flowsim run scenarios/venezuela_sanctions.toml --seed 1 --replications 10 --out results/venezuela_sanctions

lint: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The report's test looks at the page in headless Chromium (tests/test_report.py). It is
# installed here where the tests run as root with apt-get; elsewhere that test is skipped
# and says why.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1; } || \
	  echo "no Chromium here: the report's browser test will be skipped"

# On every core (pytest-xdist): two on CI, where the suite takes about 6 minutes rather
# than 10 on one.
test: lint browser
	$(BIN)/python -m pytest -q -n auto

# The same suite with every runtime dependency at its floor (constraints/lowest.txt), in a
# venv of its own, .venv-min, with the dev-floors extra: the dev extra but SALib, which
# needs numpy 2 (docs/reliability.md, "Oldest versions"). The other packages take what the
# resolver picks beside those floors. Not part of make test.
VENV_MIN := .venv-min
BIN_MIN := $(VENV_MIN)/bin

$(BIN_MIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "flowsim needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV_MIN)

$(VENV_MIN)/.installed-dev: pyproject.toml constraints/lowest.txt | $(BIN_MIN)/python
	$(BIN_MIN)/python -m pip install --quiet --disable-pip-version-check \
	  -c constraints/lowest.txt -e '.[dev-floors]'
	@touch $@

test-min: $(VENV_MIN)/.installed-dev browser
	$(BIN_MIN)/python -m pytest -q -n auto

# Speed and memory against the bare-SimPy reference, shipment mode, 2 workers and Ciw
# (docs/performance.md); not part of make test. Ciw comes with the bench extra.
$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[bench]'
	@touch $@ $(VENV)/.installed

bench: $(VENV)/.installed-bench
	$(BIN)/python -m benchmarks --json results/benchmarks.json

# Scenario fuzzing: 10,000 random inputs, valid and broken (docs/reliability.md); not in make test.
fuzz: dev
	$(BIN)/python -m tools.fuzz --examples 10000 --report results/fuzz.json

# SIGKILL: a sweep 20 times, flowsim run 10 times, 2 pool workers and a Dask worker; every
# sweep must resume to the same table, and no kill may lose a run folder (docs/reliability.md).
chaos: dev
	$(BIN)/python -m tools.chaos --kills 20 --run-kills 10 --worker-kills 2 --dask

# The per-lot engine against the one it replaced, every shipped scenario on 30 seeds
# (make test runs two scenarios on 12).
equivalence: dev
	FLOWSIM_EQUIVALENCE=1 $(BIN)/python -m pytest -q -s tests/test_equivalence.py

# Long calibrations (docs/calibration.md): the toy model's recovery over 20 seeded
# repetitions, and the Venezuela calibration with its granularity check; make test
# runs one quick toy calibration.
calibrate: dev
	FLOWSIM_CALIBRATE=1 $(BIN)/python -m pytest -q -s tests/test_calibration_recovery.py tests/test_calibration_venezuela.py

clean:
	rm -rf $(VENV) $(VENV_MIN) .pytest_cache .ruff_cache .hypothesis build dist *.egg-info
