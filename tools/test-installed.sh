#!/usr/bin/env bash
# What users install: build the wheel of this checkout, install it (not editable, with the
# dev extras) into a fresh virtual environment, and run the whole test suite from an empty
# folder outside the checkout, so no test can lean on the working directory or on src/.
# Then the installed command itself, from that folder. Usage: bash tools/test-installed.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-python3}
tmp=$(mktemp -d -t rareflow-wheel.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
"$py" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install -q --upgrade pip
"$tmp/venv/bin/python" -m pip wheel -q --no-deps -w "$tmp/dist" "$repo"
wheel=$(ls "$tmp"/dist/rareflow-*.whl)
"$tmp/venv/bin/python" -m pip install -q "${wheel}[dev]"
mkdir -p "$tmp/elsewhere"
cd "$tmp/elsewhere"
echo "testing $(basename "$wheel") installed in $tmp/venv, from $tmp/elsewhere"
RAREFLOW_TEST_INSTALLED=1 "$tmp/venv/bin/python" -m pytest -n 2 -q -p no:cacheprovider \
  -c "$repo/pyproject.toml" --rootdir "$repo" "$repo/tests"
"$tmp/venv/bin/rareflow" --version
"$tmp/venv/bin/python" -m rareflow run us-baseline --out o > /dev/null
test -s o/summary.json
echo "installed wheel: suite and commands pass outside the checkout"
