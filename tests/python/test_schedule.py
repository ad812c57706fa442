"""The alternation schedule: counts, independence from getState, minimisation and
checkpoints, and a Python re-implementation of Verlet with deepmd-kit inference."""
import numpy as np
import openmm as mm
import openmm.unit as unit
import pytest

from helpers import ACCURATE, FAST, deepmd_energy_forces, make_context, make_force, make_system, positions_of, water
from openmmswitchingdp import SwitchingDPForce


def water_context(platform="Reference", integrator=None, interval=4, phase=0):
    positions, elements, masses, box = water()
    force = make_force()
    force.setAccurateInterval(interval)
    force.setAccuratePhase(phase)
    system = make_system(masses, box, force, elements)
    integrator = integrator or mm.VerletIntegrator(0.0005)
    context = make_context(system, positions, platform, integrator)
    context.setVelocitiesToTemperature(330, 1)
    return context, integrator, force


def test_model_for_step_follows_interval_and_phase():
    force = make_force()
    force.setAccurateInterval(4)
    force.setAccuratePhase(1)
    expected = [SwitchingDPForce.Fast, SwitchingDPForce.Accurate, SwitchingDPForce.Fast, SwitchingDPForce.Fast,
                SwitchingDPForce.Fast, SwitchingDPForce.Accurate]
    assert [force.getModelForStep(s) for s in range(6)] == expected


@pytest.mark.parametrize("platform", ["Reference", "CPU"])
def test_forty_steps_give_ten_accurate_and_thirty_fast(platform):
    context, integrator, force = water_context(platform)
    integrator.step(40)
    assert list(force.getEvaluationCounts(context)) == [10, 30]
    assert context.getStepCount() == 40


def test_get_state_changes_neither_trajectory_nor_counts():
    plain, plain_integrator, plain_force = water_context()
    plain_integrator.step(40)
    probed, probed_integrator, probed_force = water_context()
    energies = []
    for step in range(40):
        if step > 0:
            state = probed.getState(getEnergy=True, getForces=True)
            energies.append(state.getPotentialEnergy())
        probed_integrator.step(1)
    assert np.array_equal(positions_of(plain), positions_of(probed))
    assert list(probed_force.getEvaluationCounts(probed)) == list(plain_force.getEvaluationCounts(plain)) == [10, 30]


def test_minimisation_uses_the_current_steps_model_and_keeps_the_step_count():
    context, integrator, force = water_context()
    integrator.step(3)                      # step count 3: a fast step with interval 4
    before = list(force.getEvaluationCounts(context))
    mm.LocalEnergyMinimizer.minimize(context, 1.0, 5)
    after = list(force.getEvaluationCounts(context))
    assert context.getStepCount() == 3
    assert after[0] == before[0] and after[1] > before[1]
    integrator.step(1)                      # step 3 is fast, so still no accurate call
    integrator.step(1)                      # step 4 is accurate
    assert force.getEvaluationCounts(context)[0] == before[0] + 1


@pytest.mark.parametrize("integrator_type", ["Verlet", "LangevinMiddle"])
def test_checkpoint_resumes_schedule_bit_for_bit(integrator_type):
    def new_integrator():
        if integrator_type == "Verlet":
            return mm.VerletIntegrator(0.0005)
        integrator = mm.LangevinMiddleIntegrator(330, 1.0, 0.0005)
        integrator.setRandomNumberSeed(17)
        return integrator

    context, integrator, force = water_context(integrator=new_integrator())
    integrator.step(21)
    checkpoint = context.createCheckpoint()
    integrator.step(19)
    expected = positions_of(context)

    resumed, resumed_integrator, resumed_force = water_context(integrator=new_integrator())
    resumed.loadCheckpoint(checkpoint)
    assert resumed.getStepCount() == 21
    before = np.array(resumed_force.getEvaluationCounts(resumed))
    resumed_integrator.step(19)
    assert np.array_equal(positions_of(resumed), expected)
    # steps 21..39 with interval 4: accurate at 24, 28, 32, 36
    assert list(np.array(resumed_force.getEvaluationCounts(resumed)) - before) == [4, 15]


def test_verlet_trajectory_matches_python_reimplementation_with_deepmd():
    """OpenMM's Verlet (leapfrog) integrator re-implemented in numpy, switching
    models by the same rule, with forces from deepmd-kit's DeepPot."""
    interval, phase, dt, steps = 4, 1, 0.0005, 20
    context, integrator, force = water_context(interval=interval, phase=phase)
    positions, elements, masses, box = water()
    velocities = np.array(context.getState(getVelocities=True).getVelocities(asNumpy=True).value_in_unit(unit.nanometer / unit.picosecond))
    integrator.step(steps)
    plugin = positions_of(context)

    x, v = positions.copy(), velocities.copy()
    inv_mass = 1.0 / np.array(masses)[:, None]
    for step in range(steps):
        model = ACCURATE if (step - phase) % interval == 0 else FAST
        _, f = deepmd_energy_forces(model, x, elements, box)
        v = v + dt * f * inv_mass
        x = x + dt * v
    assert np.abs(plugin - x).max() < 1e-9        # nm; after 20 steps of 0.5 fs
    assert np.abs(plugin - positions).max() > 1e-4  # the atoms did move


def test_update_parameters_in_context_changes_the_schedule_only_when_called():
    context, integrator, force = water_context(interval=4)
    force.setAccurateInterval(2)            # not yet in the Context
    integrator.step(8)
    assert list(force.getEvaluationCounts(context)) == [2, 6]
    force.updateParametersInContext(context)
    integrator.step(8)                      # steps 8..15 with interval 2
    assert list(force.getEvaluationCounts(context)) == [2 + 4, 6 + 4]
