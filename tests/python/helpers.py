"""Shared test fixtures: the bundled water, Systems with a SwitchingDPForce, and
deepmd-kit's own inference as the independent reference."""
import functools
import os

import numpy as np
import openmm as mm
import openmm.app as app

from openmmswitchingdp import SwitchingDPForce

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WATER = os.path.join(ROOT, "examples", "water")
ACCURATE = os.path.join(WATER, "water_6A.pth")
FAST = os.path.join(WATER, "water_4A.pth")
RESIDUAL = os.path.join(WATER, "water_6A_residual.pth")   # co-trained with FAST (train_residual.py)
WATER_PDB = os.path.join(WATER, "water.pdb")
PT2_MODEL = os.path.join(ROOT, "tests", "data", "dpa3.pt2")   # exported by `dp --pt-expt freeze`

# OpenMM <-> deepmd units, written out independently of the plugin's own constants.
EV = 96.48533212331002      # kJ/mol
ANGSTROM = 0.1              # nm
MODEL_FILES = {SwitchingDPForce.Accurate: ACCURATE, SwitchingDPForce.Fast: FAST}


@functools.lru_cache(maxsize=None)
def water():
    """(positions nm [N,3], element symbols, masses, box vectors nm [3,3]) of water.pdb."""
    pdb = app.PDBFile(WATER_PDB)
    positions = np.array(pdb.getPositions(asNumpy=True).value_in_unit(mm.unit.nanometer))
    elements = [a.element.symbol for a in pdb.topology.atoms()]
    masses = [a.element.mass.value_in_unit(mm.unit.dalton) for a in pdb.topology.atoms()]
    box = np.array(pdb.topology.getPeriodicBoxVectors().value_in_unit(mm.unit.nanometer))
    return positions, elements, masses, box


@functools.lru_cache(maxsize=None)
def deep_pot(path):
    from deepmd.infer import DeepPot
    return DeepPot(path)


def deepmd_energy_forces(path, positions, elements, box=None, frame=(), atomic=()):
    """deepmd-kit's inference in OpenMM units: (kJ/mol, kJ/mol/nm [N,3]); frame and
    atomic parameters (particle-major) for models that take them."""
    dp = deep_pot(path)
    type_map = dp.get_type_map()
    atom_types = [type_map.index(e) for e in elements]
    coords = np.asarray(positions).reshape(1, -1) / ANGSTROM
    cells = None if box is None else np.asarray(box).reshape(1, 9) / ANGSTROM
    parameters = {}
    if len(frame):
        parameters["fparam"] = np.asarray(frame).reshape(1, -1)
    if len(atomic):
        parameters["aparam"] = np.asarray(atomic).reshape(1, len(elements), -1)
    energy, forces, _ = dp.eval(coords, cells, atom_types, **parameters)
    return float(energy[0, 0]) * EV, forces[0] * EV / ANGSTROM


def make_force(model=None, periodic=True):
    """A SwitchingDPForce; with `model` set, a schedule that uses that model at step 0."""
    force = SwitchingDPForce(ACCURATE, FAST)
    if model == SwitchingDPForce.Accurate:
        force.setAccurateInterval(1)
    elif model == SwitchingDPForce.Fast:
        force.setAccurateInterval(2)
        force.setAccuratePhase(1)
    force.setUsesPeriodicBoundaryConditions(periodic)
    return force


def make_system(masses, box, force, types):
    system = mm.System()
    for m in masses:
        system.addParticle(m)
    if box is not None:
        system.setDefaultPeriodicBoxVectors(*[mm.Vec3(*v) for v in box])
    force.setTypes(types)
    system.addForce(force)
    return system


def make_context(system, positions, platform="Reference", integrator=None, box=None):
    integrator = integrator or mm.VerletIntegrator(0.0005)
    context = mm.Context(system, integrator, mm.Platform.getPlatformByName(platform))
    if box is not None:
        context.setPeriodicBoxVectors(*[mm.Vec3(*v) for v in box])
    context.setPositions([mm.Vec3(*p) for p in positions])
    return context


def energy_forces(context):
    state = context.getState(getEnergy=True, getForces=True)
    return (state.getPotentialEnergy().value_in_unit(mm.unit.kilojoule_per_mole),
            np.array(state.getForces(asNumpy=True).value_in_unit(mm.unit.kilojoule_per_mole / mm.unit.nanometer)))


def positions_of(context):
    return np.array(context.getState(getPositions=True).getPositions(asNumpy=True).value_in_unit(mm.unit.nanometer))
