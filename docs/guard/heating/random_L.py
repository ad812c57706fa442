"""Random fallbacks of L accurate steps in 1:3 alternation at a rate that makes the
accurate share about `share`; mean temperature after 0.5 ps accurate-only NVT.
Does the heating depend on how often the schedule switches (L short) or not (L long)?"""
import sys
import numpy as np
import openmm.unit as u
from openmmswitchingdp import bundled
from openmmswitchingdp.schemes import Scheme, Structure, build_context, ACCURATE, ALTERNATING, switching_force

share, steps, seed = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
Ls = [int(a) for a in sys.argv[4:]]
st = Structure.from_pdb(bundled.WATER_PDB)
eq = build_context(Scheme(ACCURATE, bundled.ACCURATE_MODEL, bundled.FAST_MODEL, 0.5), st, "CPU", threads=1, seed=seed)
eq.getIntegrator().step(1000)
start = eq.getState(getPositions=True, getVelocities=True)
KB = 0.0083144626
for L in Ls:
    scheme = Scheme(ALTERNATING, bundled.ACCURATE_MODEL, bundled.FAST_MODEL, 0.5, interval=4, guard=1e9,
                    deviation_check_interval=1, fallback_steps=L)
    c = build_context(scheme, st, "CPU", threads=1, seed=seed + 1)
    c.setPositions(start.getPositions()); c.setVelocities(start.getVelocities())
    f = switching_force(c)
    rng = np.random.default_rng(seed)
    # a fallback of L steps starting where none is running: time in fallback / time out
    # of it = share' / (1 - share'), with share' the extra accurate share over 1/4
    extra = max(share - 0.25, 0) / 0.75
    rate = 4 / (L * (1 - extra) / extra) if extra > 0 else 0.0    # per block of 4 steps, outside fallbacks
    temps, switches, fb_until = [], 0, -1
    for block in range(steps // 4):
        step = c.getStepCount()
        if step >= fb_until and rng.random() < rate:
            fb_until = step + 1 + L
            c.setParameter("SwitchingDPForce_guardFallbackUntil", fb_until)
            switches += 1
        c.getIntegrator().step(4)
        ke = c.getState(getEnergy=True).getKineticEnergy().value_in_unit(u.kilojoule_per_mole)
        temps.append(2 * ke / (3 * 192 * KB))
    a, fa = f.getEvaluationCounts(c)
    print(f"L={L}: fallbacks {switches}, accurate share {a / steps:.2f}, T {np.mean(temps[len(temps) // 5:]):.1f} K", flush=True)
