"""What a GPU machine needs checked, through the public API only (SwitchingDPForce
built as every tool builds it, OpenMM Contexts), run by scripts/gpu-check.sh after
the CUDA C++ test:

    python -m openmmswitchingdp.gpucheck [--parts families timing bench engine]
                                         [--sizes 192 1536] [--out DIR]

families  every model file of the repository (examples/water/*.pth, tests/data/*.pth
          and *.pt2, with frame and atomic parameters where a model takes them) on
          --platform against --reference at 192 atoms: relative energy error and
          max |dF| / max |F|.  An exported .pt2 holds code compiled for the machine
          that exported it (the committed ones: a CPU), so where one does not run the
          table reports it and the check does not fail.
timing    one evaluation (getState with forces) of water_6A.pth, water_4A.pth and
          water_4A_fp32_compressed.pth at each size (the bundled box tiled n x n x n):
          median of --repeats evaluations after --warmup, the positions moved a little
          before each so no cache answers.  A size whose expected time (the previous
          size's, scaled by the atom count) exceeds --max-eval-s is skipped and said so.
bench     the bench's schemes (openmmswitchingdp.bench.measure: accurate-only,
          fast-only, alternation 1:3, rRESPA, rRESPA with the co-trained residual) for
          each pairing: a residual runs only with the fast model it was co-trained with
          (PAIRINGS, CO_TRAINED).  A model that failed on the platform is left out, and
          the summary says so.
engine    SwitchingDPForce.getModelEngine(model) for each model, where the build has it.
replays   the default path (the native one, replayed as CUDA graphs on CUDA) of a
          float64 and a float32 compressed model against --reference, in double
          precision, over configurations that replay a captured graph, rebuild the
          list, and outgrow the captured capacities, then after 20 MD steps.

Sizes (--sizes) are atom counts (192 x n^3) or copies n per box edge: 192 (n=1),
1,536 (2), 12,288 (4), 98,304 (8).  On CUDA and OpenCL every Context runs at
--precision (default mixed).  Each part has a time budget (--budget-s) and no part
starts new work after --deadline-s; what does not fit is skipped and reported.  The module ends with one summary (also summary.md in
--out, with every table and results.json).  Exit status: 0 when every check passed, 1
when one failed, 2 when --platform cannot run here (the reason is printed).

--platform CPU (or Reference) runs the same code without a GPU; the test suite does.
"""
# torch before openmm and our libraries: the order torch expects (see __init__.py).
import torch  # noqa: F401  (first, on purpose)

import argparse
import contextlib
import dataclasses
import functools
import glob
import json
import os
import statistics
import sys
import time
import traceback

import numpy as np
import openmm as mm
import openmm.unit as u

from . import LOADED_PLUGINS, SwitchingDPForce, bundled
from .bench import markdown_rows, measure
from .schemes import ACCURATE, HelpFormatter, Scheme, Structure, platform_names, standard_schemes, switching_force

PARTS = ("families", "replays", "timing", "bench", "engine")
BASE_ATOMS = 192   # the bundled water box
MAX_COPIES = 16
TIMING_SIZES = (192, 1536, 12288, 98304)
BENCH_SIZES = (192, 1536, 12288)
TIMING_MODELS = ("water_6A.pth", "water_4A.pth", "water_4A_fp32_compressed.pth")
# Relative errors against the reference platform above which a family fails: loose
# enough for the float32 models (CUDA sums in another order; the H200 run saw 1e-6 in
# energy, up to 1.6e-4 in forces), far above what float64 models give (1e-15..1e-10).
TOLERANCE = {"energy": 1e-5, "forces": 1e-3}
DEFAULT_BUDGET_S = {"families": 60, "timing": 60, "bench": 120, "engine": 20}

OK, FAILED, SKIPPED, REPORTED = "ok", "FAILED", "skipped", "reported"

# Each residual model with the fast model it was co-trained with (Fu et al.): the
# pair's rRESPA is fast + residual, meaningful only for that fast model.
CO_TRAINED = {"water_6A_residual.pth": "water_4A.pth",                     # examples/water/train_residual.py
              "water_6A_distilled_residual.pth": "water_4A_distilled.pth"}  # examples/water/distill_bundled.sh


@dataclasses.dataclass(frozen=True)
class Pairing:
    """A model pair for the bench (file names in examples/water): accurate, fast, the
    residual co-trained with `fast` (or None), and more fast models to compare."""
    accurate: str
    fast: str
    residual: str = None
    other_fast: tuple = ()

    @property
    def models(self):
        return [self.accurate, self.fast, *([self.residual] if self.residual else []), *self.other_fast]


PAIRINGS = {
    # The hand-trained float64 4 A model with its residual, and its float32 compressed
    # version as another fast model (alternation only: the residual is not its partner).
    "hand-made": Pairing("water_6A.pth", "water_4A.pth", "water_6A_residual.pth", ("water_4A_fp32_compressed.pth",)),
    # The bundled default pair (switchingdp-distill; the fast model is float32, compressed).
    "distilled": Pairing("water_6A.pth", "water_4A_distilled.pth", "water_6A_distilled_residual.pth"),
}


def check_pairing(name, pairing):
    """Refuse a pairing whose residual was not co-trained with its fast model."""
    if pairing.residual is None:
        return
    partner = CO_TRAINED.get(os.path.basename(pairing.residual))
    if partner is None:
        raise ValueError(f"pairing {name}: {pairing.residual} is not a known co-trained residual "
                         f"(known: {', '.join(CO_TRAINED)})")
    if os.path.basename(pairing.fast) != partner:
        raise ValueError(f"pairing {name}: the residual {os.path.basename(pairing.residual)} was co-trained with "
                         f"{partner}, not with {os.path.basename(pairing.fast)}")


@dataclasses.dataclass
class Check:
    """One line of the summary."""
    part: str
    status: str   # OK, FAILED, SKIPPED or REPORTED
    detail: str


# --- sizes and structures -------------------------------------------------------

def copies_for(size, base_atoms=BASE_ATOMS):
    """Copies per box edge for a --sizes value: an atom count base_atoms x n^3, or n."""
    size = int(size)
    if size >= base_atoms:
        n = round((size / base_atoms) ** (1 / 3))
        if base_atoms * n ** 3 == size:
            return n
        raise ValueError(f"{size} atoms is not {base_atoms} x n^3 (the bundled box tiled n x n x n)")
    if 1 <= size <= MAX_COPIES:
        return size
    raise ValueError(f"size {size}: give an atom count ({base_atoms} x n^3) or copies per edge (1 to {MAX_COPIES})")


def atoms_for(copies, base_atoms=BASE_ATOMS):
    return base_atoms * copies ** 3


@functools.lru_cache(maxsize=None)
def structure(pdb, copies):
    """The PDB's box tiled copies x copies x copies times (as switchingdp-bench does)."""
    return Structure.from_pdb(pdb, copies)


def displaced(base, scale, seed):
    """`base` with every atom moved by a normal deviate of `scale` nm."""
    rng = np.random.default_rng(seed)
    return Structure(base.topology, base.positions + rng.normal(0.0, scale, base.positions.shape))


# --- models and Contexts --------------------------------------------------------

def find_root(start=None):
    """The repository root (holding examples/water/water_6A.pth) at or above `start`
    (default: the working directory), else above this file (a source tree), else None."""
    candidates = [os.path.abspath(start or os.getcwd())]
    candidates.append(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    for candidate in candidates:
        path = candidate
        while True:
            if os.path.exists(os.path.join(path, "examples", "water", "water_6A.pth")):
                return path
            parent = os.path.dirname(path)
            if parent == path:
                break
            path = parent
    return None


def water_dir(root):
    """Where the water models are: the repository's examples/water, else the package's data."""
    return os.path.join(root, "examples", "water") if root else bundled.DATA_DIR


def repository_models(root):
    """Every model file of the repository: the water models (se_e2_a: float64, float32,
    compressed, distilled, residuals) and the test fixtures of every other family
    (tests/data: se_e2_r, se_atten_v2, DPA-2, DPA-3, frame and atomic parameters, .pt2
    exports).  Without a repository, the models installed with the package."""
    files = sorted(glob.glob(os.path.join(water_dir(root), "*.pth")))
    if root:
        data = os.path.join(root, "tests", "data")
        files += sorted(glob.glob(os.path.join(data, "*.pth"))) + sorted(glob.glob(os.path.join(data, "*.pt2")))
    return files


def label(path, root):
    return os.path.relpath(path, root) if root else os.path.basename(path)


def select(paths, patterns):
    """The paths whose name contains one of `patterns` (all when none given)."""
    if not patterns:
        return list(paths)
    return [p for p in paths if any(pattern in os.path.basename(p) for pattern in patterns)]


def is_export(path):
    """An AOTInductor export: compiled code for the machine that exported it."""
    return path.endswith(".pt2")


def precision_properties(platform, precision):
    """Context properties that set `precision` where the platform has that property."""
    platform = mm.Platform.getPlatformByName(platform) if isinstance(platform, str) else platform
    if precision and "Precision" in platform.getPropertyNames():
        return {"Precision": precision}
    return {}


@contextlib.contextmanager
def default_precision(platform, precision):
    """Every Context created meanwhile on `platform` (e.g. by bench.measure) runs at
    `precision`; the platform's default is put back afterwards."""
    platform = mm.Platform.getPlatformByName(platform)
    if not precision_properties(platform, precision):
        yield
        return
    before = platform.getPropertyDefaultValue("Precision")
    platform.setPropertyDefaultValue("Precision", precision)
    try:
        yield
    finally:
        platform.setPropertyDefaultValue("Precision", before)


def model_parameters(path, atoms, seed=7):
    """(frame parameters, atomic parameters) with non-trivial values, for a model that
    takes them (empty lists otherwise)."""
    force = SwitchingDPForce(path)
    model = SwitchingDPForce.Accurate
    rng = np.random.default_rng(seed)
    return (list(rng.uniform(0.5, 1.5, force.getModelNumFrameParameters(model))),
            list(rng.uniform(0.5, 1.5, atoms * force.getModelNumAtomicParameters(model))))


# How one model can be evaluated: the default (the native path for se_e2_a models,
# replayed as CUDA graphs on CUDA), the native path run eagerly, and the model's own
# TorchScript.  Each is (name, use the native path, use CUDA graphs).
VARIANTS = {
    "default": ("default", True, True),
    "eager": ("native, no CUDA graphs", True, False),
    "torchscript": ("TorchScript", False, False),
}


def model_context(path, data, platform, precision=None, frame=(), atomic=(), variant="default"):
    """A Context of `path` alone on `data` (a Structure), its System built as every tool
    builds one (schemes.Scheme through openmm-ml's MLPotential); `variant` is a key of
    VARIANTS."""
    system = Scheme(ACCURATE, path).create_system(data.topology, frame_parameters=frame)
    force = switching_force(system)
    if len(atomic):
        force.setAtomicParameters([float(v) for v in atomic])
    _, native, graphs = VARIANTS[variant]
    if hasattr(force, "setUseNativePath"):
        force.setUseNativePath(native)
        force.setUseCUDAGraphs(graphs)
    platform = mm.Platform.getPlatformByName(platform)
    context = mm.Context(system, mm.VerletIntegrator(0.0005), platform, precision_properties(platform, precision))
    context.setPositions(data.positions * u.nanometer)
    return context


def energy_forces(context):
    state = context.getState(getEnergy=True, getForces=True)
    return (state.getPotentialEnergy().value_in_unit(u.kilojoule_per_mole),
            np.array(state.getForces(asNumpy=True).value_in_unit(u.kilojoule_per_mole / u.nanometer)))


def short_error(error, limit=160):
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    text = lines[-1] if lines else type(error).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."


def relative_errors(reference, result):
    """(|dE| / |E|, max |dF| / max |F|) of `result` against `reference`, (E, F) pairs."""
    (e0, f0), (e1, f1) = reference, result
    return abs(e1 - e0) / max(abs(e0), 1e-300), float(np.abs(f1 - f0).max() / max(np.abs(f0).max(), 1e-300))


# --- the parts ------------------------------------------------------------------

# Models for the replay check and the largest relative error allowed (energy, and
# max |dF| / max |F|): float64 arithmetic, and a float32 compressed model.
REPLAY_MODELS = (("water_6A.pth", 1e-9), ("water_4A_fp32_compressed.pth", 1e-4))


def replay_configurations(base, seed=11):
    """(label, positions nm): the structure, three small moves (the neighbour list and
    the captured capacities kept), a larger one (the list rebuilt), and the atoms drawn
    7% towards the origin (more neighbours: larger capacities)."""
    rng = np.random.default_rng(seed)
    configurations = [("start", base)]
    for i in range(3):
        configurations.append((f"small move {i + 1}", configurations[-1][1] + rng.normal(0.0, 1e-3, base.shape)))
    configurations.append(("large move", configurations[-1][1] + rng.normal(0.0, 0.03, base.shape)))
    configurations.append(("compressed 7%", base * 0.93))
    return configurations


def check_replays(folder, pdb, platform, reference, say=print, steps=20):
    """Rows (model, worst energy error, worst force error, tolerance) of the default
    path on `platform` against `reference` over replay_configurations() and after
    `steps` MD steps on `platform`."""
    data = structure(pdb, 1)
    rows = []
    say(f"\n## Replays: {platform} (double precision) against {reference}")
    say("| model | configurations | worst |dE|/|E| | worst max|dF|/max|F| | tolerance |")
    say("|---|---|---:|---:|---:|")
    for name, tolerance in REPLAY_MODELS:
        path = os.path.join(folder, name)
        if not os.path.exists(path):
            continue
        context = model_context(path, data, platform, "double")
        expected = model_context(path, data, reference)
        worst = (0.0, 0.0)
        labels = []
        for label_, positions in replay_configurations(data.positions):
            context.setPositions(positions * u.nanometer)
            expected.setPositions(positions * u.nanometer)
            errors = relative_errors(energy_forces(expected), energy_forces(context))
            worst = (max(worst[0], errors[0]), max(worst[1], errors[1]))
            labels.append(label_)
        context.getIntegrator().step(steps)
        expected.setPositions(context.getState(getPositions=True).getPositions())
        errors = relative_errors(energy_forces(expected), energy_forces(context))
        worst = (max(worst[0], errors[0]), max(worst[1], errors[1]))
        labels.append(f"{steps} MD steps")
        rows.append((name, worst[0], worst[1], tolerance))
        say(f"| {name} | {', '.join(labels)} | {worst[0]:.1e} | {worst[1]:.1e} | {tolerance:.0e} |")
    return rows


def replays_check(rows, platform, reference):
    if not rows:
        return Check("replays", SKIPPED, "none of the replay models is in the repository")
    bad = [name for name, e, f, tolerance in rows if not (e <= tolerance and f <= tolerance)]
    detail = "; ".join(f"{name}: {e:.1e} / {f:.1e}" for name, e, f, _ in rows)
    return Check(f"replays on {platform} vs {reference}", FAILED if bad else OK, detail)

DEADLINE = None   # time.perf_counter() after which no part starts new work (--deadline-s)


class Budget:
    """A part's time budget, within the whole run's deadline: whether `expected` more
    seconds still fit."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.start = time.perf_counter()

    @property
    def elapsed(self):
        return time.perf_counter() - self.start

    def fits(self, expected=0.0):
        within_deadline = DEADLINE is None or time.perf_counter() + expected <= DEADLINE
        return self.elapsed + expected <= self.seconds and within_deadline

    def __str__(self):
        return f"time budget ({self.seconds:g} s for the part" + (", or the run's deadline)" if DEADLINE else ")")


def check_families(models, root, pdb, platform, reference, precisions, budget_s, say=print):
    """Each model on `platform` (at each precision) against `reference` at 192 atoms,
    displaced from the PDB.  Rows: dicts (model, precision, energy, energy_error,
    force_error, status, note); and {path: whether it ran on `platform`}."""
    data = displaced(structure(pdb, 1), 0.003, seed=11)
    atoms = len(data.positions)
    budget = Budget(budget_s)
    rows, runs = [], {}
    say(f"\n## Model families: {platform} against {reference}, {atoms} atoms (displaced water)")
    say("| model | precision | E (kJ/mol) | rel. energy error | max dF / max F | result |")
    say("|---|---|---:|---:|---:|---|")

    def add(row):
        rows.append(row)
        numbers = [f"{row['energy']:.6f}" if row.get("energy") is not None else "-"]
        numbers += [f"{row[k]:.1e}" if row.get(k) is not None else "-" for k in ("energy_error", "force_error")]
        result = row["status"] + (f": {row['note']}" if row.get("note") else "")
        say(f"| {row['model']} | {row.get('precision') or '-'} | " + " | ".join(numbers) + f" | {result} |")

    for path in models:
        name = label(path, root)
        if not budget.fits():
            add(dict(model=name, status=SKIPPED, note=f"{budget} spent"))
            continue
        # A .pt2 that does not run is reported, not failed: it is compiled for its exporter's machine.
        failure = REPORTED if is_export(path) else FAILED
        try:
            frame, atomic = model_parameters(path, atoms)
            expected = energy_forces(model_context(path, data, reference, None, frame, atomic))
        except Exception as error:   # noqa: BLE001 (reported in the table)
            add(dict(model=name, status=failure, note=f"not run on {reference}: {short_error(error)}"))
            continue
        for precision in precisions if precision_properties(platform, precisions[0]) else [None]:
            row = dict(model=name, precision=precision, energy=expected[0])
            try:
                context = model_context(path, data, platform, precision, frame, atomic)
                got = energy_forces(context)
                del context
            except Exception as error:   # noqa: BLE001
                runs[path] = runs.get(path, False)
                add(dict(row, status=failure, note=f"not run on {platform}: {short_error(error)}"))
                continue
            runs[path] = True
            row["energy_error"], row["force_error"] = relative_errors(expected, got)
            good = row["energy_error"] <= TOLERANCE["energy"] and row["force_error"] <= TOLERANCE["forces"]
            add(dict(row, status=OK if good else FAILED))
    return rows, runs


def families_check(rows, platform, reference):
    measured = [r for r in rows if r.get("energy_error") is not None]
    failed = [r for r in rows if r["status"] == FAILED]
    reported = [r for r in rows if r["status"] == REPORTED]
    skipped = [r for r in rows if r["status"] == SKIPPED]
    models = len({r["model"] for r in rows})
    parts = [f"{models} models against {reference}"]
    if measured:
        worst_e = max(measured, key=lambda r: r["energy_error"])
        worst_f = max(measured, key=lambda r: r["force_error"])
        parts.append(f"worst relative errors: energy {worst_e['energy_error']:.1e} ({worst_e['model']}), "
                     f"forces {worst_f['force_error']:.1e} ({worst_f['model']})")
    parts += [f"FAILED {r['model']} {r.get('precision') or ''}: {r.get('note') or 'over the tolerance'}"
              for r in failed]
    parts += [f"{r['model']}: {r['note']}" for r in reported]
    if skipped:
        parts.append(f"{len(skipped)} skipped (time budget)")
    status = FAILED if failed else OK if measured else SKIPPED
    return Check(f"families on {platform}", status, "; ".join(parts))


def one_evaluation_ms(context, base_positions, repeats, warmup, seed=5):
    """Median time (ms) of getState(getForces=True) over `repeats` evaluations after
    `warmup`, each at positions moved by ~1e-5 nm (no cache can answer)."""
    rng = np.random.default_rng(seed)
    times = []
    for i in range(warmup + repeats):
        context.setPositions((base_positions + rng.normal(0.0, 1e-5, base_positions.shape)) * u.nanometer)
        start = time.perf_counter()
        context.getState(getForces=True)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times[warmup:])


def time_models(models, root, pdb, copies_list, platform, precision, repeats, warmup, max_eval_s, budget_s,
                say=print, variants=("default",)):
    """One evaluation's time per model and size: rows (model label, {atoms: ms or a
    string saying why not}) and whether any evaluation failed."""
    budget = Budget(budget_s)
    atoms_list = [atoms_for(c) for c in copies_list]
    rows, failed = [], False
    say(f"\n## One evaluation on {platform}" + (f" ({precision} precision)" if precision_properties(platform, precision)
                                                 else "") + f", ms: median of {repeats} after {warmup} warm-up")
    say("| model | " + " | ".join(f"{a:,}" for a in atoms_list) + " |")
    say("|---|" + "---:|" * len(atoms_list))
    for path, variant in [(p, v) for p in models for v in variants]:
        results, previous = {}, None
        for copies in copies_list:
            atoms = atoms_for(copies)
            expected = None if previous is None else previous[1] * atoms / previous[0] / 1000   # s per evaluation
            if expected is not None and expected > max_eval_s:
                results[atoms] = f"skipped (~{expected:.1f} s per evaluation expected > {max_eval_s:g} s)"
                continue
            if not budget.fits((expected or 0) * (repeats + warmup)):
                results[atoms] = f"skipped ({budget})"
                continue
            try:
                data = structure(pdb, copies)
                context = model_context(path, data, platform, precision, variant=variant)
                ms = one_evaluation_ms(context, data.positions, repeats, warmup)
                del context
            except Exception as error:   # noqa: BLE001
                results[atoms] = "FAILED: " + short_error(error, 100)
                failed = True
                break
            results[atoms] = ms
            previous = (atoms, ms)
        row = (label(path, root) + ("" if variant == "default" else f" [{VARIANTS[variant][0]}]"), results)
        rows.append(row)
        say(timing_line(row, atoms_list))
    return rows, failed


def timing_line(row, atoms_list):
    name, results = row
    cells = []
    for atoms in atoms_list:
        value = results.get(atoms, "-")
        cells.append(f"{value:.2f}" if isinstance(value, float) else str(value))
    return f"| {name} | " + " | ".join(cells) + " |"


def timing_check(rows, failed, platform):
    measured = sum(isinstance(v, float) for _, results in rows for v in results.values())
    skipped = [f"{name} at {atoms:,} atoms" for name, results in rows for atoms, v in results.items()
               if isinstance(v, str) and v.startswith("skipped")]
    detail = f"{len(rows)} models, {measured} sizes timed in all"
    if skipped:
        detail += "; skipped: " + ", ".join(skipped)
    if failed:
        detail += "; FAILED: " + ", ".join(f"{name} ({v})" for name, results in rows for v in results.values()
                                          if isinstance(v, str) and v.startswith("FAILED"))
    return Check(f"one evaluation on {platform}", FAILED if failed else OK if measured else SKIPPED, detail)


def runs_on(path, platform, precision, known, pdb):
    """Whether `path` evaluates on `platform` (from `known`, else one evaluation now)."""
    if path not in known:
        try:
            data = structure(pdb, 1)
            frame, atomic = model_parameters(path, len(data.positions))
            energy_forces(model_context(path, data, platform, precision, frame, atomic))
            known[path] = True
        except Exception:   # noqa: BLE001
            known[path] = False
    return known[path]


def run_bench(pairings, folder, pdb, copies_list, platform, precision, steps, rounds, warmup, budget_s, known,
              say=print):
    """bench.measure() for each pairing and size.  Entries: dicts (pairing, atoms, r,
    rows, status, note)."""
    budget = Budget(budget_s)
    entries = []
    last_duration = 0.0
    for name, pairing in pairings.items():
        check_pairing(name, pairing)
        paths = {model: os.path.join(folder, model) for model in pairing.models}
        missing = [model for model, path in paths.items() if not os.path.exists(path)]
        if missing:
            entries.append(dict(pairing=name, status=SKIPPED, note="missing " + ", ".join(missing)))
            say(f"\nbench, pairing {name}: skipped (missing {', '.join(missing)})")
            continue
        broken = [m for m in pairing.models if not runs_on(paths[m], platform, precision, known, pdb)]
        essential = [m for m in broken if m not in pairing.other_fast]
        if essential:
            note = f"{', '.join(essential)} did not run on {platform}"
            entries.append(dict(pairing=name, status=SKIPPED, note=note))
            say(f"\nbench, pairing {name}: skipped ({note})")
            continue
        other_fast = [paths[m] for m in pairing.other_fast if m not in broken]
        note = f"left out (did not run on {platform}): {', '.join(broken)}" if broken else ""
        runs = standard_schemes(paths[pairing.accurate], paths[pairing.fast], 4, 4, 0.5, False, other_fast,
                                paths[pairing.residual] if pairing.residual else None)
        for copies in copies_list:
            atoms = atoms_for(copies)
            if not budget.fits(1.2 * last_duration):
                entries.append(dict(pairing=name, atoms=atoms, status=SKIPPED, note=str(budget)))
                say(f"\nbench, pairing {name}, {atoms:,} atoms: skipped ({budget})")
                continue
            start = time.perf_counter()
            try:
                with default_precision(platform, precision):
                    timed, r, rows, _ = measure(runs, structure(pdb, copies), platform, steps, rounds, warmup)
            except Exception as error:   # noqa: BLE001
                entries.append(dict(pairing=name, atoms=atoms, status=FAILED, note=short_error(error)))
                say(f"\nbench, pairing {name}, {atoms:,} atoms: FAILED: {short_error(error)}")
                continue
            last_duration = time.perf_counter() - start
            entries.append(dict(pairing=name, atoms=atoms, r=r, rows=rows, status=OK, note=note))
            say(f"\nbench, pairing {name} ({pairing.accurate} / {pairing.fast}"
                + (f", residual {pairing.residual}" if pairing.residual else "") + f"): {atoms:,} atoms on "
                f"{platform}, {timed} timed inner steps per scheme in {rounds} rounds (median), "
                f"t_fast/t_accurate = {r:.2f}" + (f"; {note}" if note else ""))
            say(markdown_rows(rows))
    return entries


def bench_check(entries, platform):
    done = [e for e in entries if e["status"] == OK]
    failed = [e for e in entries if e["status"] == FAILED]
    other = [e for e in entries if e["status"] == SKIPPED]
    parts = [f"{len(done)} tables"]
    parts += [f"FAILED {e['pairing']} at {e.get('atoms', 0):,} atoms: {e['note']}" for e in failed]
    parts += [f"skipped {e['pairing']}" + (f" at {e['atoms']:,} atoms" if e.get("atoms") else "") + f": {e['note']}"
              for e in other]
    parts += sorted({f"{e['pairing']}: {e['note']}" for e in done if e.get("note")})
    return Check(f"bench on {platform}", FAILED if failed else OK if done else SKIPPED, "; ".join(parts))


def bench_table(entries):
    """The bench entries in one table: a row per pairing and scheme, a column per size,
    each cell steps/s and the speedup in ns/day over accurate-only."""
    done = [e for e in entries if e["status"] == OK]
    if not done:
        return ""
    atoms_list = sorted({e["atoms"] for e in done})
    cells = {}
    for e in done:
        for name, steps_per_s, _, speedup, _, _ in e["rows"]:
            cells.setdefault((e["pairing"], name), {})[e["atoms"]] = f"{steps_per_s:.1f} ({speedup:.2f}x)"
    lines = ["| pairing | scheme | " + " | ".join(f"{a:,} atoms" for a in atoms_list) + " |",
             "|---|---|" + "---:|" * len(atoms_list)]
    for (pairing, name), row in cells.items():
        lines.append(f"| {pairing} | {name} | " + " | ".join(row.get(a, "-") for a in atoms_list) + " |")
    return "\n".join(lines)


def model_engines(models, root, say=print):
    """(label, engine, note) per model from SwitchingDPForce.getModelEngine (and
    getModelEngineNote where the build has it), or None where it has no getModelEngine."""
    if not hasattr(SwitchingDPForce, "getModelEngine"):
        return None
    rows = []
    say("\n## Model engines (SwitchingDPForce.getModelEngine)")
    say("| model | engine | note |")
    say("|---|---|---|")
    for path in models:
        try:
            force = SwitchingDPForce(path)
            engine = str(force.getModelEngine(SwitchingDPForce.Accurate))
            note = str(force.getModelEngineNote(SwitchingDPForce.Accurate)) if hasattr(force, "getModelEngineNote") else ""
        except Exception as error:   # noqa: BLE001
            engine, note = "error", short_error(error, 100)
        rows.append((label(path, root), engine, note))
        say(f"| {rows[-1][0]} | {engine} | {note} |")
    return rows


def engine_check(rows):
    engines = {}
    for name, engine, _ in rows:
        engines.setdefault(engine, []).append(os.path.basename(name))
    detail = "; ".join(f"{engine}: {', '.join(names)}" for engine, names in engines.items())
    return Check("model engines", FAILED if "error" in engines else OK, detail)


# --- the whole check --------------------------------------------------------------

def platform_problem(platform):
    """None where `platform` runs the plugin here, else why not."""
    names = platform_names()
    if platform not in names:
        failures = [f for f in mm.Platform.getPluginLoadFailures() if platform.lower() in f.lower()]
        return (f"OpenMM has no {platform} platform here (platforms: {', '.join(names)})"
                + (f"; plugin load failures: {' | '.join(failures)}" if failures else ""))
    library = {"CUDA": "libOpenMMSwitchingDPCUDA.so", "OpenCL": "libOpenMMSwitchingDPOpenCL.so"}.get(platform)
    if library and library not in LOADED_PLUGINS:
        return f"the plugin's {platform} kernel ({library}) was not built or not loaded (loaded: {', '.join(LOADED_PLUGINS)})"
    if platform == "CUDA" and not torch.cuda.is_available():
        return (f"torch {torch.__version__} (CUDA {torch.version.cuda}) sees no CUDA device "
                "(torch.cuda.is_available() is False)")
    return None


def machine_line(platform):
    parts = [f"torch {torch.__version__}", f"OpenMM {mm.__version__}"]
    if torch.cuda.is_available():
        parts.append(f"GPU {torch.cuda.get_device_name(0)} (torch CUDA {torch.version.cuda})")
    parts.append(f"platform {platform}")
    return ", ".join(parts)


def format_summary(header, checks, tables=()):
    """The summary: one row per check, then the tables given (title, markdown)."""
    lines = [f"== gpucheck summary: {header}", "| check | result | detail |", "|---|---|---|"]
    for check in checks:
        lines.append(f"| {check.part} | {check.status} | {check.detail} |")
    failed = sum(check.status == FAILED for check in checks)
    lines.append(f"{len(checks)} checks: {failed} failed" if failed else f"{len(checks)} checks: none failed")
    for title, table in tables:
        if table:
            lines += ["", title, table]
    return "\n".join(lines)


def exit_status(checks):
    return 1 if any(check.status == FAILED for check in checks) else 0


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m openmmswitchingdp.gpucheck", description=__doc__,
                                     formatter_class=HelpFormatter)
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS), help="what to run")
    parser.add_argument("--sizes", nargs="+", type=int, metavar="N",
                        help="atom counts (192 x n^3) or copies per edge, for timing and bench "
                             f"(default: timing {' '.join(map(str, TIMING_SIZES))}, "
                             f"bench {' '.join(map(str, BENCH_SIZES))})")
    parser.add_argument("--out", metavar="DIR", help="write each table, summary.md and results.json here")
    parser.add_argument("--platform", default="CUDA", help="the platform checked")
    parser.add_argument("--reference", default="Reference", help="the platform families are compared with")
    parser.add_argument("--precision", nargs="+", default=["mixed"], choices=["single", "mixed", "double"],
                        help="families: each of these; timing and bench: the first")
    parser.add_argument("--root", help="the repository (its examples/water and tests/data models); "
                                       "default: found from the working directory, else the installed models only")
    parser.add_argument("--pdb", help="the water box (default: examples/water/water.pdb)")
    parser.add_argument("--models", nargs="+", metavar="TEXT",
                        help="only model files whose name contains one of these (families, timing, engine)")
    parser.add_argument("--pairings", nargs="+", choices=sorted(PAIRINGS), default=list(PAIRINGS),
                        help="bench pairings")
    parser.add_argument("--repeats", type=int, default=10, help="timing: evaluations timed (median)")
    parser.add_argument("--variants", nargs="+", choices=sorted(VARIANTS), default=["default", "eager", "torchscript"],
                        help="timing: how each model is evaluated: default (native path, CUDA graphs on CUDA), "
                             "eager (native path without CUDA graphs), torchscript (the model's own code)")
    parser.add_argument("--warmup", type=int, default=3, help="timing: evaluations before timing")
    parser.add_argument("--max-eval-s", type=float, default=1.0,
                        help="timing: skip a size whose evaluation is expected to take longer (s)")
    parser.add_argument("--bench-steps", type=int, default=120, help="bench: timed inner steps per scheme and size")
    parser.add_argument("--bench-rounds", type=int, default=3, help="bench: interleaved rounds (median)")
    parser.add_argument("--bench-warmup", type=int, default=8, help="bench: untimed steps per scheme")
    parser.add_argument("--deadline-s", type=float, metavar="S",
                        help="start no new work after S seconds (what is left is skipped and reported)")
    parser.add_argument("--budget-s", nargs="+", metavar="PART=S", default=[],
                        help="time budget of a part, e.g. bench=200 (default: "
                             + ", ".join(f"{k}={v}" for k, v in DEFAULT_BUDGET_S.items()) + ")")
    args = parser.parse_args(argv)
    try:
        args.copies = [copies_for(s) for s in args.sizes] if args.sizes else None
    except ValueError as error:
        parser.error(f"--sizes: {error}")
    budgets = dict(DEFAULT_BUDGET_S)
    for item in args.budget_s:
        part, _, seconds = item.partition("=")
        if part not in budgets:
            parser.error(f"--budget-s: unknown part {part!r} (one of {', '.join(PARTS)})")
        try:
            budgets[part] = float(seconds)
        except ValueError:
            parser.error(f"--budget-s: {item!r} is not PART=SECONDS")
    args.budgets = budgets
    if min(args.repeats, args.bench_steps, args.bench_rounds) < 1 or min(args.warmup, args.bench_warmup) < 0:
        parser.error("--repeats, --bench-steps and --bench-rounds must be at least 1, the warm-ups at least 0")
    return args


def main(argv=None):
    global DEADLINE
    args = parse_args(argv)
    DEADLINE = None if args.deadline_s is None else time.perf_counter() + args.deadline_s
    out = args.out
    if out:
        os.makedirs(out, exist_ok=True)

    def say(text=""):
        print(text, flush=True)

    def write(name, text):
        if out:
            with open(os.path.join(out, name), "w") as f:
                f.write(text.rstrip("\n") + "\n")

    problem = platform_problem(args.platform)
    if problem:
        message = f"gpucheck: {args.platform} is not available: {problem}; nothing was run"
        print(message, file=sys.stderr, flush=True)
        write("summary.md", message)
        return 2
    root = os.path.abspath(args.root) if args.root else find_root()
    folder = water_dir(root)
    pdb = args.pdb or (os.path.join(folder, "water.pdb") if root else bundled.WATER_PDB)
    precision = args.precision[0]
    header = machine_line(args.platform) + (f", {precision} precision" if precision_properties(args.platform, precision)
                                            else "")
    say(f"gpucheck: {header}; models from {root or bundled.DATA_DIR}")
    models = select(repository_models(root), args.models)
    checks, tables, results = [], [], {"header": header}
    known = {}   # model path -> whether it ran on the platform

    def part_output():
        """A `say` that also collects the part's lines for its file in --out."""
        lines = []

        def part_say(text=""):
            say(text)
            lines.append(text)
        return part_say, lines

    def families(part_say):
        nonlocal known
        rows, known = check_families(models, root, pdb, args.platform, args.reference, args.precision,
                                     args.budgets["families"], part_say)
        results["families"] = rows
        return families_check(rows, args.platform, args.reference)

    def replays(part_say):
        rows = check_replays(folder, pdb, args.platform, args.reference, part_say)
        results["replays"] = rows
        return replays_check(rows, args.platform, args.reference)

    def timing(part_say):
        timing_models = [m for m in (os.path.join(folder, name) for name in TIMING_MODELS) if os.path.exists(m)]
        copies = args.copies or [copies_for(s) for s in TIMING_SIZES]
        rows, failed = time_models(select(timing_models, args.models), root, pdb, copies, args.platform, precision,
                                   args.repeats, args.warmup, args.max_eval_s, args.budgets["timing"], part_say,
                                   variants=args.variants)
        atoms_list = [atoms_for(c) for c in copies]
        table = "\n".join(["| model | " + " | ".join(f"{a:,}" for a in atoms_list) + " |",
                           "|---|" + "---:|" * len(atoms_list)] + [timing_line(row, atoms_list) for row in rows])
        tables.append((f"One evaluation on {args.platform}, ms (median):", table))
        results["timing"] = [(name, {str(k): v for k, v in r.items()}) for name, r in rows]
        return timing_check(rows, failed, args.platform)

    def engine(part_say):
        rows = model_engines(models, root, part_say)
        if rows is None:
            return Check("model engines", SKIPPED, "SwitchingDPForce has no getModelEngine in this build")
        results["engine"] = rows
        return engine_check(rows)

    def bench(part_say):
        copies = args.copies or [copies_for(s) for s in BENCH_SIZES]
        entries = run_bench({name: PAIRINGS[name] for name in args.pairings}, folder, pdb, copies, args.platform,
                            precision, args.bench_steps, args.bench_rounds, args.bench_warmup,
                            args.budgets["bench"], known, part_say)
        tables.append((f"Bench on {args.platform}: steps/s (speedup in ns/day over accurate-only):",
                       bench_table(entries)))
        results["bench"] = entries
        return bench_check(entries, args.platform)

    for name, part in (("families", families), ("replays", replays), ("timing", timing), ("engine", engine),
                       ("bench", bench)):
        if name not in args.parts:
            continue
        part_say, lines = part_output()
        try:
            checks.append(part(part_say))
        except Exception as error:   # noqa: BLE001  (a part that breaks must not take the summary with it)
            part_say(traceback.format_exc())
            checks.append(Check(name, FAILED, f"the check itself broke: {type(error).__name__}: {short_error(error)}"))
        write(f"{name}.md", "\n".join(lines))
    summary = format_summary(header, checks, tables)
    say()
    say(summary)
    write("summary.md", summary)
    results["checks"] = [dataclasses.asdict(c) for c in checks]
    if out:
        with open(os.path.join(out, "results.json"), "w") as f:
            json.dump(results, f, indent=1, default=str)
    return exit_status(checks)


if __name__ == "__main__":
    sys.exit(main())
