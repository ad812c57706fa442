"""How far apart a pair's models are along its own 1:3 alternation, to choose the
guard's threshold: checks on every accurate step, unguarded, from a state the
accurate model reached (as switchingdp-validate starts its runs), until --time ps or
the run gets hotter than --max-temperature.  Prints quantiles of the maximum atomic
force deviation and, per 0.1 ps, its largest value, and writes them to --out (JSON).

    python examples/water/deviation_survey.py --fast water_4A.pth --out good.json
    python examples/water/deviation_survey.py --fast water_4A_weak.pth --out weak.json
"""
import argparse
import json
import os

import numpy as np
import openmm as mm
import openmm.app as app
import openmm.unit as u
from openmmml import MLPotential

from openmmswitchingdp import SwitchingDPForce
from openmmswitchingdp.toolkit.validate import temperature_of

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accurate", default=os.path.join(HERE, "water_6A.pth"))
    parser.add_argument("--fast", required=True)
    parser.add_argument("--pdb", default=os.path.join(HERE, "water.pdb"))
    parser.add_argument("--equilibration", type=float, default=0.5, help="ps of accurate-only NVT first")
    parser.add_argument("--time", type=float, default=2.0, help="ps of alternation")
    parser.add_argument("--max-temperature", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out")
    args = parser.parse_args()

    pdb = app.PDBFile(args.pdb)
    system = MLPotential("switchingdp", accurate=args.accurate, fast=args.fast).createSystem(
        pdb.topology, removeCMMotion=False, interval=1)
    force = SwitchingDPForce.cast(system.getForce(0))
    integrator = mm.LangevinMiddleIntegrator(330 * u.kelvin, 1 / u.picosecond, 0.5 * u.femtosecond)
    integrator.setRandomNumberSeed(args.seed)
    context = mm.Context(system, integrator, mm.Platform.getPlatformByName("CPU"))
    context.setPositions(pdb.positions)
    context.setVelocitiesToTemperature(330 * u.kelvin, args.seed)
    integrator.step(int(args.equilibration * 2000))          # accurate every step (interval 1)
    force.setAccurateInterval(4)
    force.setDeviationCheckInterval(1)
    force.updateParametersInContext(context)

    atoms = system.getNumParticles()
    deviations, times, blew_up = [], [], None
    for _ in range(int(args.time * 2000) // 4):
        try:
            integrator.step(4)
        except Exception as error:   # NaN coordinates once the run has blown up
            blew_up = f"{context.getState().getTime().value_in_unit(u.picosecond):.3f} ps ({str(error)[:60]})"
            break
        deviation = force.getLastDeviation(context)
        deviations.append(deviation.maxForceDeviation)
        times.append(deviation.step * 0.0005 - args.equilibration)
        temperature = temperature_of(context.getState(getEnergy=True), atoms)
        if temperature > args.max_temperature:
            blew_up = f"{times[-1]:.3f} ps ({temperature:.0f} K)"
            break
    deviations = np.array(deviations)
    quantiles = {q: float(np.quantile(deviations, q)) for q in (0.5, 0.9, 0.99, 1.0)}
    per_window = {}
    for t, d in zip(times, deviations):
        key = f"{np.floor(t * 10) / 10:.1f}"
        per_window[key] = max(per_window.get(key, 0.0), float(d))
    print(f"{os.path.basename(args.fast)}: {len(deviations)} checks over {times[-1] if times else 0:.2f} ps of 1:3 "
          f"alternation; {'blew up after ' + blew_up if blew_up else 'stable'}")
    print("max force deviation quantiles (eV/A): " + ", ".join(f"{q:g}: {v:.3f}" for q, v in quantiles.items()))
    print("largest per 0.1 ps: " + ", ".join(f"{k}: {v:.2f}" for k, v in per_window.items()))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(dict(fast=os.path.basename(args.fast), checks=len(deviations), blew_up=blew_up,
                           quantiles=quantiles, largest_per_window=per_window), f, indent=1)


if __name__ == "__main__":
    main()
