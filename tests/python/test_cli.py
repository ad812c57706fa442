"""switchingdp-md runs a pair, one model (--mode single) and a model with frame parameters."""
import os

import pytest

from helpers import ACCURATE, ROOT
from openmmswitchingdp import cli

FPARAM = os.path.join(ROOT, "tests", "data", "fparam.pth")


def run(capsys, *arguments):
    assert cli.main(["--steps", "8", "--platform", "Reference", "--trajectory", "", "--log", "",
                     "--no-progress", *arguments]) == 0
    return capsys.readouterr().out


def test_pair_counts(capsys):
    # Langevin evaluates at the start of each step: steps 0..7, accurate on 0 and 4.
    out = run(capsys)
    assert "model evaluations: 2 accurate, 6 fast" in out
    # The default pair: the 6 A model and its distilled partner.
    assert "(water_6A.pth accurate, water_4A_distilled.pth fast)" in out


def test_single_model(capsys):
    out = run(capsys, "--mode", "single", "--accurate", ACCURATE, "--fast", "no-such-file")
    assert "one model (water_6A.pth)" in out
    assert "model evaluations: 8 accurate, 0 fast" in out


def test_frame_parameters(capsys):
    out = run(capsys, "--mode", "single", "--accurate", FPARAM, "--frame-parameters", "1.0", "0.5")
    assert "model evaluations: 8 accurate, 0 fast" in out
    with pytest.raises(Exception, match="takes 2 frame parameters"):
        run(capsys, "--mode", "single", "--accurate", FPARAM)


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

