"""scripts/gpu-check.sh's Python part, openmmswitchingdp.toolkit.gpucheck (its command
line openmmswitchingdp.toolkit.cli.gpucheck), run on the CPU
(every part's logic at 192 atoms; the GPU figures themselves need a GPU), and
scripts/gpu-wheelhouse.sh's package list (--dry-run: no network)."""
import glob
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from helpers import ROOT, WATER, WATER_PDB
from openmmswitchingdp import deepmd_ops
from openmmswitchingdp.toolkit import gpucheck
from openmmswitchingdp.toolkit.cli import gpucheck as gpucheck_command
from openmmswitchingdp.toolkit.gpucheck import FAILED, OK, REPORTED, SKIPPED, Check

QUIET = dict(say=lambda *args: None)


def water(name):
    return os.path.join(WATER, name)


def test_sizes_are_atom_counts_or_copies_per_edge():
    assert [gpucheck.copies_for(size) for size in (192, 1536, 12288, 98304)] == [1, 2, 4, 8]
    assert [gpucheck.copies_for(size) for size in (1, 2, 3)] == [1, 2, 3]
    assert [gpucheck.atoms_for(copies) for copies in (1, 2, 4, 8)] == [192, 1536, 12288, 98304]
    for bad in (0, -1, 17, 1000, 1537):
        with pytest.raises(ValueError):
            gpucheck.copies_for(bad)


def test_replicated_water_has_the_atom_counts_and_box():
    base = gpucheck.structure(WATER_PDB, 1)
    for copies in (1, 2, 4):
        data = gpucheck.structure(WATER_PDB, copies)
        assert len(data.positions) == data.topology.getNumAtoms() == gpucheck.atoms_for(copies)
        assert (data.box == base.box * copies).all()
    assert gpucheck.structure(WATER_PDB, 2) is gpucheck.structure(WATER_PDB, 2)   # built once per size


def test_each_residual_is_paired_with_the_fast_model_it_was_co_trained_with():
    for name, pairing in gpucheck.PAIRINGS.items():
        gpucheck.check_pairing(name, pairing)
        for model in pairing.models:
            assert os.path.exists(water(model)), model
    assert (gpucheck.PAIRINGS["hand-made"].fast, gpucheck.PAIRINGS["hand-made"].residual) == \
        ("water_4A.pth", "water_6A_residual.pth")
    assert (gpucheck.PAIRINGS["distilled"].fast, gpucheck.PAIRINGS["distilled"].residual) == \
        ("water_4A_distilled.pth", "water_6A_distilled_residual.pth")
    # The mistake of the old script: the hand-made pair's residual with the distilled model.
    with pytest.raises(ValueError, match="co-trained with water_4A.pth, not with water_4A_distilled.pth"):
        gpucheck.check_pairing("wrong", gpucheck.Pairing("water_6A.pth", "water_4A_distilled.pth",
                                                         "water_6A_residual.pth"))
    with pytest.raises(ValueError, match="not a known co-trained residual"):
        gpucheck.check_pairing("unknown", gpucheck.Pairing("water_6A.pth", "water_4A.pth", "water_4A_weak.pth"))
    # Every residual model in the repository has its partner recorded.
    residuals = {os.path.basename(p) for p in glob.glob(os.path.join(WATER, "*residual*.pth"))}
    assert residuals == set(gpucheck.CO_TRAINED)


def test_the_families_cover_every_model_file_of_the_repository():
    models = {os.path.relpath(p, ROOT) for p in gpucheck.repository_models(ROOT)}
    expected = {os.path.relpath(p, ROOT) for pattern in ("examples/water/*.pth", "tests/data/*.pth", "tests/data/*.pt2")
                for p in glob.glob(os.path.join(ROOT, pattern))}
    assert models == expected
    assert {"tests/data/dpa2.pth", "tests/data/dpa3.pt2", "tests/data/aparam.pth", "tests/data/fparam.pth"} <= models
    assert all(os.path.exists(water(name)) for name in gpucheck.TIMING_MODELS)
    assert gpucheck.find_root(os.path.join(ROOT, "tests", "python")) == ROOT
    assert gpucheck.select(sorted(models), ["dpa3"]) == ["tests/data/dpa3.pt2", "tests/data/dpa3.pth",
                                                         "tests/data/dpa3_fparam.pt2"]


def test_summary_lists_every_check_and_the_exit_status_follows_failures():
    checks = [Check("families on CUDA", OK, "17 models"), Check("bench on CUDA", SKIPPED, "time budget"),
              Check("one evaluation on CUDA", REPORTED, "noted")]
    text = gpucheck.format_summary("torch 2.11, platform CUDA", checks, [("Timing:", "| a | 1.0 |"), ("Empty:", "")])
    lines = text.splitlines()
    assert lines[0] == "== gpucheck summary: torch 2.11, platform CUDA"
    assert lines[1:3] == ["| check | result | detail |", "|---|---|---|"]
    assert "| families on CUDA | ok | 17 models |" in lines and "| bench on CUDA | skipped | time budget |" in lines
    assert "3 checks: none failed" in lines and "Timing:" in lines and "Empty:" not in lines
    assert gpucheck.exit_status(checks) == 0
    checks.append(Check("model engines", FAILED, "error"))
    assert "4 checks: 1 failed" in gpucheck.format_summary("h", checks)
    assert gpucheck.exit_status(checks) == 1


def test_families_report_an_export_that_does_not_run_and_fail_any_other_model(monkeypatch):
    """On a GPU an exported .pt2 compiled for a CPU may not run: reported, not failed;
    any other model that does not run fails the check."""
    real = gpucheck.model_context

    def context(path, data, platform, *args, **kwargs):
        if platform == "CPU" and (path.endswith(".pt2") or "se_e2_r" in path):
            raise RuntimeError("loading failed\nno kernel image is available for execution on the device")
        return real(path, data, platform, *args, **kwargs)

    monkeypatch.setattr(gpucheck.families, "model_context", context)
    models = [water("water_4A.pth"), os.path.join(ROOT, "tests", "data", "se_e2_r.pth"),
              os.path.join(ROOT, "tests", "data", "aparam.pth"), os.path.join(ROOT, "tests", "data", "dpa3.pt2")]
    rows, runs = gpucheck.check_families(models, ROOT, WATER_PDB, "CPU", "Reference", ["mixed"], 60, **QUIET)
    status = {row["model"]: row["status"] for row in rows}
    assert status == {"examples/water/water_4A.pth": OK, "tests/data/se_e2_r.pth": FAILED,
                      "tests/data/aparam.pth": OK, "tests/data/dpa3.pt2": REPORTED}
    assert runs == dict(zip(models, [True, False, True, False]))
    # The CPU platform has no precision setting: one row per model, no precision named.
    assert all(row.get("precision") is None for row in rows)
    measured = [row for row in rows if row["status"] == OK]
    assert all(row["energy_error"] < 1e-12 and row["force_error"] < 1e-12 for row in measured)
    check = gpucheck.families_check(rows, "CPU", "Reference")
    assert check.status == FAILED
    assert "FAILED tests/data/se_e2_r.pth" in check.detail and "no kernel image is available" in check.detail
    assert "tests/data/dpa3.pt2: not run on CPU" in check.detail


def test_timing_skips_a_size_expected_to_take_too_long():
    rows, failed = gpucheck.time_models([water("water_4A.pth")], ROOT, WATER_PDB, [1, 2], "CPU", "mixed",
                                        repeats=2, warmup=1, max_eval_s=1e-6, budget_s=60, **QUIET)
    (name, results), = rows
    assert name == "examples/water/water_4A.pth" and not failed
    assert isinstance(results[192], float) and results[192] > 0
    assert results[1536].startswith("skipped (~") and "expected > 1e-06 s" in results[1536]
    check = gpucheck.timing_check(rows, failed, "CPU")
    assert check.status == OK and "water_4A.pth at 1,536 atoms" in check.detail
    assert gpucheck.timing_line(rows[0], [192, 1536, 12288]).startswith(f"| {name} | {results[192]:.2f} | skipped")


def test_bench_leaves_out_models_that_did_not_run_and_keeps_the_pairings(monkeypatch):
    # As if the compressed float32 models had failed on the GPU (deepmd-kit's CUDA operators).
    known = {water("water_4A_fp32_compressed.pth"): False, water("water_4A_distilled.pth"): False}
    entries = gpucheck.run_bench(gpucheck.PAIRINGS, WATER, WATER_PDB, [1], "CPU", "mixed", steps=4, rounds=1,
                                 warmup=0, budget_s=120, known=known, **QUIET)
    hand_made, distilled = entries
    assert hand_made["pairing"] == "hand-made" and hand_made["status"] == OK and hand_made["atoms"] == 192
    assert [row.name for row in hand_made["rows"]] == ["accurate-only", "fast-only", "alternating 1:3",
                                                     "rRESPA 2/0.5 fs", "rRESPA 2/0.5 fs, co-trained residual"]
    assert "water_4A_fp32_compressed.pth" in hand_made["note"]
    assert distilled == dict(pairing="distilled", status=SKIPPED, note="water_4A_distilled.pth did not run on CPU")
    table = gpucheck.bench_table(entries).splitlines()
    assert table[0] == "| pairing | scheme | 192 atoms |"
    assert len(table) == 2 + 5 and table[-1].startswith("| hand-made | rRESPA 2/0.5 fs, co-trained residual | ")
    check = gpucheck.bench_check(entries, "CPU")
    assert check.status == OK and "skipped distilled" in check.detail


def test_main_runs_every_part_on_the_cpu_and_writes_its_tables(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(gpucheck.replays, "REPLAY_MODELS", (("water_4A.pth", 1e-9),))   # the cheaper model only
    status = gpucheck_command.main(["--platform", "CPU", "--root", ROOT, "--sizes", "192", "--models", "water_4A.pth",
                                    "fparam.pth", "--pairings", "hand-made", "--repeats", "1", "--warmup", "0",
                                    "--bench-steps", "4", "--bench-rounds", "1", "--bench-warmup", "0",
                                    "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 0, out[-3000:]
    summary = out[out.index("== gpucheck summary"):]
    for part in ("families on CPU", "replays on CPU vs Reference", "one evaluation on CPU", "model engines",
                 "bench on CPU"):
        assert f"| {part} | " in summary
    assert "| hand-made | alternating 1:3 (water_4A_fp32_compressed.pth) |" in summary
    written = sorted(os.listdir(tmp_path))
    assert written == ["bench.md", "engine.md", "families.md", "replays.md", "results.json", "summary.md", "timing.md"]
    results = json.loads((tmp_path / "results.json").read_text())
    assert [c["status"] for c in results["checks"]] == [OK, OK, OK, OK if results.get("engine") else SKIPPED, OK]
    assert [row[0] for row in results["replays"]] == ["water_4A.pth"]
    assert {row["model"] for row in results["families"]} == {"examples/water/water_4A.pth", "tests/data/fparam.pth"}
    assert (tmp_path / "summary.md").read_text().strip() == summary.strip()


def test_replays_fail_when_the_platform_disagrees_with_the_reference(monkeypatch):
    monkeypatch.setattr(gpucheck.replays, "REPLAY_MODELS", (("water_4A.pth", 1e-9),))
    rows = gpucheck.check_replays(WATER, WATER_PDB, "CPU", "Reference", say=lambda *a: None, steps=2)
    assert len(rows) == 1 and rows[0][1] <= 1e-12 and rows[0][2] <= 1e-12
    assert gpucheck.replays_check(rows, "CPU", "Reference").status == OK
    assert gpucheck.replays_check([("water_4A.pth", 0.0, 2e-9, 1e-9)], "CPU", "Reference").status == FAILED
    configurations = gpucheck.replay_configurations(np.zeros((6, 3)) + 1.0)
    assert [label for label, _ in configurations][-2:] == ["large move", "compressed 7%"]


def test_a_part_that_breaks_is_a_failed_check_not_a_lost_summary(monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise KeyError("a bug")
    monkeypatch.setattr(gpucheck.engines, "model_engines", broken)
    assert gpucheck_command.main(["--platform", "CPU", "--root", ROOT, "--parts", "engine"]) == 1
    out = capsys.readouterr().out
    assert "Traceback" in out
    assert "| engine | FAILED | the check itself broke: KeyError: 'a bug' |" in out


def test_an_unavailable_platform_is_said_clearly_and_exits_2():
    """As scripts/gpu-check.sh starts it: torch first, then the module's main()."""
    done = subprocess.run([sys.executable, "-c", "import torch; from openmmswitchingdp.toolkit.cli.gpucheck import main; "
                           "raise SystemExit(main())", "--platform", "NoSuchPlatform"],
                          capture_output=True, text=True, cwd="/")
    assert done.returncode == 2
    assert "NoSuchPlatform is not available: OpenMM has no NoSuchPlatform platform here" in done.stderr
    assert "nothing was run" in done.stderr


def test_without_cuda_the_default_platform_is_refused_with_the_reason():
    problem = gpucheck.platform_problem("CUDA")
    if problem is None:
        pytest.skip("this machine runs the plugin on CUDA")
    assert gpucheck_command.main(["--parts", "families"]) == 2
    assert "CUDA" in problem


def test_the_mpi_library_can_be_named_in_the_environment(monkeypatch):
    monkeypatch.setenv(deepmd_ops.MPI_VARIABLE, "/somewhere/libmpi.so.12")
    assert deepmd_ops.mpi_library() == "/somewhere/libmpi.so.12"


def wheelhouse(*args):
    return subprocess.run(["bash", os.path.join(ROOT, "scripts", "gpu-wheelhouse.sh"), *args],
                          capture_output=True, text=True, cwd=ROOT)


def test_wheelhouse_dry_run_lists_every_package_and_downloads_nothing(tmp_path):
    folder = tmp_path / "whl"
    done = wheelhouse("--python", "3.12", "--out", str(folder), "--dry-run")
    assert done.returncode == 0, done.stderr
    assert not folder.exists()
    lines = done.stdout.splitlines()
    download = next(line for line in lines if " -m pip download " in line)
    for option in ("--no-deps", "--only-binary=:all:", "--python-version 3.12", "--implementation cp",
                   "--platform manylinux_2_34_x86_64", f"-d {folder}"):
        assert option in download
    pins = dict(re.findall(r" ([A-Za-z0-9_.-]+)==([0-9.]+)", download))
    assert set(pins) == {"openmm", "OpenMM-CUDA-13", "deepmd-kit", "swig", "scikit-build-core", "pathspec",
                         "nvidia-cuda-runtime-cu12"}
    # The versions the project builds and runs with.
    pyproject = open(os.path.join(ROOT, "pyproject.toml")).read()
    assert f'"openmm=={pins["openmm"]}"' in pyproject and pins["OpenMM-CUDA-13"] == pins["openmm"]
    assert f'"deepmd-kit=={pins["deepmd-kit"]}"' in open(os.path.join(ROOT, "build_support", "runtime_pins.py")).read()
    assert any(" -m pip wheel --no-deps " in line and "openmmml==" in line for line in lines)
    stub = next(line for line in lines if "mpi-stub.c" in line and "gcc" in line)
    assert "-Wl,-soname,libmpi.so.12" in stub and f"{folder}/lib/libmpi.so.12" in stub
    assert "--with-cmake" in wheelhouse("--help").stdout
    assert wheelhouse("--python", "three").returncode == 2


@pytest.mark.skipif(not (shutil.which("gcc") and shutil.which("nm")), reason="needs gcc and nm")
def test_the_mpi_stub_defines_what_deepmd_kits_op_library_needs(tmp_path):
    library = tmp_path / "libmpi.so.12"
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-nostdlib", "-Wl,-soname,libmpi.so.12", "-o", str(library),
                    os.path.join(ROOT, "scripts", "mpi-stub.c")], check=True)
    defined = set(subprocess.run(["nm", "-D", "--defined-only", "--format=just-symbols", str(library)],
                                 capture_output=True, text=True, check=True).stdout.split())
    op_library = deepmd_ops.op_library()
    if op_library is None:
        pytest.skip("deepmd-kit is not installed")
    undefined = subprocess.run(["nm", "-D", "--undefined-only", "--format=just-symbols", op_library],
                               capture_output=True, text=True, check=True).stdout.split()
    needed = {symbol.split("@")[0] for symbol in undefined if symbol.startswith(("MPI_", "MPIX_"))}
    assert needed and needed <= defined, f"the stub lacks {sorted(needed - defined)}"


def test_gpu_check_parses_and_documents_its_options():
    script = os.path.join(ROOT, "scripts", "gpu-check.sh")
    assert subprocess.run(["bash", "-n", script]).returncode == 0
    usage = subprocess.run(["bash", script, "--help"], capture_output=True, text=True).stdout
    for option in ("--wheelhouse", "--out", "--python", "--only"):
        assert option in usage
    assert subprocess.run(["bash", script, "--bogus"], capture_output=True, text=True).returncode == 2


@pytest.mark.skipif(not os.environ.get("SWITCHINGDP_NETWORK_TESTS"),
                    reason="downloads ~31 MB from the package index; set SWITCHINGDP_NETWORK_TESTS=1")
def test_wheelhouse_downloads_one_wheel_of_each_and_the_stub(tmp_path):
    done = wheelhouse("--python", "3.12", "--out", str(tmp_path / "whl"))
    assert done.returncode == 0, done.stderr[-2000:]
    wheels = sorted(os.listdir(tmp_path / "whl"))
    assert len([w for w in wheels if w.endswith(".whl")]) == 8
    assert (tmp_path / "whl" / "lib" / "libmpi.so.12").exists()
    assert "wheelhouse" in done.stdout.splitlines()[-1]
