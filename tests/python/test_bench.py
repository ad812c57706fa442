"""The bench command runs end to end on a tiny system (no timing is asserted: the
figures only have to be well formed and consistent with each other)."""
import os
import subprocess
import sys

import numpy as np
import pytest

from helpers import ACCURATE, FAST, RESIDUAL, WATER_PDB
from openmmswitchingdp import bench


def test_bench_on_the_bundled_water_with_the_pythonforce_baseline(capsys):
    results = bench.main(["--accurate", ACCURATE, "--fast", FAST, "--pdb", WATER_PDB, "--replicate", "1",
                          "--steps", "8", "--rounds", "1", "--warmup", "1", "--platform", "CPU",
                          "--residual", RESIDUAL])
    (atoms, rows), = results
    assert atoms == 192
    names = [row[0] for row in rows]
    assert names == ["accurate-only", "fast-only", "alternating 1:3", "rRESPA 2/0.5 fs",
                     "rRESPA 2/0.5 fs, co-trained residual", "accurate, PythonForce + DeepPot"]
    speed = {row[0]: row for row in rows}
    for name, steps_per_s, ns_day, speedup, ideal, efficiency in rows:
        assert np.isfinite(steps_per_s) and steps_per_s > 0
        assert speedup == pytest.approx(ns_day / speed["accurate-only"][2])
        assert efficiency == pytest.approx(speedup / ideal)
    assert speed["accurate-only"][3] == 1.0
    r = speed["accurate-only"][1] / speed["fast-only"][1]
    assert speed["alternating 1:3"][4] == pytest.approx(4 / (1 + 3 * r))
    assert speed["rRESPA 2/0.5 fs"][4] == pytest.approx(4 / (1 + 4 * r))
    assert speed["rRESPA 2/0.5 fs, co-trained residual"][4] == pytest.approx(4 / (1 + 4 * r))
    assert "PythonForce + DeepPot" in capsys.readouterr().out


def test_pythonforce_baseline_gives_deepmd_forces():
    """The baseline is the same accurate model: one step from the same state must
    move the atoms as the plugin's accurate-only run does."""
    data = bench.replicated_system(WATER_PDB, 1)
    runs = bench.schemes(ACCURATE, FAST, 4, 4, 0.5, baseline=True)
    plugin = bench.make_context(runs["accurate-only"], data, "CPU")
    baseline = bench.make_context(runs["accurate, PythonForce + DeepPot"], data, "CPU")
    forces = [c.getState(getForces=True).getForces(asNumpy=True)._value for c in (plugin, baseline)]
    energies = [c.getState(getEnergy=True).getPotentialEnergy()._value for c in (plugin, baseline)]
    assert energies[1] == pytest.approx(energies[0], rel=1e-8)
    assert np.abs(forces[1] - forces[0]).max() <= 1e-8 * np.abs(forces[0]).max()


def test_the_residual_scheme_runs_fast_plus_residual():
    data = bench.replicated_system(WATER_PDB, 1)
    runs = bench.schemes(ACCURATE, FAST, 4, 4, 0.5, residual=RESIDUAL)
    residual_alone = dict(accurate=RESIDUAL, fast=RESIDUAL, interval=1, dt=0.0005)
    energy = {name: bench.make_context(scheme, data, "CPU").getState(getEnergy=True).getPotentialEnergy()._value
              for name, scheme in [("pair", runs["rRESPA 2/0.5 fs, co-trained residual"]),
                                   ("fast", runs["fast-only"]), ("residual", residual_alone)]}
    assert energy["pair"] == pytest.approx(energy["fast"] + energy["residual"], rel=1e-10)


def test_the_console_script_exits_with_status_0():
    script = os.path.join(os.path.dirname(sys.executable), "switchingdp-bench")
    done = subprocess.run([script, "--replicate", "1", "--steps", "8", "--rounds", "1", "--warmup", "1",
                           "--no-baseline", "--pdb", WATER_PDB], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| alternating 1:3 |" in done.stdout
