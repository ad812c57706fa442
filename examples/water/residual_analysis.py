"""How much, and how fast, the residual model's forces change compared with the full
model's, on the same MD (after Fu et al. 2023, Figure 2b/2c).

    python residual_analysis.py --residual water_6A_residual.pth --fast water_4A.pth

Runs Langevin MD with the full co-trained potential (fast + residual), and on every
frame splits the force into the fast model's and the residual's.  Prints the mean
force magnitude per atom and the mean frame-to-frame change |F(t+dt) - F(t)| of the
full force and of the residual force.  A residual that is small and slowly varying
is what lets rRESPA apply it with a long outer step.
"""
import argparse
import os

import numpy as np
import openmm as mm
import openmm.app as app
import openmm.unit as u

from openmmml import MLPotential
from openmmswitchingdp import SwitchingDPForce

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residual", default=os.path.join(HERE, "water_6A_residual.pth"))
    parser.add_argument("--fast", default=os.path.join(HERE, "water_4A.pth"))
    parser.add_argument("--pdb", default=os.path.join(HERE, "water.pdb"))
    parser.add_argument("--frames", type=int, default=400)
    parser.add_argument("--timestep", type=float, default=0.5, help="fs between frames")
    args = parser.parse_args()

    pdb = app.PDBFile(args.pdb)
    system = MLPotential("switchingdp", accurate=args.residual, fast=args.fast).createSystem(
        pdb.topology, removeCMMotion=False, mode="mts", slowTerm="residual", slowForceGroup=1)
    force = SwitchingDPForce.cast(system.getForce(0))
    integrator = mm.LangevinMiddleIntegrator(330, 1.0, args.timestep * 1e-3)
    integrator.setRandomNumberSeed(7)
    context = mm.Context(system, integrator, mm.Platform.getPlatformByName("CPU"))
    context.setPositions(pdb.positions)
    context.setVelocitiesToTemperature(330, 7)
    integrator.step(1000)  # settle into the co-trained potential

    fast, residual = [], []
    for _ in range(args.frames):
        integrator.step(1)
        fast.append(context.getState(getForces=True, groups={0}).getForces(asNumpy=True).value_in_unit(u.kilojoule_per_mole / u.nanometer))
        residual.append(context.getState(getForces=True, groups={1}).getForces(asNumpy=True).value_in_unit(u.kilojoule_per_mole / u.nanometer))
    fast, residual = np.array(fast), np.array(residual)
    full = fast + residual
    to_ev_per_a = 1 / 964.8533212331002
    rows = []
    for name, f in (("full (fast + residual)", full), ("fast model", fast), ("residual model", residual)):
        magnitude = np.linalg.norm(f, axis=2).mean() * to_ev_per_a
        change = np.linalg.norm(np.diff(f, axis=0), axis=2).mean() * to_ev_per_a
        rows.append((name, magnitude, change))
    print(f"{args.frames} frames, {args.timestep} fs apart, Langevin 330 K")
    print("| force | mean magnitude (eV/A) | mean change per frame (eV/A) |")
    print("|---|---:|---:|")
    for name, magnitude, change in rows:
        print(f"| {name} | {magnitude:.4f} | {change:.4f} |")
    print(f"residual / full: magnitude {rows[2][1] / rows[0][1]:.3f}, change per frame {rows[2][2] / rows[0][2]:.3f}")


if __name__ == "__main__":
    main()
