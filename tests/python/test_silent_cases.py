"""Each input that used to give a silently wrong run is now right or refused with an
error naming the setting and what to do."""
import pathlib
import re

import numpy as np
import openmm as mm
import openmm.unit as u
import pytest

from helpers import ACCURATE, EV, FAST, deepmd_energy_forces, energy_forces, make_context, make_system, water
from openmmswitchingdp import SwitchingDPForce, __version__


def cluster():
    """The first 24 waters of the bundled box, unwrapped around their first atom."""
    positions, elements, masses, box = water()
    return positions[:72], elements[:72], masses[:72]


def test_periodic_by_default_in_a_box_never_set_is_refused():
    positions, elements, masses = cluster()
    force = SwitchingDPForce(ACCURATE, FAST)
    system = make_system(masses, None, force, elements)   # no box: OpenMM's default 2 nm cube
    with pytest.raises(Exception, match="periodic by default.*never set.*setUsesPeriodicBoundaryConditions\\(False\\)"):
        make_context(system, positions)


def test_non_periodic_cluster_matches_deepmd():
    positions, elements, masses = cluster()
    force = SwitchingDPForce(ACCURATE, FAST)
    force.setAccurateInterval(1)
    force.setUsesPeriodicBoundaryConditions(False)
    context = make_context(make_system(masses, None, force, elements), positions)
    energy, forces = energy_forces(context)
    reference_energy, reference_forces = deepmd_energy_forces(ACCURATE, positions, elements, box=None)
    assert energy == pytest.approx(reference_energy, rel=1e-10)
    assert np.abs(forces - reference_forces).max() < 1e-8 * np.abs(reference_forces).max()


def test_explicitly_periodic_in_a_2nm_box_is_taken_at_its_word():
    positions, elements, masses = cluster()
    force = SwitchingDPForce(ACCURATE, FAST)
    force.setUsesPeriodicBoundaryConditions(True)
    context = make_context(make_system(masses, None, force, elements), positions)
    assert np.isfinite(energy_forces(context)[0])


def test_periodicity_default_survives_xml():
    force = SwitchingDPForce(ACCURATE, FAST)
    copy = mm.XmlSerializer.deserialize(mm.XmlSerializer.serialize(force))
    assert not SwitchingDPForce.cast(copy).periodicitySetExplicitly()
    force.setUsesPeriodicBoundaryConditions(False)
    copy = SwitchingDPForce.cast(mm.XmlSerializer.deserialize(mm.XmlSerializer.serialize(force)))
    assert copy.periodicitySetExplicitly() and not copy.usesPeriodicBoundaryConditions()


def test_deviation_settings_convert_force_quantities():
    force = SwitchingDPForce(ACCURATE, FAST)
    force.setDeviationThreshold(0.3 * u.kilojoule_per_mole / u.nanometer)
    assert force.getDeviationThreshold() == pytest.approx(0.3 / (EV * 10), rel=1e-12)
    force.setDeviationLimit(2.0 * u.kilocalorie_per_mole / u.angstrom)
    assert force.getDeviationLimit() == pytest.approx(2.0 * 4.184 * 10 / (EV * 10), rel=1e-12)
    # eV/A per particle (no mole): elementary charge x volt / angstrom
    force.setDeviationThreshold(1.5 * u.elementary_charge * u.volt / u.angstrom)
    assert force.getDeviationThreshold() == pytest.approx(1.5, rel=1e-6)
    force.setDeviationThreshold(0.7)   # a plain number is eV/A
    assert force.getDeviationThreshold() == 0.7
    for wrong in (0.3 * u.kelvin, 0.3 * u.kilojoule_per_mole, 1.0 * u.nanometer):
        with pytest.raises(TypeError, match="force deviation"):
            force.setDeviationThreshold(wrong)
        with pytest.raises(TypeError, match="force deviation"):
            force.setDeviationLimit(wrong)
    with pytest.raises(TypeError, match="skin must be in units compatible with nanometer"):
        force.setNeighborListSkin(0.1 * u.kelvin)
    force.setNeighborListSkin(2 * u.angstrom)
    assert force.getNeighborListSkin() == 0.2 * u.nanometer


def mts_system(slow_group=1):
    positions, elements, masses, box = water()
    force = SwitchingDPForce(ACCURATE, FAST)
    force.setMode(SwitchingDPForce.MultipleTimeStep)
    force.setSlowForceGroup(slow_group)
    return positions, box, make_system(masses, box, force, elements), force


def test_mts_slow_group_the_integrator_never_evaluates_is_refused():
    positions, box, system, force = mts_system()
    integrator = mm.MTSLangevinIntegrator(330, 1, 0.002, [(0, 4)])   # group 1 left out
    with pytest.raises(Exception, match="slow term goes to force group 1.*never evaluates that group.*fast model alone"):
        make_context(system, positions, integrator=integrator, box=box)
    # A plain integrator told to skip the group, likewise
    verlet = mm.VerletIntegrator(0.0005)
    verlet.setIntegrationForceGroups({0})
    with pytest.raises(Exception, match="never evaluates that group"):
        make_context(system, positions, integrator=verlet, box=box)
    # The fast model's group left out
    integrator = mm.MTSLangevinIntegrator(330, 1, 0.002, [(1, 1)])
    with pytest.raises(Exception, match="fast model goes to force group 0.*slow term alone"):
        make_context(system, positions, integrator=integrator, box=box)


def test_mts_integrators_that_evaluate_both_groups_are_accepted():
    positions, box, system, force = mts_system()
    for integrator in (mm.MTSLangevinIntegrator(330, 1, 0.002, [(1, 1), (0, 4)]),
                       mm.MTSIntegrator(0.002, [(1, 1), (0, 4)])):
        context = make_context(system, positions, integrator=integrator, box=box)
        integrator.step(1)
        # the slow term (accurate - fast) at the start and end, the fast model at 4 inner steps + 1
        assert force.getEvaluationCounts(context) == (2, 5)
    # A plain integrator evaluates both groups together: their sum, the accurate model (one step: once).
    integrator = mm.VerletIntegrator(0.0005)
    context = make_context(system, positions, integrator=integrator, box=box)
    integrator.step(1)
    assert force.getEvaluationCounts(context) == (1, 0)


def test_mts_slow_group_equal_to_own_group_is_refused():
    positions, box, system, force = mts_system(slow_group=0)
    with pytest.raises(Exception, match="slow force group \\(0\\) is the force's own group"):
        make_context(system, positions, box=box)
    # also when changed in a live Context
    positions, box, system, force = mts_system(slow_group=1)
    context = make_context(system, positions, box=box)
    force.setSlowForceGroup(0)
    with pytest.raises(Exception, match="own group"):
        force.updateParametersInContext(context)


@pytest.mark.parametrize("separation", [0.0, 0.005])
def test_overlapping_atoms_are_refused_with_their_indices(separation):
    positions, elements, masses, box = water()
    positions = positions.copy()
    positions[17] = positions[40] + np.array([separation, 0, 0])
    force = SwitchingDPForce(ACCURATE, FAST)
    context = make_context(make_system(masses, box, force, elements), positions, box=box)
    with pytest.raises(Exception, match="particles (17 and 40|40 and 17) are .* nm apart, closer than the 0.01 nm"):
        context.getState(getEnergy=True)


def test_paths_and_numpy_numbers():
    positions, elements, masses, box = water()
    force = SwitchingDPForce(pathlib.Path(ACCURATE), pathlib.Path(FAST))
    assert SwitchingDPForce(pathlib.Path(ACCURATE)).getNumModels() == 1
    force.setAccurateInterval(np.int64(3))
    force.setAccuratePhase(np.int32(1))
    force.setSlowForceGroup(np.int16(2))
    force.setDeviationCheckInterval(np.uint8(2))
    force.setFallbackSteps(np.int64(5))
    force.setDeviationThreshold(np.float32(1.5))
    force.setNeighborListSkin(np.float32(0.125))
    force.setParticles(np.arange(len(elements)))
    force.setTypes(np.array(elements))
    assert (force.getAccurateInterval(), force.getAccuratePhase(), force.getSlowForceGroup(),
            force.getDeviationCheckInterval(), force.getFallbackSteps()) == (3, 1, 2, 2, 5)
    assert force.getModelForStep(np.int64(4)) == SwitchingDPForce.Accurate
    assert list(force.getParticles()) == list(range(len(elements)))
    with pytest.raises(TypeError, match="the accurate interval must be an integer, got 4.0"):
        force.setAccurateInterval(4.0)
    with pytest.raises(TypeError, match="a particle index must be an integer"):
        force.setParticles([0.5])


def test_numpy_parameters():
    from helpers import ROOT
    import os
    fparam_model = os.path.join(ROOT, "tests", "data", "fparam.pth")
    force = SwitchingDPForce(fparam_model)
    force.setFrameParameters(np.array([1.0, 0.5], dtype=np.float32))
    assert list(force.getFrameParameters()) == [1.0, 0.5]
    force.setAtomicParameters(np.ones((3, 2)))
    assert list(force.getAtomicParameters()) == [1.0] * 6


def test_a_directory_is_not_a_model(tmp_path):
    with pytest.raises(Exception, match="is a directory, not a frozen model"):
        SwitchingDPForce(str(tmp_path), FAST)


def test_truncated_model_in_xml_is_reported_as_the_xml(tmp_path):
    import base64
    import re
    xml = mm.XmlSerializer.serialize(SwitchingDPForce(ACCURATE, FAST))
    encoded = re.search(r'base64="([^"]+)"', xml).group(1)
    truncated = base64.b64encode(base64.b64decode(encoded)[:5000]).decode()
    with pytest.raises(Exception, match="a model embedded in the XML cannot be loaded.*truncated or corrupted"):
        mm.XmlSerializer.deserialize(xml.replace(encoded, truncated))


def test_version():
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", __version__)

