"""Every DeePMD-kit model family through the plugin equals deepmd-kit's own inference
(DeepPot on the same file): se_e2_a, se_e2_r, DPA-1 (se_atten_v2), the message-passing
DPA-2 and DPA-3, models with frame and atomic parameters, and an exported .pt2, each as
the accurate and as the fast model, on Reference and CPU, in cubic, triclinic and
non-periodic geometries, at two configurations (the second with atoms outside the box).

The fixtures are tiny models trained for a few steps by tests/data/make_fixtures.py:
agreement is about the plumbing (neighbour lists, ghosts, mapping, parameters), not
the physics."""
import functools
import os

import numpy as np
import openmm as mm
import pytest

from helpers import FAST, ROOT, deep_pot, deepmd_energy_forces, energy_forces, make_context, make_system, water
from openmmswitchingdp import SwitchingDPForce

DATA = os.path.join(ROOT, "tests", "data")
FAMILIES = {
    "se_e2_a": FAST,
    "se_e2_r": os.path.join(DATA, "se_e2_r.pth"),
    "se_atten_v2": os.path.join(DATA, "se_atten_v2.pth"),
    "dpa2": os.path.join(DATA, "dpa2.pth"),
    "dpa3": os.path.join(DATA, "dpa3.pth"),
    "fparam": os.path.join(DATA, "fparam.pth"),
    "aparam": os.path.join(DATA, "aparam.pth"),
    "dpa3.pt2": os.path.join(DATA, "dpa3.pt2"),
    "dpa3_fparam.pt2": os.path.join(DATA, "dpa3_fparam.pt2"),
}
PARTNER = FAST   # the other model of each pair: an se_e2_a without parameters


def cpu_runs_exports():
    """The committed .pt2 files hold CPU code compiled for AVX-512 (torch compiles for
    the exporting machine); elsewhere the plugin refuses them with a clear error."""
    with open("/proc/cpuinfo") as f:
        return "avx512f" in f.read()


def family_param(name):
    marks = []
    if name.endswith(".pt2"):
        marks.append(pytest.mark.skipif(not cpu_runs_exports(), reason="the .pt2 fixtures need an AVX-512 CPU"))
    return pytest.param(name, marks=marks)


FAMILY_PARAMS = [family_param(name) for name in FAMILIES]


def geometry(name):
    """(positions nm, elements, box or None, masses)."""
    positions, elements, masses, box = water()
    if name == "cubic":
        return positions, elements, box, masses
    if name == "triclinic":
        return positions, elements, np.array([[1.24, 0, 0], [0.3, 1.2, 0], [-0.2, 0.25, 1.3]]), masses
    if name == "non-periodic":
        # 12 molecules around the centre: a droplet.
        oxygens = np.arange(0, len(positions), 3)
        centre = positions[oxygens].mean(axis=0)
        nearest = oxygens[np.argsort(np.linalg.norm(positions[oxygens] - centre, axis=1))[:12]]
        idx = np.sort(np.concatenate([nearest, nearest + 1, nearest + 2]))
        return positions[idx], [elements[i] for i in idx], None, [masses[i] for i in idx]
    raise KeyError(name)


def second_configuration(positions, box, seed):
    """Molecules moved by whole box vectors (so atoms lie outside the box, some far),
    and every atom displaced a little: a configuration the first one does not predict."""
    rng = np.random.default_rng(seed)
    moved = positions + rng.normal(scale=0.005, size=positions.shape)
    if box is None:
        return moved + np.array([3.0, -2.0, 1.0])
    for first in range(0, len(moved), 3):
        moved[first:first + 3] += rng.integers(-2, 3, size=3) @ box
    return moved


def parameters(path, n):
    """Frame and atomic parameters a model takes (non-trivial values), or empty lists."""
    dp = deep_pot(path)
    rng = np.random.default_rng(7)
    frame = list(rng.uniform(0.5, 1.5, dp.get_dim_fparam()))
    atomic = list(rng.uniform(0.5, 1.5, n * dp.get_dim_aparam()))
    return frame, atomic


@functools.lru_cache(maxsize=None)
def reference(family, geometry_name, config):
    positions, elements, box, masses = geometry(geometry_name)
    if config == 1:
        positions = second_configuration(positions, box, seed=3)
    frame, atomic = parameters(FAMILIES[family], len(elements))
    return positions, deepmd_energy_forces(FAMILIES[family], positions, elements, box, frame, atomic)


# Every geometry and role on Reference; the CPU platform runs the same kernel, so
# one case per family there (it checks the platform's own plumbing).
CASES = [(g, r, "Reference") for g in ("cubic", "triclinic", "non-periodic") for r in ("accurate", "fast")]
CASES.append(("triclinic", "fast", "CPU"))


@pytest.mark.parametrize("geometry_name, role, platform", CASES)
@pytest.mark.parametrize("family", FAMILY_PARAMS)
def test_family_matches_deepmd(family, geometry_name, role, platform):
    path = FAMILIES[family]
    _, elements, box, masses = geometry(geometry_name)
    if role == "accurate":
        force = SwitchingDPForce(path, PARTNER)
        force.setAccurateInterval(1)
        model = SwitchingDPForce.Accurate
    else:
        force = SwitchingDPForce(PARTNER, path)
        force.setAccurateInterval(2)
        force.setAccuratePhase(1)
        model = SwitchingDPForce.Fast
    frame, atomic = parameters(path, len(elements))
    force.setFrameParameters(frame)
    force.setAtomicParameters(atomic)
    force.setUsesPeriodicBoundaryConditions(box is not None)
    context = make_context(make_system(masses, box, force, elements), geometry(geometry_name)[0], platform, box=box)
    for config in (0, 1):
        positions, (ref_energy, ref_forces) = reference(family, geometry_name, config)
        context.setPositions([mm.Vec3(*p) for p in positions])
        energy, forces = energy_forces(context)
        assert energy == pytest.approx(ref_energy, rel=1e-8, abs=1e-8)
        assert np.abs(forces - ref_forces).max() <= 1e-8 * np.abs(ref_forces).max()
    assert force.getEvaluationCounts(context)[model] == 2
    assert force.getEvaluationCounts(context)[1 - model] == 0


def test_fixture_metadata():
    """The fixtures are what their names say, as read by the plugin and by deepmd-kit."""
    for family, path in FAMILIES.items():
        force = SwitchingDPForce(path)
        dp = deep_pot(path)
        acc = SwitchingDPForce.Accurate
        assert force.getModelNumFrameParameters(acc) == dp.get_dim_fparam(), family
        assert force.getModelNumAtomicParameters(acc) == dp.get_dim_aparam(), family
        assert force.getModelCutoff(acc).value_in_unit(mm.unit.nanometer) == pytest.approx(dp.get_rcut() / 10), family
        assert list(force.getModelTypeMap(acc)) == dp.get_type_map(), family
        assert force.getModelUsesMessagePassing(acc) == family.startswith("dpa"), family
    assert SwitchingDPForce(FAMILIES["dpa3_fparam.pt2"]).getModelNumFrameParameters(SwitchingDPForce.Accurate) == 2
    assert SwitchingDPForce(FAMILIES["fparam"]).getModelNumFrameParameters(SwitchingDPForce.Accurate) == 2
    assert SwitchingDPForce(FAMILIES["aparam"]).getModelNumAtomicParameters(SwitchingDPForce.Accurate) == 1


@pytest.mark.parametrize("family", FAMILY_PARAMS)
def test_family_xml_round_trip(family):
    """The model file's bytes (TorchScript or .pt2) travel in the XML and evaluate identically."""
    positions, elements, box, masses = geometry("cubic")
    force = SwitchingDPForce(PARTNER, FAMILIES[family])
    force.setAccurateInterval(2)
    force.setAccuratePhase(1)
    frame, atomic = parameters(FAMILIES[family], len(elements))
    force.setFrameParameters(frame)
    force.setAtomicParameters(atomic)
    system = make_system(masses, box, force, elements)
    copy = mm.XmlSerializer.deserialize(mm.XmlSerializer.serialize(system))
    a = energy_forces(make_context(system, positions, box=box))
    b = energy_forces(make_context(copy, positions, box=box))
    assert a[0] == b[0] and np.array_equal(a[1], b[1])
