"""The validate tool: RDFs against an independent calculation, and its Pearson
correlations on short runs (1 for a model against itself, below 1 for two models)."""
import json
import os
import subprocess
import sys

import numpy as np
import openmm.unit as u
import pytest

from helpers import ACCURATE, FAST, WATER_PDB
from openmmswitchingdp.toolkit import analysis, validate
from openmmswitchingdp.toolkit.schemes import Structure, build_context, standard_schemes
from openmmswitchingdp.toolkit.validate import ValidateOptions


def numpy_rdf(xyz, box, elements, pair, r_max, bin_width):
    """g(r) by brute force over all pairs with the minimum image of a cubic box."""
    first = [i for i, e in enumerate(elements) if e == pair[0]]
    second = [i for i, e in enumerate(elements) if e == pair[1]]
    pairs = [(i, j) for i in first for j in second if i != j and (pair[0] != pair[1] or i < j)]
    length = box[0, 0]
    edges = np.arange(0.0, r_max + 1e-12, bin_width)
    counts = np.zeros(len(edges) - 1)
    for frame in xyz:
        d = np.array([frame[j] - frame[i] for i, j in pairs])
        d -= length * np.round(d / length)
        counts += np.histogram(np.linalg.norm(d, axis=1), bins=edges)[0]
    shells = 4.0 / 3.0 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    return 0.5 * (edges[1:] + edges[:-1]), counts / len(xyz) / (len(pairs) * shells / length ** 3)


def test_rdf_matches_brute_force_on_hand_made_configuration():
    rng = np.random.default_rng(3)
    box = np.eye(3) * 1.1
    elements = ["O", "H", "H", "O", "H", "H", "O", "H"]
    xyz = rng.uniform(0, 1.1, size=(3, len(elements), 3))
    xyz[:, 1] = xyz[:, 0] + [0.1034, 0.0, 0.0]     # a close pair, and one across the boundary
    xyz[:, 3] = [0.0215, 0.5, 0.5]
    xyz[:, 4] = [1.0832, 0.5, 0.5]
    boxes = np.repeat(box[None], 3, axis=0)
    for pair in analysis.element_pairs(elements):
        r, g = analysis.rdf(xyz, boxes, elements, pair, 0.5, 0.01)
        r_ref, g_ref = numpy_rdf(xyz, box, elements, pair, 0.5, 0.01)
        assert np.allclose(r, r_ref)
        assert np.allclose(g, g_ref, rtol=1e-5, atol=1e-8), pair
        assert g.sum() > 0


def test_diffusion_coefficient_of_uniform_motion_is_zero_and_of_a_random_walk_is_recovered():
    rng = np.random.default_rng(5)
    times = np.arange(2000) * 0.01   # ps
    steps = rng.normal(scale=np.sqrt(2 * 0.05 * 0.01), size=(2000, 500, 3))  # D = 0.05 nm^2/ps per axis
    walk = np.cumsum(steps, axis=0)
    d, _, _ = analysis.diffusion_coefficient(times, walk)
    assert d == pytest.approx(0.05 * 1e3, rel=0.1)   # 0.05 nm^2/ps = 5e-4 cm^2/s = 50 x 1e-5 cm^2/s
    drift = np.repeat(np.linspace(0, 1, 2000)[:, None, None], 50, axis=1) * np.ones(3)
    assert abs(analysis.diffusion_coefficient(times, drift)[0]) < 1e-9   # centre-of-mass motion removed


def short(accurate, fast, equilibration_ps=0.0):
    return validate.validate(ValidateOptions(accurate, fast, WATER_PDB, time_ps=0.2, equilibration_ps=equilibration_ps,
                                             scheme_equilibration_ps=0.0, which=[0, 1], progress=False))


def test_a_model_against_itself_correlates_exactly():
    """Both runs start from the same shared equilibrated state with the same seed."""
    results = short(ACCURATE, ACCURATE, equilibration_ps=0.02).schemes
    assert set(results) == {"accurate-only", "fast-only"}
    same = results["fast-only"]
    assert set(same["rdf_pearson"]) == {"O-O", "O-H", "H-H"}
    for r in same["rdf_pearson"].values():
        assert r == pytest.approx(1.0, abs=1e-12)
    for element, d in same["diffusion_1e-5_cm2_per_s"].items():
        assert d == pytest.approx(results["accurate-only"]["diffusion_1e-5_cm2_per_s"][element], rel=1e-12)
    assert same["mean_energy_meV_per_atom"] == results["accurate-only"]["mean_energy_meV_per_atom"]
    assert 200 < same["mean_temperature_K"] < 500


def test_two_models_correlate_below_one():
    results = short(ACCURATE, FAST).schemes
    pearson = results["fast-only"]["rdf_pearson"]
    assert all(0.5 < r < 1.0 - 1e-6 for r in pearson.values()), pearson
    assert results["accurate-only"]["rdf_pearson"]["O-O"] == pytest.approx(1.0)


def nm(quantity, unit=None):
    return np.array((quantity.value_in_unit(unit or u.nanometer)))


def test_every_scheme_starts_from_the_shared_equilibrated_state():
    """shared_start and run_scheme against the same steps taken directly with OpenMM."""
    data = Structure.from_pdb(WATER_PDB)
    scheme = standard_schemes(FAST, FAST, 4, 4, 0.5)["accurate-only"]
    args = ValidateOptions(time_ps=0.2, equilibration_ps=0.01, scheme_equilibration_ps=0.0, temperature=330.0,
                           sample_interval_fs=10.0, platform="CPU", seed=3)

    class Silent:
        def update(self, _):
            pass

        def close(self):
            pass
    start = validate.shared_start(scheme, data, args, lambda **_: Silent())
    direct = build_context(scheme, data, "CPU", seed=3)
    direct.getIntegrator().step(20)   # 0.01 ps of 0.5 fs steps
    state = direct.getState(getPositions=True, getVelocities=True)
    assert np.allclose(nm(start[0]), nm(state.getPositions()), atol=1e-9)
    assert np.allclose(nm(start[1], u.nanometer / u.picosecond), nm(state.getVelocities(), u.nanometer / u.picosecond),
                       atol=1e-9)

    run = validate.run_scheme("fast", scheme, data, args, lambda positions, box=None: (0.0, 0.0, 0.0), lambda **_: Silent(), start)
    direct = build_context(scheme, data, "CPU", seed=3)
    direct.setPositions(start[0])
    direct.setVelocities(start[1])
    direct.getIntegrator().step(validate.CYCLE_WINDOW_STEPS + 20)   # the energy trace, then one 10 fs sample
    first = nm(direct.getState(getPositions=True).getPositions(asNumpy=True))
    assert np.allclose(run["xyz"][0], first, atol=1e-9)
    assert not np.allclose(run["xyz"][0], data.positions, atol=1e-3)   # it moved: the comparison means something


def test_a_run_that_blows_up_is_reported_and_the_others_go_on():
    """rRESPA with an 8 fs outer step is far beyond what flexible water allows."""
    results = validate.validate(ValidateOptions(ACCURATE, FAST, WATER_PDB, time_ps=0.2, equilibration_ps=0.0,
                                                scheme_equilibration_ps=0.0, inner_steps=16,
                                                sample_interval_fs=8.0, which=[0, 3], progress=False))
    rows = results.schemes
    assert "rdf_pearson" in rows["accurate-only"]
    blown = rows["rRESPA 8/0.5 fs"]
    assert 0 < blown["unstable_after_ps"] <= 0.2
    assert "unstable after" in analysis.markdown_table(results)


def test_a_sample_interval_that_does_not_fit_a_scheme_is_refused_before_any_run(monkeypatch):
    """10 fs is no multiple of rRESPA's 4 fs outer step: refused up front, naming the
    scheme, not after the schemes before it have run."""
    monkeypatch.setattr(validate, "shared_start", lambda *_: pytest.fail("a run started before the check"))
    with pytest.raises(ValueError, match=r"rRESPA 4/0.5 fs: --sample-interval 10 fs is not a multiple of its 4 fs step"):
        validate.validate(ValidateOptions(ACCURATE, FAST, WATER_PDB, time_ps=0.1, inner_steps=8,
                                          sample_interval_fs=10.0, progress=False))


def test_the_console_script_writes_its_outputs_and_exits_with_status_0(tmp_path):
    script = os.path.join(os.path.dirname(sys.executable), "switchingdp-validate")
    done = subprocess.run([script, "--accurate", FAST, "--fast", FAST, "--pdb", WATER_PDB, "--time", "0.2",
                           "--equilibration", "0", "--scheme-equilibration", "0", "--inner-steps", "2",
                           "--out", str(tmp_path), "--no-progress"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    for name in ("rdf.png", "msd.png", "energy.png", "results.json"):
        assert (tmp_path / name).stat().st_size > 0
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["schemes"]["fast-only"]["rdf_pearson"]["O-O"] == pytest.approx(1.0, abs=1e-12)
