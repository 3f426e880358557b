#!/usr/bin/env bash
# Set up two virtual environments and run the tests, on both cores:
#   .venv       the newest datasets 5.x: the whole suite, the wheel test among it
#   .venv-ds3   datasets 3.6: the tests that touch `datasets` (load_dataset on the loading script)
# Environments are made with uv (installed with pip into .venv-tools): it sets up each one in seconds
# where pip takes most of a minute; --compile-bytecode, as pip does, spares every test process compiling it.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
TOOLS=.venv-tools
[ -x "$TOOLS/bin/uv" ] || { "$PYTHON" -m venv "$TOOLS" && "$TOOLS/bin/pip" install --quiet --disable-pip-version-check uv; }
UV="$PWD/$TOOLS/bin/uv"

install_dependencies() {  # venv folder, datasets requirement: what pyproject.toml asks for, without the package
  local venv="$1" requirement="$2"
  [ -x "$venv/bin/python" ] || "$UV" venv --quiet --seed --python "$(command -v "$PYTHON")" "$venv"
  VIRTUAL_ENV="$PWD/$venv" "$UV" pip install --quiet --compile-bytecode -r pyproject.toml --extra test "$requirement"
}

run_suite() {  # venv folder, pytest selection
  local venv="$1"
  shift
  echo "== $("$venv/bin/python" -c 'import datasets; print("datasets", datasets.__version__)') =="
  "$venv/bin/python" -m pytest -q -p no:cacheprovider -n 2 "$@"
}

# Both environments' dependencies at once (mostly copying and compiling: it keeps both cores busy); then the
# package itself into each, one after the other, as its editable build writes into this folder.
install_dependencies .venv "datasets>=5,<6" &
newest=$!
install_dependencies .venv-ds3 "datasets==3.6.*" &
oldest=$!
wait "$newest"
wait "$oldest"
for venv in .venv .venv-ds3; do
  VIRTUAL_ENV="$PWD/$venv" "$UV" pip install --quiet --no-deps -e .
done
# TRL's own data utilities check the chat views (tests/test_views.py). TRL needs torch only to train, so it
# goes in without its dependencies, beside the few its data utilities import: no torch, a few MB.
VIRTUAL_ENV="$PWD/.venv" "$UV" pip install --quiet --no-deps trl transformers tokenizers safetensors regex jinja2 markupsafe
BIOINSTRUCT_REQUIRE_TRL=1 run_suite .venv  # there, the TRL test must run, not skip
run_suite .venv-ds3 -m "uses_datasets and not wheel"
