#!/usr/bin/env bash
# Set up, then regenerate docs/results.md and its plots (validate, NVE, bench on the
# bundled water).  About two hours on 2 CPU cores; arguments go to benchmarks/results.py.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python benchmarks/results.py "$@"
