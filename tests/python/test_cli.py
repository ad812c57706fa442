"""switchingdp-md runs a pair, one model (--mode single) and a model with frame parameters;
its errors are one line with exit status 1 (argparse's 2 for wrong arguments), a
blown-up run is one of them, and options a mode would ignore are refused."""
import os
import re

import openmm as mm
import pytest
import torch

from helpers import ACCURATE, ROOT
from openmmswitchingdp.toolkit.cli import md as cli

FPARAM = os.path.join(ROOT, "tests", "data", "fparam.pth")
QUIET = ["--platform", "Reference", "--trajectory", "", "--log", ""]


def run_status(capsys, *arguments, steps=8):
    """(exit status, stdout, stderr) of a short run on the Reference platform."""
    status = cli.main(["--steps", str(steps), *QUIET, "--no-progress", *arguments])
    out, err = capsys.readouterr()
    return status, out, err


def run(capsys, *arguments):
    status, out, err = run_status(capsys, *arguments)
    assert status == 0, err
    return out


def refused(capsys, *arguments):
    """The argparse error of arguments that must be refused before any run."""
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--steps", "8", *QUIET, "--no-progress", *arguments])
    assert exit_info.value.code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


def assert_one_line_error(err, pattern):
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("switchingdp-md: error: ") and re.search(pattern, lines[0]), lines[0]


def test_pair_counts(capsys):
    # Langevin evaluates at the start of each step: steps 0..7, accurate on 0 and 4.
    out = run(capsys)
    assert "model evaluations: 2 accurate, 6 fast" in out
    # The default pair: the 6 A model and its distilled partner.
    assert "(water_6A.pth accurate, water_4A_distilled.pth fast)" in out
    # The summary: the temperature checked after each progress chunk (one here), and
    # the potential energy at the end (read after the counts above).
    match = re.search(r"mean temperature: ([\d.]+) K over 1 sample; potential energy at the end: (-?[\d.]+) kJ/mol",
                      out)
    assert match and 0 < float(match.group(1)) < cli.MAX_TEMPERATURE_FACTOR * 330, out


def test_single_model(capsys):
    out = run(capsys, "--mode", "single", "--accurate", ACCURATE)
    assert "one model (water_6A.pth)" in out
    assert "model evaluations: 8 accurate, 0 fast" in out


@pytest.mark.parametrize("mode, arguments, named", [
    ("single", ["--fast", "no-such-file"], "--fast"),
    ("single", ["--interval", "4", "--phase", "0"], "--interval, --phase"),
    ("single", ["--inner-steps", "2", "--slow-term", "residual"], "--inner-steps, --slow-term"),
    ("alternating", ["--inner-steps", "4"], "--inner-steps"),
    ("alternating", ["--slow-term", "difference"], "--slow-term"),
    ("mts", ["--interval", "2"], "--interval"),
    ("mts", ["--phase", "1"], "--phase"),
])
def test_options_a_mode_ignores_are_refused(capsys, mode, arguments, named):
    # Even at their default values: given, they would be silently without effect.
    assert refused(capsys, "--mode", mode, *arguments).endswith(f"--mode {mode} ignores {named}")


def test_frame_parameters(capsys):
    out = run(capsys, "--mode", "single", "--accurate", FPARAM, "--frame-parameters", "1.0", "0.5")
    assert "model evaluations: 8 accurate, 0 fast" in out
    status, _, err = run_status(capsys, "--mode", "single", "--accurate", FPARAM)
    assert status == 1
    assert_one_line_error(err, "takes 2 frame parameters")


def test_type_not_in_type_map(capsys):
    status, _, err = run_status(capsys, "--types", "Xx")
    assert status == 1
    assert_one_line_error(err, r"type 'Xx' is not in the type_map")
    # --debug: the full traceback instead
    with pytest.raises(Exception, match="type 'Xx' is not in the type_map"):
        run_status(capsys, "--types", "Xx", "--debug")


def test_blown_up_run(capsys):
    # 50 fs: the bundled pair is at 3e4 K after one step and 1.7e7 K after ten, where
    # the first check stops the run (not after all 40 steps, and not with status 0).
    status, out, err = run_status(capsys, "--timestep", "50", steps=40)
    assert status == 1
    assert_one_line_error(err, r"the run blew up at step 10: temperature \S+ K is above 3 x the thermostat's 330 K.*"
                               r"try a smaller --timestep \(now 50 fs\)")
    assert "model evaluations" not in out


def test_missing_output_folder(capsys, tmp_path):
    missing = tmp_path / "no-such-folder"
    assert refused(capsys, "--trajectory", str(missing / "run.dcd")).endswith(
        f"--trajectory: folder does not exist: {missing}")
    assert "--log: folder does not exist" in refused(capsys, "--log", str(missing / "md.log"))
    assert "--deviation-log: folder does not exist" in refused(capsys, "--deviation-log", str(missing / "d.csv"))


def test_unknown_platform(capsys):
    message = refused(capsys, "--platform", "NoSuchPlatform")
    assert "--platform: no OpenMM platform 'NoSuchPlatform' here; available: " in message and "Reference" in message


def test_help_lists_defaults(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())   # unwrapped
    for default in ("--temperature TEMPERATURE K (default: 330.0)", "(default: alternating)", "(default: CPU)",
                    "(default: 2000)", "mts: fast-model steps per outer step (default: 4)",
                    "(default: one per core (torch's and OpenMM's default; measured fastest))"):
        assert default in text
    assert "(default: None)" not in text and "(default: False)" not in text
    assert "MAX_TEMPERATURE_FACTOR (3)" in text


def test_progress_goes_to_stderr(capsys):
    status = cli.main(["--steps", "8", *QUIET])
    out, err = capsys.readouterr()
    assert status == 0
    assert "8/8" in err and "step" in err   # tqdm's bar
    assert "8/8" not in out and "|" not in out and "\r" not in out
    assert "model evaluations" in out


@pytest.fixture
def restore_threads():
    """--threads changes the process's torch threads and the CPU platform's default:
    put both back for the tests that follow."""
    cpu = mm.Platform.getPlatformByName("CPU")
    torch_threads, platform_threads = torch.get_num_threads(), cpu.getPropertyDefaultValue("Threads")
    yield cpu
    torch.set_num_threads(torch_threads)
    cpu.setPropertyDefaultValue("Threads", platform_threads)


def test_threads(capsys, restore_threads):
    assert "must be at least 1" in refused(capsys, "--threads", "0")
    out = run(capsys, "--threads", "1")
    assert "model evaluations: 2 accurate, 6 fast" in out
    assert torch.get_num_threads() == 1 and restore_threads.getPropertyDefaultValue("Threads") == "1"


class Stopped(Exception):
    """Raised by a tool's work, stubbed out: what --threads did is checked before it."""


@pytest.mark.parametrize("tool, work, arguments", [
    ("bench", "measure", ["--replicate", "1"]),
    ("validate", "validate", []),
    ("distill", "distill", ["--accurate", ACCURATE, "--pdb", "x.pdb", "--out", "x"]),
])
def test_every_tool_shares_threads(capsys, monkeypatch, restore_threads, tool, work, arguments):
    import importlib
    module = importlib.import_module(f"openmmswitchingdp.toolkit.cli.{tool}")
    with pytest.raises(SystemExit):
        module.main([*arguments, "--threads", "0"])
    assert "--threads must be at least 1" in capsys.readouterr().err
    # distill hands the count to its training processes through the environment
    for name in ("OMP_NUM_THREADS", "DP_INTRA_OP_PARALLELISM_THREADS", "DP_INTER_OP_PARALLELISM_THREADS"):
        monkeypatch.delenv(name, raising=False)   # restored after the test

    def work_stub(*_, **__):
        assert torch.get_num_threads() == 1 and restore_threads.getPropertyDefaultValue("Threads") == "1"
        raise Stopped
    monkeypatch.setattr(module, work, work_stub)
    with pytest.raises(Stopped):
        module.main([*arguments, "--threads", "1"])
    if tool == "distill":
        assert os.environ["DP_INTRA_OP_PARALLELISM_THREADS"] == "1"
    with pytest.raises(SystemExit):
        module.main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: CPU)" in text and "measured fastest" in text and "(default: None)" not in text


def test_guard_and_deviation_log(capsys, tmp_path):
    # A threshold every check crosses: accurate on every step, the fast model too
    # (checked on every step of the open-ended fallback); each check logged.
    log = tmp_path / "deviation.csv"
    out = run(capsys, "--guard", "1e-9", "--deviation-log", str(log))
    assert "guarded at 1e-09 eV/A" in out and "model evaluations: 8 accurate, 8 fast" in out
    assert "warning: the guard ran the accurate model on 100 % of the steps (the schedule alone: 25 %)" in out
    # A threshold no check crosses: the schedule's own steps, and no warning.
    out = run(capsys, "--guard", "1e9")
    assert "model evaluations: 2 accurate, 8 fast" in out and "warning" not in out
    rows = log.read_text().splitlines()
    assert len(rows) == 1 + 8 and rows[1].startswith("0,") and rows[-1].endswith(",accurate,fallback")
    with pytest.raises(SystemExit):
        run(capsys, "--guard", "0.1", "--mode", "mts")


def test_bundled_residual_pair(capsys):
    # --slow-term residual alone takes the bundled residual with the fast model it was
    # co-trained with; one of the two given alone would pair models that do not belong.
    out = run(capsys, "--mode", "mts", "--slow-term", "residual")
    assert "(water_6A_distilled_residual.pth residual, water_4A_distilled.pth fast)" in out
    # 8 outer steps of 4 inner ones, plus the forces of the start: 1 + 8 slow, 1 + 32 fast.
    assert "model evaluations: 9 accurate, 33 fast" in out
    with pytest.raises(SystemExit):
        run(capsys, "--mode", "mts", "--slow-term", "residual", "--accurate", ACCURATE)


def test_timestep_is_the_inner_step_and_both_steps_are_printed(capsys):
    # --timestep is the inner step in every tool: with --mode mts the outer step is
    # --timestep x --inner-steps, and the run says both before it starts.
    out = run(capsys, "--mode", "mts", "--timestep", "0.25", "--inner-steps", "2")
    assert "inner step 0.25 fs (--timestep, the fast model), outer step 0.5 fs (2 inner steps" in out
    assert "8 steps of 0.5 fs (2 x 0.25 fs)" in out
    assert "model evaluations: 9 accurate, 17 fast" in out
    out = run(capsys, "--timestep", "0.25")
    assert "8 steps of 0.25 fs on Reference" in out and "inner step" not in out


@pytest.mark.parametrize("spelling", ["rRESPA", "MultipleTimeStep"])
def test_other_spellings_of_the_mode_are_refused_with_the_one_spelling(capsys, spelling):
    assert refused(capsys, "--mode", spelling).endswith(f"the multiple-time-step mode is spelled 'mts' (got '{spelling}')")


def test_a_scheme_kind_has_one_spelling():
    from openmmswitchingdp.toolkit.schemes import MTS, Scheme
    assert Scheme("mts", ACCURATE, ACCURATE).kind is MTS
    with pytest.raises(ValueError, match="'rRESPA' is now spelled 'mts'"):
        Scheme("rRESPA", ACCURATE, ACCURATE)


def test_the_library_takes_options_and_refuses_the_old_mode_names():
    from openmmswitchingdp.toolkit.md import MdOptions, describe
    with pytest.raises(ValueError, match="multiple time steps are spelled 'mts'"):
        MdOptions(mode="rRESPA")
    options = MdOptions(mode="mts", steps=8, timestep_fs=0.5, inner_steps=4)
    assert options.outer_fs == 2.0 and "8 steps of 2 fs (4 x 0.5 fs)" in describe(options)
