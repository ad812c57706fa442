"""Contexts of one model as every tool builds them, at a platform's precision, and
what they compute."""
import contextlib

import numpy as np
import openmm as mm
import openmm.unit as u

from ... import SwitchingDPForce
from ..schemes import ACCURATE, Scheme, switching_force

__all__ = ["precision_properties", "default_precision", "model_parameters", "VARIANTS", "model_context", "energy_forces"]

def precision_properties(platform, precision):
    """Context properties that set `precision` where the platform has that property."""
    platform = mm.Platform.getPlatformByName(platform) if isinstance(platform, str) else platform
    if precision and "Precision" in platform.getPropertyNames():
        return {"Precision": precision}
    return {}


@contextlib.contextmanager
def default_precision(platform, precision):
    """Every Context created meanwhile on `platform` (e.g. by bench.measure) runs at
    `precision`; the platform's default is put back afterwards."""
    platform = mm.Platform.getPlatformByName(platform)
    if not precision_properties(platform, precision):
        yield
        return
    before = platform.getPropertyDefaultValue("Precision")
    platform.setPropertyDefaultValue("Precision", precision)
    try:
        yield
    finally:
        platform.setPropertyDefaultValue("Precision", before)


def model_parameters(path, atoms, seed=7):
    """(frame parameters, atomic parameters) with non-trivial values, for a model that
    takes them (empty lists otherwise)."""
    force = SwitchingDPForce(path)
    model = SwitchingDPForce.Accurate
    rng = np.random.default_rng(seed)
    return (list(rng.uniform(0.5, 1.5, force.getModelNumFrameParameters(model))),
            list(rng.uniform(0.5, 1.5, atoms * force.getModelNumAtomicParameters(model))))


# How one model can be evaluated: the default (the native path for se_e2_a models,
# replayed as CUDA graphs on CUDA), the native path run eagerly, and the model's own
# TorchScript.  Each is (name, use the native path, use CUDA graphs).
VARIANTS = {
    "default": ("default", True, True),
    "eager": ("native, no CUDA graphs", True, False),
    "torchscript": ("TorchScript", False, False),
}


def model_context(path, data, platform, precision=None, frame=(), atomic=(), variant="default"):
    """A Context of `path` alone on `data` (a Structure), its System built as every tool
    builds one (schemes.Scheme through openmm-ml's MLPotential); `variant` is a key of
    VARIANTS."""
    system = Scheme(ACCURATE, path).create_system(data.topology, frame_parameters=frame)
    force = switching_force(system)
    if len(atomic):
        force.setAtomicParameters([float(v) for v in atomic])
    _, native, graphs = VARIANTS[variant]
    if hasattr(force, "setUseNativePath"):
        force.setUseNativePath(native)
        force.setUseCUDAGraphs(graphs)
    platform = mm.Platform.getPlatformByName(platform)
    context = mm.Context(system, mm.VerletIntegrator(0.0005), platform, precision_properties(platform, precision))
    context.setPositions(data.positions * u.nanometer)
    return context


def energy_forces(context):
    """(energy kJ/mol, forces kJ/mol/nm) of a Context's State."""
    state = context.getState(getEnergy=True, getForces=True)
    return (state.getPotentialEnergy().value_in_unit(u.kilojoule_per_mole),
            np.array(state.getForces(asNumpy=True).value_in_unit(u.kilojoule_per_mole / u.nanometer)))
