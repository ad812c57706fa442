"""Is the guard's heating caused by *state-dependent* fallbacks?  Same pair, same start:
(G) the guard with fixed fallbacks of L steps, triggered by the deviation (threshold);
(R) the same fallbacks triggered at random accurate steps with G's measured rate
(the guard's threshold set out of reach, its state set from Python);
(P) plain 1:3 alternation.  Prints the mean temperature and accurate share of each."""
import sys
import numpy as np
import openmm as mm, openmm.unit as u
from openmmswitchingdp import bundled
from openmmswitchingdp.schemes import Scheme, Structure, build_context, ACCURATE, ALTERNATING, switching_force

threshold, L, steps, seed = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
st = Structure.from_pdb(bundled.WATER_PDB)
eq = build_context(Scheme(ACCURATE, bundled.ACCURATE_MODEL, bundled.FAST_MODEL, 0.5), st, "CPU", threads=1, seed=seed)
eq.getIntegrator().step(1000)   # 0.5 ps of accurate-only NVT
start = eq.getState(getPositions=True, getVelocities=True)
KB = 0.0083144626


def run(guard, random_rate=None):
    scheme = Scheme(ALTERNATING, bundled.ACCURATE_MODEL, bundled.FAST_MODEL, 0.5, interval=4, guard=guard,
                    deviation_check_interval=1, fallback_steps=L)
    c = build_context(scheme, st, "CPU", threads=1, seed=seed + 1)
    c.setPositions(start.getPositions()); c.setVelocities(start.getVelocities())
    f = switching_force(c)
    rng = np.random.default_rng(seed)
    temps = []
    for block in range(steps // 4):
        if random_rate is not None and rng.random() < random_rate:
            step = c.getStepCount()            # the next step is an accurate one (a check)
            c.setParameter("SwitchingDPForce_guardFallbackUntil", step + 1 + L)
        c.getIntegrator().step(4)
        ke = c.getState(getEnergy=True).getKineticEnergy().value_in_unit(u.kilojoule_per_mole)
        temps.append(2 * ke / (3 * 192 * KB))
    a, fa = f.getEvaluationCounts(c)
    return np.mean(temps[len(temps) // 5:]), a / steps


tg, ag = run(threshold)
fallbacks_per_block = max(ag - 0.25, 0) * 4 / (L * 0.75)   # each fallback turns ~0.75 L fast steps accurate
tr, ar = run(1e9, random_rate=min(fallbacks_per_block, 1.0))
tp, ap = run(1e9)
print(f"guard {threshold} L={L}: T {tg:.1f} K, accurate share {ag:.2f} | random fallbacks: T {tr:.1f} K, "
      f"share {ar:.2f} | plain: T {tp:.1f} K, share {ap:.2f}", flush=True)
