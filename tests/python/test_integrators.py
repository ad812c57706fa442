"""The CustomIntegrator recipes of openmmswitchingdp.integrators."""
import numpy as np
import pytest
from openmm.mtsintegrator import MTSIntegrator

from helpers import make_context, make_force, make_system, positions_of, water
from openmmswitchingdp import SwitchingDPForce
from openmmswitchingdp.integrators import (AlternatingLangevinIntegrator, BAOABRESPAIntegrator,
                                           VelocityVerletRESPAIntegrator)


def context_with(integrator, mode):
    positions, elements, masses, box = water()
    force = make_force()
    if mode == "mts":
        force.setMode(SwitchingDPForce.MultipleTimeStep)
        force.setSlowForceGroup(1)
    system = make_system(masses, box, force, elements)
    context = make_context(system, positions, "Reference", integrator)
    context.setVelocitiesToTemperature(330, 5)
    return context, force


def run(integrator, steps, mode="mts"):
    context, force = context_with(integrator, mode)
    integrator.step(steps)
    return positions_of(context), np.array(force.getEvaluationCounts(context))


def test_velocity_verlet_respa_equals_openmm_mts_integrator():
    recipe, _ = run(VelocityVerletRESPAIntegrator(0.002, 4), 3)
    native, _ = run(MTSIntegrator(0.002, [(1, 1), (0, 4)]), 3)
    assert np.abs(recipe - native).max() < 1e-12


def test_baoab_respa_without_friction_is_velocity_verlet_respa():
    baoab, counts = run(BAOABRESPAIntegrator(330, 0.0, 0.002, 4), 3)
    verlet, _ = run(VelocityVerletRESPAIntegrator(0.002, 4), 3)
    assert np.abs(baoab - verlet).max() < 1e-10
    assert list(counts) == [3 + 1, 4 * 3 + 1]   # one slow and k fast per outer step, plus the start


def test_baoab_respa_with_friction_evaluates_each_model_as_scheduled():
    integrator = BAOABRESPAIntegrator(330, 5.0, 0.002, 2)
    integrator.setRandomNumberSeed(3)
    moved, counts = run(integrator, 4)
    assert list(counts) == [4 + 1, 2 * 4 + 1]
    assert np.isfinite(moved).all()


def test_alternating_langevin_uses_the_accurate_model_once_per_interval():
    integrator = AlternatingLangevinIntegrator(330, 1.0, 0.0005)
    integrator.setRandomNumberSeed(3)
    _, counts = run(integrator, 40, mode="alternating")
    # forces at x0 (step 0), then at x_{s+1} during step s: accurate for s = 0, 4, ..., 36
    assert list(counts) == [11, 30]


def test_bad_recipe_arguments():
    with pytest.raises(ValueError, match="innerSteps"):
        VelocityVerletRESPAIntegrator(0.002, 0)
    with pytest.raises(ValueError, match="must differ"):
        BAOABRESPAIntegrator(330, 1.0, 0.002, 4, fastGroup=1, slowGroup=1)
    with pytest.raises(ValueError, match="friction"):
        AlternatingLangevinIntegrator(330, -1.0, 0.0005)
