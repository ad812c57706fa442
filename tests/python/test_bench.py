"""The bench command runs end to end on a tiny system (no timing is asserted: the
figures only have to be well formed and consistent with each other)."""
import os
import subprocess
import sys

import numpy as np
import openmm.unit as u
import pytest

from helpers import ACCURATE, FAST, RESIDUAL, WATER_PDB, deepmd_energy_forces, water
from openmmswitchingdp.toolkit import bench, lammps
from openmmswitchingdp.toolkit.cli import bench as bench_command
from openmmswitchingdp.toolkit.schemes import ACCURATE as ACCURATE_ONLY, Scheme, Structure, build_context, standard_schemes


def test_bench_on_the_bundled_water_with_the_pythonforce_baseline(capsys):
    results = bench_command.main(["--accurate", ACCURATE, "--fast", FAST, "--pdb", WATER_PDB, "--replicate", "1",
                                  "--steps", "8", "--rounds", "1", "--warmup", "1", "--platform", "CPU",
                                  "--residual", RESIDUAL])
    result, = results
    rows = result.rows
    assert result.atoms == 192 and result.comparison is None
    names = [row.name for row in rows]
    assert names == ["accurate-only", "fast-only", "alternating 1:3", "rRESPA 2/0.5 fs",
                     "rRESPA 2/0.5 fs, co-trained residual", "accurate, PythonForce + DeepPot"]
    speed = {row.name: row for row in rows}
    for row in rows:
        assert np.isfinite(row.steps_per_second) and row.steps_per_second > 0
        assert row.speedup == pytest.approx(row.ns_per_day / speed["accurate-only"].ns_per_day)
        assert row.efficiency == pytest.approx(row.speedup / row.ideal)
    assert speed["accurate-only"].speedup == 1.0
    r = speed["accurate-only"].steps_per_second / speed["fast-only"].steps_per_second
    assert result.fast_ratio == pytest.approx(r)
    assert speed["alternating 1:3"].ideal == pytest.approx(4 / (1 + 3 * r))
    assert speed["rRESPA 2/0.5 fs"].ideal == pytest.approx(4 / (1 + 4 * r))
    assert speed["rRESPA 2/0.5 fs, co-trained residual"].ideal == pytest.approx(4 / (1 + 4 * r))
    assert "PythonForce + DeepPot" in capsys.readouterr().out


def test_pythonforce_baseline_gives_deepmd_forces():
    """The baseline is the same accurate model: one step from the same state must
    move the atoms as the plugin's accurate-only run does."""
    data = Structure.from_pdb(WATER_PDB)
    runs = standard_schemes(ACCURATE, FAST, 4, 4, 0.5, baseline=True)
    plugin = build_context(runs["accurate-only"], data, "CPU")
    baseline = build_context(runs["accurate, PythonForce + DeepPot"], data, "CPU")
    forces = [c.getState(getForces=True).getForces(asNumpy=True).value_in_unit(u.kilojoule_per_mole / u.nanometer)
              for c in (plugin, baseline)]
    energies = [c.getState(getEnergy=True).getPotentialEnergy().value_in_unit(u.kilojoule_per_mole)
                for c in (plugin, baseline)]
    assert energies[1] == pytest.approx(energies[0], rel=1e-8)
    assert np.abs(forces[1] - forces[0]).max() <= 1e-8 * np.abs(forces[0]).max()


def test_the_residual_scheme_runs_fast_plus_residual():
    data = Structure.from_pdb(WATER_PDB)
    runs = standard_schemes(ACCURATE, FAST, 4, 4, 0.5, residual=RESIDUAL)
    residual_alone = Scheme(ACCURATE_ONLY, RESIDUAL)
    energy = {name: build_context(scheme, data, "CPU").getState(getEnergy=True).getPotentialEnergy()
              .value_in_unit(u.kilojoule_per_mole)
              for name, scheme in [("pair", runs["rRESPA 2/0.5 fs, co-trained residual"]),
                                   ("fast", runs["fast-only"]), ("residual", residual_alone)]}
    assert energy["pair"] == pytest.approx(energy["fast"] + energy["residual"], rel=1e-10)


def test_the_console_script_exits_with_status_0():
    script = os.path.join(os.path.dirname(sys.executable), "switchingdp-bench")
    done = subprocess.run([script, "--replicate", "1", "--steps", "8", "--rounds", "1", "--warmup", "1",
                           "--no-baseline", "--pdb", WATER_PDB], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| alternating 1:3 |" in done.stdout


LAMMPS_MISSING = lammps.unavailable_reason()


@pytest.mark.skipif(LAMMPS_MISSING is not None, reason=f"--lammps needs LAMMPS: {LAMMPS_MISSING}")
def test_lammps_rows_and_first_frame_energies(capsys):
    """--lammps runs the same models on the same coordinates in LAMMPS: its first-frame
    energies must equal the plugin's and deepmd-kit's DeepPot (float64 models)."""
    results = bench_command.main(["--accurate", ACCURATE, "--fast", FAST, "--pdb", WATER_PDB, "--replicate", "1",
                                  "--steps", "8", "--rounds", "1", "--warmup", "1", "--no-baseline", "--lammps"])
    result, = results
    rows, comparison = result.rows, result.comparison
    out = capsys.readouterr().out
    names = [row.name for row in rows]
    assert names[-3:] == ["LAMMPS accurate-only", "LAMMPS fast-only", "LAMMPS rRESPA 2/0.5 fs"]
    speed = {row.name: row.steps_per_second for row in rows}
    positions, elements, _, box = water()
    reference = {"accurate-only": deepmd_energy_forces(ACCURATE, positions, elements, box)[0],
                 "fast-only": deepmd_energy_forces(FAST, positions, elements, box)[0]}
    reference["rRESPA 2/0.5 fs"] = reference["accurate-only"]   # fast + (accurate - fast)
    assert [c.run for c in comparison] == ["accurate-only", "fast-only", "rRESPA 2/0.5 fs"]
    for c in comparison:
        name, plugin_sps, lammps_sps, ratio = c.run, c.plugin_steps_per_second, c.lammps_steps_per_second, c.ratio
        plugin_e, lammps_e, rel, tolerance = c.plugin_energy, c.lammps_energy, c.relative_difference, c.tolerance
        assert lammps_e == pytest.approx(plugin_e, rel=1e-8), name
        assert lammps_e == pytest.approx(reference[name], rel=1e-8), name
        assert rel == pytest.approx(abs(lammps_e - plugin_e) / abs(plugin_e))
        assert tolerance == bench.ENERGY_TOLERANCE["float64"]
        assert plugin_sps == speed[name] and lammps_sps == speed["LAMMPS " + name] > 0
        assert ratio == pytest.approx(plugin_sps / lammps_sps)
    assert "| LAMMPS rRESPA 2/0.5 fs |" in out and "plugin/LAMMPS" in out
    assert "first-frame energy check, plugin vs LAMMPS" in out and ": ok" in out


@pytest.mark.skipif(LAMMPS_MISSING is not None, reason=f"LAMMPS not installed: {LAMMPS_MISSING}")
def test_lammps_triclinic_box_energy_equals_deeppot(tmp_path):
    """A sheared (restricted triclinic) box goes to LAMMPS as OpenMM's reduced vectors."""
    positions, elements, masses, box = water()
    box = box.copy()
    box[1, 0], box[2, 0], box[2, 1] = 0.3, -0.2, 0.25   # nm; within OpenMM's reduced form
    data_file = str(tmp_path / "tilted.data")
    type_names = lammps.write_data(data_file, positions, elements, masses, box)
    assert type_names == ["O", "H"]
    assert "3.0 -2.0 2.5 xy xz yz" in open(data_file).read()
    script = lammps.input_script(data_file, type_names, [(1.0, FAST)], 0.0005, 0, warmup=0)
    result = lammps.run(script, str(tmp_path))
    assert result.first_energy == pytest.approx(deepmd_energy_forces(FAST, positions, elements, box)[0], rel=1e-8)


def test_lammps_box_must_be_in_reduced_form():
    assert lammps.restricted_box(np.diag([1.0, 2.0, 3.0])) == (10.0, 20.0, 30.0, 0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="reduced form"):
        lammps.restricted_box(np.array([[1.0, 0.1, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))


def test_energy_mismatch_is_an_error(capsys):
    row = bench.LammpsComparison("accurate-only", 10.0, 5.0, 2.0, -100.0, -100.01, 1e-4,
                                 bench.ENERGY_TOLERANCE["float64"])
    with pytest.raises(bench.EnergyMismatch, match="accurate-only"):
        bench.print_comparison([row], 1)
    assert "FAILED" in capsys.readouterr().out


def test_thread_scaling_table(capsys):
    """Each model alone at 1 thread and at 2, and the line that flags a slowdown."""
    import torch
    before = torch.get_num_threads()
    scaling = bench.thread_scaling([ACCURATE, FAST], Structure.from_pdb(WATER_PDB), "CPU", steps=4, rounds=1,
                                   warmup=1, threads=2)
    table = [(row.model, row.one_thread, row.many_threads) for row in scaling.rows]
    assert scaling.threads == 2 and torch.get_num_threads() == before
    assert [row[0] for row in table] == [ACCURATE, FAST]
    assert all(np.isfinite(one) and one > 0 and np.isfinite(two) and two > 0 for _, one, two in table)
    assert bench.print_thread_scaling(scaling) == [os.path.basename(m) for m, one, two in table if one / two > 1.5]
    # The flag itself, on made-up figures: 1.6x slower is flagged, 1.4x is not.
    made_up = bench.ThreadScaling(2, [bench.ModelScaling("a.pth", 16.0, 10.0), bench.ModelScaling("b.pth", 14.0, 10.0)])
    assert bench.print_thread_scaling(made_up) == ["a.pth"]
    out = capsys.readouterr().out
    assert "| a.pth | 16.00 | 10.00 | 0.62x |" in out and "SLOWER with more threads: a.pth" in out
