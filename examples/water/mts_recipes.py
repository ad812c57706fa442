"""The three CustomIntegrator recipes of openmmswitchingdp.integrators on the bundled water.

    python mts_recipes.py [--steps 200]

1. VelocityVerletRESPAIntegrator: NVE rRESPA, 2 fs outer / 0.5 fs inner, slow term
   accurate - fast.  Use it to check a pair's energy conservation before production.
2. BAOABRESPAIntegrator: the same splitting at 330 K with Langevin friction in every
   inner step.  The production integrator for MultipleTimeStep mode.
3. AlternatingLangevinIntegrator: BAOAB at 0.5 fs with the force in Alternating mode
   (accurate model on 1 step in 4).

Each run prints the model evaluation counts, which show the schedule at work.
"""
import argparse
import os

import openmm as mm
import openmm.app as app

from openmmml import MLPotential
from openmmswitchingdp import SwitchingDPForce
from openmmswitchingdp.integrators import (AlternatingLangevinIntegrator, BAOABRESPAIntegrator,
                                           VelocityVerletRESPAIntegrator)

HERE = os.path.dirname(os.path.abspath(__file__))


def simulate(integrator, mts, steps):
    pdb = app.PDBFile(os.path.join(HERE, "water.pdb"))
    potential = MLPotential("switchingdp", accurate=os.path.join(HERE, "water_6A.pth"),
                            fast=os.path.join(HERE, "water_4A.pth"))
    settings = dict(mode="mts", slowForceGroup=1) if mts else {}
    system = potential.createSystem(pdb.topology, removeCMMotion=False, **settings)
    force = SwitchingDPForce.cast(system.getForce(0))
    context = mm.Context(system, integrator, mm.Platform.getPlatformByName("CPU"))
    context.setPositions(pdb.positions)
    context.setVelocitiesToTemperature(330, 1)
    integrator.step(steps)
    state = context.getState(getEnergy=True)
    accurate, fast = force.getEvaluationCounts(context)
    print(f"  {steps} steps, {state.getTime()}; potential {state.getPotentialEnergy()}, "
          f"kinetic {state.getKineticEnergy()}; model calls: {accurate} accurate, {fast} fast")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=200, help="outer steps per run")
    args = parser.parse_args()
    print("velocity-Verlet rRESPA, 2 fs / 0.5 fs (NVE)")
    simulate(VelocityVerletRESPAIntegrator(0.002, 4), True, args.steps)
    print("BAOAB-RESPA, 2 fs / 0.5 fs, 330 K")
    simulate(BAOABRESPAIntegrator(330, 1.0, 0.002, 4), True, args.steps)
    print("alternating BAOAB Langevin, 0.5 fs, 330 K, accurate on 1 step in 4")
    simulate(AlternatingLangevinIntegrator(330, 1.0, 0.0005), False, args.steps)


if __name__ == "__main__":
    main()
