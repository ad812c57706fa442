"""MD sampling for the distillation: frames of a running Context, stopped early when
the run goes wrong."""
import numpy as np

from ...units import ANGSTROM_PER_NM

__all__ = ["sample_md"]


def sample_md(context, steps_per_frame, frames, max_temperature, progress=None):
    """Frames (positions A, boxes A, states) every steps_per_frame steps; stops early at
    non-finite positions or above max_temperature (the frames of a run going wrong
    are kept up to there)."""
    import openmm.unit as u
    from ..validate import temperature_of
    atoms = context.getSystem().getNumParticles()
    coords, boxes, states = [], [], []
    for _ in range(frames):
        try:
            context.getIntegrator().step(steps_per_frame)
            state = context.getState(getPositions=True, getVelocities=True, getEnergy=True)
        except Exception:   # the plugin refuses non-finite positions
            break
        if progress:
            progress.update(steps_per_frame)
        if not temperature_of(state, atoms) < max_temperature:
            break
        coords.append(state.getPositions(asNumpy=True).value_in_unit(u.nanometer) * ANGSTROM_PER_NM)
        boxes.append(np.array(state.getPeriodicBoxVectors().value_in_unit(u.nanometer)) * ANGSTROM_PER_NM)
        states.append(state)
    return np.array(coords).reshape(-1, atoms, 3), np.array(boxes).reshape(-1, 3, 3), states
