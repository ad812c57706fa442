"""Speed of alternating models against each single model, measured side by side.

For each system size it runs accurate-only, fast-only and alternating (1 accurate
step in --interval) Langevin MD in one process, and prints steps/s, the speedup
over accurate-only, the ideal speedup interval / (1 + (interval-1) t_fast/t_accurate)
from the single-model step times measured in the same run, and their ratio.

    python -m openmmswitchingdp.bench --replicate 1 2
"""
import argparse
import sys
import time

import numpy as np

from . import bundled


def replicated_water(pdb_path, copies):
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


def steps_per_second(accurate, fast, interval, positions, elements, masses, box, platform, steps, warmup, seed=1):
    import openmm as mm
    from . import SwitchingDPForce
    system = mm.System()
    for m in masses:
        system.addParticle(m)
    system.setDefaultPeriodicBoxVectors(*[mm.Vec3(*v) for v in box])
    force = SwitchingDPForce(accurate, fast)
    force.setTypes(elements)
    force.setAccurateInterval(interval)
    system.addForce(force)
    integrator = mm.LangevinMiddleIntegrator(330, 1.0, 0.0005)
    integrator.setRandomNumberSeed(seed)
    context = mm.Context(system, integrator, mm.Platform.getPlatformByName(platform))
    context.setPositions([mm.Vec3(*p) for p in positions])
    context.setVelocitiesToTemperature(330, seed)
    integrator.step(warmup)
    context.getState(getEnergy=True)   # finish any queued work before timing
    start = time.perf_counter()
    integrator.step(steps)
    context.getState(getEnergy=True)
    return steps / (time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accurate", default=bundled.ACCURATE_MODEL)
    parser.add_argument("--fast", default=bundled.FAST_MODEL)
    parser.add_argument("--pdb", default=bundled.WATER_PDB)
    parser.add_argument("--replicate", type=int, nargs="+", default=[1, 2],
                        help="tile the PDB box n x n x n times; one row per value")
    parser.add_argument("--interval", type=int, default=4)
    parser.add_argument("--steps", type=int, default=200, help="timed steps per run")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--platform", default="CPU")
    args = parser.parse_args(argv)

    rows = []
    for copies in args.replicate:
        system = replicated_water(args.pdb, copies)
        n = len(system[0])
        steps = max(20, args.steps // copies**3)   # similar wall time per row
        acc = steps_per_second(args.accurate, args.fast, 1, *system, args.platform, steps, args.warmup)
        fast = steps_per_second(args.fast, args.fast, 1, *system, args.platform, steps, args.warmup)
        alt = steps_per_second(args.accurate, args.fast, args.interval, *system, args.platform, steps, args.warmup)
        ratio = acc / fast    # t_fast / t_accurate
        ideal = args.interval / (1 + (args.interval - 1) * ratio)
        rows.append((n, steps, acc, fast, alt, alt / acc, ideal, (alt / acc) / ideal))
        print(f"{n} atoms done", file=sys.stderr, flush=True)

    print(f"platform {args.platform}, interval {args.interval} (1:{args.interval - 1}), LangevinMiddle 0.5 fs")
    print("| atoms | timed steps | accurate-only steps/s | fast-only steps/s | alternating steps/s "
          "| speedup | ideal speedup | efficiency |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, steps, acc, fast, alt, speedup, ideal, efficiency in rows:
        print(f"| {n} | {steps} | {acc:.2f} | {fast:.2f} | {alt:.2f} | {speedup:.2f}x | {ideal:.2f}x | {efficiency:.0%} |")
    return rows


if __name__ == "__main__":
    main()
