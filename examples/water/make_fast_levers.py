"""The fast-model levers of Kanda et al. (2025): a float32 copy of a trained model,
and that copy compressed (tabulated embedding nets, deepmd-kit's `dp compress`).

    python make_fast_levers.py --name water_4A --step 0.02

Reads the checkpoint work/<name>/model.ckpt.pt written by train.py and writes, next
to this script:
- <name>_fp32.pth: the same trained weights, frozen in float32 (deepmd-kit builds
  the model from the checkpoint's parameters with precision float32 and loads the
  float64 weights into it);
- <name>_fp32_compressed.pth: that model compressed with table step --step;
- a .test.txt with the held-out errors of each (dp test on data/validation).

Compression needs the smallest interatomic distance of the training data.  deepmd-kit
would compute it with its (slow, dense) neighbour statistics; we compute it here
and store it in the model, so `dp compress` skips that step.
"""
import argparse
import os
import shutil
import sys

import numpy as np

from openmmswitchingdp.toolkit.distill import dp_command, freeze_fast, pair_distances, read_system

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from train import DATA_ROOTS, test_model  # noqa: E402


def smallest_distance(data_roots):
    """Smallest distance (A) between two atoms in any training frame, minimum image."""
    smallest = np.inf
    for root in data_roots:
        coords, boxes, _, _ = read_system(os.path.join(root, "training"))
        for coord, box in zip(coords, boxes):
            smallest = min(smallest, float(pair_distances(coord, box).min()))
    return smallest


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", default="water_4A")
    parser.add_argument("--step", type=float, default=0.02, help="dp compress table step")
    parser.add_argument("--data", nargs="+", default=DATA_ROOTS, help="the model's training data roots")
    args = parser.parse_args()
    work = os.path.join(HERE, "work", args.name)
    dp = dp_command()
    min_distance = smallest_distance(args.data)
    print(f"smallest interatomic distance in the training data: {min_distance:.3f} A")
    fp32 = os.path.join(HERE, args.name + "_fp32.pth")
    compressed = os.path.join(HERE, args.name + "_fp32_compressed.pth")
    freeze_fast(work, os.path.join(work, "model.ckpt.pt"), min_distance, args.step, compressed)
    shutil.copy(os.path.join(work, "fast_float32.pth"), fp32)
    validation = os.path.join(os.path.abspath(args.data[0]), "validation")
    for model in (fp32, compressed):
        name = os.path.basename(model)[:-len(".pth")]
        print(name, "\n" + test_model(dp, model, validation, work, os.path.join(HERE, name + ".test.txt")))


if __name__ == "__main__":
    main()
