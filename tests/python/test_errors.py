"""Every bad input gets a clear error naming the problem, and nothing crashes."""
import json
import math
import zipfile

import openmm as mm
import pytest
import torch

from helpers import ACCURATE, FAST, PT2_MODEL, make_context, make_force, make_system, water
from openmmswitchingdp import SwitchingDPForce


def water_system(**kwargs):
    positions, elements, masses, box = water()
    force = make_force()
    return positions, make_system(masses, box, force, elements), force


def test_missing_file():
    with pytest.raises(Exception, match="cannot open model file 'missing.pth'"):
        SwitchingDPForce("missing.pth", FAST)


def test_file_that_is_not_a_model(tmp_path):
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"this is not a model")
    with pytest.raises(Exception, match="junk.pth' is neither a frozen PyTorch \\(TorchScript\\) model nor an exported .pt2"):
        SwitchingDPForce(str(junk), FAST)
    empty = tmp_path / "empty.pth"
    empty.write_bytes(b"")
    with pytest.raises(Exception, match="empty"):
        SwitchingDPForce(FAST, str(empty))


def test_torchscript_module_that_is_not_a_deepmd_model(tmp_path):
    class Plain(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return 2 * x
    path = tmp_path / "plain.pth"
    torch.jit.script(Plain()).save(str(path))
    with pytest.raises(Exception, match="not a DeePMD-kit frozen model"):
        SwitchingDPForce(ACCURATE, str(path))


def rewrite_zip(source, target, change):
    """Copy a zip archive (stored entries, as torch writes them), passing each entry's
    name and bytes through change(name, data), which returns new bytes or None to drop it."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info.filename, data)


def test_pt2_exported_for_another_device(tmp_path):
    """A package compiled for CUDA cannot run on the CPU platforms: refused up front,
    before its library is loaded, with what to do."""
    def to_cuda(name, data):
        if name.endswith("wrapper_metadata.json"):
            meta = json.loads(data)
            meta["AOTI_DEVICE_KEY"] = "cuda"
            return json.dumps(meta).encode()
        return data
    cuda = tmp_path / "cuda.pt2"
    rewrite_zip(PT2_MODEL, cuda, to_cuda)
    force = SwitchingDPForce(ACCURATE, str(cuda))   # metadata only: fine
    positions, elements, masses, box = water()
    system = make_system(masses, box, force, elements)
    with pytest.raises(Exception, match="cuda.pt2' was exported for CUDA but this platform runs models on the CPU"):
        make_context(system, positions, box=box)


def test_damaged_pt2(tmp_path):
    truncated = tmp_path / "truncated.pt2"
    truncated.write_bytes(open(PT2_MODEL, "rb").read()[:200000])
    with pytest.raises(Exception, match="truncated.pt2' is neither a frozen PyTorch"):
        SwitchingDPForce(str(truncated))
    no_metadata = tmp_path / "no_metadata.pt2"
    rewrite_zip(PT2_MODEL, no_metadata, lambda name, data: None if name.endswith("extra/metadata.json") else data)
    with pytest.raises(Exception, match="without deepmd-kit's extra/metadata.json"):
        SwitchingDPForce(str(no_metadata))
    bad_json = tmp_path / "bad_json.pt2"
    rewrite_zip(PT2_MODEL, bad_json, lambda name, data: data[:-5] if name.endswith("extra/metadata.json") else data)
    with pytest.raises(Exception, match="metadata of the .pt2 model '.*bad_json.pt2' is damaged"):
        SwitchingDPForce(str(bad_json))


def test_unknown_type_name():
    force = SwitchingDPForce(ACCURATE, FAST)
    with pytest.raises(Exception, match="type 'Cl' is not in the type_map of the accurate model"):
        force.setTypes(["O", "H", "Cl"])
    assert list(force.getModelTypeMap(SwitchingDPForce.Accurate)) == ["O", "H"]


def test_types_and_particles_of_different_lengths():
    positions, system, force = water_system()
    force.setParticles([0, 1, 2])
    with pytest.raises(Exception, match="setTypes\\(\\) gave 192 names but the force has 3 DP particles"):
        make_context(system, positions)


def test_no_types():
    positions, elements, masses, box = water()
    system = mm.System()
    for m in masses:
        system.addParticle(m)
    system.addForce(SwitchingDPForce(ACCURATE, FAST))
    with pytest.raises(Exception, match="no DP types set"):
        make_context(system, positions)


def test_particle_out_of_range_and_duplicate():
    positions, system, force = water_system()
    force.setParticles([0, 1, 500])
    force.setTypes(["O", "H", "H"])
    with pytest.raises(Exception, match="particle index 500 is out of range"):
        make_context(system, positions)
    with pytest.raises(Exception, match="listed twice"):
        force.setParticles([1, 1])
    with pytest.raises(Exception, match="negative"):
        force.setParticles([-1])


@pytest.mark.parametrize("setter, value, message", [
    ("setAccurateInterval", 0, "at least 1"),
    ("setAccurateInterval", -3, "at least 1"),
    ("setAccuratePhase", -1, "must not be negative"),
    ("setSlowForceGroup", 32, "between 0 and 31"),
    ("setNeighborListSkin", -0.1, "skin"),
    ("setNeighborListSkin", math.nan, "skin"),
])
def test_nonsense_parameters(setter, value, message):
    force = SwitchingDPForce(ACCURATE, FAST)
    with pytest.raises(Exception, match=message):
        getattr(force, setter)(value)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_positions(bad):
    positions, system, force = water_system()
    positions = positions.copy()
    positions[7, 1] = bad
    context = make_context(system, positions)
    with pytest.raises(Exception, match="particle 7 has a non-finite position"):
        context.getState(getEnergy=True)


def test_box_far_too_small_for_the_cutoff():
    positions, system, force = water_system()
    context = make_context(system, positions)
    context.setPeriodicBoxVectors(mm.Vec3(0.02, 0, 0), mm.Vec3(0, 0.02, 0), mm.Vec3(0, 0, 0.02))
    with pytest.raises(Exception, match="too small for the model cutoff"):
        context.getState(getEnergy=True)


def test_cast_rejects_other_forces():
    with pytest.raises(Exception, match="not a SwitchingDPForce"):
        SwitchingDPForce.cast(mm.HarmonicBondForce())
