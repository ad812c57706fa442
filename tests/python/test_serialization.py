"""XML round trips embed both models: a serialized System runs in a fresh process
after the model files are gone."""
import os
import shutil
import subprocess
import sys

import numpy as np
import openmm as mm

from helpers import ACCURATE, FAST, energy_forces, make_context, make_system, water
from openmmswitchingdp import SwitchingDPForce

CHILD = r"""
import sys, numpy as np, openmm as mm, openmm.unit as unit
import openmmswitchingdp
from openmmswitchingdp import SwitchingDPForce
system = mm.XmlSerializer.deserialize(open(sys.argv[1]).read())
force = SwitchingDPForce.cast(system.getForce(0))
assert force.getAccurateInterval() == 3 and force.getAccuratePhase() == 1
positions = np.load(sys.argv[2])
context = mm.Context(system, mm.VerletIntegrator(0.0005), mm.Platform.getPlatformByName("Reference"))
context.setPositions(positions)
state = context.getState(getEnergy=True, getForces=True)
np.save(sys.argv[3], np.concatenate([[state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)], state.getForces(asNumpy=True).value_in_unit(unit.kilojoule_per_mole / unit.nanometer).ravel()]))
"""


def test_round_trip_in_fresh_process_without_model_files(tmp_path):
    accurate, fast = tmp_path / "a.pth", tmp_path / "f.pth"
    shutil.copy(ACCURATE, accurate)
    shutil.copy(FAST, fast)
    positions, elements, masses, box = water()
    force = SwitchingDPForce(str(accurate), str(fast))
    force.setAccurateInterval(3)
    force.setAccuratePhase(1)
    force.setForceGroup(2)
    system = make_system(masses, box, force, elements)
    xml = mm.XmlSerializer.serialize(system)
    os.remove(accurate)
    os.remove(fast)
    (tmp_path / "system.xml").write_text(xml)
    np.save(tmp_path / "positions.npy", positions)
    subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "system.xml"), str(tmp_path / "positions.npy"),
                    str(tmp_path / "out.npy")], check=True)
    child = np.load(tmp_path / "out.npy")
    # step 0 with phase 1 and interval 3 is a fast step, in both processes
    energy, forces = energy_forces(make_context(system, positions))
    assert child[0] == energy
    assert np.array_equal(child[1:], forces.ravel())


def test_settings_survive_xml_and_copy():
    force = SwitchingDPForce(ACCURATE, FAST)
    force.setTypes(["O", "H", "H"])
    force.setParticles([4, 2, 0])
    force.setMode(SwitchingDPForce.MultipleTimeStep)
    force.setSlowForceGroup(3)
    force.setSlowTerm(SwitchingDPForce.Residual)
    force.setNeighborListSkin(0.05)
    force.setUsesPeriodicBoundaryConditions(False)
    force.setName("dp")
    copy = SwitchingDPForce.cast(mm.XmlSerializer.deserialize(mm.XmlSerializer.serialize(force)))
    import copy as copy_module
    for other in (copy, copy_module.deepcopy(force)):
        assert list(other.getTypes()) == ["O", "H", "H"]
        assert list(other.getParticles()) == [4, 2, 0]
        assert other.getMode() == SwitchingDPForce.MultipleTimeStep
        assert other.getSlowForceGroup() == 3 and other.getSlowTerm() == SwitchingDPForce.Residual
        assert other.getNeighborListSkin() == 0.05 * mm.unit.nanometer and not other.usesPeriodicBoundaryConditions()
        assert other.getName() == "dp"
        assert other.getModelContents(SwitchingDPForce.Fast) == open(FAST, "rb").read()
        assert other.getModelFile(SwitchingDPForce.Accurate) == ACCURATE
