"""Which force did the integrator apply at each step of guarded alternation with
fallbacks?  Leapfrog Verlet: m (v(n+1/2) - v(n-1/2)) / dt is the force at x(n); compare
it with each model's force at x(n) from separate one-model Contexts."""
import sys
import numpy as np
import openmm as mm, openmm.unit as u
from openmmswitchingdp import bundled
from openmmswitchingdp.schemes import Scheme, Structure, build_context, ACCURATE, FAST, ALTERNATING, switching_force

L, steps, rate = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
st = Structure.from_pdb(bundled.WATER_PDB)
dt = 0.0005
g = Scheme(ALTERNATING, bundled.ACCURATE_MODEL, bundled.FAST_MODEL, 0.5, interval=4, guard=1e9,
           deviation_check_interval=1, fallback_steps=L)
c = build_context(g, st, "CPU", threads=1, integrator=mm.VerletIntegrator(dt))
refs = {m: build_context(Scheme(k, bundled.ACCURATE_MODEL, bundled.FAST_MODEL, 0.5), st, "CPU", threads=1)
        for m, k in (("A", ACCURATE), ("F", FAST))}
masses = np.array([c.getSystem().getParticleMass(i).value_in_unit(u.dalton) for i in range(192)])[:, None]
rng = np.random.default_rng(3)
nm, ps = u.nanometer, u.picosecond
s = c.getState(getPositions=True, getVelocities=True)
x, v = s.getPositions(asNumpy=True).value_in_unit(nm), s.getVelocities(asNumpy=True).value_in_unit(nm / ps)
f = switching_force(c)
for n in range(steps):
    step = c.getStepCount()
    if step % 4 == 0 and rng.random() < rate:
        c.setParameter("SwitchingDPForce_guardFallbackUntil", step + 1 + L)
    fb = c.getParameter("SwitchingDPForce_guardFallbackUntil")
    before = tuple(f.getEvaluationCounts(c))
    c.getIntegrator().step(1)
    after = tuple(f.getEvaluationCounts(c))
    s = c.getState(getPositions=True, getVelocities=True)
    x1, v1 = s.getPositions(asNumpy=True).value_in_unit(nm), s.getVelocities(asNumpy=True).value_in_unit(nm / ps)
    applied = masses * (v1 - v) / dt          # kJ/mol/nm
    errs = {}
    for m, r in refs.items():
        r.setPositions(x * nm)
        fr = r.getState(getForces=True).getForces(asNumpy=True).value_in_unit(u.kilojoule_per_mole / nm)
        errs[m] = np.abs(applied - fr).max() / np.abs(fr).max()
    used = min(errs, key=errs.get)
    expect = "A" if (step < fb or step % 4 == 0) else "F"
    flag = "" if used == expect and errs[used] < 1e-4 else "  <-- MISMATCH"
    print(f"step {step} fallbackUntil {fb:.0f} evals +{after[0]-before[0]} acc +{after[1]-before[1]} fast: applied ~ {used} "
          f"(rel err A {errs['A']:.1e}, F {errs['F']:.1e}) expected {expect}{flag}", flush=True)
    x, v = x1, v1
