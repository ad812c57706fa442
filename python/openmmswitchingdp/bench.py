"""Speed of switching schemes against each single model, measured side by side.

For each system size it runs, in one process, Langevin MD with: the accurate model
alone, the fast model alone (both at the inner time step), alternation (1 accurate
step in --interval) and rRESPA (slow term every --inner-steps inner steps, fast model
every inner step), and the accurate model through OpenMM's PythonForce calling
deepmd-kit's DeepPot each step: what a user would write without this plugin
(--no-baseline skips it).  It prints steps/s and ns/day, the speedup in ns/day over
accurate-only, the ideal speedup from the single-model step times measured in the
same run, and their ratio (efficiency):

    alternating: n / (1 + (n-1) r)      rRESPA: k / (1 + k r)      r = t_fast / t_accurate

    switchingdp-bench --replicate 1 2 --platform CPU
"""
import argparse
import os
import sys
import time

import numpy as np

from . import bundled
from .units import ns_per_day

SLOW_GROUP = 1


def replicated_system(pdb_path, copies):
    """Positions (nm), element symbols, masses and box of the PDB tiled copies^3 times."""
    import openmm.app as app
    import openmm.unit as u
    pdb = app.PDBFile(pdb_path)
    box = np.array(pdb.topology.getPeriodicBoxVectors().value_in_unit(u.nanometer))
    base = np.array(pdb.getPositions(asNumpy=True).value_in_unit(u.nanometer))
    elements = [a.element.symbol for a in pdb.topology.atoms()]
    masses = [a.element.mass.value_in_unit(u.dalton) for a in pdb.topology.atoms()]
    shifts = [i * box[0] + j * box[1] + k * box[2] for i in range(copies) for j in range(copies) for k in range(copies)]
    positions = np.concatenate([base + s for s in shifts])
    return positions, elements * len(shifts), masses * len(shifts), box * copies


def deeppot_python_force(model_file, elements):
    """What a user would write without this plugin: an OpenMM PythonForce whose
    callback gives the State's positions and box to deepmd-kit's DeepPot."""
    import openmm as mm
    from deepmd.infer import DeepPot
    from .units import ANGSTROM_PER_NM, KJ_PER_MOL_NM_PER_EV_A, KJ_PER_MOL_PER_EV
    deeppot = DeepPot(model_file)
    types = [deeppot.get_type_map().index(e) for e in elements]

    def compute(state):
        positions = state.getPositions(asNumpy=True)._value * ANGSTROM_PER_NM
        box = np.array(state.getPeriodicBoxVectors()._value) * ANGSTROM_PER_NM
        energy, forces, _ = deeppot.eval(positions.reshape(1, -1), box.reshape(1, 9), types)
        return float(energy[0, 0]) * KJ_PER_MOL_PER_EV, forces.reshape(-1, 3) * KJ_PER_MOL_NM_PER_EV_A

    force = mm.PythonForce(compute)
    force.setUsesPeriodicBoundaryConditions(True)
    return force


def make_context(scheme, system_data, platform, seed=1, temperature=330.0):
    """A Context running one scheme (a dict from schemes()) on the given system."""
    import openmm as mm
    from openmm.mtsintegrator import MTSLangevinIntegrator
    from . import SwitchingDPForce
    positions, elements, masses, box = system_data
    system = mm.System()
    for m in masses:
        system.addParticle(m)
    system.setDefaultPeriodicBoxVectors(*[mm.Vec3(*v) for v in box])
    if scheme.get("python_force"):
        force = deeppot_python_force(scheme["accurate"], elements)
    else:
        force = SwitchingDPForce(scheme["accurate"], scheme["fast"])
        force.setTypes(elements)
        force.setAccurateInterval(scheme.get("interval", 1))
    if scheme.get("inner"):
        force.setMode(SwitchingDPForce.MultipleTimeStep)
        force.setSlowForceGroup(SLOW_GROUP)
        if scheme.get("residual"):
            force.setSlowTerm(SwitchingDPForce.Residual)
        integrator = MTSLangevinIntegrator(temperature, 1.0, scheme["dt"], [(SLOW_GROUP, 1), (0, scheme["inner"])])
    else:
        integrator = mm.LangevinMiddleIntegrator(temperature, 1.0, scheme["dt"])
    system.addForce(force)
    integrator.setRandomNumberSeed(seed)
    context = mm.Context(system, integrator, mm.Platform.getPlatformByName(platform))
    context.setPositions([mm.Vec3(*p) for p in positions])
    context.setVelocitiesToTemperature(temperature, seed)
    return context


def timed_steps_per_second(context, steps):
    context.getState(getEnergy=True)   # finish queued work before timing
    start = time.perf_counter()
    context.getIntegrator().step(steps)
    context.getState(getEnergy=True)
    return steps / (time.perf_counter() - start)


def schemes(accurate, fast, interval, inner, dt_fs, baseline=False, other_fast=(), residual=None):
    """The runs to compare, by name; accurate-only first (the reference).  Each
    switching run names the fast-only run that times its fast model ("fast_run").
    other_fast: more fast models (e.g. a compressed float32 one), each with its own
    fast-only and alternating runs.  residual: a model co-trained with `fast` (Fu et al.),
    run as rRESPA with E = E_fast + E_residual."""
    dt = dt_fs * 1e-3
    runs = {"accurate-only": dict(kind="accurate", accurate=accurate, fast=fast, interval=1, dt=dt)}
    for i, model in enumerate([fast, *other_fast]):
        tag = "" if i == 0 else f" ({os.path.basename(model)})"
        runs["fast-only" + tag] = dict(kind="fast", accurate=model, fast=model, interval=1, dt=dt,
                                       fast_run="fast-only" + tag)
        runs[f"alternating 1:{interval - 1}" + tag] = dict(kind="alternating", accurate=accurate, fast=model,
                                                           interval=interval, dt=dt, fast_run="fast-only" + tag)
        if i == 0:
            runs[f"rRESPA {dt_fs * inner:g}/{dt_fs:g} fs"] = dict(kind="mts", accurate=accurate, fast=fast,
                                                                  inner=inner, dt=dt * inner, fast_run="fast-only")
    if residual:
        runs[f"rRESPA {dt_fs * inner:g}/{dt_fs:g} fs, co-trained residual"] = dict(
            kind="mts", accurate=residual, fast=fast, residual=True, inner=inner, dt=dt * inner, fast_run="fast-only")
    if baseline:
        runs["accurate, PythonForce + DeepPot"] = dict(kind="baseline", accurate=accurate, python_force=True, dt=dt)
    return runs


def ideal_speedup(scheme, speed):
    """The speedup over accurate-only if only model time counted, from the measured
    steps/s of accurate-only and of the scheme's fast model alone (r = t_fast / t_accurate)."""
    if scheme["kind"] in ("accurate", "baseline"):
        return 1.0   # the baseline runs the same model
    r = speed["accurate-only"] / speed[scheme["fast_run"]]
    if scheme["kind"] == "fast":
        return 1.0 / r
    if scheme["kind"] == "alternating":
        n = scheme["interval"]
        return n / (1 + (n - 1) * r)
    # rRESPA: one slow evaluation per k fast ones.  A residual model is costed as the
    # accurate model (the bundled one has the same cutoff, sel and network sizes).
    k = scheme["inner"]
    return k / (1 + k * r)


def measure(args, copies):
    """Rows (scheme, steps/s, ns/day, speedup, ideal, efficiency) for one system size.

    The schemes are timed in interleaved rounds and each keeps its median, so a
    machine that slows down or speeds up during the run affects all of them alike."""
    system_data = replicated_system(args.pdb, copies)
    runs = schemes(args.accurate, args.fast, args.interval, args.inner_steps, args.timestep, args.baseline,
                   args.other_fast, args.residual)
    steps = max(4 * args.inner_steps, args.steps // copies**3)
    contexts = {name: make_context(scheme, system_data, args.platform) for name, scheme in runs.items()}
    # Every round starts from the state after the warm-up, so all rounds time the same
    # stretch of dynamics, and a fast model that would drift off over a long run
    # (a blow-up) cannot end the measurement.
    warm = {}
    for name, context in contexts.items():
        context.getIntegrator().step(args.warmup)
        warm[name] = context.getState(getPositions=True, getVelocities=True)
    samples = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, scheme in runs.items():
            contexts[name].setState(warm[name])
            outer = max(1, steps // (args.rounds * scheme.get("inner", 1)))
            samples[name].append(timed_steps_per_second(contexts[name], outer))
    speed = {name: float(np.median(samples[name])) for name in runs}
    ns_day = {name: ns_per_day(speed[name], runs[name]["dt"]) for name in runs}
    r = speed["accurate-only"] / speed["fast-only"]   # t_fast / t_accurate
    rows = []
    for name, scheme in runs.items():
        speedup = ns_day[name] / ns_day["accurate-only"]
        ideal = ideal_speedup(scheme, speed)
        rows.append((name, speed[name], ns_day[name], speedup, ideal, speedup / ideal))
    return len(system_data[0]), steps, r, rows


def main(argv=None):
    parser = argparse.ArgumentParser(prog="switchingdp-bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accurate", default=bundled.ACCURATE_MODEL)
    parser.add_argument("--fast", default=bundled.FAST_MODEL)
    parser.add_argument("--pdb", default=bundled.WATER_PDB)
    parser.add_argument("--replicate", type=int, nargs="+", default=[1, 2],
                        help="tile the PDB box n x n x n times; one table per value")
    parser.add_argument("--interval", type=int, default=4, help="alternation: accurate on 1 step in this many")
    parser.add_argument("--inner-steps", type=int, default=4, help="rRESPA: inner steps per outer step")
    parser.add_argument("--timestep", type=float, default=0.5, help="inner time step, fs")
    parser.add_argument("--steps", type=int, default=200, help="timed inner steps per run at the smallest size")
    parser.add_argument("--warmup", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds; the median is kept")
    parser.add_argument("--platform", default="CPU")
    parser.add_argument("--other-fast", nargs="+", default=[], metavar="MODEL",
                        help="more fast models to compare (e.g. a compressed float32 one)")
    parser.add_argument("--residual", metavar="MODEL",
                        help="also time rRESPA with this residual model co-trained with --fast (Fu et al.)")
    parser.add_argument("--no-baseline", dest="baseline", action="store_false",
                        help="skip the PythonForce + DeepPot baseline (it needs deepmd-kit)")
    args = parser.parse_args(argv)
    if min(args.interval, args.inner_steps, args.steps, args.rounds, *args.replicate) < 1:
        parser.error("--interval, --inner-steps, --steps, --rounds and --replicate must be at least 1")

    results = []
    for copies in args.replicate:
        atoms, steps, r, rows = measure(args, copies)
        results.append((atoms, rows))
        print(f"\n{atoms} atoms on {args.platform}, {steps} timed inner steps per scheme in {args.rounds} "
              f"interleaved rounds (median), t_fast/t_accurate = {r:.2f}")
        print("| scheme | steps/s | ns/day | speedup vs accurate-only | ideal | efficiency |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, sps, nsd, speedup, ideal, efficiency in rows:
            print(f"| {name} | {sps:.2f} | {nsd:.3f} | {speedup:.2f}x | {ideal:.2f}x | {efficiency:.0%} |")
        sys.stdout.flush()
    return results


def command(argv=None):
    """The console script: main() returns its results for Python callers, which the
    script must not hand to sys.exit (that prints them and exits with status 1)."""
    main(argv)
    return 0


if __name__ == "__main__":
    command()
