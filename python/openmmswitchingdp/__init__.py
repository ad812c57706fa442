"""OpenMM plugin that runs MD with two DeePMD-kit models, switching between them.

    from openmmswitchingdp import SwitchingDPForce, typesFromTopology
    force = SwitchingDPForce("accurate.pth", "fast.pth")   # .pth or .pt2; or one model: SwitchingDPForce("model.pth")
    force.setTypes(typesFromTopology(topology))
    system.addForce(force)

or through openmm-ml: ``MLPotential("switchingdp", accurate=..., fast=...).createSystem(topology)``
(see openmmswitchingdp.mlpotential).  Importing the package loads the platform plugins and the XML serialization proxy.

The package's face is what a user's script needs: the force, :func:`typesFromTopology`,
the integrator recipes, :class:`DeviationReporter`, the bundled water system and models
(:mod:`openmmswitchingdp.bundled`) and the shared defaults
(:mod:`openmmswitchingdp.defaults`).  The tools (``switchingdp-md``, ``-bench``,
``-validate``, ``-distill``, the NVE table, the GPU check, the LAMMPS comparison) live
in :mod:`openmmswitchingdp.toolkit`.
"""
import os as _os
from importlib import metadata as _metadata

import openmm as _openmm
# torch's Python package first, so that torch's libraries are loaded and set up by torch
# itself before ours pull them in: on a GPU machine, loading ours first crashed
# torch::jit::load (a std:: symbol bound into our library, see build_support/exports.map).
import torch as _torch  # noqa: F401

from . import deepmd_ops as _deepmd_ops

_deepmd_ops.configure_environment()

_HERE = _os.path.dirname(_os.path.abspath(__file__))


def _load_plugins():
    # The Reference/CPU kernels are always built; the CUDA and OpenCL kernels only
    # where their platform was found at build time, and each loads only where
    # OpenMM's platform of that name exists (libOpenMMCUDA.so needs a CUDA driver,
    # libOpenMMOpenCL.so an OpenCL library).
    platforms = {_openmm.Platform.getPlatform(i).getName() for i in range(_openmm.Platform.getNumPlatforms())}
    loaded = []
    for name, platform in (("libOpenMMSwitchingDPReference.so", None),
                           ("libOpenMMSwitchingDPCUDA.so", "CUDA"),
                           ("libOpenMMSwitchingDPOpenCL.so", "OpenCL")):
        path = _os.path.join(_HERE, name)
        if not _os.path.exists(path) or (platform is not None and platform not in platforms):
            continue
        _openmm.Platform.loadPluginLibrary(path)
        loaded.append(name)
    return loaded


LOADED_PLUGINS = _load_plugins()

try:
    __version__ = _metadata.version("openmm-switchingdp")
except _metadata.PackageNotFoundError:   # run from a source tree that was never installed
    __version__ = "unknown"

from .switchingdpforce import SwitchingDPForce  # noqa: E402

from . import bundled, defaults  # noqa: E402
from .integrators import (AlternatingLangevinIntegrator, BAOABRESPAIntegrator,  # noqa: E402
                          VelocityVerletRESPAIntegrator)
from .reporters import DeviationReporter  # noqa: E402


def typesFromTopology(topology, particles=None):
    """DP type names (element symbols) of a Topology's atoms, optionally of a subset.

    Atoms without an element (virtual sites, coarse-grained beads) raise an error,
    since a DP model cannot type them.
    """
    atoms = list(topology.atoms())
    indices = range(len(atoms)) if particles is None else particles
    names = []
    for i in indices:
        atom = atoms[i]
        if atom.element is None:
            raise ValueError(f"atom {i} ({atom.name} in residue {atom.residue.name}) has no element, "
                             "so it has no DP type; pass types to setTypes() yourself")
        names.append(atom.element.symbol)
    return names


__all__ = ["SwitchingDPForce", "typesFromTopology", "VelocityVerletRESPAIntegrator", "BAOABRESPAIntegrator",
           "AlternatingLangevinIntegrator", "DeviationReporter", "bundled", "defaults", "LOADED_PLUGINS",
           "__version__"]
