#!/usr/bin/env bash
# Set up two virtual environments and run the tests, on both cores:
#   .venv       the newest datasets 5.x: the whole suite, the wheel test among it
#   .venv-ds3   datasets 3.6: the tests that touch `datasets` (load_dataset on the loading script)
# Environments are made with uv (installed with pip into .venv-tools): it sets up each one in seconds
# where pip takes most of a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
TOOLS=.venv-tools
[ -x "$TOOLS/bin/uv" ] || { "$PYTHON" -m venv "$TOOLS" && "$TOOLS/bin/pip" install --quiet --disable-pip-version-check uv; }
UV="$PWD/$TOOLS/bin/uv"

setup_venv() {  # venv folder, datasets requirement
  local venv="$1" requirement="$2"
  [ -x "$venv/bin/python" ] || "$UV" venv --quiet --seed --python "$(command -v "$PYTHON")" "$venv"
  VIRTUAL_ENV="$PWD/$venv" "$UV" pip install --quiet -e '.[test]' "$requirement"
}

run_suite() {  # venv folder, pytest selection
  local venv="$1"
  shift
  echo "== $("$venv/bin/python" -c 'from importlib.metadata import version; print("datasets", version("datasets"))') =="
  "$venv/bin/python" -m pytest -q -p no:cacheprovider -n 2 "$@"
}

setup_venv .venv "datasets>=5,<6"
setup_venv .venv-ds3 "datasets==3.6.*"
# TRL's own data utilities check the chat views (tests/test_views.py). TRL needs torch only to train, so it
# goes in without its dependencies, beside the few its data utilities import: no torch, a few MB.
VIRTUAL_ENV="$PWD/.venv" "$UV" pip install --quiet --no-deps trl transformers tokenizers safetensors regex jinja2 markupsafe
# Bytecode is written as modules are first imported (uv installs without it; compiling every installed module
# took 15 s an environment): a collection in each environment, both at once, compiles what the tests import
# before the test processes start.
unset PYTHONDONTWRITEBYTECODE
for venv in .venv .venv-ds3; do
  "$venv/bin/python" -m pytest -q -p no:cacheprovider --collect-only > /dev/null &
done
wait
BIOINSTRUCT_REQUIRE_TRL=1 run_suite .venv  # there, the TRL test must run, not skip
run_suite .venv-ds3 -m "uses_datasets and not wheel"
