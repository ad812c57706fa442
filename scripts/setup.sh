#!/usr/bin/env bash
# Set up everything on a fresh machine: a local virtual environment (.venv) with
# the pinned dependencies, then build and install openmm-switchingdp into it.
# Safe to run again: pip skips what is already there; the plugin is rebuilt.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
fi
.venv/bin/python -m pip install --quiet -r requirements.txt
# No build isolation: the plugin must be built against the exact torch it runs with.
.venv/bin/python -m pip install --quiet --no-build-isolation --no-deps .
echo "openmm-switchingdp installed in $(pwd)/.venv"
