#!/usr/bin/env bash
# Set up two virtual environments and run the whole test suite in each:
#   .venv       the newest datasets 5.x  (the builder class, the published parquet layout)
#   .venv-ds3   datasets 3.6             (load_dataset on the loading script)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"

run_suite() {  # venv folder, datasets requirement
  local venv="$1" requirement="$2"
  [ -x "$venv/bin/python" ] || "$PYTHON" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test]' "$requirement"
  echo "== $("$venv/bin/python" -c 'import datasets; print("datasets", datasets.__version__)') =="
  "$venv/bin/python" -m pytest -q -p no:cacheprovider
}

run_suite .venv "datasets>=5,<6"
run_suite .venv-ds3 "datasets==3.6.*"
