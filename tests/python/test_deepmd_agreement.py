"""Energies and forces through the plugin equal deepmd-kit's own inference."""
import glob
import os

import numpy as np
import pytest

from helpers import (MODEL_FILES, WATER, SwitchingDPForce, deepmd_energy_forces, energy_forces, make_context, make_force,
                     make_system, water)

OH = 0.09572  # nm
HOH = np.deg2rad(104.52)


def water_lattice(per_side, spacing, seed):
    """per_side^3 randomly oriented waters on a cubic lattice."""
    rng = np.random.default_rng(seed)
    local = np.array([[0, 0, 0], [OH, 0, 0], [OH * np.cos(HOH), OH * np.sin(HOH), 0]])
    positions, elements = [], []
    for i in range(per_side):
        for j in range(per_side):
            for k in range(per_side):
                q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
                positions.extend(local @ q.T + spacing * (np.array([i, j, k]) + 0.5))
                elements.extend(["O", "H", "H"])
    return np.array(positions), elements


def case(name):
    """(positions nm, elements, box or None, particles or None, masses) for each geometry."""
    positions, elements, masses, box = water()
    if name == "cubic":
        return positions, elements, box, None, masses
    if name == "triclinic":
        tri = np.array([[1.24, 0, 0], [0.3, 1.2, 0], [-0.2, 0.25, 1.3]])
        return positions, elements, tri, None, masses
    if name == "box smaller than twice the cutoff":
        pos, el = water_lattice(2, 0.31, seed=5)   # 8 waters in a 0.62 nm box; cutoffs 0.6 and 0.4 nm
        return pos, el, np.eye(3) * 0.62, None, [16.0 if e == "O" else 1.0 for e in el]
    if name == "non-periodic molecule":
        oxygens = np.arange(0, len(positions), 3)
        centre = positions[oxygens].mean(axis=0)
        nearest = oxygens[np.argsort(np.linalg.norm(positions[oxygens] - centre, axis=1))[:6]]
        idx = np.sort(np.concatenate([nearest, nearest + 1, nearest + 2]))
        return positions[idx], [elements[i] for i in idx], None, None, [masses[i] for i in idx]
    if name == "DP subset of a larger System":
        # Argon-like particles scattered through the particle list, outside the DP set.
        n_extra = 7
        order = list(range(len(positions)))
        inserts = [0, 0, 50, 100, 101, 150, len(order)]
        full_pos, full_el, full_mass, particles = [], [], [], []
        rng = np.random.default_rng(3)
        cursor = 0
        for stop in inserts:
            for i in order[cursor:stop]:
                particles.append(len(full_pos))
                full_pos.append(positions[i]); full_el.append(elements[i]); full_mass.append(masses[i])
            cursor = max(cursor, stop)
            full_pos.append(rng.uniform(0, 1.24, 3)); full_el.append("Ar"); full_mass.append(39.9)
        assert len(full_pos) == len(positions) + n_extra
        return np.array(full_pos), full_el, box, particles, full_mass
    if name == "more O neighbours than sel":
        # An oxygen with 17 O (at distinct distances, 2.5-3.3 A) and no H within 4 A:
        # more than the fast model's sel for O (16) but fewer than sum(sel).  deepmd-kit
        # keeps the 16 nearest only if it sorts the row by distance.
        k = np.arange(17)
        z = 1 - 2 * (k + 0.5) / 17
        phi = k * np.pi * (3 - np.sqrt(5))
        radius = 0.25 + 0.005 * k
        shell = radius[:, None] * np.stack([np.sqrt(1 - z**2) * np.cos(phi), np.sqrt(1 - z**2) * np.sin(phi), z], 1)
        pos = np.concatenate([[[0, 0, 0]], shell, [[1.2, 0, 0], [1.2, 0.1, 0]]])
        el = ["O"] * 18 + ["H", "H"]
        return pos, el, None, None, [16.0] * 18 + [1.0, 1.0]
    if name == "particle order unlike the type_map":
        perm = np.random.default_rng(11).permutation(len(positions))
        return positions[perm], [elements[i] for i in perm], box, None, [masses[i] for i in perm]
    raise KeyError(name)


CASES = ["cubic", "triclinic", "box smaller than twice the cutoff", "non-periodic molecule",
         "DP subset of a larger System", "particle order unlike the type_map", "more O neighbours than sel"]


@pytest.mark.parametrize("platform", ["Reference", "CPU"])
@pytest.mark.parametrize("model", [SwitchingDPForce.Accurate, SwitchingDPForce.Fast], ids=["accurate", "fast"])
@pytest.mark.parametrize("name", CASES)
def test_matches_deepmd(name, model, platform):
    positions, elements, box, particles, masses = case(name)
    force = make_force(model, periodic=box is not None)
    if particles is not None:
        force.setParticles(particles)
    types = elements if particles is None else [elements[i] for i in particles]
    system = make_system(masses, box, force, types)
    context = make_context(system, positions, platform, box=box)
    energy, forces = energy_forces(context)

    dp_positions = positions if particles is None else positions[particles]
    ref_energy, ref_forces = deepmd_energy_forces(MODEL_FILES[model], dp_positions, types, box)
    assert energy == pytest.approx(ref_energy, rel=1e-8)
    dp_forces = forces if particles is None else forces[particles]
    scale = np.abs(ref_forces).max()
    assert np.abs(dp_forces - ref_forces).max() <= 1e-8 * scale
    if particles is not None:
        others = np.setdiff1d(np.arange(len(positions)), particles)
        assert np.all(forces[others] == 0.0)
    assert force.getEvaluationCounts(context)[model] == 1


LEVER_MODELS = sorted(glob.glob(os.path.join(WATER, "water_*_fp32*.pth")))


@pytest.mark.parametrize("path", LEVER_MODELS, ids=[os.path.basename(p) for p in LEVER_MODELS])
@pytest.mark.parametrize("name", ["cubic", "box smaller than twice the cutoff"])
def test_float32_and_compressed_models_match_deepmd(path, name):
    """The fast-model levers (make_fast_levers.py): float32 weights, and compressed
    (tabulated, deepmd-kit's custom operators) float32.  Both the plugin and DeepPot
    compute in float32 and sum neighbours in different orders, hence bounds near float32
    rounding (a float64 model differs from its float32 copy by about 1.5e-5 of the
    largest force; a wrong neighbour list or unit would be off by far more)."""
    positions, elements, box, _, masses = case(name)
    force = SwitchingDPForce(path, path)
    force.setAccurateInterval(1)
    system = make_system(masses, box, force, elements)
    energy, forces = energy_forces(make_context(system, positions, "CPU", box=box))
    ref_energy, ref_forces = deepmd_energy_forces(path, positions, elements, box)
    assert energy == pytest.approx(ref_energy, rel=1e-5)
    assert np.abs(forces - ref_forces).max() <= 1e-4 * np.abs(ref_forces).max()


def test_lever_models_exist():
    """make_fast_levers.py output is committed for both bundled models."""
    names = {os.path.basename(p) for p in LEVER_MODELS}
    assert {"water_4A_fp32.pth", "water_4A_fp32_compressed.pth", "water_6A_fp32.pth"} <= names
