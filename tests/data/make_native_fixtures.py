"""Make the tiny se_e2_a models that test the plugin's native (non-TorchScript) path.

    source .venv/bin/activate
    OMP_NUM_THREADS=1 DP_INTRA_OP_PARALLELISM_THREADS=1 DP_INTER_OP_PARALLELISM_THREADS=1 \\
        python tests/data/make_native_fixtures.py [--only NAME ...]

The native path evaluates se_e2_a models (environment matrix, embedding nets, fitting
nets, or the compressed tables) itself, and tests/python/test_native_path.py compares
it with deepmd.infer.DeepPot evaluating the *same* file (1e-12 relative in float64,
1e-6 compressed, 4e-6 in float32).  These models therefore need no physics and are not
trained: each is built from a deepmd-kit pt model config with deepmd-kit's own Python
API (the config normalised as `dp train` does, then deepmd.pt.model.model.get_model),
with deepmd-kit's random initial weights, then given what training would have set:

  - descriptor statistics (sea.mean / sea.stddev, [ntypes, sum(sel), 4]): like
    deepmd-kit's own, constant within each neighbour-type section, a nonzero radial
    mean (column 0; the angular means, columns 1-3, are zero) and stddev 0.1-0.3, so
    that padded neighbour slots give nonzero normalised rows;
  - the fitting net's bias_atom_e and the atomic model's out_bias (both added to the
    atomic energy, separately), a few eV per type;
  - the hidden-layer timesteps (resnet_dt "idt", initialised by deepmd-kit at about
    0.1 each) spread over 0.05-0.5, so that a path mistaking or dropping them is seen;
  - min_nbor_dist: the smallest interatomic distance (minimum image) of the bundled
    water, as `dp train` stores it from its neighbour statistics (float64 buffer).

The last fitting layer is scaled so that the largest force on the bundled water is
3 eV/A (deepmd-kit's initial fitting nets barely see the descriptor: 0.002-0.2 eV/A),
and its bias shifted so that each type's mean atomic energy there is bias_atom_e +
out_bias (a few eV per atom, not the thousands the scaled raw output would give).
Then each model is frozen as `dp --pt freeze` does (deepmd/pt/entrypoints/main.py:
model.eval(), torch.jit.script, torch.jit.save with the extra file
data_modifier.pth = ""), each in its own process (scripting a second model in one
process would mangle the TorchScript class names, unlike any frozen model), so get_model_def_script() and get_min_nbor_dist() read back
right; the compressed ones go through `dp --pt compress` (which needs the stored
min_nbor_dist, else it asks for the training data) with table stride -s 0.04 (the
default 0.01 gives 2.2-2.4 MB files).  The embedding nets of the models that get
compressed have resnet_dt false: deepmd-kit's tabulation (deepmd/utils/tabulate_math.py)
ignores the "idt" timesteps, so a compressed resnet_dt embedding is silently another
function (tried: energy 63%, max|F| 160% off the uncompressed model).  Seeds are fixed
(deepmd-kit's "seed" for the networks, numpy's for the rest); work files go to
build/native_fixtures/.

All use type_map ["O", "H"] (se_a_three_types: ["O", "H", "C"]), cutoffs 4-5 A with
neighbours across the 12.4 A box of the bundled water, embedding [4, 8, 16], axis 4,
fitting [16, 16]; every file is well under 1 MB.

Why each model exists:
  se_a_two_side.pth             type_one_side false (an embedding net per type pair),
                                float64, resnet_dt in the embedding and fitting nets.
  se_a_one_side.pth             type_one_side true (one embedding net per neighbour type),
                                float64; descriptor exclude_types [[0, 1]] (O-H pairs
                                masked in the descriptor) and model-level
                                pair_exclude_types [[1, 1]] (H-H pairs removed from the
                                neighbour list), atom_exclude_types [].
  se_a_three_types.pth          type_map ["O", "H", "C"] (the tests type some H as C),
                                atom_exclude_types [2] (C atoms get zero energy but are
                                still neighbours), gelu in the fitting net, tanh in the
                                embedding.
  se_a_fp32.pth                 float32 descriptor and fitting (embedding resnet_dt
                                false, fitting resnet_dt true).
  se_a_fp32_compressed.pth      se_a_fp32.pth through `dp --pt compress` (tabulated
                                embedding nets, deepmd-kit's tabulate_fusion_se_a op).
  se_a_one_side_compressed.pth  a float64 type_one_side model (no exclusions), compressed:
                                tables per neighbour type only.
  se_a_small_sel.pth            like se_a_two_side but sel [6, 12] at rcut 4.0: on the
                                bundled water 93% of the atoms have more than 6 O and
                                99% more than 12 H within 4 A, so deepmd-kit keeps the
                                nearest of each type.
  se_a_silut.pth                an se_e2_a model whose fitting net uses deepmd-kit's
                                "silut:3.0" activation, which the native path does not
                                implement: it must run its TorchScript, and say why.

--only NAME (repeatable; with or without .pth) rebuilds just those models (a compressed
one rebuilds its parent first: se_a_fp32.pth, or build/native_fixtures/
se_a_one_side_plain.pth).  The build is deterministic (byte-identical files).  The script ends by loading
every model it built in DeepPot, evaluating the bundled structure (periodic and not),
and printing one summary row per model.
"""
import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WATER = os.path.join(ROOT, "examples", "water")
WORK = os.path.join(ROOT, "build", "native_fixtures")
SEED = 1
OH = ["O", "H"]
# Compression table stride (dp compress -s; the second, extrapolated table takes 10x).
# deepmd-kit's default 0.01 gives 2.2-2.4 MB files here (the table spans the normalised
# s = sw/r from floor(-mean/std) to ceil((sw(min_nbor_dist)/min_nbor_dist - mean)/std),
# about -1..7, then on to 5x that with the coarse stride); 0.04 gives 0.66-0.72 MB.
COMPRESS_STRIDE = 0.04
# Every 5th hydrogen of the bundled water becomes "C" for the three-type model.
C_EVERY = 5
# Target of the largest force component on the bundled water, eV/A.
FORCE_SCALE = 3.0


def se_e2_a(rcut, sel, type_one_side=False, precision="float64", resnet_dt=True, exclude_types=()):
    return {"type": "se_e2_a", "rcut": rcut, "rcut_smth": 0.5, "sel": list(sel), "neuron": [4, 8, 16],
            "axis_neuron": 4, "resnet_dt": resnet_dt, "type_one_side": type_one_side,
            "exclude_types": [list(p) for p in exclude_types], "activation_function": "tanh",
            "precision": precision, "seed": SEED}


def fitting(precision="float64", activation="tanh"):
    return {"type": "ener", "neuron": [16, 16], "resnet_dt": True, "activation_function": activation,
            "precision": precision, "seed": SEED}


# name -> (output file, model config (without type_map unless not OH), compress parent or None)
MODELS = {
    "se_a_two_side": ("se_a_two_side.pth",
                      {"descriptor": se_e2_a(5.0, [28, 56]), "fitting_net": fitting()}, None),
    "se_a_one_side": ("se_a_one_side.pth",
                      {"descriptor": se_e2_a(4.5, [20, 40], type_one_side=True, exclude_types=[[0, 1]]),
                       "fitting_net": fitting(), "pair_exclude_types": [[1, 1]], "atom_exclude_types": []}, None),
    "se_a_three_types": ("se_a_three_types.pth",
                         {"type_map": ["O", "H", "C"], "descriptor": se_e2_a(5.0, [28, 48, 16]),
                          "fitting_net": fitting(activation="gelu"), "atom_exclude_types": [2]}, None),
    "se_a_fp32": ("se_a_fp32.pth",
                  {"descriptor": se_e2_a(4.5, [20, 40], precision="float32", resnet_dt=False),
                   "fitting_net": fitting(precision="float32")}, None),
    "se_a_fp32_compressed": ("se_a_fp32_compressed.pth", None, "se_a_fp32"),
    "se_a_one_side_plain": ("se_a_one_side_plain.pth",   # work file only: the parent of the next
                            {"descriptor": se_e2_a(4.5, [20, 40], type_one_side=True, resnet_dt=False),
                             "fitting_net": fitting()}, None),
    "se_a_one_side_compressed": ("se_a_one_side_compressed.pth", None, "se_a_one_side_plain"),
    "se_a_small_sel": ("se_a_small_sel.pth",
                       {"descriptor": se_e2_a(4.0, [6, 12]), "fitting_net": fitting()}, None),
    "se_a_silut": ("se_a_silut.pth",
                   {"descriptor": se_e2_a(4.0, [16, 32]), "fitting_net": fitting(activation="silut:3.0")}, None),
}
WORK_ONLY = {"se_a_one_side_plain"}   # frozen into WORK, not kept in tests/data


def read_water():
    """Coordinates (A), element symbols and cubic box length (A) of the bundled water.pdb
    (make_fixtures.py's reader, its type indices turned back into element symbols)."""
    sys.path.insert(0, HERE)
    import make_fixtures
    coords, types, box = make_fixtures.read_water()
    return coords, [make_fixtures.TYPE_MAP[t] for t in types], box


def elements_for(type_map, elements):
    """The water's element names, with every C_EVERY-th hydrogen renamed C if the model knows C."""
    if "C" not in type_map:
        return list(elements)
    out, nh = [], 0
    for e in elements:
        if e == "H":
            nh += 1
            if nh % C_EVERY == 0:
                e = "C"
        out.append(e)
    return out


def min_image_distance(coord, length):
    d = coord[:, None, :] - coord[None, :, :]
    d -= length * np.round(d / length)
    r = np.linalg.norm(d, axis=-1)
    r[np.diag_indices(len(coord))] = np.inf
    return float(r.min())


def overflow_fractions(info):
    """Per type of the model, the fraction of the water's atoms with more neighbours of
    that type within rcut than sel keeps."""
    coord, elements, length = read_water()
    d = coord[:, None, :] - coord[None, :, :]
    d -= length * np.round(d / length)
    r = np.linalg.norm(d, axis=-1)
    r[np.diag_indices(len(coord))] = np.inf
    names = np.array(elements_for(info["type_map"], elements))
    return [float(((r < info["rcut"])[:, names == t].sum(axis=1) > n).mean())
            for t, n in zip(info["type_map"], info["sel"])]


def normalised_model_params(model):
    """The model section as `dp train` hands it to get_model: update_deepmd_input + normalize
    of a full input (the training section is a placeholder; nothing is trained)."""
    from deepmd.utils.argcheck import normalize
    from deepmd.utils.compat import update_deepmd_input
    config = {
        "model": copy.deepcopy(model),
        "learning_rate": {"type": "exp", "start_lr": 1e-3, "stop_lr": 1e-4, "decay_steps": 100},
        "loss": {"type": "ener"},
        "training": {"training_data": {"systems": ["unused"], "batch_size": 1}, "numb_steps": 1, "seed": SEED},
    }
    config = normalize(update_deepmd_input(config, warning=False))
    return config["model"]


def set_statistics(model, rng):
    """What training would have set: descriptor mean/stddev, biases, timesteps."""
    import torch
    atomic = model.atomic_model
    block = atomic.descriptor.sea
    sel = list(block.sel)
    ntypes = len(sel)
    with torch.no_grad():
        mean = torch.zeros_like(block.mean)
        stddev = torch.ones_like(block.stddev)
        start = 0
        for nsel in sel:   # one (center type, neighbour type) value per section, as deepmd-kit's stats
            for t in range(ntypes):
                mean[t, start:start + nsel, 0] = rng.uniform(0.03, 0.15)
                stddev[t, start:start + nsel, 0] = rng.uniform(0.15, 0.3)
                stddev[t, start:start + nsel, 1:] = rng.uniform(0.1, 0.2)
            start += nsel
        block.mean.copy_(mean)
        block.stddev.copy_(stddev)
        fit = atomic.fitting_net
        fit.bias_atom_e.copy_(torch.tensor(rng.uniform(-2.0, 2.0, tuple(fit.bias_atom_e.shape))))
        atomic.out_bias.copy_(torch.tensor(rng.uniform(-6.0, -1.0, tuple(atomic.out_bias.shape))))
        for name, p in model.named_parameters():
            if name.endswith(".idt"):
                p.copy_(torch.tensor(rng.uniform(0.05, 0.5, tuple(p.shape))))


def last_fitting_layers(model):
    fit = model.atomic_model.fitting_net
    return [net.layers[-1] for net in fit.filter_layers.networks]


def evaluate_model(model, coord, atype, length):
    """Atomic energies (eV) and forces (eV/A) of the in-memory model on one periodic frame."""
    import torch
    prec = model.atomic_model.fitting_net.prec
    out = model(torch.tensor(coord[None], dtype=prec), torch.tensor(np.array(atype)[None]),
                box=torch.tensor(np.eye(3)[None] * length, dtype=prec))
    return out["atom_energy"].detach().double().numpy()[0, :, 0], out["force"].detach().double().numpy()[0]


def scale_fitting(model, coord, atype, length):
    """Scale the last fitting layer so that the largest force on the water is FORCE_SCALE
    eV/A, then shift its bias so that each type's mean atomic energy is what the two
    biases alone give (as training would: the networks fit the deviations)."""
    import torch
    _, force = evaluate_model(model, coord, atype, length)
    scale = FORCE_SCALE / np.abs(force).max()
    layers = last_fitting_layers(model)
    with torch.no_grad():
        for layer in layers:
            layer.matrix.mul_(scale)
            layer.bias.mul_(scale)
    atom_energy, _ = evaluate_model(model, coord, atype, length)
    atomic = model.atomic_model
    baseline = (atomic.fitting_net.bias_atom_e[:, 0] + atomic.out_bias[0, :, 0]).detach().double().numpy()
    excluded = set(atomic.atom_exclude_types)
    atype = np.array(atype)
    with torch.no_grad():
        for t, layer in enumerate(layers):
            if t in excluded or not np.any(atype == t):
                continue
            layer.bias.sub_(float(atom_energy[atype == t].mean() - baseline[t]))
    return scale


def freeze(model, path):
    """As `dp --pt freeze` (deepmd/pt/entrypoints/main.py: freeze)."""
    import torch
    model.eval()
    scripted = torch.jit.script(model)
    torch.jit.save(scripted, path, {"data_modifier.pth": ""})


def dp_command():
    return shutil.which("dp") or os.path.join(os.path.dirname(sys.executable), "dp")


def build_plain(name, min_dist):
    import torch
    from deepmd.pt.model.model import get_model

    out, config, _ = MODELS[name]
    model_config = dict(config)
    model_config.setdefault("type_map", OH)
    params = normalised_model_params(model_config)
    seed = SEED + sum(ord(c) for c in name)    # a different, fixed stream per model
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = get_model(params)
    set_statistics(model, rng)
    model.min_nbor_dist = torch.tensor(min_dist, dtype=torch.float64)

    coord, elements, length = read_water()
    type_map = params["type_map"]
    atype = [type_map.index(e) for e in elements_for(type_map, elements)]
    scale = scale_fitting(model, coord, atype, length)
    target = os.path.join(WORK if name in WORK_ONLY else HERE, out)
    freeze(model, target)
    return target, scale


def build_plain_in_subprocess(name, min_dist):
    """build_plain in a fresh process, as `dp --pt freeze` runs: TorchScript mangles the
    class names of a module scripted a second time in one process (se_a.___torch_mangle_28
    .DescrptSeA...), which a frozen model never has."""
    work = os.path.join(WORK, name)
    os.makedirs(work, exist_ok=True)
    log = os.path.join(work, "log.txt")
    cmd = [sys.executable, os.path.abspath(__file__), "--freeze-one", name, "--min-dist", repr(min_dist)]
    with open(log, "w") as f:
        result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=f, text=True)
    if result.returncode != 0:
        with open(log) as f:
            tail = f.readlines()[-30:]
        raise RuntimeError(f"building {name} failed ({result.returncode}); end of {log}:\n" + "".join(tail))
    out = json.loads(result.stdout.strip().splitlines()[-1])
    return out["path"], out["scale"]


def build_compressed(name, parent_path):
    out = MODELS[name][0]
    work = os.path.join(WORK, name)
    os.makedirs(work, exist_ok=True)
    log = os.path.join(work, "log.txt")
    cmd = [dp_command(), "--pt", "compress", "-i", parent_path, "-o", os.path.join(work, out),
           "-s", str(COMPRESS_STRIDE)]
    with open(log, "w") as f:
        f.write("+ " + " ".join(cmd) + "\n")
        f.flush()
        result = subprocess.run(cmd, cwd=work, stdout=f, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        with open(log) as f:
            tail = f.readlines()[-30:]
        raise RuntimeError(f"{' '.join(cmd)} failed ({result.returncode}); end of {log}:\n" + "".join(tail))
    target = os.path.join(HERE, out)
    shutil.copy(os.path.join(work, out), target)
    return target


def describe(path):
    """Loads `path` in DeepPot and evaluates the bundled water; returns a summary dict."""
    import torch
    from deepmd.infer import DeepPot

    coord, elements, length = read_water()
    dp = DeepPot(path)
    type_map = dp.get_type_map()
    atype = [type_map.index(e) for e in elements_for(type_map, elements)]
    e, f, v = dp.eval(coord.reshape(1, -1), np.diag([length] * 3).reshape(1, 9), atype)
    assert np.all(np.isfinite(e)) and np.all(np.isfinite(f)) and np.all(np.isfinite(v)), path
    e_open, f_open, _ = dp.eval(coord.reshape(1, -1), None, atype)
    assert np.all(np.isfinite(e_open)) and np.all(np.isfinite(f_open)), path
    fmax = float(np.abs(f).max())
    assert 0.1 <= fmax <= 30, f"{path}: largest force {fmax} eV/A"
    model = torch.jit.load(path, map_location="cpu")
    script = json.loads(model.get_model_def_script())
    d = script["descriptor"]
    assert d["type"] == "se_e2_a", path
    min_dist = model.get_min_nbor_dist()
    assert min_dist is not None and min_dist > 0.5, f"{path}: min_nbor_dist {min_dist}"
    compressed = bool(model.atomic_model.descriptor.compress)
    return {"type_map": type_map, "rcut": dp.get_rcut(), "sel": d["sel"], "one_side": d["type_one_side"],
            "precision": d["precision"], "compressed": compressed, "excl": d["exclude_types"],
            "pair_excl": script.get("pair_exclude_types", []), "atom_excl": script.get("atom_exclude_types", []),
            "fitting_act": script["fitting_net"]["activation_function"], "min_nbor_dist": min_dist,
            "size_kB": os.path.getsize(path) / 1024, "e_pbc": float(e[0, 0]), "e_open": float(e_open[0, 0]),
            "fmax": fmax, "frms": float(np.sqrt((f ** 2).mean()))}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", metavar="NAME", help="build only this model (repeatable): "
                        + ", ".join(n for n in MODELS if n not in WORK_ONLY))
    parser.add_argument("--freeze-one", metavar="NAME", help=argparse.SUPPRESS)   # the child of build_plain_in_subprocess
    parser.add_argument("--min-dist", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    for var in ("OMP_NUM_THREADS", "DP_INTRA_OP_PARALLELISM_THREADS", "DP_INTER_OP_PARALLELISM_THREADS"):
        os.environ.setdefault(var, "1")
    if args.freeze_one:
        path, scale = build_plain(args.freeze_one, args.min_dist)
        print(json.dumps({"path": path, "scale": scale}), flush=True)
        return
    names = [n for n in MODELS if n not in WORK_ONLY]
    if args.only:
        lookup = {**{n: n for n in names}, **{MODELS[n][0]: n for n in names}}
        unknown = [n for n in args.only if n not in lookup]
        if unknown:
            parser.error(f"unknown model(s) {unknown}; choose from {', '.join(names)}")
        names = list(dict.fromkeys(lookup[n] for n in args.only))

    import deepmd.pt  # noqa: F401  (loads deepmd-kit's custom ops, needed by compressed models)

    os.makedirs(WORK, exist_ok=True)
    coord, _, length = read_water()
    min_dist = min_image_distance(coord, length)
    print(f"smallest interatomic distance of the bundled water (minimum image): {min_dist:.4f} A", flush=True)

    built, rows, failures = {}, [], {}
    for name in names:
        print(f"== {name}", flush=True)
        start = time.time()
        try:
            parent = MODELS[name][2]
            if parent is None:
                path, scale = build_plain_in_subprocess(name, min_dist)
            else:
                if parent not in built:
                    built[parent], _ = build_plain_in_subprocess(parent, min_dist)
                path, scale = build_compressed(name, built[parent]), None
            built[name] = path
            info = describe(path)
            info.update(name=os.path.basename(path), seconds=time.time() - start, fit_scale=scale)
            print(json.dumps(info), flush=True)
            assert info["size_kB"] < 1024, f"{name}: {info['size_kB']:.0f} kB"
            assert info["compressed"] == name.endswith("_compressed"), name
            if name == "se_a_small_sel":
                over = overflow_fractions(info)
                print(f"   atoms with more neighbours than sel within {info['rcut']:g} A: "
                      + ", ".join(f"{t} {100 * f:.0f}%" for t, f in zip(info["type_map"], over)), flush=True)
                assert min(over) > 0.9, f"{name}: sel does not overflow on the bundled water"
            if parent is not None:
                ref = describe(built[parent])
                diff = abs(info["e_pbc"] - ref["e_pbc"])
                print(f"   compressed - uncompressed: {diff:.3g} eV", flush=True)
        except Exception as exc:  # report and go on with the other models
            failures[name] = str(exc) or type(exc).__name__
            print(f"FAILED {name}: {failures[name]}", flush=True)
            continue
        rows.append(info)

    print()
    print(f"{'file':<29} {'types':<6} {'rcut':>4} {'sel':<13} {'1side':<5} {'prec':<7} {'compr':<5} "
          f"{'exclusions (descr/pair/atom)':<28} {'fit act':<7} {'kB':>5} {'max|F|':>6} {'E(pbc) eV':>10} "
          f"{'E(open) eV':>10}")
    for r in rows:
        excl = f"{r['excl']}/{r['pair_excl']}/{r['atom_excl']}"
        print(f"{r['name']:<29} {''.join(r['type_map']):<6} {r['rcut']:>4.1f} {str(r['sel']):<13} "
              f"{str(r['one_side']):<5} {r['precision']:<7} {str(r['compressed']):<5} {excl:<28} "
              f"{r['fitting_act']:<7} {r['size_kB']:>5.0f} {r['fmax']:>6.2f} {r['e_pbc']:>10.4f} {r['e_open']:>10.4f}")
    for name, why in failures.items():
        print(f"FAILED {name}: {why.splitlines()[0]}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
