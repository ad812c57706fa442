"""Does a guard that always falls back reproduce accurate-only dynamics?"""
import sys
import numpy as np
import openmm as mm, openmm.unit as u
from openmmswitchingdp import bundled
from openmmswitchingdp.schemes import Scheme, Structure, build_context, ACCURATE, ALTERNATING

platform = sys.argv[1] if len(sys.argv) > 1 else "CPU"
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 40
st = Structure.from_pdb(bundled.WATER_PDB)
acc = Scheme(ACCURATE, bundled.ACCURATE_MODEL, bundled.FAST_MODEL, 0.5)
alt1 = Scheme(ALTERNATING, bundled.ACCURATE_MODEL, bundled.FAST_MODEL, 0.5, interval=1)
g = Scheme(ALTERNATING, bundled.ACCURATE_MODEL, bundled.FAST_MODEL, 0.5, interval=4, guard=1e-9, deviation_check_interval=1)
ctx = {n: build_context(s, st, platform, threads=1) for n, s in [("acc", acc), ("alt1", alt1), ("guard", g)]}
for k in range(steps // 10):
    row = []
    for n, c in ctx.items():
        c.getIntegrator().step(10)
        s = c.getState(getPositions=True, getForces=True, getEnergy=True)
        row.append((n, s.getPositions(asNumpy=True).value_in_unit(u.nanometer), s.getForces(asNumpy=True).value_in_unit(u.kilojoule_per_mole/u.nanometer), s.getKineticEnergy().value_in_unit(u.kilojoule_per_mole)))
    ref = row[0]
    print((k + 1) * 10, " ".join(f"{n}: dx {np.abs(x - ref[1]).max():.2e} dF {np.abs(f - ref[2]).max():.2e} KE {ke:.1f}" for n, x, f, ke in row))
