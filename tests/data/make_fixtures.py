"""Regenerate the small model fixtures used only by the tests.

    python tests/data/make_fixtures.py     (needs examples/water/data from generate_data.py)

needs_fparam.pth: a water model that takes one frame parameter (numb_fparam = 1),
which SwitchingDPForce must refuse with a clear error.  It is trained for a few
steps only: the tests never look at its numbers.
"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "examples", "water"))
from train import model_input  # noqa: E402


def main():
    work = os.path.join(ROOT, "build", "fixtures")
    shutil.rmtree(work, ignore_errors=True)
    data = os.path.join(work, "data")
    shutil.copytree(os.path.join(ROOT, "examples", "water", "data", "validation"), data)
    nframes = np.load(os.path.join(data, "set.000", "energy.npy")).shape[0]
    np.save(os.path.join(data, "set.000", "fparam.npy"), np.ones((nframes, 1)))
    config = model_input(4.0, [16, 32], 20, 1, data, data, "float64")
    config["model"]["fitting_net"]["numb_fparam"] = 1
    config["training"]["save_freq"] = 20
    with open(os.path.join(work, "input.json"), "w") as f:
        json.dump(config, f)
    dp = shutil.which("dp") or os.path.join(os.path.dirname(sys.executable), "dp")
    subprocess.run([dp, "--pt", "train", "--skip-neighbor-stat", "input.json"], cwd=work, check=True)
    subprocess.run([dp, "--pt", "freeze", "-o", os.path.join(HERE, "needs_fparam.pth")], cwd=work, check=True)


if __name__ == "__main__":
    main()
