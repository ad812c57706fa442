"""The installed package on OpenMM's OpenCL platform (on machines without a GPU,
pocl's CPU device) against the Reference platform: the bundled water's energies
and forces from both models, in single, mixed and double precision.

pocl compiles every kernel of a Context, so each precision gets one Context, shared
by the tests through a module-scoped fixture; its two SwitchingDPForces sit in two
force groups (the accurate model in group 0, the fast one in group 1)."""
import numpy as np
import openmm as mm
import pytest

import openmmswitchingdp
from openmmswitchingdp import SwitchingDPForce

from helpers import ANGSTROM, EV, deepmd_energy_forces, make_force, water

# Relative to |E| and to max |F|.  Single precision rounds positions to float;
# mixed precision returns forces as float; double is exact up to the 2^-32
# fixed-point force buffer.
TOLERANCE = {"single": (2e-4, 2e-4), "mixed": (1e-10, 1e-6), "double": (1e-10, 1e-9)}
MODELS = {0: SwitchingDPForce.Accurate, 1: SwitchingDPForce.Fast}


def _opencl_unavailable():
    names = [mm.Platform.getPlatform(i).getName() for i in range(mm.Platform.getNumPlatforms())]
    if "OpenCL" not in names:
        failures = [f for f in mm.Platform.getPluginLoadFailures() if "OpenCL" in f]
        return "OpenMM's OpenCL platform did not load" + (f": {failures[0]}" if failures else
                                                          " (no OpenCL device; scripts/setup.sh installs pocl's CPU device)")
    if "libOpenMMSwitchingDPOpenCL.so" not in openmmswitchingdp.LOADED_PLUGINS:
        return "openmmswitchingdp was built without its OpenCL kernel (no OpenCL headers at build time)"
    return None


def _system():
    positions, elements, masses, box = water()
    system = mm.System()
    for m in masses:
        system.addParticle(m)
    system.setDefaultPeriodicBoxVectors(*[mm.Vec3(*v) for v in box])
    for group, model in MODELS.items():
        force = make_force(model)
        force.setTypes(elements)
        force.setForceGroup(group)
        system.addForce(force)
    return system, positions


def _group(context, group):
    state = context.getState(getEnergy=True, getForces=True, groups={group})
    return (state.getPotentialEnergy().value_in_unit(mm.unit.kilojoule_per_mole),
            np.array(state.getForces(asNumpy=True).value_in_unit(mm.unit.kilojoule_per_mole / mm.unit.nanometer)))


@pytest.fixture(scope="module")
def reference():
    reason = _opencl_unavailable()
    if reason:
        pytest.skip(reason)
    system, positions = _system()
    context = mm.Context(system, mm.VerletIntegrator(0.0005), mm.Platform.getPlatformByName("Reference"))
    context.setPositions(positions)
    return {group: _group(context, group) for group in MODELS}


@pytest.fixture(scope="module", params=["single", "mixed", "double"])
def opencl(request):
    reason = _opencl_unavailable()
    if reason:
        pytest.skip(reason)
    system, positions = _system()
    try:
        context = mm.Context(system, mm.VerletIntegrator(0.0005), mm.Platform.getPlatformByName("OpenCL"),
                             {"Precision": request.param})
    except mm.OpenMMException as error:
        pytest.skip(f"no OpenCL device for {request.param} precision: {error}")
    context.setPositions(positions)
    return request.param, context, system


@pytest.mark.parametrize("group", sorted(MODELS))
def test_energy_and_forces_match_reference(opencl, reference, group):
    precision, context, _ = opencl
    energy, forces = _group(context, group)
    ref_energy, ref_forces = reference[group]
    tol_energy, tol_forces = TOLERANCE[precision]
    assert abs(energy - ref_energy) <= tol_energy * abs(ref_energy)
    assert np.abs(forces - ref_forces).max() <= tol_forces * np.abs(ref_forces).max()


def test_each_model_evaluated_once_per_configuration(opencl):
    _, context, system = opencl
    for group in MODELS:
        _group(context, group)   # cached: the positions have not changed
    for group, model in MODELS.items():
        counts = SwitchingDPForce.cast(system.getForce(group)).getEvaluationCounts(context)
        assert counts[model] == 1 and counts[1 - model] == 0


def test_deviation_matches_reference(opencl, reference):
    # Deviation checks switched on in the shared Context (they need no new one):
    # the accurate-model force (group 0) then also runs the fast model there.
    precision, context, system = opencl
    force = SwitchingDPForce.cast(system.getForce(0))
    force.setDeviationCheckInterval(1)
    force.updateParametersInContext(context)
    try:
        _group(context, 0)
        deviation = force.getLastDeviation(context)
    finally:
        force.setDeviationCheckInterval(0)
        force.updateParametersInContext(context)
    norms = np.linalg.norm(reference[0][1] - reference[1][1], axis=1) / (EV / ANGSTROM)
    tolerance = TOLERANCE[precision][1] * np.abs(reference[0][1]).max() / (EV / ANGSTROM)
    assert deviation.step == 0
    if precision != "single":   # float positions could reorder near-equal deviations
        assert deviation.worstParticle == int(np.argmax(norms))
    assert abs(deviation.maxForceDeviation - norms.max()) <= 2 * tolerance
    assert abs(deviation.energyDeviationPerAtom - (reference[0][0] - reference[1][0]) / EV / len(norms)) <= \
        2 * TOLERANCE[precision][0] * abs(reference[0][0]) / EV / len(norms)


def test_every_model_family_matches_deepmd():
    """Each model family of test_model_families (message passing, parameters, .pt2)
    on OpenCL in double precision, against deepmd-kit's own inference: one Context
    (one kernel compilation) with one force per family, each in its own force group,
    at two configurations (the second with atoms outside the box) and a triclinic box."""
    reason = _opencl_unavailable()
    if reason:
        pytest.skip(reason)
    from test_model_families import FAMILIES, cpu_runs_exports, parameters, second_configuration
    families = [f for f in FAMILIES if cpu_runs_exports() or not f.endswith(".pt2")]
    positions, elements, masses, box = water()
    triclinic = np.array([[1.24, 0, 0], [0.3, 1.2, 0], [-0.2, 0.25, 1.3]])
    system = mm.System()
    for m in masses:
        system.addParticle(m)
    # A triclinic default box lets the Context take the cubic one too (not the reverse).
    system.setDefaultPeriodicBoxVectors(*[mm.Vec3(*v) for v in triclinic])
    for group, family in enumerate(families):
        force = SwitchingDPForce(FAMILIES[family])
        frame, atomic = parameters(FAMILIES[family], len(elements))
        force.setFrameParameters(frame)
        force.setAtomicParameters(atomic)
        force.setTypes(elements)
        force.setForceGroup(group)
        system.addForce(force)
    context = mm.Context(system, mm.VerletIntegrator(0.0005), mm.Platform.getPlatformByName("OpenCL"),
                         {"Precision": "double"})
    for cell, coordinates in ((box, positions), (box, second_configuration(positions, box, seed=3)),
                              (triclinic, positions)):
        context.setPeriodicBoxVectors(*[mm.Vec3(*v) for v in cell])
        context.setPositions(coordinates)
        for group, family in enumerate(families):
            frame, atomic = parameters(FAMILIES[family], len(elements))
            ref_energy, ref_forces = deepmd_energy_forces(FAMILIES[family], coordinates, elements, cell, frame, atomic)
            energy, forces = _group(context, group)
            assert energy == pytest.approx(ref_energy, rel=1e-9), family
            assert np.abs(forces - ref_forces).max() <= 1e-9 * np.abs(ref_forces).max(), family
