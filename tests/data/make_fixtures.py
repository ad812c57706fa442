"""Regenerate the tiny DeePMD-kit models that the tests load (plumbing fixtures only).

    source .venv/bin/activate
    OMP_NUM_THREADS=1 DP_INTRA_OP_PARALLELISM_THREADS=1 DP_INTER_OP_PARALLELISM_THREADS=1 \\
        python tests/data/make_fixtures.py [--only NAME ...] [--steps N] [--keep-work]

The tests compare the plugin with deepmd.infer.DeepPot evaluating the *same* file,
so these models only have to exercise the code paths of each descriptor family;
their physics is meaningless (about 10 training steps on 20 frames).  All are
float64 with type_map ["O", "H"], small networks (files well under 2 MB) but
realistic cutoffs (4-6 A), so that neighbours across the 12.4 A periodic box of the
bundled water matter.

Nothing outside the checkout is needed.  The training frames are made here: the
bundled examples/water/water.pdb (192 atoms, cubic 12.4 A box) with every atom
randomly displaced by ~0.1 A (normal, per coordinate), labelled by the bundled examples/water/water_6A.pth.
Frame parameters (2 per frame) and atomic parameters (1 per atom) are random, and
the energy labels of the fparam/aparam systems get a term linear in them, so those
models genuinely depend on their parameters.  Work files go to build/fixtures/.

Why each model exists:
  se_e2_r.pth      radial-only smooth descriptor (se_e2_r): a second descriptor of
                   the local, non-message-passing kind besides the bundled se_e2_a.
  se_atten_v2.pth  DPA-1 family (se_atten_v2, one attention layer): type-mixed
                   neighbour list (a single sel for all types), still local.
  dpa2.pth         DPA-2: repinit (6 A) larger than repformer (4 A), two repformer
                   layers; message passing (has_message_passing() is True), so the
                   ghost atoms need their own neighbours / a mapping to local atoms.
  dpa3.pth         DPA-3: two repflow layers (edge 6 A, angle 4 A); message passing.
  fparam.pth       se_e2_a whose fitting net takes 2 frame parameters (numb_fparam=2).
  aparam.pth       se_e2_a whose fitting net takes 1 atomic parameter per atom
                   (numb_aparam=1).
  dpa3.pt2         the DPA-3 model through deepmd-kit's PyTorch-exportable backend
                   (dp --pt-expt train / freeze): an AOTInductor .pt2 archive rather
                   than TorchScript.  Freezing compiles C++ (1.5-2.5 minutes here),
                   for the CPU only and with -march=native (the archive records the
                   ISA, e.g. AVX512): rebuild it if it will not load elsewhere.
  dpa3_fparam.pt2  the same with numb_fparam=2: checks the .pt2 path with frame
                   parameters.

--only NAME (repeatable; with or without the suffix) rebuilds just those models.
The script ends by loading every model it built in DeepPot, evaluating the bundled
structure (with parameters where needed), and printing one summary row per model.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WATER = os.path.join(ROOT, "examples", "water")
WORK = os.path.join(ROOT, "build", "fixtures")
TYPE_MAP = ["O", "H"]
NFRAMES = 20
SIGMA = 0.1  # A, random displacement of every atom
SEED = 1
NUMB_FPARAM = 2
NUMB_APARAM = 1

FITTING = {"neuron": [16, 16], "resnet_dt": True, "precision": "float64", "seed": SEED}


def se_e2_a(rcut, sel):
    return {"type": "se_e2_a", "rcut": rcut, "rcut_smth": 0.5, "sel": sel, "neuron": [4, 8, 16],
            "axis_neuron": 4, "resnet_dt": False, "precision": "float64", "seed": SEED}


DPA3 = {
    "type": "dpa3",
    "repflow": {"n_dim": 16, "e_dim": 8, "a_dim": 4, "nlayers": 2,
                "e_rcut": 6.0, "e_rcut_smth": 0.5, "e_sel": 128,
                "a_rcut": 4.0, "a_rcut_smth": 0.5, "a_sel": 48,
                "axis_neuron": 4, "update_angle": True, "smooth_edge_update": True},
    "precision": "float64", "seed": SEED,
}

# name -> (output file, backend, descriptor, extra fitting_net keys, data system)
MODELS = {
    "se_e2_r": ("se_e2_r.pth", "pt",
                {"type": "se_e2_r", "rcut": 6.0, "rcut_smth": 0.5, "sel": [46, 92], "neuron": [4, 8, 16],
                 "resnet_dt": False, "precision": "float64", "seed": SEED},
                {}, "plain"),
    "se_atten_v2": ("se_atten_v2.pth", "pt",
                    {"type": "se_atten_v2", "rcut": 5.0, "rcut_smth": 0.5, "sel": 80, "neuron": [4, 8, 16],
                     "axis_neuron": 4, "tebd_dim": 4, "attn": 16, "attn_layer": 1, "attn_dotr": True,
                     "resnet_dt": False, "precision": "float64", "seed": SEED},
                    {}, "plain"),
    "dpa2": ("dpa2.pth", "pt",
             {"type": "dpa2",
              "repinit": {"rcut": 6.0, "rcut_smth": 0.5, "nsel": 128, "neuron": [4, 8, 16],
                          "axis_neuron": 4, "tebd_dim": 4, "activation_function": "tanh"},
              "repformer": {"rcut": 4.0, "rcut_smth": 0.5, "nsel": 48, "nlayers": 2, "g1_dim": 16,
                            "g2_dim": 8, "axis_neuron": 4, "attn1_hidden": 8, "attn1_nhead": 1,
                            "attn2_hidden": 8, "attn2_nhead": 1, "update_h2": False},
              "precision": "float64", "seed": SEED},
             {}, "plain"),
    "dpa3": ("dpa3.pth", "pt", DPA3, {}, "plain"),
    "fparam": ("fparam.pth", "pt", se_e2_a(5.0, [28, 56]), {"numb_fparam": NUMB_FPARAM}, "fparam"),
    "aparam": ("aparam.pth", "pt", se_e2_a(4.0, [20, 40]), {"numb_aparam": NUMB_APARAM}, "aparam"),
    "dpa3_pt2": ("dpa3.pt2", "pt-expt", DPA3, {}, "plain"),
    "dpa3_fparam_pt2": ("dpa3_fparam.pt2", "pt-expt", DPA3, {"numb_fparam": NUMB_FPARAM}, "fparam"),
}


def read_water():
    """Coordinates (A), types and cubic box length (A) of the bundled water.pdb."""
    coords, types, box = [], [], None
    with open(os.path.join(WATER, "water.pdb")) as f:
        for line in f:
            if line.startswith("CRYST1"):
                box = float(line[6:15])
            elif line.startswith(("ATOM", "HETATM")):
                coords.append([float(line[30:38]), float(line[38:46]), float(line[46:54])])
                types.append(TYPE_MAP.index(line[76:78].strip()))
    return np.array(coords), np.array(types), box


def write_system(path, types, coord, box, energy, force, fparam=None, aparam=None):
    os.makedirs(os.path.join(path, "set.000"))
    np.savetxt(os.path.join(path, "type.raw"), types, fmt="%d")
    with open(os.path.join(path, "type_map.raw"), "w") as f:
        f.write("\n".join(TYPE_MAP) + "\n")
    arrays = {"coord": coord, "box": box, "energy": energy, "force": force, "fparam": fparam, "aparam": aparam}
    for key, value in arrays.items():
        if value is not None:
            np.save(os.path.join(path, "set.000", key + ".npy"), value)


def make_data():
    """Three deepmd/npy systems under WORK/data: plain, fparam, aparam."""
    from deepmd.infer import DeepPot

    coord0, types, length = read_water()
    natoms = len(types)
    rng = np.random.default_rng(SEED)
    coord = coord0[None] + rng.normal(0.0, SIGMA, (NFRAMES, natoms, 3))
    box = np.tile(np.diag([length] * 3).reshape(1, 9), (NFRAMES, 1))
    labeller = DeepPot(os.path.join(WATER, "water_6A.pth"))
    assert labeller.get_type_map() == TYPE_MAP
    energy, force, _ = labeller.eval(coord.reshape(NFRAMES, -1), box, types)
    energy, force = energy.reshape(NFRAMES), force.reshape(NFRAMES, -1)
    coord = coord.reshape(NFRAMES, -1)
    data = os.path.join(WORK, "data")
    write_system(os.path.join(data, "plain"), types, coord, box, energy, force)
    # Parameter-dependent energy terms (forces unchanged: parameters do not move with atoms).
    fparam = rng.uniform(0.0, 1.0, (NFRAMES, NUMB_FPARAM))
    write_system(os.path.join(data, "fparam"), types, coord, box,
                 energy + natoms * 0.02 * (fparam[:, 0] - 0.5 * fparam[:, 1]), force, fparam=fparam)
    aparam = rng.uniform(0.0, 1.0, (NFRAMES, natoms * NUMB_APARAM))
    write_system(os.path.join(data, "aparam"), types, coord, box,
                 energy + 0.02 * aparam.sum(axis=1), force, aparam=aparam)
    print(f"data: {NFRAMES} frames of {natoms} atoms in {data}, "
          f"energy {energy.min():.3f}..{energy.max():.3f} eV", flush=True)


def train_input(descriptor, fitting_extra, system, steps):
    return {
        "model": {"type_map": TYPE_MAP, "descriptor": descriptor, "fitting_net": {**FITTING, **fitting_extra}},
        "learning_rate": {"type": "exp", "start_lr": 1e-3, "stop_lr": 1e-4, "decay_steps": max(steps // 4, 1)},
        "loss": {"type": "ener", "start_pref_e": 0.02, "limit_pref_e": 1, "start_pref_f": 1000, "limit_pref_f": 1,
                 "start_pref_v": 0, "limit_pref_v": 0},
        "training": {"training_data": {"systems": [system], "batch_size": 1},
                     "numb_steps": steps, "seed": SEED, "disp_file": "lcurve.out",
                     "disp_freq": steps, "save_freq": steps},
    }


def run(cmd, cwd, log):
    with open(log, "a") as out:
        out.write("+ " + " ".join(cmd) + "\n")
        out.flush()
        result = subprocess.run(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        with open(log) as f:
            tail = f.readlines()[-30:]
        raise RuntimeError(f"{' '.join(cmd)} failed ({result.returncode}); end of {log}:\n" + "".join(tail))


def build(name, steps):
    out, backend, descriptor, fitting_extra, system = MODELS[name]
    work = os.path.join(WORK, name)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    with open(os.path.join(work, "input.json"), "w") as f:
        json.dump(train_input(descriptor, fitting_extra, os.path.join(WORK, "data", system), steps), f, indent=1)
    dp = shutil.which("dp") or os.path.join(os.path.dirname(sys.executable), "dp")
    log = os.path.join(work, "log.txt")
    target = os.path.join(HERE, out)
    start = time.time()
    run([dp, "--" + backend, "train", "--skip-neighbor-stat", "input.json"], work, log)
    trained = time.time()
    # torch names the root folder of a .pt2 archive after the file; deepmd-kit keeps its
    # metadata under model/extra/, and torch's strict loader accepts the archive only if
    # everything shares one root (otherwise: "Loading outdated pt2 file" and a fallback
    # to the legacy loader).  So freeze to model.pt2 and rename the copy.
    frozen = os.path.join(work, "model" + os.path.splitext(out)[1])
    run([dp, "--" + backend, "freeze", "-o", frozen], work, log)
    shutil.copy(frozen, target)
    return trained - start, time.time() - trained


def describe(path):
    """Loads `path` in DeepPot and evaluates the bundled water; returns a summary dict."""
    import torch
    from deepmd.infer import DeepPot

    coord0, types, length = read_water()
    natoms = len(types)
    dp = DeepPot(path)
    assert dp.get_type_map() == TYPE_MAP, dp.get_type_map()
    nfp, nap = dp.get_dim_fparam(), dp.get_dim_aparam()
    rng = np.random.default_rng(2)
    kwargs = {}
    if nfp:
        kwargs["fparam"] = rng.uniform(0, 1, (1, nfp))
    if nap:
        kwargs["aparam"] = rng.uniform(0, 1, (1, natoms * nap))
    coord = coord0.reshape(1, -1)
    box = np.diag([length] * 3).reshape(1, 9)
    e, f, v = dp.eval(coord, box, types, **kwargs)
    assert np.all(np.isfinite(e)) and np.all(np.isfinite(f)) and np.all(np.isfinite(v)), path
    e_open = dp.eval(coord, None, types, **kwargs)[0]
    assert np.all(np.isfinite(e_open)), path
    # Do the parameters matter?
    param_effect = None
    if nfp:
        other = dict(kwargs, fparam=kwargs["fparam"] + 0.3)
        param_effect = float(dp.eval(coord, box, types, **other)[0][0, 0] - e[0, 0])
    elif nap:
        other = dict(kwargs, aparam=kwargs["aparam"] + 0.3)
        param_effect = float(dp.eval(coord, box, types, **other)[0][0, 0] - e[0, 0])

    if path.endswith(".pth"):
        model = torch.jit.load(path, map_location="cpu")
        mp, sel = bool(model.has_message_passing()), list(model.get_sel())
        descriptor = json.loads(model.model_def_script)["descriptor"]
    else:
        with zipfile.ZipFile(path) as z:
            entry = [n for n in z.namelist() if n.endswith("extra/metadata.json")][0]
            meta = json.loads(z.read(entry))
        mp, sel = bool(meta.get("has_message_passing")), meta.get("sel")
        descriptor = dp.get_model_def_script()["descriptor"]
    if descriptor["type"] == "dpa2":
        r, f = descriptor["repinit"], descriptor["repformer"]
        sel = f"repinit {r['nsel']}@{r['rcut']:g} repformer {f['nsel']}@{f['rcut']:g}x{f['nlayers']}"
    elif descriptor["type"] == "dpa3":
        r = descriptor["repflow"]
        sel = f"edge {r['e_sel']}@{r['e_rcut']:g} angle {r['a_sel']}@{r['a_rcut']:g} x{r['nlayers']}"
    return {"family": descriptor["type"], "rcut": dp.get_rcut(), "sel": sel, "dim_fparam": nfp, "dim_aparam": nap,
            "message_passing": mp, "size_kB": os.path.getsize(path) / 1024,
            "e_pbc": float(e[0, 0]), "e_open": float(e_open[0, 0]), "param_effect": param_effect}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="build only this model (repeatable): " + ", ".join(MODELS))
    parser.add_argument("--steps", type=int, default=10, help="training steps per model (default 10)")
    parser.add_argument("--keep-work", action="store_true", help="do not remake the labelled data if present")
    args = parser.parse_args()
    names = list(MODELS)
    if args.only:
        lookup = {**{n: n for n in MODELS}, **{m[0]: n for n, m in MODELS.items()},
                  **{os.path.splitext(m[0])[0]: n for n, m in MODELS.items() if m[0].endswith(".pth")}}
        unknown = [n for n in args.only if n not in lookup]
        if unknown:
            parser.error(f"unknown model(s) {unknown}; choose from {', '.join(MODELS)}")
        names = list(dict.fromkeys(lookup[n] for n in args.only))
    for var in ("OMP_NUM_THREADS", "DP_INTRA_OP_PARALLELISM_THREADS", "DP_INTER_OP_PARALLELISM_THREADS"):
        os.environ.setdefault(var, "1")

    if not (args.keep_work and os.path.isdir(os.path.join(WORK, "data"))):
        shutil.rmtree(os.path.join(WORK, "data"), ignore_errors=True)
        make_data()

    rows, failures = [], {}
    for name in names:
        print(f"== {name}", flush=True)
        try:
            t_train, t_freeze = build(name, args.steps)
            info = describe(os.path.join(HERE, MODELS[name][0]))
            info.update(name=MODELS[name][0], t_train=t_train, t_freeze=t_freeze)
            print(json.dumps(info), flush=True)
            if info["family"] in ("dpa2", "dpa3"):
                assert info["message_passing"], f"{name} should report message passing"
                assert abs(info["e_pbc"] - info["e_open"]) > 1e-6, f"{name}: same energy with and without box"
            if info["param_effect"] is not None:
                assert abs(info["param_effect"]) > 1e-8, f"{name}: energy does not depend on its parameters"
        except Exception as exc:  # report and go on with the other models
            failures[name] = str(exc) or type(exc).__name__
            print(f"FAILED {name}: {failures[name]}", flush=True)
            continue
        rows.append(info)

    if "fparam" in names and os.path.exists(os.path.join(HERE, "fparam.pth")):
        old = os.path.join(HERE, "needs_fparam.pth")
        if os.path.exists(old):
            os.remove(old)
            print("removed the superseded tests/data/needs_fparam.pth")

    print()
    print(f"{'file':<16} {'family':<11} {'rcut':>4} {'sel':<34} {'fp':>2} {'ap':>2} {'mp':<5} {'kB':>6} "
          f"{'train s':>7} {'freeze s':>8}  E(pbc)-E(open) eV")
    for r in rows:
        print(f"{r['name']:<16} {r['family']:<11} {r['rcut']:>4.1f} {str(r['sel']):<34} {r['dim_fparam']:>2} "
              f"{r['dim_aparam']:>2} {str(r['message_passing']):<5} {r['size_kB']:>6.0f} {r['t_train']:>7.1f} "
              f"{r['t_freeze']:>8.1f}  {r['e_pbc'] - r['e_open']:+.4g}")
    for name, why in failures.items():
        print(f"FAILED {name}: {why.splitlines()[0]}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
