"""The replays part: the default path (CUDA graphs on CUDA) against the reference
over configurations that replay a capture, rebuild the list and outgrow the capacities."""
import os

import numpy as np
import openmm.unit as u

from .common import FAILED, OK, SKIPPED, Check, relative_errors, structure
from .contexts import energy_forces, model_context

__all__ = ["REPLAY_MODELS", "replay_configurations", "check_replays", "replays_check"]

# Models for the replay check and the largest relative error allowed (energy, and
# max |dF| / max |F|): float64 arithmetic, and a float32 compressed model.
REPLAY_MODELS = (("water_6A.pth", 1e-9), ("water_4A_fp32_compressed.pth", 1e-4))


def replay_configurations(base, seed=11):
    """(label, positions nm): the structure, three small moves (the neighbour list and
    the captured capacities kept), a larger one (the list rebuilt), and the atoms drawn
    7% towards the origin (more neighbours: larger capacities)."""
    rng = np.random.default_rng(seed)
    configurations = [("start", base)]
    for i in range(3):
        configurations.append((f"small move {i + 1}", configurations[-1][1] + rng.normal(0.0, 1e-3, base.shape)))
    configurations.append(("large move", configurations[-1][1] + rng.normal(0.0, 0.03, base.shape)))
    configurations.append(("compressed 7%", base * 0.93))
    return configurations


def check_replays(folder, pdb, platform, reference, say=print, steps=20):
    """Rows (model, worst energy error, worst force error, tolerance) of the default
    path on `platform` against `reference` over replay_configurations() and after
    `steps` MD steps on `platform`."""
    data = structure(pdb, 1)
    rows = []
    say(f"\n## Replays: {platform} (double precision) against {reference}")
    say("| model | configurations | worst |dE|/|E| | worst max|dF|/max|F| | tolerance |")
    say("|---|---|---:|---:|---:|")
    for name, tolerance in REPLAY_MODELS:
        path = os.path.join(folder, name)
        if not os.path.exists(path):
            continue
        context = model_context(path, data, platform, "double")
        expected = model_context(path, data, reference)
        worst = (0.0, 0.0)
        labels = []
        for label_, positions in replay_configurations(data.positions):
            context.setPositions(positions * u.nanometer)
            expected.setPositions(positions * u.nanometer)
            errors = relative_errors(energy_forces(expected), energy_forces(context))
            worst = (max(worst[0], errors[0]), max(worst[1], errors[1]))
            labels.append(label_)
        context.getIntegrator().step(steps)
        expected.setPositions(context.getState(getPositions=True).getPositions())
        errors = relative_errors(energy_forces(expected), energy_forces(context))
        worst = (max(worst[0], errors[0]), max(worst[1], errors[1]))
        labels.append(f"{steps} MD steps")
        rows.append((name, worst[0], worst[1], tolerance))
        say(f"| {name} | {', '.join(labels)} | {worst[0]:.1e} | {worst[1]:.1e} | {tolerance:.0e} |")
    return rows


def replays_check(rows, platform, reference):
    """The summary line of :func:`check_replays`' rows."""
    if not rows:
        return Check("replays", SKIPPED, "none of the replay models is in the repository")
    bad = [name for name, e, f, tolerance in rows if not (e <= tolerance and f <= tolerance)]
    detail = "; ".join(f"{name}: {e:.1e} / {f:.1e}" for name, e, f, _ in rows)
    return Check(f"replays on {platform} vs {reference}", FAILED if bad else OK, detail)
