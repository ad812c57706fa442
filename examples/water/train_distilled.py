"""Train a fast model on the accurate model's predictions (distillation), so the pair agrees closely.

    python train_distilled.py --teacher water_6A.pth --init-model work/water_4A/model.ckpt.pt \\
        --steps 20000 --name water_4A_distilled

Alternation and rRESPA act on the difference between the two models' forces: each
accurate step (or slow impulse) kicks the atoms by F_accurate - F_fast.  Two models
trained separately on the reference each carry their own fitting error, so that
difference holds both errors, which vary quickly along the stiff O-H bonds.  A fast
model trained on the accurate model's labels learns the accurate model's short-range
behaviour, errors included, and the difference keeps only what a 4 A cutoff cannot
see.  The held-out errors against the reference are written to <name>.test.txt as
for train.py.
"""
import argparse
import os
import subprocess
import sys

from train import DATA_ROOTS
from train_residual import relabel_system

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teacher", default=os.path.join(HERE, "water_6A.pth"), help="the accurate model")
    parser.add_argument("--rcut", type=float, default=4.0)
    parser.add_argument("--sel", type=int, nargs=2, help="neighbours kept per type (O H); as train.py by default")
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--name", default="water_4A_distilled")
    parser.add_argument("--data", nargs="+", default=DATA_ROOTS, help="data roots written by generate_data.py")
    parser.add_argument("--init-model", help="start from this checkpoint's weights (needs the same sel)")
    args = parser.parse_args()
    teacher_roots = [os.path.join(HERE, "work", args.name + "_data", os.path.basename(os.path.normpath(root)))
                     for root in args.data]
    for root, teacher_root in zip(args.data, teacher_roots):
        for part in ("training", "validation"):
            relabel_system(os.path.join(root, part), os.path.join(teacher_root, part), args.teacher, subtract=False)
    train = [sys.executable, os.path.join(HERE, "train.py"), "--rcut", str(args.rcut), "--name", args.name]
    sel = ["--sel", *map(str, args.sel)] if args.sel else []
    init = ["--init-model", args.init_model] if args.init_model else []
    subprocess.run([*train, *sel, "--steps", str(args.steps), "--data", *teacher_roots, *init], check=True)
    # Errors against the reference labels, not the teacher's.
    subprocess.run([*train, *sel, "--test-only", "--data", *args.data], check=True)


if __name__ == "__main__":
    main()
