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
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from train import DATA_ROOTS, run, test_model  # noqa: E402


def smallest_distance(data_roots):
    """Smallest distance (A) between two atoms in any training frame, minimum image."""
    smallest = np.inf
    for root in data_roots:
        set_dir = os.path.join(root, "training", "set.000")
        coords = np.load(os.path.join(set_dir, "coord.npy"))
        boxes = np.load(os.path.join(set_dir, "box.npy")).reshape(-1, 3, 3)
        for coord, box in zip(coords.reshape(len(coords), -1, 3), boxes):
            fractional = coord @ np.linalg.inv(box)
            delta = fractional[:, None, :] - fractional[None, :, :]
            delta -= np.round(delta)   # minimum image; fine for these boxes, far larger than the distances that matter
            distance = np.linalg.norm(delta @ box, axis=2)
            np.fill_diagonal(distance, np.inf)
            smallest = min(smallest, distance.min())
    return float(smallest)


def float32_checkpoint(checkpoint, output, min_distance):
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    model = state["model"]
    params = model["_extra_state"]["model_params"]
    params["descriptor"]["precision"] = "float32"
    params["fitting_net"]["precision"] = "float32"
    for key in model:
        if key.endswith("min_nbor_dist"):
            model[key] = torch.tensor(min_distance, dtype=model[key].dtype)
    torch.save({"model": model}, output)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", default="water_4A")
    parser.add_argument("--step", type=float, default=0.02, help="dp compress table step")
    parser.add_argument("--data", nargs="+", default=DATA_ROOTS, help="the model's training data roots")
    args = parser.parse_args()
    work = os.path.join(HERE, "work", args.name)
    dp = os.path.join(os.path.dirname(sys.executable), "dp")
    log = os.path.join(work, "levers.log")
    min_distance = smallest_distance(args.data)
    print(f"smallest interatomic distance in the training data: {min_distance:.3f} A")
    checkpoint = os.path.join(work, "model.fp32.ckpt.pt")
    float32_checkpoint(os.path.join(work, "model.ckpt.pt"), checkpoint, min_distance)
    fp32 = os.path.join(HERE, args.name + "_fp32.pth")
    compressed = os.path.join(HERE, args.name + "_fp32_compressed.pth")
    run([dp, "--pt", "freeze", "-c", checkpoint, "-o", fp32], work, log)
    run([dp, "--pt", "compress", "-i", fp32, "-o", compressed, "-s", str(args.step)], work, log)
    validation = os.path.join(os.path.abspath(args.data[0]), "validation")
    for model in (fp32, compressed):
        name = os.path.basename(model)[:-len(".pth")]
        print(name, "\n" + test_model(dp, model, validation, work, os.path.join(HERE, name + ".test.txt")))


if __name__ == "__main__":
    main()
