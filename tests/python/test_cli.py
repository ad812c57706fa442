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
    assert "model evaluations: 2 accurate, 6 fast" in run(capsys)


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
    rows = log.read_text().splitlines()
    assert len(rows) == 1 + 8 and rows[1].startswith("0,") and rows[-1].endswith(",accurate,fallback")
    with pytest.raises(SystemExit):
        run(capsys, "--guard", "0.1", "--mode", "mts")
