"""Guarded 1:3 alternation at a threshold the pair crosses sometimes: per step, the
model used and the kinetic energy; and the same from the same start without the guard."""
import sys
import numpy as np
import openmm as mm, openmm.unit as u
from openmmswitchingdp import bundled
from openmmswitchingdp.schemes import Scheme, Structure, build_context, ACCURATE, ALTERNATING, switching_force

steps = int(sys.argv[1]); threshold = float(sys.argv[2])
st = Structure.from_pdb(bundled.WATER_PDB)
g = Scheme(ALTERNATING, bundled.ACCURATE_MODEL, bundled.FAST_MODEL, 0.5, interval=4, guard=threshold, deviation_check_interval=1)
c = build_context(g, st, "CPU", threads=1)
f = switching_force(c)
prev = tuple(f.getEvaluationCounts(c))
rows = []
for k in range(steps):
    c.getIntegrator().step(1)
    cnt = tuple(f.getEvaluationCounts(c))
    d = (cnt[0] - prev[0], cnt[1] - prev[1]); prev = cnt
    s = c.getState(getEnergy=True)
    ke = s.getKineticEnergy().value_in_unit(u.kilojoule_per_mole)
    T = 2 * ke / (3 * 192 * 0.0083144626)
    dev = f.getLastDeviation(c)
    rows.append((k, d[0], d[1], T, s.getPotentialEnergy().value_in_unit(u.kilojoule_per_mole), dev.step, dev.maxForceDeviation, int(dev.fallback)))
    if k % 100 == 99:
        r = np.array(rows[-100:])
        print(k + 1, f"acc evals {r[:,1].sum():.0f} fast evals {r[:,2].sum():.0f} T {r[:,3].mean():.1f} maxdev {r[:,6].max():.2f}", flush=True)
np.save("/work/guardbug/rows.npy", np.array(rows))
