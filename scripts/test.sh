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

run_suite() {  # venv folder, datasets requirement, pytest selection
  local venv="$1" requirement="$2"
  shift 2
  [ -x "$venv/bin/python" ] || "$UV" venv --quiet --seed --python "$(command -v "$PYTHON")" "$venv"
  VIRTUAL_ENV="$PWD/$venv" "$UV" pip install --quiet --compile-bytecode -e '.[test]' "$requirement"
  echo "== $("$venv/bin/python" -c 'import datasets; print("datasets", datasets.__version__)') =="
  "$venv/bin/python" -m pytest -q -p no:cacheprovider -n 2 "$@"
}

run_suite .venv "datasets>=5,<6"
run_suite .venv-ds3 "datasets==3.6.*" -m "uses_datasets and not wheel"
