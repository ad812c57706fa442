"""Guarded switching: the deviation between the models, the guard's schedule, its
checkpoints, the limit, the reporter and MTS's free deviation."""
import csv
import io

import numpy as np
import openmm as mm
import openmm.app as app
import pytest

from helpers import ACCURATE, ANGSTROM, EV, FAST, WATER_PDB, deepmd_energy_forces, make_context, make_force, make_system, water
from openmmswitchingdp import SwitchingDPForce
from openmmswitchingdp.reporters import DeviationReporter

INTERVAL = 4
A, F = SwitchingDPForce.Accurate, SwitchingDPForce.Fast


def guarded_context(check=1, threshold=0.0, fallback=0, limit=0.0, integrator=None):
    positions, elements, masses, box = water()
    force = make_force()
    force.setAccurateInterval(INTERVAL)
    force.setDeviationCheckInterval(check)
    force.setDeviationThreshold(threshold)
    force.setFallbackSteps(fallback)
    force.setDeviationLimit(limit)
    integrator = integrator or mm.VerletIntegrator(0.0005)
    context = make_context(make_system(masses, box, force, elements), positions, "Reference", integrator)
    context.setVelocitiesToTemperature(330, 5)
    return context, force


def run_steps(context, force, steps):
    """Per step: (model used, whether the fast model also ran for a check, last deviation)."""
    record = []
    # From zero: Context setup may already have evaluated step 0 (its forces are then reused).
    counts = [0, 0] if context.getStepCount() == 0 else list(force.getEvaluationCounts(context))
    for _ in range(steps):
        step = context.getStepCount()
        context.getIntegrator().step(1)
        now = list(force.getEvaluationCounts(context))
        ran = [now[0] - counts[0], now[1] - counts[1]]
        counts = now
        model = A if ran[0] else F
        record.append((step, model, bool(ran[0] and ran[1]), force.getLastDeviation(context)))
    return record


def test_deviation_equals_two_deepmd_evaluations():
    context, force = guarded_context(check=1)
    context.getState(getEnergy=True)        # step 0 is an accurate step: checked
    deviation = force.getLastDeviation(context)
    positions, elements, _, box = water()
    e_acc, f_acc = deepmd_energy_forces(ACCURATE, positions, elements, box)
    e_fast, f_fast = deepmd_energy_forces(FAST, positions, elements, box)
    norms = np.linalg.norm(f_acc - f_fast, axis=1) / (EV / ANGSTROM)        # eV/A
    assert deviation.step == 0 and deviation.model == A and not deviation.fallback
    assert deviation.maxForceDeviation == pytest.approx(norms.max(), rel=1e-8)
    assert deviation.rmsForceDeviation == pytest.approx(np.sqrt(np.mean(norms ** 2)), rel=1e-8)
    assert deviation.energyDeviationPerAtom == pytest.approx((e_acc - e_fast) / EV / len(elements), rel=1e-8)
    assert deviation.worstParticle == int(np.argmax(norms))
    assert list(force.getEvaluationCounts(context)) == [1, 1]


def test_checks_on_every_kth_accurate_step_only():
    context, force = guarded_context(check=2)
    record = run_steps(context, force, 4 * INTERVAL)
    checked = [step for step, _, extra, _ in record if extra]
    assert checked == [0, 2 * INTERVAL]
    assert [m for _, m, _, _ in record] == [A if s % INTERVAL == 0 else F for s in range(4 * INTERVAL)]


def expected_models(deviations, threshold, fallback, steps, k=1):
    """A re-implementation of the guard's rules: the model at each step, given the
    maximum deviation found by the check at each checked step."""
    models, until, last_dirty = [], -1, -1       # until: -1 none, -2 open-ended
    for s in range(steps):
        in_fallback = until == -2 or s < until
        model = A if in_fallback or s % INTERVAL == 0 else F
        checked = (until == -2) if in_fallback else (s % INTERVAL == 0 and (s // INTERVAL) % k == 0)
        models.append(model)
        if checked:
            if deviations[s] > threshold:
                last_dirty, until = s, (s + 1 + fallback if fallback else -2)
            elif until == -2 and s - last_dirty >= INTERVAL:
                until = s + 1
    return models


@pytest.mark.parametrize("fallback", [0, 3])
def test_guard_schedule_matches_a_reimplementation(fallback):
    # Pick a threshold that the bundled pair crosses on some checks and not others,
    # from an unguarded run, then replay the guard's rules on the guarded run's own
    # recorded deviations.
    context, force = guarded_context(check=1)
    free = [r[3].maxForceDeviation for r in run_steps(context, force, 40) if r[2]]
    threshold = float(np.quantile(free, 0.6))
    context, force = guarded_context(check=1, threshold=threshold, fallback=fallback)
    record = run_steps(context, force, 60)
    deviations = {step: dev.maxForceDeviation for step, _, extra, dev in record if extra}
    models = [m for _, m, _, _ in record]
    assert models == expected_models(deviations, threshold, fallback, 60)
    assert models.count(A) > 60 // INTERVAL, "the guard never fell back: the test threshold is too high"
    assert any(dev.fallback for _, _, _, dev in record)


def test_guard_with_a_threshold_every_check_crosses():
    context, force = guarded_context(check=1, threshold=1e-9, fallback=2)
    record = run_steps(context, force, 12)
    # Checks at 0 (fall back for steps 1-2), 4 (1 more fallback: 5-6), 8 (9-10).
    assert [m for _, m, _, _ in record] == [A, A, A, F, A, A, A, F, A, A, A, F]
    context, force = guarded_context(check=1, threshold=1e-9, fallback=0)
    record = run_steps(context, force, 8)
    assert all(m == A and extra for _, m, extra, _ in record)   # open-ended: never clean again
    context, force = guarded_context(check=1, threshold=1e3)
    record = run_steps(context, force, 8)
    assert [m for _, m, _, _ in record] == [A, F, F, F, A, F, F, F]


def test_checkpoint_resumes_the_guard_bit_for_bit():
    def new():
        return guarded_context(check=1, threshold=1e-9, fallback=5,
                               integrator=mm.LangevinMiddleIntegrator(330, 1.0, 0.0005))[0]
    context = new()
    context.getIntegrator().step(3)              # inside the fallback that step 0 started
    checkpoint = context.createCheckpoint()
    context.getIntegrator().step(9)
    expected = context.getState(getPositions=True, getParameters=True)
    resumed = new()
    resumed.loadCheckpoint(checkpoint)
    resumed.getIntegrator().step(9)
    state = resumed.getState(getPositions=True, getParameters=True)
    nm = mm.unit.nanometer
    assert np.array_equal(state.getPositions(asNumpy=True).value_in_unit(nm), expected.getPositions(asNumpy=True).value_in_unit(nm))
    assert dict(state.getParameters()) == dict(expected.getParameters())
    assert state.getParameters()["SwitchingDPForce_guardFallbackUntil"] > 0


def test_limit_raises_naming_step_deviation_and_particle():
    with pytest.raises(Exception, match=r"at step 0 .* by up to .* eV/A \(on particle \d+"):
        context, _ = guarded_context(check=1, threshold=0.0, limit=1e-6)
        context.getIntegrator().step(1)


@pytest.mark.parametrize("settings, error", [
    (dict(check=0, threshold=0.1), "needs deviation checks"),
    (dict(check=1, threshold=0.5, limit=0.2), "below the threshold"),
])
def test_inconsistent_guard_settings_are_refused(settings, error):
    with pytest.raises(Exception, match=error):
        guarded_context(**settings)


def test_guard_setters_refuse_nonsense():
    force = make_force()
    for setter, value in (("setDeviationCheckInterval", -1), ("setDeviationThreshold", float("nan")),
                          ("setDeviationThreshold", -0.1), ("setFallbackSteps", -2), ("setDeviationLimit", float("inf"))):
        with pytest.raises(Exception):
            getattr(force, setter)(value)
    one = SwitchingDPForce(ACCURATE)
    with pytest.raises(Exception, match="needs two models"):
        one.setDeviationThreshold(0.1)


def test_mts_difference_gives_the_deviation_without_extra_evaluations():
    from openmm.mtsintegrator import MTSIntegrator
    counts = []
    for check in (0, 1):
        positions, elements, masses, box = water()
        force = make_force()
        force.setMode(SwitchingDPForce.MultipleTimeStep)
        force.setDeviationCheckInterval(check)
        integrator = MTSIntegrator(0.002, [(1, 1), (0, 4)])
        context = make_context(make_system(masses, box, force, elements), positions, "Reference", integrator)
        context.setVelocitiesToTemperature(330, 5)
        integrator.step(3)
        counts.append(list(force.getEvaluationCounts(context)))
    assert counts[0] == counts[1]
    deviation = force.getLastDeviation(context)
    assert deviation.step == 2 and deviation.maxForceDeviation > 0
    force.setDeviationThreshold(0.1)
    with pytest.raises(Exception, match="Alternating mode"):
        context.reinitialize()


def test_reporter_csv_matches_get_last_deviation():
    positions, elements, masses, box = water()
    pdb = app.PDBFile(WATER_PDB)
    context, force = guarded_context(check=1)
    expected = [r[3] for r in run_steps(context, force, 12) if r[2]]
    force = make_force()
    force.setAccurateInterval(INTERVAL)
    force.setDeviationCheckInterval(1)
    system = make_system(masses, box, force, elements)
    simulation = app.Simulation(pdb.topology, system, mm.VerletIntegrator(0.0005), mm.Platform.getPlatformByName("Reference"))
    simulation.context.setPositions(pdb.positions)
    simulation.context.setVelocitiesToTemperature(330, 5)
    out = io.StringIO()
    simulation.reporters.append(DeviationReporter(out, 1))
    simulation.step(12)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0][0] == "step" and len(rows) == 1 + len(expected) == 4
    for row, deviation in zip(rows[1:], expected):
        assert int(row[0]) == deviation.step
        assert float(row[1]) == pytest.approx(deviation.step * 0.0005, abs=1e-9)
        assert float(row[2]) == pytest.approx(deviation.maxForceDeviation, rel=1e-5)
        assert float(row[3]) == pytest.approx(deviation.rmsForceDeviation, rel=1e-5)
        assert float(row[4]) == pytest.approx(deviation.energyDeviationPerAtom, rel=1e-5)
        assert int(row[5]) == deviation.worstParticle and row[6] == "accurate" and row[7] == "normal"
