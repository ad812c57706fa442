"""OpenMM's Python conventions: Quantities in and out, docstrings taken from the C++
header (one source), camelCase names."""
import inspect
import os
import re

import openmm as mm
import openmm.unit as u
import pytest

from helpers import ACCURATE, FAST, ROOT
from openmmswitchingdp import SwitchingDPForce, integrators

HEADER = os.path.join(ROOT, "openmmapi", "include", "SwitchingDPForce.h")


def test_lengths_are_quantities():
    force = SwitchingDPForce(ACCURATE, FAST)
    assert force.getModelCutoff(SwitchingDPForce.Accurate) == 0.6 * u.nanometer
    assert force.getModelCutoff(SwitchingDPForce.Fast) == 0.4 * u.nanometer
    force.setNeighborListSkin(1.5 * u.angstrom)
    skin = force.getNeighborListSkin()
    assert u.is_quantity(skin) and skin.value_in_unit(u.nanometer) == pytest.approx(0.15)
    force.setNeighborListSkin(0.2)   # plain numbers are in OpenMM units (nm)
    assert force.getNeighborListSkin() == 0.2 * u.nanometer
    with pytest.raises(TypeError, match="compatible with nanometer"):
        force.setNeighborListSkin(300 * u.kelvin)


def header_docs():
    """{method name: its documentation comment} for every documented method of the header."""
    text = open(HEADER).read()
    docs = {}
    for comment, declaration in re.findall(r"/\*\*(.*?)\*/\s*\n\s*([^;{]*?\()", text, re.S):
        name = re.findall(r"(\w+)\s*\($", declaration.strip())
        if name:
            docs[name[0]] = " ".join(line.strip(" *") for line in comment.splitlines()).split()
    return docs


def test_python_docstrings_come_from_the_header():
    docs = header_docs()
    assert len(docs) >= 15 and "setEnergyScaleParameter" in docs and "setFrameParameters" in docs
    for name, words in docs.items():
        if name == "SwitchingDPForce" or not hasattr(SwitchingDPForce, name):
            continue
        docstring = " ".join((getattr(SwitchingDPForce, name).__doc__ or "").split())
        assert " ".join(words[:8]) in docstring, name
    assert "accurate one" in " ".join(SwitchingDPForce.__doc__.split())


def test_public_python_names_are_camel_case():
    for name in ("VelocityVerletRESPAIntegrator", "BAOABRESPAIntegrator", "AlternatingLangevinIntegrator"):
        for parameter in inspect.signature(getattr(integrators, name)).parameters:
            assert "_" not in parameter, (name, parameter)
    public = [n for n in dir(SwitchingDPForce) if not n.startswith("_")]
    assert not [n for n in public if "_" in n and n != "this"]
    integrator = integrators.BAOABRESPAIntegrator(330 * u.kelvin, 1 / u.picosecond, 2 * u.femtosecond,
                                                   innerSteps=4, fastGroup=0, slowGroup=1)
    assert isinstance(integrator, mm.CustomIntegrator)
