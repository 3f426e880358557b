#!/usr/bin/env bash
# Set up two virtual environments and run the tests, on both cores:
#   .venv       the newest datasets 5.x: the whole suite, the wheel test among it
#   .venv-ds3   datasets 3.6: the tests that touch `datasets` (load_dataset on the loading script)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"

run_suite() {  # venv folder, datasets requirement, pytest selection
  local venv="$1" requirement="$2"
  shift 2
  [ -x "$venv/bin/python" ] || "$PYTHON" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test]' "$requirement"
  echo "== $("$venv/bin/python" -c 'import datasets; print("datasets", datasets.__version__)') =="
  "$venv/bin/python" -m pytest -q -p no:cacheprovider -n 2 "$@"
}

run_suite .venv "datasets>=5,<6"
run_suite .venv-ds3 "datasets==3.6.*" -m "uses_datasets and not wheel"
