"""MultipleTimeStep mode: the fast model in the Force's group, the slow term in
another, under OpenMM's MTS integrators."""
import numpy as np
import openmm as mm
import openmm.unit as unit
import pytest
from openmm.mtsintegrator import MTSIntegrator, MTSLangevinIntegrator

from helpers import (ACCURATE, FAST, RESIDUAL, deepmd_energy_forces, make_context, make_system, positions_of, water)
from openmmswitchingdp import SwitchingDPForce

SLOW_GROUP = 1
TERMS = [SwitchingDPForce.Difference, SwitchingDPForce.Residual]
TERM_IDS = ["difference", "residual"]


def mts_context(term, integrator, platform="Reference"):
    """Water with the fast model in group 0 and the slow term in group 1.  For the
    Residual term the 6 A model stands in for a residual model: the test is about
    plumbing (E = E_fast + E_second), not physics."""
    positions, elements, masses, box = water()
    force = SwitchingDPForce(ACCURATE, FAST)
    force.setMode(SwitchingDPForce.MultipleTimeStep)
    force.setSlowForceGroup(SLOW_GROUP)
    force.setSlowTerm(term)
    system = make_system(masses, box, force, elements)
    context = make_context(system, positions, platform, integrator)
    context.setVelocitiesToTemperature(330, 3)
    return context, force


def group_energy_forces(context, groups):
    state = context.getState(getEnergy=True, getForces=True, groups=groups)
    return state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole), np.array(state.getForces(asNumpy=True).value_in_unit(unit.kilojoule_per_mole / unit.nanometer))


def slow_reference(term, positions, elements, box):
    e6, f6 = deepmd_energy_forces(ACCURATE, positions, elements, box)
    if term == SwitchingDPForce.Residual:
        return e6, f6
    e4, f4 = deepmd_energy_forces(FAST, positions, elements, box)
    return e6 - e4, f6 - f4


@pytest.mark.parametrize("platform", ["Reference", "CPU"])
@pytest.mark.parametrize("term", TERMS, ids=TERM_IDS)
def test_groups_split_the_potential(term, platform):
    positions, elements, masses, box = water()
    context, force = mts_context(term, mm.VerletIntegrator(0.0005), platform)
    e_fast, f_fast = group_energy_forces(context, {0})
    e_slow, f_slow = group_energy_forces(context, {SLOW_GROUP})
    e_all, f_all = group_energy_forces(context, {0, SLOW_GROUP})
    ref_fast = deepmd_energy_forces(FAST, positions, elements, box)
    ref_slow = slow_reference(term, positions, elements, box)
    for (e, f), (re, rf) in (((e_fast, f_fast), ref_fast), ((e_slow, f_slow), ref_slow),
                             ((e_all, f_all), (ref_fast[0] + ref_slow[0], ref_fast[1] + ref_slow[1]))):
        assert e == pytest.approx(re, rel=1e-8, abs=1e-8)
        assert np.abs(f - rf).max() <= 1e-8 * np.abs(rf).max()
    if term == SwitchingDPForce.Difference:
        ref_acc = deepmd_energy_forces(ACCURATE, positions, elements, box)
        assert e_all == pytest.approx(ref_acc[0], rel=1e-8)
    # Three requests at one position: each model ran once.
    assert list(force.getEvaluationCounts(context)) == [1, 1]


@pytest.mark.parametrize("term", TERMS, ids=TERM_IDS)
def test_mts_integrator_matches_python_respa(term):
    inner, dt, outer_steps = 4, 0.002, 10
    positions, elements, masses, box = water()
    context, force = mts_context(term, MTSIntegrator(dt, [(SLOW_GROUP, 1), (0, inner)]))
    v = np.array(context.getState(getVelocities=True).getVelocities(asNumpy=True).value_in_unit(unit.nanometer / unit.picosecond))
    context.getIntegrator().step(outer_steps)
    plugin = positions_of(context)

    x = positions.copy()
    inv_mass = 1.0 / np.array(masses)[:, None]
    fast = lambda x: deepmd_energy_forces(FAST, x, elements, box)[1]
    slow = lambda x: slow_reference(term, x, elements, box)[1]
    h = dt / inner
    f_slow = slow(x)
    for _ in range(outer_steps):
        v = v + 0.5 * dt * f_slow * inv_mass
        for _ in range(inner):
            v = v + 0.5 * h * fast(x) * inv_mass
            x = x + h * v
            v = v + 0.5 * h * fast(x) * inv_mass
        f_slow = slow(x)
        v = v + 0.5 * dt * f_slow * inv_mass
    assert np.abs(plugin - x).max() < 1e-9
    assert np.abs(plugin - positions).max() > 1e-3


@pytest.mark.parametrize("make_integrator", [
    lambda k: MTSIntegrator(0.002, [(SLOW_GROUP, 1), (0, k)]),
    lambda k: MTSLangevinIntegrator(330, 1.0, 0.002, [(SLOW_GROUP, 1), (0, k)]),
], ids=["MTSIntegrator", "MTSLangevinIntegrator"])
@pytest.mark.parametrize("with_get_state", [False, True], ids=["plain", "getState between steps"])
def test_each_outer_step_runs_slow_model_once_and_fast_model_k_times(make_integrator, with_get_state):
    k, steps = 4, 6
    context, force = mts_context(SwitchingDPForce.Difference, make_integrator(k))
    integrator = context.getIntegrator()
    integrator.step(1)          # the first step also evaluates both models at the start
    previous = np.array(force.getEvaluationCounts(context))
    for _ in range(steps):
        if with_get_state:
            context.getState(getEnergy=True, getForces=True)
        integrator.step(1)
        counts = np.array(force.getEvaluationCounts(context))
        assert list(counts - previous) == [1, k]
        previous = counts


def test_co_trained_pair_sums_fast_and_residual_like_deepmd():
    """The committed co-trained pair: group 0 is the 4 A model, group 1 the residual,
    and their sum is what the two deepmd-kit models give together."""
    positions, elements, masses, box = water()
    force = SwitchingDPForce(RESIDUAL, FAST)
    force.setMode(SwitchingDPForce.MultipleTimeStep)
    force.setSlowForceGroup(SLOW_GROUP)
    force.setSlowTerm(SwitchingDPForce.Residual)
    system = make_system(masses, box, force, elements)
    context = make_context(system, positions, "CPU")
    e_slow, f_slow = group_energy_forces(context, {SLOW_GROUP})
    e_all, f_all = group_energy_forces(context, {0, SLOW_GROUP})
    e_res, f_res = deepmd_energy_forces(RESIDUAL, positions, elements, box)
    e_fast, f_fast = deepmd_energy_forces(FAST, positions, elements, box)
    assert e_slow == pytest.approx(e_res, rel=1e-8)
    assert np.abs(f_slow - f_res).max() <= 1e-8 * np.abs(f_res).max()
    assert e_all == pytest.approx(e_fast + e_res, rel=1e-8)
    assert np.abs(f_all - (f_fast + f_res)).max() <= 1e-8 * np.abs(f_fast).max()
    # A residual is a correction: its forces are several times smaller than the fast model's.
    assert np.sqrt((f_res**2).mean()) < 0.5 * np.sqrt((f_fast**2).mean())
