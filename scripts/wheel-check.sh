#!/usr/bin/env bash
# Build the wheel (`pip wheel .`) with the project's environment, install it into
# a fresh virtual environment from the package index, and run a few MD steps of
# the bundled water there, through the installed command and through openmm-ml.
# Not part of the default test command (installing torch into a new environment
# takes minutes); run it after changing the packaging:  bash scripts/wheel-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || bash scripts/setup.sh
work=$(mktemp -d "${TMPDIR:-/tmp}/switchingdp-wheel.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "== pip wheel . (no build isolation: built against .venv's torch)"
.venv/bin/python -m pip wheel --quiet --no-build-isolation --no-deps -w "$work/dist" .
wheel=$(ls "$work"/dist/openmm_switchingdp-*.whl)
echo "built $(basename "$wheel")"
.venv/bin/python - "$wheel" <<'PY'
import sys, zipfile
import torch
with zipfile.ZipFile(sys.argv[1]) as z:
    metadata = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))).decode()
requires = [l.split(":", 1)[1].strip() for l in metadata.splitlines() if l.startswith("Requires-Dist:")]
print("Requires-Dist:", *requires, sep="\n  ")
pin = f"torch=={torch.__version__.split('+')[0]}"
assert pin in requires, f"the wheel does not pin the torch it was built with ({pin})"
assert any(r.startswith("deepmd-kit") and "extra" not in r for r in requires), "deepmd-kit is not a runtime dependency"
PY

echo "== fresh virtual environment: pip install the wheel with its [tools] extra"
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --upgrade pip
"$work/venv/bin/python" -m pip install --quiet "$wheel[tools]"
cd "$work"

echo "== switchingdp-md: 20 steps of the bundled water on the CPU platform"
"$work/venv/bin/switchingdp-md" --steps 20 --report-interval 10 --platform CPU --no-progress
test -s md.log && test -s trajectory.dcd

echo "== MLPotential('switchingdp'): createSystem and 8 steps"
"$work/venv/bin/python" - <<'PY'
import openmm as mm, openmm.app as app
from openmmml import MLPotential
from openmmswitchingdp import SwitchingDPForce, bundled
pdb = app.PDBFile(bundled.WATER_PDB)
system = MLPotential("switchingdp", accurate=bundled.ACCURATE_MODEL, fast=bundled.FAST_MODEL).createSystem(pdb.topology)
integrator = mm.LangevinMiddleIntegrator(330, 1, 0.0005)
context = mm.Context(system, integrator, mm.Platform.getPlatformByName("CPU"))
context.setPositions(pdb.positions)
integrator.step(8)
force = SwitchingDPForce.cast(system.getForce(0))
counts = list(force.getEvaluationCounts(context))
print("evaluation counts", counts)
assert counts == [2, 6], counts
PY
echo "wheel check passed"
