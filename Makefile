# Two commands do all the setup on a fresh machine: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
DEMO   := demo

# label-studio-sdk declares opencv-python, a second cv2 that would overwrite mediapipe's
# opencv-contrib-python; so it is installed without its deps, and these are its other deps.
LS_SDK      := label-studio-sdk==2.0.5
LS_SDK_DEPS := 'Pillow>=11.3' appdirs 'datamodel-code-generator==0.26.1' ijson 'jsf>=0.11.2,<0.12' \
               'jsonschema>=4.23' lxml 'nltk>=3.9.1,<4' 'pyjwt>=2.10.1,<3' requests \
               'requests-mock==1.12.1' 'ujson>=5.8' 'urllib3>=2.5' 'xmljson==0.2.1'

.PHONY: venv demo test lint browser postgres redis clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/pip install -q $(LS_SDK_DEPS)
	$(BIN)/pip install -q --no-deps $(LS_SDK)
	$(BIN)/pip uninstall -y -q opencv-python 2>/dev/null || true
	touch $@

demo: venv
	$(BIN)/cuevision synth -o $(DEMO)/sample.mp4 --truth $(DEMO)/truth.csv
	$(BIN)/cuevision process $(DEMO)/sample.mp4 -o $(DEMO)/out
	@echo "Open $(DEMO)/out/report.html in a browser."

# Debian's Chromium for the one Playwright test (Playwright's own browser download cannot work offline).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

# Debian's PostgreSQL: the service tests start a throw-away cluster of it (initdb, pg_ctl).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq postgresql >/dev/null)

# Debian's Redis: the Celery tests and benchmarks start a throw-away redis-server on a free port.
redis:
	@command -v redis-server >/dev/null || (apt-get update -qq && apt-get install -y -qq redis-server >/dev/null)

test: venv browser postgres redis
	$(BIN)/ruff check cuevision tests benchmarks
	$(BIN)/mypy
	$(BIN)/pytest tests

lint: venv
	$(BIN)/ruff check cuevision tests benchmarks
	$(BIN)/ruff format --check cuevision tests benchmarks
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(DEMO) .labelstudio
