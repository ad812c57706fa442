"""switchingdp-distill: make a fast partner for your one accurate DeePMD model.

    switchingdp-distill --accurate acc.pth --pdb start.pdb --out work/

The accurate model is the teacher: it labels any configuration exactly, so no DFT
is needed.  The run
1. explores: Langevin MD with the accurate model at each --explore-temperature
   (default: --temperature and 1.2 times it), a frame every --sample-interval fs;
2. labels every frame with the accurate model (energies and forces, through the
   plugin) and writes them in deepmd-kit's data format;
3. trains a fast se_e2_a model with deepmd-kit (cutoff --rcut, neighbour counts
   `sel` from the data unless given, network sizes as options), then freezes it in
   float32 and compresses it (deepmd-kit's tabulated embedding nets);
4. surveys it: from states the accurate model reached, runs the fast model alone and
   1:(interval-1) alternation and scores every sampled frame by the pair's force
   deviation max_i |F_accurate - F_fast| (eV/A);
5. selects frames by the deviation (DP-GEN's trust levels: a frame with deviation
   at or above --trust-lo is a candidate, below it the fast model is already right
   there).  DP-GEN also drops frames above an upper level, since its DFT labels of
   broken configurations are costly and useless; here the teacher labels any frame
   exactly, and the fast model's worst frames are the ones it most needs, so there
   is no upper level unless --trust-hi is given.  A frame is refused ('failed') only
   if it is not finite or two atoms come closer than --min-distance-factor times the
   closest pair of the explored data.  Up to --frames-per-round candidates are
   labelled and the model is retrained from the previous weights, continuing the
   first training's schedule from --retrain-start-lr (a restart at the full rate
   undoes what was learned, the energies first); repeats 4-5
   until the deviation on alternation's frames stops improving (its 95th percentile
   by less than --min-improvement), no candidate is left, or --rounds retrainings
   were done, and keeps the round with the lowest such percentile;
6. ends with a report (report.md): the rounds, then switchingdp-validate and
   switchingdp-bench of the pair it made.  With --residual it also trains a residual
   model co-trained with the fast one (Fu et al.: E = E_fast + E_residual, the slow
   term of rRESPA) and reports the NVE drift of rRESPA at 2, 4 and 6 fs outer steps,
   with the residual and with accurate - fast (the DMTS scheme).

Everything is written to --out; an interrupted run started again with the same --out
resumes after its last finished stage (an interrupted training from its last
checkpoint).  The fast model is --out/fast.pth (float32, compressed).
"""
import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from .units import ANGSTROM_PER_NM, KJ_PER_MOL_NM_PER_EV_A, KJ_PER_MOL_PER_EV

# Neighbour counts observed in the data get this much headroom in the model's sel
# (rounded up to a multiple of 4): MD visits denser spots than a few ps show.
SEL_HEADROOM = 1.2
VALIDATION_EVERY = 10     # every 10th explored frame is held out for deepmd-kit's validation

# The training schedule: exponential learning-rate decay from START_LR to STOP_LR, the
# loss prefactors moving from their start to their limit values with it (deepmd-kit:
# pref = limit + (start - limit) * lr / start_lr).
START_LR, STOP_LR = 1e-3, 3e-6
PREF_E = (0.02, 2.0)
PREF_F = (1000.0, 1.0)


@dataclass
class Settings:
    """All settings of a distillation; the defaults are the command's.  Lengths in A,
    temperatures in K, times in ps unless the name says fs."""
    accurate: str
    pdb: str
    out: str
    types: list = None                     # DP type per atom (default: element symbols)
    temperature: float = 330.0
    explore_temperatures: list = None      # default [temperature, 1.2 temperature]
    explore_ps: float = 5.0                # sampled accurate MD per temperature
    equilibration_ps: float = 0.5          # before sampling, per temperature
    sample_interval_fs: float = 10.0
    timestep_fs: float = 0.5
    rcut: float = 4.0
    rcut_smth: float = 0.5
    sel: list = None                       # per type of the accurate model's type_map; default from the data
    descriptor_neurons: list = field(default_factory=lambda: [8, 16, 32])
    axis_neuron: int = 4
    fitting_neurons: list = field(default_factory=lambda: [32, 32, 32])
    train_steps: int = 20000
    retrain_steps: int = 5000
    compress_step: float = 0.02            # dp compress table step
    interval: int = 4                      # the alternation surveyed (1 accurate step in interval)
    rounds: int = 3                        # retrainings after the first training, at most
    survey_ps: float = 1.0                 # per survey run (fast-only and alternating, from each start)
    starts_per_temperature: int = 2
    trust_lo: float = 0.6                  # eV/A
    trust_hi: float = None                 # eV/A; None: no upper level
    min_distance_factor: float = 0.8       # of the explored data's closest pair; closer frames are refused
    frames_per_round: int = 300
    retrain_start_lr: float = 1e-4
    min_improvement: float = 0.05
    max_temperature_factor: float = 1.5    # a survey run hotter than this times its thermostat stops
    residual: bool = False
    residual_steps: int = 20000
    residual_descriptor_neurons: list = field(default_factory=lambda: [8, 16, 32])
    report: bool = True
    validate_ps: float = 5.0
    bench_steps: int = 200
    bench_replicate: int = 1               # the report's bench tiles the PDB's box this many times per axis
    nve_outer_fs: list = field(default_factory=lambda: [2.0, 4.0, 6.0])
    nve_ps: float = 2.0
    platform: str = "CPU"
    seed: int = 1

    def check(self):
        for name in ("accurate", "pdb"):
            if not os.path.isfile(getattr(self, name)):
                raise ValueError(f"{name}: file not found: {getattr(self, name)}")
        positive = ("temperature", "explore_ps", "sample_interval_fs", "timestep_fs", "rcut", "survey_ps",
                    "compress_step", "max_temperature_factor", "validate_ps", "nve_ps")
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive (got {getattr(self, name)})")
        if not 0 <= self.rcut_smth < self.rcut:
            raise ValueError(f"rcut_smth must be in [0, rcut) (got {self.rcut_smth}, rcut {self.rcut})")
        if self.equilibration_ps < 0 or self.rounds < 0 or self.min_improvement < 0 or self.trust_lo < 0:
            raise ValueError("equilibration_ps, rounds, min_improvement and trust_lo must not be negative")
        for name in ("train_steps", "retrain_steps", "interval", "starts_per_temperature", "frames_per_round",
                     "residual_steps", "bench_steps", "bench_replicate", "axis_neuron"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1 (got {getattr(self, name)})")
        if self.interval < 2:
            raise ValueError("interval must be at least 2: alternation needs fast steps")
        if self.trust_hi is not None and not self.trust_hi > self.trust_lo:
            raise ValueError(f"trust_hi ({self.trust_hi}) must be above trust_lo ({self.trust_lo})")
        if not 0 < self.min_distance_factor <= 1:
            raise ValueError(f"min_distance_factor must be in (0, 1] (got {self.min_distance_factor})")
        if not STOP_LR < self.retrain_start_lr <= START_LR:
            raise ValueError(f"retrain_start_lr must be in ({STOP_LR:g}, {START_LR:g}] (got {self.retrain_start_lr})")
        if any(not t > 0 for t in self.explore_temperatures or []):
            raise ValueError("explore temperatures must be positive")
        for name in ("descriptor_neurons", "fitting_neurons", "residual_descriptor_neurons"):
            if not getattr(self, name) or min(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be a list of positive layer widths")
        if self.explore_ps * 1000 < self.sample_interval_fs * VALIDATION_EVERY:
            raise ValueError(f"explore_ps must cover at least {VALIDATION_EVERY} sampled frames")
        for name, value in (("sample_interval_fs", self.sample_interval_fs),):
            if abs(round(value / self.timestep_fs) * self.timestep_fs - value) > 1e-9:
                raise ValueError(f"{name} ({value}) must be a multiple of timestep_fs ({self.timestep_fs})")

    @property
    def temperatures(self):
        return self.explore_temperatures or [self.temperature, 1.2 * self.temperature]

    # Settings that define what was made: a resumed run must not change them.
    IDENTITY = ("types", "temperature", "explore_temperatures", "explore_ps", "equilibration_ps",
                "sample_interval_fs", "timestep_fs", "rcut", "rcut_smth", "sel", "descriptor_neurons",
                "axis_neuron", "fitting_neurons", "train_steps", "seed")


class Work:
    """The run's folder: what is done is recorded in progress.json, stage by stage,
    so a run started again skips it."""

    def __init__(self, out, log):
        self.root = os.path.abspath(out)
        self.log = log
        os.makedirs(self.root, exist_ok=True)
        self.progress_file = self.path("progress.json")
        self.progress = json.load(open(self.progress_file)) if os.path.exists(self.progress_file) else {}

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def done(self, stage):
        return stage in self.progress

    def result(self, stage):
        return self.progress[stage]

    def finish(self, stage, result=None):
        self.progress[stage] = result if result is not None else {}
        temporary = self.progress_file + ".tmp"
        with open(temporary, "w") as f:
            json.dump(self.progress, f, indent=1)
        os.replace(temporary, self.progress_file)


def file_digest(path):
    import hashlib
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_resumable(work, settings):
    """Record the settings of a new run, or refuse to resume one made with other ones."""
    identity = {name: getattr(settings, name) for name in Settings.IDENTITY}
    identity["accurate_sha256"] = file_digest(settings.accurate)
    identity["pdb_sha256"] = file_digest(settings.pdb)
    saved_file = work.path("settings.json")
    if os.path.exists(saved_file):
        saved = json.load(open(saved_file))["identity"]
        changed = [name for name in identity if saved.get(name) != identity[name]]
        if changed and work.progress:
            raise ValueError(f"{work.root} holds a run made with other settings ({', '.join(changed)}); "
                             "use another --out, or the same settings to resume it")
    with open(saved_file, "w") as f:
        json.dump({"identity": identity, "settings": dataclasses.asdict(settings)}, f, indent=1)


# --- the teacher ---------------------------------------------------------------

def model_metadata(path):
    """(type_map, rcut in A) of a frozen deepmd-kit model; refuses models that need
    frame or atomic parameters (their fast partner would need them too)."""
    from deepmd.infer import DeepPot
    try:
        model = DeepPot(path)
    except Exception as error:
        raise ValueError(f"{path}: deepmd-kit cannot load this model: {str(error).splitlines()[0]}") from None
    if model.get_dim_fparam() or model.get_dim_aparam():
        raise ValueError(f"{path} takes frame or atomic parameters; distillation supports models without them")
    return list(model.get_type_map()), float(model.get_rcut())


def label_frames(model, structure, coords, boxes, platform="CPU", progress=None):
    """The model's energies (eV, per frame) and forces (eV/A, frames x atoms x 3) at
    coords (A, frames x atoms x 3) in boxes (A, frames x 3 x 3), from the plugin
    running the model alone."""
    import openmm as mm
    import openmm.unit as u
    from .schemes import ACCURATE, Scheme, build_context
    context = build_context(Scheme(ACCURATE, model), structure, platform, velocities=False)
    energies, forces = [], []
    for coord, box in zip(coords, boxes):
        context.setPeriodicBoxVectors(*[mm.Vec3(*v) for v in box / ANGSTROM_PER_NM])
        context.setPositions(coord / ANGSTROM_PER_NM)
        state = context.getState(getEnergy=True, getForces=True)
        energies.append(state.getPotentialEnergy().value_in_unit(u.kilojoule_per_mole) / KJ_PER_MOL_PER_EV)
        forces.append(state.getForces(asNumpy=True).value_in_unit(u.kilojoule_per_mole / u.nanometer)
                      / KJ_PER_MOL_NM_PER_EV_A)
        if progress:
            progress.update(1)
    return np.array(energies), np.array(forces)


def write_system(folder, type_map, atom_types, coords, boxes, energies, forces):
    """One deepmd-kit system (type.raw, type_map.raw, set.000/*.npy); A and eV."""
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(os.path.join(folder, "set.000"))
    np.savetxt(os.path.join(folder, "type.raw"), np.asarray(atom_types, dtype=int), fmt="%d")
    with open(os.path.join(folder, "type_map.raw"), "w") as f:
        f.write("\n".join(type_map) + "\n")
    frames = len(coords)
    arrays = {"coord": np.reshape(coords, (frames, -1)), "box": np.reshape(boxes, (frames, 9)),
              "energy": np.reshape(energies, (frames,)), "force": np.reshape(forces, (frames, -1))}
    for name, array in arrays.items():
        np.save(os.path.join(folder, "set.000", name + ".npy"), array.astype(np.float64))


def read_system(folder):
    """(coords A, boxes A, energies eV, forces eV/A) of a system written by write_system."""
    set_dir = os.path.join(folder, "set.000")
    coords = np.load(os.path.join(set_dir, "coord.npy"))
    frames = len(coords)
    return (coords.reshape(frames, -1, 3), np.load(os.path.join(set_dir, "box.npy")).reshape(frames, 3, 3),
            np.load(os.path.join(set_dir, "energy.npy")), np.load(os.path.join(set_dir, "force.npy")).reshape(frames, -1, 3))


# --- geometry of the data ----------------------------------------------------

def pair_distances(coord, box):
    """Minimum-image distances (atoms x atoms, A) in one frame; inf on the diagonal."""
    inverse = np.linalg.inv(box)
    fractional = coord @ inverse
    delta = fractional[:, None, :] - fractional[None, :, :]
    delta -= np.round(delta)
    distance = np.linalg.norm(delta @ box, axis=2)
    np.fill_diagonal(distance, np.inf)
    return distance


def closest_pairs(coords, boxes):
    """Per frame, the smallest minimum-image interatomic distance (A)."""
    return np.array([pair_distances(coord, box).min() for coord, box in zip(coords, boxes)])


def neighbour_statistics(coords, boxes, atom_types, ntypes, rcut):
    """(largest number of neighbours of each type within rcut of any atom in any frame,
    smallest interatomic distance), in A.  Minimum image: the box must be at least
    2 rcut across, which the plugin requires anyway."""
    atom_types = np.asarray(atom_types)
    largest = np.zeros(ntypes, dtype=int)
    smallest = np.inf
    for coord, box in zip(coords, boxes):
        distance = pair_distances(coord, box)
        smallest = min(smallest, float(distance.min()))
        within = distance < rcut
        for t in range(ntypes):
            largest[t] = max(largest[t], int(within[:, atom_types == t].sum(axis=1).max(initial=0)))
    return largest.tolist(), smallest


def sel_from_counts(counts):
    """deepmd-kit's sel from observed neighbour counts: headroom, a multiple of 4, at least 4."""
    return [max(4, int(np.ceil(c * SEL_HEADROOM / 4.0)) * 4) for c in counts]


# --- frame selection ------------------------------------------------------------

def classify(deviations, trust_lo, trust_hi=None, too_close=None):
    """Three classes of a frame, after DP-GEN: 'accurate' (deviation below trust_lo: the
    fast model is already right there), 'candidate' (worth labelling) and 'failed'
    (non-finite, at or above trust_hi when one is given, or marked in the boolean
    `too_close`: two atoms closer than physical)."""
    deviations = np.asarray(deviations, dtype=float)
    failed = ~np.isfinite(deviations)
    if trust_hi is not None:
        failed |= deviations >= trust_hi
    if too_close is not None:
        failed |= np.asarray(too_close, dtype=bool)
    return np.where(failed, "failed", np.where(deviations >= trust_lo, "candidate", "accurate"))


def select_frames(deviations, trust_lo, trust_hi, limit, seed=0, too_close=None):
    """Indices (sorted) of at most `limit` candidate frames, drawn at random among all
    candidates when there are more (as DP-GEN does)."""
    candidates = np.flatnonzero(classify(deviations, trust_lo, trust_hi, too_close) == "candidate")
    if len(candidates) > limit:
        candidates = np.random.default_rng(seed).choice(candidates, size=limit, replace=False)
    return np.sort(candidates)


def deviation_statistics(deviations, trust_lo, trust_hi=None, too_close=None):
    deviations = np.asarray(deviations, dtype=float)
    finite = deviations[np.isfinite(deviations)]
    classes = classify(deviations, trust_lo, trust_hi, too_close)
    return {"frames": int(len(deviations)),
            "median": float(np.median(finite)) if len(finite) else float("nan"),
            "p95": float(np.quantile(finite, 0.95)) if len(finite) else float("nan"),
            "max": float(finite.max()) if len(finite) else float("nan"),
            **{name: int((classes == name).sum()) for name in ("accurate", "candidate", "failed")}}


# --- deepmd-kit -------------------------------------------------------------------

def dp_command():
    return shutil.which("dp") or os.path.join(os.path.dirname(sys.executable), "dp")


def training_input(settings, type_map, sel, steps, training_systems, validation_systems, rcut=None,
                   start_lr=START_LR):
    """deepmd-kit's input.json of an se_e2_a model, trained on energies and forces
    (float64; the fast model is frozen in float32 afterwards).  A start_lr below
    START_LR continues the full schedule from that rate: the loss prefactors start
    where the full schedule has them at that rate."""
    def prefactor(start, limit):
        fraction = start_lr / START_LR
        return start * fraction + limit * (1 - fraction)
    return {
        "model": {
            "type_map": type_map,
            "descriptor": {"type": "se_e2_a", "sel": sel, "rcut_smth": settings.rcut_smth,
                           "rcut": rcut or settings.rcut, "neuron": list(settings.descriptor_neurons),
                           "axis_neuron": settings.axis_neuron, "resnet_dt": False, "precision": "float64",
                           "seed": settings.seed},
            "fitting_net": {"neuron": list(settings.fitting_neurons), "resnet_dt": True, "precision": "float64",
                            "seed": settings.seed},
        },
        "learning_rate": {"type": "exp", "decay_steps": max(steps // 100, 1), "start_lr": start_lr,
                          "stop_lr": STOP_LR},
        "loss": {"type": "ener", "start_pref_e": prefactor(*PREF_E), "limit_pref_e": PREF_E[1],
                 "start_pref_f": prefactor(*PREF_F), "limit_pref_f": PREF_F[1],
                 "start_pref_v": 0, "limit_pref_v": 0},
        "training": {
            "training_data": {"systems": training_systems, "batch_size": 1},
            "validation_data": {"systems": validation_systems, "batch_size": 1, "numb_btch": 3},
            "numb_steps": steps, "seed": settings.seed, "disp_file": "lcurve.out",
            "disp_freq": max(1, min(100, steps // 10)), "save_freq": max(1, min(1000, steps // 2)),
        },
    }


def run_logged(command, cwd, log_file):
    with open(log_file, "a") as log:
        log.write("$ " + " ".join(command) + "\n")
        log.flush()
        result = subprocess.run(command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    if result.returncode:
        tail = open(log_file).read().splitlines()[-15:]
        raise RuntimeError(f"{' '.join(command[:3])} failed (exit {result.returncode}); the end of {log_file}:\n"
                           + "\n".join(tail))


def last_lcurve_step(folder):
    try:
        with open(os.path.join(folder, "lcurve.out")) as f:
            lines = [line for line in f if line.strip() and not line.startswith("#")]
        return int(lines[-1].split()[0]) if lines else 0
    except (OSError, ValueError, IndexError):
        return 0


def train(folder, config, steps, init_checkpoint, progress_bar, description):
    """dp --pt train in `folder` (resuming its own checkpoint if an earlier attempt was
    interrupted), with a progress bar fed from lcurve.out; returns the final
    checkpoint's path."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "input.json"), "w") as f:
        json.dump(config, f, indent=1)
    log = os.path.join(folder, "train.log")
    command = [dp_command(), "--pt", "train", "--skip-neighbor-stat", "input.json"]
    checkpoint = os.path.join(folder, "model.ckpt.pt")
    if os.path.exists(checkpoint):
        command += ["--restart", checkpoint]
    elif init_checkpoint:
        command += ["--init-model", init_checkpoint]
    bar = progress_bar(total=steps, desc=description, unit="step")
    shown = 0
    with open(log, "a") as out:
        out.write("$ " + " ".join(command) + "\n")
        out.flush()
        process = subprocess.Popen(command, cwd=folder, stdout=out, stderr=subprocess.STDOUT)
        try:
            while process.poll() is None:
                time.sleep(1.0)
                step = last_lcurve_step(folder)
                if step > shown:
                    bar.update(step - shown)
                    shown = step
        except BaseException:
            process.terminate()
            process.wait()
            raise
    bar.update(max(0, steps - shown))
    bar.close()
    if process.returncode:
        tail = open(log).read().splitlines()[-15:]
        raise RuntimeError(f"deepmd-kit training failed (exit {process.returncode}); the end of {log}:\n"
                           + "\n".join(tail))
    return checkpoint


def freeze_fast(folder, checkpoint, min_distance, compress_step, target):
    """The trained float64 weights frozen in float32 and compressed, as `target`.

    Compression tabulates the embedding nets down to the smallest interatomic distance
    of the training data, which is written into the checkpoint here (training skipped
    deepmd-kit's own, dense neighbour statistics)."""
    import torch
    log = os.path.join(folder, "freeze.log")
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    model = state["model"]
    for key in model:
        if key.endswith("min_nbor_dist"):
            model[key] = torch.tensor(min_distance, dtype=model[key].dtype)
    params = model["_extra_state"]["model_params"]
    params["descriptor"]["precision"] = "float32"
    params["fitting_net"]["precision"] = "float32"
    float32_checkpoint = os.path.join(folder, "frozen32.ckpt.pt")
    torch.save({"model": model}, float32_checkpoint)
    float32 = os.path.join(folder, "fast_float32.pth")
    run_logged([dp_command(), "--pt", "freeze", "-c", float32_checkpoint, "-o", float32], folder, log)
    run_logged([dp_command(), "--pt", "compress", "-i", float32, "-o", target, "-s", str(compress_step)], folder, log)
    return target


# --- MD -----------------------------------------------------------------------------

def sample_md(context, steps_per_frame, frames, max_temperature, progress=None):
    """Frames (positions A, boxes A, states) every steps_per_frame steps; stops early at
    non-finite positions or above max_temperature (the frames of a run going wrong
    are kept up to there)."""
    import openmm.unit as u
    from .validate import temperature_of
    atoms = context.getSystem().getNumParticles()
    coords, boxes, states = [], [], []
    for _ in range(frames):
        try:
            context.getIntegrator().step(steps_per_frame)
            state = context.getState(getPositions=True, getVelocities=True, getEnergy=True)
        except Exception:   # the plugin refuses non-finite positions
            break
        if progress:
            progress.update(steps_per_frame)
        if not temperature_of(state, atoms) < max_temperature:
            break
        coords.append(state.getPositions(asNumpy=True).value_in_unit(u.nanometer) * ANGSTROM_PER_NM)
        boxes.append(np.array(state.getPeriodicBoxVectors().value_in_unit(u.nanometer)) * ANGSTROM_PER_NM)
        states.append(state)
    return np.array(coords).reshape(-1, atoms, 3), np.array(boxes).reshape(-1, 3, 3), states


# --- the stages -----------------------------------------------------------------------

class Distillation:
    def __init__(self, settings, log=print, progress=True, on_stage=None):
        settings.check()
        self.settings = settings
        self.log = log
        self.on_stage = on_stage
        if progress:
            from tqdm import tqdm

            def bar(**kwargs):
                return tqdm(file=sys.stdout, leave=False, **kwargs)
            self.bar = bar
        else:
            self.bar = _silent_bar
        self.work = Work(settings.out, log)
        from .schemes import Structure
        self.structure = Structure.from_pdb(settings.pdb)
        self.type_map, self.accurate_rcut = model_metadata(settings.accurate)
        names = settings.types or self.structure.elements
        if len(names) != self.structure.topology.getNumAtoms():
            raise ValueError(f"types: {len(names)} given for {self.structure.topology.getNumAtoms()} atoms")
        missing = sorted(set(names) - set(self.type_map))
        if missing:
            raise ValueError(f"{settings.accurate}: type(s) {', '.join(missing)} not in its type_map {self.type_map}")
        self.types = list(names)
        self.atom_types = [self.type_map.index(n) for n in names]
        if settings.sel is not None and len(settings.sel) != len(self.type_map):
            raise ValueError(f"sel needs one count per type of {self.type_map} (got {len(settings.sel)})")
        check_resumable(self.work, settings)

    def stage(self, name, function):
        """Run a stage unless an earlier run finished it; returns its recorded result."""
        if self.work.done(name):
            self.log(f"[{name}] done earlier, skipped")
            return self.work.result(name)
        self.log(f"[{name}]")
        start = time.perf_counter()
        result = function()
        result["seconds"] = round(time.perf_counter() - start, 1)
        self.work.finish(name, result)
        if self.on_stage:
            self.on_stage(name)
        return result

    def run(self):
        s = self.settings
        self.stage("explore", self.explore)
        self.stage("label", self.label_explored)
        rounds = []
        best = None
        for k in range(s.rounds + 1):
            self.stage(f"train-{k}", lambda: self.train_round(k))
            self.stage(f"survey-{k}", lambda: self.survey(k))
            survey = self.survey_statistics(k)
            rounds.append(survey)
            every, alternating = survey["all"], survey["alternating"]
            self.log(f"round {k}: deviation on alternation's frames median {alternating['median']:.3f}, "
                     f"p95 {alternating['p95']:.3f}, max {alternating['max']:.3f} eV/A; on all survey frames "
                     f"{every['accurate']} accurate, {every['candidate']} candidate, {every['failed']} failed")
            if best is None or alternating["p95"] < rounds[best]["alternating"]["p95"]:
                best = k
            stop = self.stop_reason(rounds)
            if stop:
                self.log(f"stopping after round {k}: {stop}")
                break
            self.stage(f"select-{k}", lambda: self.select_and_label(k))
        self.stage("final", lambda: self.finalize(best, rounds))
        if s.residual:
            self.stage("residual", self.train_residual)
        if s.report:
            self.stage("report", self.report)
        return self.summary()

    def stop_reason(self, rounds):
        """Why the rounds end after the last of `rounds` (None: go on).  Progress is
        judged on alternation's frames, the dynamics the pair is made for; the fast
        model's runs alone are there to find where it is wrong."""
        s = self.settings
        k = len(rounds) - 1
        p95 = [r["alternating"]["p95"] for r in rounds]
        if rounds[-1]["all"]["candidate"] == 0:
            return "no candidate frame left"
        if k >= s.rounds:
            return f"round limit ({s.rounds} retrainings)"
        if k >= 1 and p95[-1] > (1 - s.min_improvement) * min(p95[:-1]):
            return (f"the deviation's 95th percentile on alternation's frames improved by less than "
                    f"{s.min_improvement:.0%} ({min(p95[:-1]):.3f} -> {p95[-1]:.3f} eV/A)")
        return None

    # --- 1. exploration -------------------------------------------------------------
    def explore(self):
        import openmm.unit as u
        from .schemes import ACCURATE, Scheme, build_context
        s = self.settings
        scheme = Scheme(ACCURATE, s.accurate, timestep_fs=s.timestep_fs)
        per_frame = int(round(s.sample_interval_fs / s.timestep_fs))
        frames = int(round(s.explore_ps * 1000 / s.sample_interval_fs))
        result = {"temperatures": []}
        os.makedirs(self.work.path("explore"), exist_ok=True)
        for i, temperature in enumerate(s.temperatures):
            context = build_context(scheme, self.structure, s.platform, temperature, seed=s.seed + i)
            equilibration = int(round(s.equilibration_ps * 1000 / s.timestep_fs))
            bar = self.bar(total=equilibration + frames * per_frame, desc=f"explore {temperature:g} K", unit="step")
            if equilibration:
                context.getIntegrator().step(equilibration)
                bar.update(equilibration)
            coords, boxes, states = sample_md(context, per_frame, frames, np.inf, bar)
            bar.close()
            if len(coords) < frames:
                raise RuntimeError(f"the accurate model's MD at {temperature:g} K stopped after {len(coords)} of "
                                   f"{frames} frames (non-finite positions): check the structure and the model")
            # Survey starts: states spread over the sampled stretch, the last one included.
            picks = np.linspace(len(states) - 1, 0, s.starts_per_temperature + 1)[:-1].round().astype(int)[::-1]
            np.savez(self.work.path("explore", f"{temperature:g}K.npz"), coords=coords, boxes=boxes,
                     start_positions=np.array([states[j].getPositions(asNumpy=True).value_in_unit(u.nanometer)
                                               for j in picks]),
                     start_velocities=np.array([states[j].getVelocities(asNumpy=True).value_in_unit(
                         u.nanometer / u.picosecond) for j in picks]))
            result["temperatures"].append({"temperature": temperature, "frames": len(coords)})
            self.log(f"  {temperature:g} K: {len(coords)} frames")
        return result

    def explored(self):
        s = self.settings
        parts = [np.load(self.work.path("explore", f"{t:g}K.npz")) for t in s.temperatures]
        return parts

    # --- 2. labels ----------------------------------------------------------------------
    def label_explored(self):
        s = self.settings
        parts = self.explored()
        coords = np.concatenate([p["coords"] for p in parts])
        boxes = np.concatenate([p["boxes"] for p in parts])
        bar = self.bar(total=len(coords), desc="label", unit="frame")
        energies, forces = label_frames(s.accurate, self.structure, coords, boxes, s.platform, bar)
        bar.close()
        held_out = np.zeros(len(coords), dtype=bool)
        held_out[::VALIDATION_EVERY] = True
        for name, mask in (("training", ~held_out), ("validation", held_out)):
            write_system(self.work.path("data", "explore", name), self.type_map, self.atom_types,
                         coords[mask], boxes[mask], energies[mask], forces[mask])
        counts, smallest = neighbour_statistics(coords, boxes, self.atom_types, len(self.type_map), s.rcut)
        return {"frames": int(len(coords)), "training": int((~held_out).sum()), "validation": int(held_out.sum()),
                "neighbours": counts, "smallest_distance": smallest}

    def training_systems(self):
        data = self.work.path("data")
        return sorted(os.path.join(data, d, "training") for d in os.listdir(data)
                      if os.path.isdir(os.path.join(data, d, "training")))

    def sel(self):
        s = self.settings
        if s.sel is not None:
            return list(s.sel)
        return sel_from_counts(self.work.result("label")["neighbours"])

    def smallest_distance(self):
        """Over every labelled frame (the selected ones may come closer)."""
        smallest = self.work.result("label")["smallest_distance"]
        for stage, result in self.work.progress.items():
            if stage.startswith("select-") and result.get("smallest_distance") is not None:
                smallest = min(smallest, result["smallest_distance"])
        return smallest

    # --- 3. training ----------------------------------------------------------------------
    def train_round(self, k):
        s = self.settings
        folder = self.work.path(f"round-{k}")
        steps = s.train_steps if k == 0 else s.retrain_steps
        config = training_input(s, self.type_map, self.sel(), steps, self.training_systems(),
                                [self.work.path("data", "explore", "validation")],
                                start_lr=START_LR if k == 0 else s.retrain_start_lr)
        init = None if k == 0 else self.work.path(f"round-{k - 1}", "model.ckpt.pt")
        checkpoint = train(folder, config, steps, init, self.bar, f"train round {k}")
        fast = freeze_fast(folder, checkpoint, self.smallest_distance(), s.compress_step,
                           os.path.join(folder, "fast.pth"))
        return {"fast": os.path.relpath(fast, self.work.root), "steps": steps, "sel": self.sel(),
                "training_frames": int(sum(len(np.load(os.path.join(t, "set.000", "energy.npy")))
                                           for t in self.training_systems())),
                "lcurve": _last_lcurve(folder)}

    def fast_model(self, k):
        return self.work.path(self.work.result(f"train-{k}")["fast"])

    # --- 4. survey --------------------------------------------------------------------------
    def survey(self, k):
        """Fast-only and alternating runs of round k's fast model from every start."""
        import openmm.unit as u
        from .schemes import ALTERNATING, FAST, Scheme, build_context, pair_evaluator
        s = self.settings
        fast = self.fast_model(k)
        per_frame = int(round(s.sample_interval_fs / s.timestep_fs))
        frames = int(round(s.survey_ps * 1000 / s.sample_interval_fs))
        evaluate = pair_evaluator(s.accurate, fast, self.structure, s.platform)
        coords, boxes, deviations, runs = [], [], [], []
        for temperature, part in zip(s.temperatures, self.explored()):
            for j, (positions, velocities) in enumerate(zip(part["start_positions"], part["start_velocities"])):
                for scheme in (Scheme(FAST, s.accurate, fast, s.timestep_fs),
                               Scheme(ALTERNATING, s.accurate, fast, s.timestep_fs, interval=s.interval)):
                    context = build_context(scheme, self.structure, s.platform, temperature,
                                            seed=s.seed + 100 * k + j, velocities=False)
                    context.setPositions(positions * u.nanometer)
                    context.setVelocities(velocities * u.nanometer / u.picosecond)
                    bar = self.bar(total=frames * per_frame, desc=f"survey {k}: {scheme.name}, {temperature:g} K",
                                   unit="step")
                    c, b, _ = sample_md(context, per_frame, frames, s.max_temperature_factor * temperature, bar)
                    bar.close()
                    for coord, box in zip(c, b):
                        _, max_deviation, _ = evaluate(coord / ANGSTROM_PER_NM, box / ANGSTROM_PER_NM)
                        deviations.append(max_deviation)
                    coords.append(c)
                    boxes.append(b)
                    runs.append({"scheme": scheme.name, "temperature": temperature, "start": j,
                                 "ps": len(c) * s.sample_interval_fs / 1000, "complete": len(c) == frames})
        coords = np.concatenate(coords)
        boxes = np.concatenate(boxes)
        closest = closest_pairs(coords, boxes)
        np.savez(self.work.path(f"round-{k}", "survey.npz"), coords=coords, boxes=boxes,
                 deviations=np.array(deviations), closest=closest)
        return {**deviation_statistics(deviations, s.trust_lo, s.trust_hi, self.too_close(closest)), "runs": runs}

    def load_survey(self, k):
        """Round k's survey frames; each frame's closest pair is computed once, by survey()
        (and here for a survey written before it was stored)."""
        survey = dict(np.load(self.work.path(f"round-{k}", "survey.npz")))
        if "closest" not in survey:
            survey["closest"] = closest_pairs(survey["coords"], survey["boxes"])
        return survey

    def too_close(self, closest):
        """Per frame, from its closest pair (A): are two atoms closer than
        min_distance_factor times the closest pair of the explored data (a configuration
        the teacher should not be asked about)?"""
        limit = self.settings.min_distance_factor * self.work.result("label")["smallest_distance"]
        return np.asarray(closest) < limit

    def survey_statistics(self, k):
        """Deviation statistics of round k's survey frames: all of them, and those of the
        alternating and of the fast-only runs."""
        s = self.settings
        survey = self.load_survey(k)
        deviations = survey["deviations"]
        too_close = self.too_close(survey["closest"])
        kinds = []
        for run in self.work.result(f"survey-{k}")["runs"]:
            frames = int(round(run["ps"] * 1000 / s.sample_interval_fs))
            kinds += ["alternating" if run["scheme"].startswith("alternating") else "fast-only"] * frames
        kinds = np.array(kinds)
        return {"all": deviation_statistics(deviations, s.trust_lo, s.trust_hi, too_close),
                **{kind: deviation_statistics(deviations[kinds == kind], s.trust_lo, s.trust_hi, too_close[kinds == kind])
                   for kind in ("alternating", "fast-only")}}

    # --- 5. selection ----------------------------------------------------------------------------
    def select_and_label(self, k):
        s = self.settings
        survey = self.load_survey(k)
        chosen = select_frames(survey["deviations"], s.trust_lo, s.trust_hi, s.frames_per_round, seed=s.seed + k,
                               too_close=self.too_close(survey["closest"]))
        coords, boxes = survey["coords"][chosen], survey["boxes"][chosen]
        bar = self.bar(total=len(chosen), desc=f"label round {k}", unit="frame")
        energies, forces = label_frames(s.accurate, self.structure, coords, boxes, s.platform, bar)
        bar.close()
        write_system(self.work.path("data", f"round-{k}", "training"), self.type_map, self.atom_types,
                     coords, boxes, energies, forces)
        counts, smallest = neighbour_statistics(coords, boxes, self.atom_types, len(self.type_map), s.rcut)
        over = [c for c, limit in zip(counts, self.sel()) if c > limit]
        if over:
            self.log(f"  warning: selected frames have {counts} neighbours per type within {s.rcut} A, "
                     f"more than sel {self.sel()}; deepmd-kit drops the farthest ones")
        self.log(f"  labelled {len(chosen)} selected frames")
        return {"selected": int(len(chosen)), "smallest_distance": smallest if np.isfinite(smallest) else None}

    # --- 6. result and report ------------------------------------------------------------------
    def finalize(self, best, rounds):
        source = self.fast_model(best)
        shutil.copy(source, self.work.path("fast.pth"))
        self.log(f"fast model: {self.work.path('fast.pth')} (round {best}, float32, compressed)")
        return {"best_round": best, "rounds": rounds}

    def train_residual(self):
        """A residual model co-trained with the fast one (Fu et al.): trained on the
        accurate labels minus the fast model's predictions, at the accurate model's cutoff."""
        s = self.settings
        fast = self.work.path("fast.pth")
        systems = self.training_systems() + [self.work.path("data", "explore", "validation")]
        residual_systems, all_coords, all_boxes = [], [], []
        for system in systems:
            coords, boxes, energies, forces = read_system(system)
            all_coords.append(coords)
            all_boxes.append(boxes)
            bar = self.bar(total=len(coords), desc="residual labels", unit="frame")
            fast_energies, fast_forces = label_frames(fast, self.structure, coords, boxes, s.platform, bar)
            bar.close()
            target = self.work.path("residual-data", os.path.relpath(system, self.work.path("data")))
            write_system(target, self.type_map, self.atom_types, coords, boxes, energies - fast_energies,
                         forces - fast_forces)
            residual_systems.append(target)
        counts, _ = neighbour_statistics(np.concatenate(all_coords), np.concatenate(all_boxes), self.atom_types,
                                         len(self.type_map), self.accurate_rcut)
        sel = sel_from_counts(counts)
        settings = dataclasses.replace(s, descriptor_neurons=s.residual_descriptor_neurons)
        config = training_input(settings, self.type_map, sel, s.residual_steps,
                                residual_systems[:-1], residual_systems[-1:], rcut=self.accurate_rcut)
        folder = self.work.path("residual")
        checkpoint = train(folder, config, s.residual_steps, None, self.bar, "train residual")
        run_logged([dp_command(), "--pt", "freeze", "-c", checkpoint, "-o", self.work.path("residual.pth")], folder,
                   os.path.join(folder, "freeze.log"))
        return {"residual": "residual.pth", "rcut": self.accurate_rcut, "sel": sel}

    def report(self):
        from . import analysis, bench, validate
        s = self.settings
        fast = self.work.path("fast.pth")
        candidates = (f"at or above {s.trust_lo:g} eV/A" if s.trust_hi is None
                      else f"in [{s.trust_lo:g}, {s.trust_hi:g}) eV/A")
        lines = [f"# Distilled fast model for {os.path.basename(s.accurate)}", "",
                 f"Fast model: `fast.pth` (se_e2_a, rcut {s.rcut:g} A, sel {self.sel()}, float32, compressed), "
                 f"from {self.work.result('label')['frames']} explored frames at "
                 f"{', '.join(f'{t:g}' for t in s.temperatures)} K and the frames selected in each round.", "",
                 "## Rounds: the pair's force deviation max_i |F_acc - F_fast| (eV/A) on the survey frames", "",
                 f"Frames with deviation {candidates} are candidates for labelling; frames with two atoms closer than "
                 f"{s.min_distance_factor:g} times the explored data's closest pair "
                 f"({self.work.result('label')['smallest_distance']:.3f} A) are refused as failed. The round with "
                 "the lowest 95th percentile on alternation's frames is kept.", "",
                 "| round | training frames | alternation: median | p95 | max | fast alone: median | p95 | max | "
                 "accurate / candidate / failed frames |",
                 "|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        final = self.work.result("final")
        for k, survey in enumerate(final["rounds"]):
            train_result = self.work.result(f"train-{k}")
            alternating, alone, every = survey["alternating"], survey["fast-only"], survey["all"]
            lines.append(f"| {k}{' (kept)' if k == final['best_round'] else ''} | {train_result['training_frames']} | "
                         f"{alternating['median']:.3f} | {alternating['p95']:.3f} | {alternating['max']:.3f} | "
                         f"{alone['median']:.3f} | {alone['p95']:.3f} | {alone['max']:.3f} | "
                         f"{every['accurate']} / {every['candidate']} / {every['failed']} |")
        results = validate.validate(s.accurate, fast, s.pdb, time_ps=s.validate_ps, equilibration_ps=s.equilibration_ps,
                                    scheme_equilibration_ps=min(0.5, s.validate_ps / 2), temperature=s.temperature,
                                    timestep_fs=s.timestep_fs, interval=s.interval, platform=s.platform, seed=s.seed,
                                    out=self.work.path("validate"), progress=self.bar is not _silent_bar,
                                    which=[0, 1, 2, 3])
        lines += ["", f"## Accuracy (switchingdp-validate, {s.validate_ps:g} ps per scheme at {s.temperature:g} K)", "",
                  analysis.markdown_table(results)]
        from .schemes import Structure, standard_schemes
        runs = standard_schemes(s.accurate, fast, s.interval, 4, s.timestep_fs,
                                residual=self.work.path("residual.pth") if s.residual else None)
        structure = Structure.from_pdb(s.pdb, s.bench_replicate)
        steps, r, rows, _ = bench.measure(runs, structure, s.platform, steps=s.bench_steps, rounds=3)
        lines += ["", f"## Speed (switchingdp-bench, {len(structure.positions)} atoms, {s.platform} platform, {steps} "
                  f"timed steps per scheme in 3 interleaved rounds; t_fast/t_accurate = {r:.2f})", "",
                  bench.markdown_rows(rows)]
        if s.residual:
            from . import nve
            for label, slow, residual in (("co-trained residual", self.work.path("residual.pth"), True),
                                          ("accurate - fast (DMTS)", s.accurate, False)):
                table = nve.table(slow, fast, s.pdb, s.nve_outer_fs, s.timestep_fs, s.nve_ps,
                                  report_fs=min(10.0, s.nve_ps * 100), temperature=s.temperature,
                                  equilibration_ps=s.equilibration_ps, seed=s.seed, platform=s.platform,
                                  residual=residual)
                lines += ["", f"## NVE, rRESPA with the slow term = {label} ({s.nve_ps:g} ps per run)", "",
                          nve.markdown(table)]
        with open(self.work.path("report.md"), "w") as f:
            f.write("\n".join(lines) + "\n")
        self.log(f"report: {self.work.path('report.md')}")
        return {"report": "report.md"}

    def summary(self):
        return {"fast": self.work.path("fast.pth"), "progress": self.work.progress,
                "residual": self.work.path("residual.pth") if self.settings.residual else None,
                "report": self.work.path("report.md") if self.settings.report else None}


def _last_lcurve(folder):
    """The last line of deepmd-kit's learning curve, by column name."""
    try:
        with open(os.path.join(folder, "lcurve.out")) as f:
            lines = f.read().splitlines()
        header = [line for line in lines if line.startswith("#")][0].lstrip("#").split()
        values = [line for line in lines if line.strip() and not line.startswith("#")][-1].split()
        return {name: float(value) for name, value in zip(header, values)}
    except (OSError, IndexError, ValueError):
        return {}


class _SilentBar:
    def update(self, _):
        pass

    def close(self):
        pass


def _silent_bar(**_):
    return _SilentBar()


def distill(accurate, pdb, out, log=print, progress=True, on_stage=None, **options):
    """Distil a fast partner for `accurate`; options are Settings' fields.  Returns a dict
    with the fast model's path, the residual's (with residual=True), the report's and
    every stage's recorded result.  on_stage(name) is called after each finished stage."""
    settings = Settings(accurate=accurate, pdb=pdb, out=out, **options)
    return Distillation(settings, log, progress, on_stage).run()


def build_parser():
    from .schemes import HelpFormatter, add_threads_option
    d = Settings(accurate="", pdb="", out="")
    parser = argparse.ArgumentParser(prog="switchingdp-distill", description=__doc__, formatter_class=HelpFormatter)
    parser.add_argument("--accurate", required=True, help="your accurate model (.pth)")
    parser.add_argument("--pdb", required=True, help="a starting structure; its CRYST1 record sets the box")
    parser.add_argument("--out", required=True, help="work folder (resumed if it holds an interrupted run)")
    parser.add_argument("--types", nargs="+", help="DP type per atom (default: element symbols)")
    parser.add_argument("--temperature", type=float, default=d.temperature, help="K, of the runs the pair is for")
    parser.add_argument("--explore-temperatures", type=float, nargs="+", metavar="K",
                        help="accurate MD temperatures (default: --temperature and 1.2 times it)")
    parser.add_argument("--explore-time", dest="explore_ps", type=float, default=d.explore_ps, help="ps sampled per temperature")
    parser.add_argument("--equilibration", dest="equilibration_ps", type=float, default=d.equilibration_ps, help="ps before sampling")
    parser.add_argument("--sample-interval", dest="sample_interval_fs", type=float, default=d.sample_interval_fs, help="fs between frames")
    parser.add_argument("--timestep", dest="timestep_fs", type=float, default=d.timestep_fs, help="fs")
    parser.add_argument("--rcut", type=float, default=d.rcut, help="the fast model's cutoff, A")
    parser.add_argument("--rcut-smth", type=float, default=d.rcut_smth, help="A")
    parser.add_argument("--sel", type=int, nargs="+", help="neighbours kept per type (default: from the data)")
    parser.add_argument("--descriptor-neurons", type=int, nargs="+", default=d.descriptor_neurons,
                        help="the fast model's embedding net")
    parser.add_argument("--axis-neuron", type=int, default=d.axis_neuron, help="the fast model's axis neurons")
    parser.add_argument("--fitting-neurons", type=int, nargs="+", default=d.fitting_neurons,
                        help="the fast model's fitting net")
    parser.add_argument("--train-steps", type=int, default=d.train_steps, help="first training")
    parser.add_argument("--retrain-steps", type=int, default=d.retrain_steps, help="each later round")
    parser.add_argument("--compress-step", type=float, default=d.compress_step,
                        help="table step of deepmd-kit's model compression")
    parser.add_argument("--interval", type=int, default=d.interval, help="alternation surveyed and reported")
    parser.add_argument("--rounds", type=int, default=d.rounds, help="retrainings at most")
    parser.add_argument("--survey-time", dest="survey_ps", type=float, default=d.survey_ps, help="ps per survey run")
    parser.add_argument("--starts", dest="starts_per_temperature", type=int, default=d.starts_per_temperature, help="survey starts per temperature")
    parser.add_argument("--trust-lo", type=float, default=d.trust_lo, help="eV/A")
    parser.add_argument("--trust-hi", type=float, default=d.trust_hi,
                        help="eV/A; frames at or above it are not labelled (default: no upper level)")
    parser.add_argument("--min-distance-factor", type=float, default=d.min_distance_factor,
                        help="frames with two atoms closer than this times the explored data's closest pair "
                             "are not labelled")
    parser.add_argument("--frames-per-round", type=int, default=d.frames_per_round,
                        help="candidate frames labelled per retraining at most")
    parser.add_argument("--retrain-start-lr", type=float, default=d.retrain_start_lr,
                        help="later rounds continue the first training's schedule from this learning rate")
    parser.add_argument("--min-improvement", type=float, default=d.min_improvement,
                        help="stop when the deviation's 95th percentile improves by less than this fraction")
    parser.add_argument("--max-temperature-factor", type=float, default=d.max_temperature_factor,
                        help="a survey run stops above this times its temperature")
    parser.add_argument("--residual", action="store_true", help="also co-train a residual model for rRESPA")
    parser.add_argument("--residual-steps", type=int, default=d.residual_steps, help="the residual's training")
    parser.add_argument("--residual-descriptor-neurons", type=int, nargs="+", default=d.residual_descriptor_neurons,
                        help="the residual's embedding net (it runs at the accurate model's cutoff)")
    parser.add_argument("--no-report", dest="report", action="store_false", help="skip the final report")
    parser.add_argument("--validate-time", dest="validate_ps", type=float, default=d.validate_ps, help="ps per scheme in the report")
    parser.add_argument("--bench-steps", type=int, default=d.bench_steps, help="timed steps of the report's bench")
    parser.add_argument("--bench-replicate", type=int, default=d.bench_replicate, metavar="N",
                        help="the report's bench runs the PDB's box tiled N x N x N times (the fast model's share "
                             "of the cost falls with size)")
    parser.add_argument("--nve-outer", dest="nve_outer_fs", type=float, nargs="+", default=d.nve_outer_fs, help="fs, with --residual")
    parser.add_argument("--nve-time", dest="nve_ps", type=float, default=d.nve_ps, help="ps per NVE run, with --residual")
    parser.add_argument("--platform", default=d.platform, help="OpenMM platform")
    add_threads_option(parser, note="; the training runs (dp train) get as many")
    parser.add_argument("--seed", type=int, default=d.seed, help="seed of the MD runs and the training")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    return parser


def main(argv=None):
    from .schemes import apply_threads
    parser = build_parser()
    args = parser.parse_args(argv)
    apply_threads(parser, args.threads)   # this process's MD and labelling
    if args.threads is not None:
        # dp train runs in child processes: they read their thread counts from these
        for name in ("OMP_NUM_THREADS", "DP_INTRA_OP_PARALLELISM_THREADS", "DP_INTER_OP_PARALLELISM_THREADS"):
            os.environ[name] = str(args.threads)
    fields = {f.name for f in dataclasses.fields(Settings)} - {"accurate", "pdb", "out"}
    options = {name: value for name, value in vars(args).items() if name in fields}
    try:
        result = distill(args.accurate, args.pdb, args.out, progress=not args.no_progress, **options)
    except ValueError as error:
        parser.error(str(error))
    except KeyboardInterrupt:
        print(f"\ninterrupted; run the same command again to resume from {args.out}", file=sys.stderr)
        return 130
    print(f"fast model: {result['fast']}")
    if result["report"]:
        print(open(result["report"]).read())
    return 0


if __name__ == "__main__":
    sys.exit(main())
