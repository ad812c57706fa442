"""Co-train a residual model for rRESPA, after Fu et al. (2023) Algorithm 2, with deepmd-kit.

    python train_residual.py --fast water_4A.pth --rcut 6.0 --steps 20000 --name water_6A_residual

1. The fast (short-range) model is the 4 A model trained on the reference labels
   (train.py --rcut 4.0).
2. Its predictions are subtracted from the labels of every training and validation
   frame: the residual model learns E_ref - E_fast and F_ref - F_fast.
3. A 6 A model is trained on those residual labels.  deepmd-kit sets the fitting
   net's per-type energy bias from the residual data, which is close to zero, so
   the residual model starts with an output near zero, as Fu et al. ask.

The pair is then used as SwitchingDPForce(residual, fast) with
setMode(MultipleTimeStep) and setSlowTerm(Residual): E = E_fast + E_residual.
"""
import argparse
import os
import shutil
import subprocess
import sys

import numpy as np

from train import DATA_ROOTS

HERE = os.path.dirname(os.path.abspath(__file__))


def residual_system(source, target, fast_model):
    from deepmd.infer import DeepPot
    dp = DeepPot(fast_model)
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    types = np.loadtxt(os.path.join(source, "type.raw"), dtype=int)
    type_map = open(os.path.join(source, "type_map.raw")).read().split()
    model_types = [dp.get_type_map().index(type_map[t]) for t in types]
    set_dir = os.path.join(target, "set.000")
    coord = np.load(os.path.join(set_dir, "coord.npy"))
    box = np.load(os.path.join(set_dir, "box.npy"))
    energy = np.load(os.path.join(set_dir, "energy.npy"))
    force = np.load(os.path.join(set_dir, "force.npy"))
    fast_energy, fast_force = [], []
    for start in range(0, len(coord), 100):
        e, f, _ = dp.eval(coord[start:start + 100], box[start:start + 100], model_types)
        fast_energy.append(e.reshape(-1))
        fast_force.append(f.reshape(len(e), -1))
    np.save(os.path.join(set_dir, "energy.npy"), energy - np.concatenate(fast_energy))
    np.save(os.path.join(set_dir, "force.npy"), force - np.concatenate(fast_force))
    residual_force = force - np.concatenate(fast_force)
    print(f"{target}: force RMS {np.sqrt((force**2).mean()):.3f} -> residual {np.sqrt((residual_force**2).mean()):.3f} eV/A")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fast", default=os.path.join(HERE, "water_4A.pth"))
    parser.add_argument("--rcut", type=float, default=6.0)
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--name", default="water_6A_residual")
    parser.add_argument("--data", nargs="+", default=DATA_ROOTS,
                        help="data roots written by generate_data.py (as for train.py)")
    parser.add_argument("--restart", help="continue from this checkpoint (residual labels are not recomputed)")
    args = parser.parse_args()
    residual_roots = [os.path.join(HERE, "work", args.name + "_data", os.path.basename(os.path.normpath(root)))
                      for root in args.data]
    if not args.restart:
        for root, residual_root in zip(args.data, residual_roots):
            for part in ("training", "validation"):
                residual_system(os.path.join(root, part), os.path.join(residual_root, part), args.fast)
    restart = ["--restart", args.restart] if args.restart else []
    subprocess.run([sys.executable, os.path.join(HERE, "train.py"), "--rcut", str(args.rcut), "--steps", str(args.steps),
                    "--name", args.name, "--data", *residual_roots, *restart], check=True)


if __name__ == "__main__":
    main()
