"""openmm-ml's MLPotential('switchingdp'): createSystem and createMixedSystem (ML/MM
water: part DP, part TIP3P), with and without interpolation, against Systems built
by hand with the force used directly."""

import numpy as np
import openmm as mm
import openmm.app as app
import openmm.unit as u
import pytest
from openmmml import MLPotential

from helpers import ACCURATE, FAST, WATER_PDB, energy_forces
from openmmswitchingdp import SwitchingDPForce, typesFromTopology

STEPS = 100
INTERVAL = 4
ML_WATERS = 16          # the first 16 of the 64 waters are DP, the rest TIP3P

@pytest.fixture(scope="module")
def pdb():
    return app.PDBFile(WATER_PDB)

@pytest.fixture(scope="module")
def ml_atoms(pdb):
    return [atom.index for atom in pdb.topology.atoms() if atom.residue.index < ML_WATERS]

def mm_system(pdb):
    forcefield = app.ForceField("tip3p.xml")
    return forcefield.createSystem(pdb.topology, nonbondedMethod=app.PME, nonbondedCutoff=0.6 * u.nanometer,
                                   rigidWater=False)

def energy(context):
    return context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(u.kilojoule_per_mole)

def new_context(system, pdb, seed=3):
    integrator = mm.LangevinMiddleIntegrator(330 * u.kelvin, 1 / u.picosecond, 0.5 * u.femtosecond)
    integrator.setRandomNumberSeed(seed)
    context = mm.Context(system, integrator, mm.Platform.getPlatformByName("Reference"))
    context.setPositions(pdb.positions)
    context.setVelocitiesToTemperature(330 * u.kelvin, seed)
    return context

def dp_force(system):
    forces = [f for f in system.getForces() if SwitchingDPForce.isinstance(f)]
    assert len(forces) == 1
    return SwitchingDPForce.cast(forces[0])

def run_and_compare(system, reference, pdb, steps=STEPS, every=10, energy_of=None):
    """Run `system` for `steps`; every `every` steps compare its energy with the
    reference System's at the same positions and step count (same model chosen)."""
    context = new_context(system, pdb)
    check = mm.Context(reference, mm.VerletIntegrator(0.001), mm.Platform.getPlatformByName("Reference"))
    compared = 0
    for _ in range(steps // every):
        context.getIntegrator().step(every)
        state = context.getState(getPositions=True, getEnergy=True)
        check.setPositions(state.getPositions())
        check.setStepCount(context.getStepCount())
        expected = energy_of(check) if energy_of else energy(check)
        actual = state.getPotentialEnergy().value_in_unit(u.kilojoule_per_mole)
        assert actual == pytest.approx(expected, rel=1e-9, abs=1e-6), context.getStepCount()
        compared += 1
    assert compared == steps // every
    return context

def test_create_system_matches_the_force_used_directly(pdb):
    potential = MLPotential("switchingdp", accurate=ACCURATE, fast=FAST)
    system = potential.createSystem(pdb.topology, interval=INTERVAL)
    force = dp_force(system)
    assert force.getAccurateInterval() == INTERVAL and list(force.getTypes()) == typesFromTopology(pdb.topology)
    assert force.usesPeriodicBoundaryConditions()
    direct = mm.System()
    for atom in pdb.topology.atoms():
        direct.addParticle(atom.element.mass)
    direct.setDefaultPeriodicBoxVectors(*pdb.topology.getPeriodicBoxVectors())
    plain = SwitchingDPForce(ACCURATE, FAST)
    plain.setAccurateInterval(INTERVAL)
    plain.setTypes(typesFromTopology(pdb.topology))
    direct.addForce(plain)
    direct.addForce(mm.CMMotionRemover())
    # The same System, so the same trajectory, step for step, bit for bit.  (One run
    # after the other: the Reference platform's Langevin noise comes from one
    # process-wide generator, so interleaved runs would draw different numbers.)
    def energies(context):
        values = []
        for _ in range(STEPS // 10):
            context.getIntegrator().step(10)
            values.append(energy(context))
        return values
    a = new_context(system, pdb)
    assert energies(a) == energies(new_context(direct, pdb))
    assert list(force.getEvaluationCounts(a)) == [STEPS // INTERVAL + 1, STEPS - STEPS // INTERVAL]

def hand_built_mixed(pdb, ml_atoms):
    """ML/MM with mechanical embedding, built without openmm-ml: TIP3P without the
    ML waters' internal terms and ML-ML nonbonded pairs, plus the force on the ML atoms."""
    system = mm_system(pdb)
    ml = set(ml_atoms)
    for force in system.getForces():
        if isinstance(force, mm.HarmonicBondForce):
            for i in range(force.getNumBonds()):
                p1, p2, length, k = force.getBondParameters(i)
                if p1 in ml and p2 in ml:
                    force.setBondParameters(i, p1, p2, length, 0.0)
        elif isinstance(force, mm.HarmonicAngleForce):
            for i in range(force.getNumAngles()):
                p1, p2, p3, angle, k = force.getAngleParameters(i)
                if p1 in ml:
                    force.setAngleParameters(i, p1, p2, p3, angle, 0.0)
        elif isinstance(force, mm.NonbondedForce):
            force.setExceptionsUsePeriodicBoundaryConditions(True)
            for i in ml_atoms:
                for j in ml_atoms:
                    if j < i:
                        force.addException(i, j, 0, 1, 0, True)
    force = SwitchingDPForce(ACCURATE, FAST)
    force.setAccurateInterval(INTERVAL)
    force.setParticles(ml_atoms)
    force.setTypes(typesFromTopology(pdb.topology, ml_atoms))
    system.addForce(force)
    return system

def test_create_mixed_system_matches_a_hand_built_ml_mm_system(pdb, ml_atoms):
    potential = MLPotential("switchingdp", accurate=ACCURATE, fast=FAST)
    mixed = potential.createMixedSystem(pdb.topology, mm_system(pdb), ml_atoms, interval=INTERVAL)
    force = dp_force(mixed)
    assert list(force.getParticles()) == ml_atoms
    context = run_and_compare(mixed, hand_built_mixed(pdb, ml_atoms), pdb)
    assert list(force.getEvaluationCounts(context)) == [STEPS // INTERVAL + 1, STEPS - STEPS // INTERVAL]

def test_interpolating_mixed_system_follows_the_schedule_and_interpolates(pdb, ml_atoms):
    # openmm-ml would put the force in a CustomCVForce, where it cannot follow the
    # steps; here it sits in the System, scaled by lambda_interpolate.
    potential = MLPotential("switchingdp", accurate=ACCURATE, fast=FAST)
    mixed = potential.createMixedSystem(pdb.topology, mm_system(pdb), ml_atoms, interpolate=True, interval=INTERVAL)
    force = dp_force(mixed)
    assert force.getEnergyScaleParameter() == "lambda_interpolate"
    reference = hand_built_mixed(pdb, ml_atoms)
    context = run_and_compare(mixed, reference, pdb)
    assert list(force.getEvaluationCounts(context)) == [STEPS // INTERVAL + 1, STEPS - STEPS // INTERVAL]
    # At any lambda, the energy and forces equal openmm-ml's own construction (its
    # mechanical embedding, with the ML term inside its CustomCVForce), built with a
    # one-model force, which needs no schedule, at a step where the pair uses the
    # accurate model.
    from openmmml.mlpotential import MLPotential as Registry
    from openmmswitchingdp.mlpotential import SwitchingDPPotentialImpl
    embedding = Registry._embeddingFactories["mechanical"].createEmbedding("mechanical")
    wrapped = embedding.createMixedSystem(SwitchingDPPotentialImpl("switchingdp", model=ACCURATE), pdb.topology,
                                          mm_system(pdb), ml_atoms, 0, True)
    assert not any(SwitchingDPForce.isinstance(f) for f in wrapped.getForces())   # it is inside the CustomCVForce
    openmm_ml = mm.Context(wrapped, mm.VerletIntegrator(0.001), mm.Platform.getPlatformByName("Reference"))
    positions = context.getState(getPositions=True).getPositions()
    openmm_ml.setPositions(positions)
    context.setStepCount(4 * STEPS)
    for lam in (0.0, 0.3, 1.0):
        context.setParameter("lambda_interpolate", lam)
        openmm_ml.setParameter("lambda_interpolate", lam)
        e, f = energy_forces(context)
        e_ref, f_ref = energy_forces(openmm_ml)
        assert e == pytest.approx(e_ref, rel=1e-9), lam
        np.testing.assert_allclose(f, f_ref, rtol=1e-7, atol=1e-6)

def test_one_model_and_settings(pdb):
    system = MLPotential("switchingdp", model=ACCURATE).createSystem(pdb.topology, removeCMMotion=False)
    assert dp_force(system).getNumModels() == 1
    system = MLPotential("switchingdp", accurate=ACCURATE, fast=FAST).createSystem(
        pdb.topology, mode="mts", slowForceGroup=2, slowTerm="difference", neighborListSkin=0.5 * u.angstrom)
    force = dp_force(system)
    assert force.getMode() == SwitchingDPForce.MultipleTimeStep and force.getSlowForceGroup() == 2
    assert force.getNeighborListSkin() == 0.05 * u.nanometer

@pytest.mark.parametrize("arguments, error", [
    (dict(accurate=ACCURATE), "accurate= and fast="),
    (dict(model=ACCURATE, fast=FAST), "not both"),
    (dict(model=ACCURATE, interval=4), "unknown arguments"),
    (dict(model="/nonexistent/model.pth"), "model.pth"),
])
def test_constructor_errors(arguments, error):
    with pytest.raises(Exception, match=error):
        MLPotential("switchingdp", **arguments)

def test_create_system_errors(pdb):
    potential = MLPotential("switchingdp", accurate=ACCURATE, fast=FAST)
    with pytest.raises(TypeError, match="intervall"):
        potential.createSystem(pdb.topology, intervall=4)
    with pytest.raises(ValueError, match="mode must be one of"):
        potential.createSystem(pdb.topology, mode="respa")
    with pytest.raises(Exception, match="at least 1"):
        potential.createSystem(pdb.topology, interval=0)

def test_the_settings_come_from_one_table(pdb):
    """createSystem's keywords are FORCE_SETTINGS' (and types): each names a setter of the
    force, each is applied, and the mode's other spellings are refused naming "mts"."""
    from openmmswitchingdp import mlpotential
    assert mlpotential.FORCE_ARGUMENTS == ("types",) + tuple(name for name, _, _ in mlpotential.FORCE_SETTINGS)
    assert all(hasattr(SwitchingDPForce, setter) for _, setter, _ in mlpotential.FORCE_SETTINGS)
    potential = MLPotential("switchingdp", accurate=ACCURATE, fast=FAST)
    force = dp_force(potential.createSystem(pdb.topology, interval=3, phase=1, fallbackSteps=5,
                                            deviationThreshold=0.7))
    assert (force.getAccurateInterval(), force.getAccuratePhase(), force.getFallbackSteps()) == (3, 1, 5)
    assert force.getDeviationThreshold() == pytest.approx(0.7)
    for spelling in ("rRESPA", "MultipleTimeStep"):
        with pytest.raises(ValueError, match="is spelled 'mts'"):
            potential.createSystem(pdb.topology, mode=spelling)


@pytest.mark.parametrize("first", ["openmmswitchingdp.mlpotential", "openmmml"])
def test_either_import_order_registers_the_potential(first):
    # openmm-ml loads its entry points while openmmml.mlpotential is being imported;
    # a script that imports our module first must still get a working registry.
    import subprocess
    import sys
    script = (f"import {first}\n"
              "from openmmml import MLPotential\n"
              "from openmmswitchingdp.mlpotential import SwitchingDPPotentialImpl\n"
              f"impl = MLPotential._implFactories['switchingdp'].createImpl('switchingdp', accurate={str(ACCURATE)!r}, "
              f"fast={str(FAST)!r})\n"
              "assert isinstance(impl, SwitchingDPPotentialImpl), type(impl)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
