"""Frame and atomic parameters (setFrameParameters / setAtomicParameters), and the
one-model form SwitchingDPForce(modelFile): values reach the models, changes through
updateParametersInContext take effect, wrong lengths fail with errors naming the model
and the length it expects, and XML keeps everything."""
import os

import numpy as np
import openmm as mm
import pytest

from helpers import ACCURATE, FAST, ROOT, deepmd_energy_forces, energy_forces, make_context, make_system, water
from openmmswitchingdp import SwitchingDPForce

FPARAM = os.path.join(ROOT, "tests", "data", "fparam.pth")    # dim_fparam = 2
APARAM = os.path.join(ROOT, "tests", "data", "aparam.pth")    # dim_aparam = 1


def run_context(force, platform="Reference"):
    positions, elements, masses, box = water()
    context = make_context(make_system(masses, box, force, elements), positions, platform, box=box)
    return context, positions, elements, box


def assert_matches(context, path, positions, elements, box, frame=(), atomic=()):
    energy, forces = energy_forces(context)
    ref_energy, ref_forces = deepmd_energy_forces(path, positions, elements, box, frame, atomic)
    assert energy == pytest.approx(ref_energy, rel=1e-8)
    assert np.abs(forces - ref_forces).max() <= 1e-8 * np.abs(ref_forces).max()
    return energy


def test_frame_parameters_reach_the_model_and_update_in_context():
    force = SwitchingDPForce(FPARAM)
    force.setFrameParameters([0.8, 1.3])
    context, positions, elements, box = run_context(force)
    first = assert_matches(context, FPARAM, positions, elements, box, frame=[0.8, 1.3])
    force.setFrameParameters([1.4, 0.6])
    force.updateParametersInContext(context)
    second = assert_matches(context, FPARAM, positions, elements, box, frame=[1.4, 0.6])
    assert abs(second - first) > 1e-6   # the parameters matter to this model
    assert list(force.getFrameParameters()) == [1.4, 0.6]


def test_atomic_parameters_are_particle_major_and_update_in_context():
    n = len(water()[0])
    values = list(np.linspace(0.5, 1.5, n))
    force = SwitchingDPForce(APARAM)
    force.setAtomicParameters(values)
    context, positions, elements, box = run_context(force, "CPU")
    first = assert_matches(context, APARAM, positions, elements, box, atomic=values)
    values = values[::-1]
    force.setAtomicParameters(values)
    force.updateParametersInContext(context)
    second = assert_matches(context, APARAM, positions, elements, box, atomic=values)
    assert abs(second - first) > 1e-6


@pytest.mark.parametrize("path, frame, atomic, message", [
    (FPARAM, [], [], r"accurate model '.*fparam.pth' takes 2 frame parameters \(dim_fparam\) but 0 were given"),
    (FPARAM, [1.0, 2.0, 3.0], [], r"takes 2 frame parameters \(dim_fparam\) but 3 were given"),
    (APARAM, [], [1.0] * 5, r"takes 1 atomic parameters \(dim_aparam\) per DP particle, 192 for the 192 DP particles, but 5"),
    (FAST, [1.0], [], r"1 frame parameters were given but no model takes any"),
    (FAST, [], [1.0] * 192, r"192 atomic parameters were given but no model takes any"),
])
def test_wrong_parameters_fail_at_context_creation(path, frame, atomic, message):
    force = SwitchingDPForce(path)
    force.setFrameParameters(frame)
    force.setAtomicParameters(atomic)
    with pytest.raises(Exception, match=message):
        run_context(force)


def test_wrong_length_in_update_changes_nothing():
    force = SwitchingDPForce(ACCURATE, FPARAM)   # the fast model takes fparam
    force.setFrameParameters([1.0, 1.0])
    context, *_ = run_context(force)
    force.setFrameParameters([1.0])
    with pytest.raises(Exception, match=r"fast model '.*fparam.pth' takes 2 frame parameters"):
        force.updateParametersInContext(context)


def test_non_finite_parameters_are_refused():
    force = SwitchingDPForce(FPARAM)
    with pytest.raises(Exception, match="frame parameter 1 is not finite"):
        force.setFrameParameters([1.0, float("nan")])
    with pytest.raises(Exception, match="atomic parameter 0 is not finite"):
        force.setAtomicParameters([float("inf")])


def test_one_model_runs_every_step_and_counts():
    force = SwitchingDPForce(ACCURATE)
    assert force.getNumModels() == 1
    context, positions, elements, box = run_context(force)
    assert_matches(context, ACCURATE, positions, elements, box)
    context.getIntegrator().step(5)
    # Verlet evaluates at the start of each step: x0 (the cached getState result), x1..x4.
    assert list(force.getEvaluationCounts(context)) == [5, 0]
    assert force.getModelForStep(3) == SwitchingDPForce.Accurate


@pytest.mark.parametrize("call", [
    lambda f: f.setAccurateInterval(4), lambda f: f.setAccuratePhase(1),
    lambda f: f.setMode(SwitchingDPForce.MultipleTimeStep), lambda f: f.setSlowForceGroup(2),
    lambda f: f.setSlowTerm(SwitchingDPForce.Residual)])
def test_one_model_refuses_switching_settings(call):
    with pytest.raises(Exception, match="needs two models, and this force has one"):
        call(SwitchingDPForce(ACCURATE))


def test_one_model_has_no_fast_model():
    force = SwitchingDPForce(ACCURATE)
    for getter in (force.getModelFile, force.getModelCutoff, force.getModelTypeMap, force.getModelSel):
        with pytest.raises(Exception, match="has one model"):
            getter(SwitchingDPForce.Fast)


def test_xml_round_trip_keeps_one_model_and_parameters():
    n = len(water()[0])
    for force in (SwitchingDPForce(FPARAM), SwitchingDPForce(APARAM, FPARAM)):
        force.setFrameParameters([0.9, 1.1])
        if force.getNumModels() == 2:
            force.setAtomicParameters(list(np.linspace(0.7, 1.2, n)))
            force.setAccurateInterval(3)
        positions, elements, masses, box = water()
        system = make_system(masses, box, force, elements)
        copy = mm.XmlSerializer.deserialize(mm.XmlSerializer.serialize(system))
        restored = SwitchingDPForce.cast(copy.getForce(0))
        assert restored.getNumModels() == force.getNumModels()
        assert list(restored.getFrameParameters()) == list(force.getFrameParameters())
        assert list(restored.getAtomicParameters()) == list(force.getAtomicParameters())
        assert restored.getAccurateInterval() == force.getAccurateInterval()
        a = energy_forces(make_context(system, positions, box=box))
        b = energy_forces(make_context(copy, positions, box=box))
        assert a[0] == b[0] and np.array_equal(a[1], b[1])
