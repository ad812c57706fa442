#!/usr/bin/env bash
# Set up everything, then run the main job: MD of the bundled water with the
# bundled 6 A / 4 A models in the 1:3 alternating scheme.  Extra arguments go to
# switchingdp-md (try --help).  Outputs go to results/water/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p results/water
cd results/water
../../.venv/bin/switchingdp-md "$@"
