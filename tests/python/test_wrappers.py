"""SwitchingDPForce inside wrappers that evaluate it in an inner Context
(CustomCVForce), and the energy scale parameter that replaces such a wrapper
where it would only scale the energy (openmm-ml's interpolation)."""
import numpy as np
import openmm as mm
import pytest

from helpers import ACCURATE, FAST, energy_forces, make_context, make_system, water
from openmmswitchingdp import SwitchingDPForce

STEPS = 12
INTERVAL = 4


def pair_force(interval=INTERVAL, scale=None):
    force = SwitchingDPForce(ACCURATE, FAST)
    force.setAccurateInterval(interval)
    if scale:
        force.setEnergyScaleParameter(scale)
    return force


def run(system, record_counts_of=None):
    """Energies (and the force's evaluation counts) at steps 0..STEPS of Verlet
    dynamics from the bundled water, one evaluation per step."""
    positions, _, _, _ = water()
    integrator = mm.VerletIntegrator(0.0005)
    context = make_context(system, positions, "Reference", integrator)
    context.setVelocitiesToTemperature(330, 7)
    energies, counts = [], []
    for _ in range(STEPS + 1):
        energies.append(context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(mm.unit.kilojoule_per_mole))
        if record_counts_of is not None:
            counts.append(list(record_counts_of.getEvaluationCounts(context)))
        integrator.step(1)
    return np.array(energies), counts, context


def direct_system(force):
    _, elements, masses, box = water()
    return make_system(masses, box, force, elements)


def wrapped_system(force, expression="E"):
    _, elements, masses, box = water()
    force.setTypes(elements)
    system = mm.System()
    for m in masses:
        system.addParticle(m)
    system.setDefaultPeriodicBoxVectors(*[mm.Vec3(*v) for v in box])
    cv = mm.CustomCVForce(expression)
    cv.addCollectiveVariable("E", force)
    system.addForce(cv)
    return system


@pytest.mark.parametrize("mode", ["alternating", "mts"])
def test_pair_inside_customcvforce_is_refused_before_a_wrong_step(mode):
    # The inner Context's step count never advances, so the schedule cannot follow
    # the outer steps: the force must say so, not use step 0's model forever.
    force = pair_force()
    if mode == "mts":
        force.setMode(SwitchingDPForce.MultipleTimeStep)
    positions, _, _, _ = water()
    integrator = mm.VerletIntegrator(0.0005)
    context = make_context(wrapped_system(force), positions, "Reference", integrator)
    context.getState(getEnergy=True)
    with pytest.raises(Exception) as error:
        integrator.step(STEPS)
    message = str(error.value)
    assert "CustomCVForce" in message and "step count" in message and "setEnergyScaleParameter" in message
    # Step 0 was taken (its forces are those of outer step 0); step 1 was refused.
    assert context.getStepCount() == 1


def test_one_model_inside_customcvforce_matches_the_direct_force():
    # No schedule, so nothing to follow: the wrapper is fine.
    direct, _, _ = run(direct_system(SwitchingDPForce(ACCURATE)))
    wrapped, _, _ = run(wrapped_system(SwitchingDPForce(ACCURATE)))
    np.testing.assert_allclose(wrapped, direct, rtol=1e-12, atol=1e-9)


def test_scale_parameter_at_one_follows_the_schedule_exactly():
    # What MLPotential('switchingdp') builds for interpolate=True: the force sits
    # in the System with energy scale "lambda_interpolate", so alternation follows
    # the integrator's steps: energies and counts equal the plain force's, step by step.
    plain = pair_force()
    scaled = pair_force(scale="lambda_interpolate")
    energies, counts, _ = run(direct_system(plain), plain)
    scaled_energies, scaled_counts, context = run(direct_system(scaled), scaled)
    np.testing.assert_array_equal(scaled_energies, energies)
    assert scaled_counts == counts
    assert counts[-1] == [STEPS // INTERVAL + 1, STEPS - STEPS // INTERVAL]
    assert context.getParameter("lambda_interpolate") == 1.0
    # Energies alternate: steps 1-3 use the fast model, which differs from the accurate one.
    assert abs(energies[1] - energies[0]) > 1.0


def test_scale_parameter_multiplies_energy_and_forces_and_zero_evaluates_nothing():
    positions, _, _, _ = water()
    force = pair_force(interval=1, scale="lam")
    context = make_context(direct_system(force), positions, "Reference", mm.VerletIntegrator(0.0005))
    full_energy, full_forces = energy_forces(context)
    context.setParameter("lam", 0.3)
    energy, forces = energy_forces(context)
    assert energy == pytest.approx(0.3 * full_energy, rel=1e-12)
    np.testing.assert_allclose(forces, 0.3 * full_forces, rtol=1e-12, atol=1e-9)
    counts = list(force.getEvaluationCounts(context))
    context.setParameter("lam", 0.0)
    energy, forces = energy_forces(context)
    assert energy == 0.0 and not np.any(forces)
    assert list(force.getEvaluationCounts(context)) == counts


def test_scale_parameter_errors_and_xml():
    force = pair_force()
    with pytest.raises(Exception, match="not a valid global parameter name"):
        force.setEnergyScaleParameter("lambda interpolate")
    force.setEnergyScaleParameter("lam")
    copy = mm.XmlSerializer.deserialize(mm.XmlSerializer.serialize(force))
    assert SwitchingDPForce.cast(copy).getEnergyScaleParameter() == "lam"
    positions, _, _, _ = water()
    context = make_context(direct_system(force), positions, "Reference", mm.VerletIntegrator(0.0005))
    force.setEnergyScaleParameter("other")
    with pytest.raises(Exception, match="fixed when the Context is created"):
        force.updateParametersInContext(context)
    context.setParameter("lam", float("nan"))
    with pytest.raises(Exception, match="not finite"):
        context.getState(getEnergy=True)


def test_setting_the_time_of_a_stepped_context_is_not_mistaken_for_a_wrapper():
    positions, _, _, _ = water()
    force = pair_force()
    integrator = mm.VerletIntegrator(0.0005)
    context = make_context(direct_system(force), positions, "Reference", integrator)
    integrator.step(2)
    context.setTime(10.0)
    context.getState(getEnergy=True)
    context.setTime(20.0)
    context.getState(getEnergy=True)
    integrator.step(1)
    assert context.getStepCount() == 3
