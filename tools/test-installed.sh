#!/usr/bin/env bash
# What users install: build the wheel of this checkout, install it (not editable, with the
# dev extras) into a virtual environment of its own ($TEST_VENV, default .venv-test: kept
# between runs, so only the wheel is reinstalled), and run the whole test suite from an
# empty folder outside the checkout, so no test can lean on the working directory or on
# src/. Then the installed command itself, from that folder. Usage: bash tools/test-installed.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-python3}
venv=${TEST_VENV:-.venv-test}
case "$venv" in /*) ;; *) venv="$repo/$venv" ;; esac
tmp=$(mktemp -d -t rareflow-wheel.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
if [ ! -x "$venv/bin/python" ]; then
  "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
fi
"$venv/bin/python" -m pip wheel -q --no-deps -w "$tmp/dist" "$repo"
wheel=$(ls "$tmp"/dist/rareflow-*.whl)
"$venv/bin/python" -m pip install -q "${wheel}[dev]"                   # the dependencies
"$venv/bin/python" -m pip install -q --force-reinstall --no-deps "$wheel"   # this checkout's code
mkdir -p "$tmp/elsewhere"
cd "$tmp/elsewhere"
echo "testing $(basename "$wheel") installed in $venv, from $tmp/elsewhere"
RAREFLOW_TEST_INSTALLED=1 "$venv/bin/python" -m pytest -n 2 -q -p no:cacheprovider \
  -c "$repo/pyproject.toml" --rootdir "$repo" "$repo/tests"
"$venv/bin/rareflow" --version
"$venv/bin/python" -m rareflow run us-baseline --out o > /dev/null
test -s o/summary.json
echo "installed wheel: suite and commands pass outside the checkout"
