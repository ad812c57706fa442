"""Speed of switching schemes against each single model, measured side by side: the
library of ``switchingdp-bench`` (see :mod:`openmmswitchingdp.toolkit.cli.bench`).

:func:`measure` times schemes in interleaved rounds and returns a :class:`BenchResult`;
:func:`thread_scaling` times each model alone on one thread and on many.
"""
import contextlib
import functools
import os
import sys
import tempfile
import time
from dataclasses import dataclass

import numpy as np

from . import lammps
from .. import defaults
from .schemes import (ACCURATE, ALTERNATING, FAST, FRICTION, MTS, PYTHON_FORCE, TEMPERATURE, Scheme, build_context,
                      fast_run_of, reference_run)
from ..units import ns_per_day

__all__ = ["measure", "BenchResult", "SpeedRow", "LammpsComparison", "ThreadScaling", "ModelScaling",
           "thread_scaling", "print_thread_scaling", "markdown_rows", "print_comparison", "ideal_speedup",
           "lammps_schemes", "model_precision", "timed_steps_per_second", "EnergyMismatch", "ENERGY_TOLERANCE",
           "THREAD_SLOWDOWN_LIMIT", "LAMMPS_PREFIX"]

LAMMPS_PREFIX = "LAMMPS "
# First-frame energies of the plugin and LAMMPS must agree to this relative
# difference: the same model on the same coordinates, float64 or float32 arithmetic.
ENERGY_TOLERANCE = {"float64": 1e-6, "float32": 1e-4}


class EnergyMismatch(RuntimeError):
    """The plugin and LAMMPS disagree on a first-frame energy."""


@dataclass
class SpeedRow:
    """One row of a speed table: the scheme's name, steps/s, ns/day, the speedup in
    ns/day over accurate-only, the ideal speedup from the single-model step times
    (:func:`ideal_speedup`) and their ratio (efficiency)."""
    name: str
    steps_per_second: float
    ns_per_day: float
    speedup: float
    ideal: float
    efficiency: float


@dataclass
class LammpsComparison:
    """The plugin against LAMMPS for one run: the plugin run's name, steps/s of each,
    their ratio, each first-frame energy (kJ/mol), their relative difference and the
    tolerance it must stay within."""
    run: str
    plugin_steps_per_second: float
    lammps_steps_per_second: float
    ratio: float
    plugin_energy: float
    lammps_energy: float
    relative_difference: float
    tolerance: float


@dataclass
class BenchResult:
    """What :func:`measure` measured: the atoms, the timed inner steps per scheme,
    t_fast/t_accurate (``fast_ratio``), the rows (:class:`SpeedRow`) and, with LAMMPS,
    the comparisons (:class:`LammpsComparison`; else None)."""
    atoms: int
    steps: int
    fast_ratio: float
    rows: list
    comparison: list = None

    def row(self, name):
        """The :class:`SpeedRow` of the scheme called `name`."""
        return next(row for row in self.rows if row.name == name)


def timed_steps_per_second(context, steps):
    """Steps/s of `steps` steps of a Context's integrator, its queued work finished before and after."""
    context.getState(getEnergy=True)   # finish queued work before timing
    start = time.perf_counter()
    context.getIntegrator().step(steps)
    context.getState(getEnergy=True)
    return steps / (time.perf_counter() - start)


def lammps_schemes(runs):
    """The LAMMPS counterparts of the plugin's single-model and rRESPA runs, named
    "LAMMPS " + the plugin run's name: dicts with the pair styles summed ("terms",
    (scale, model) pairs; for rRESPA the first is the inner one), the step (ps), the
    inner steps and the plugin run's name.  Alternation has no counterpart: LAMMPS
    cannot switch models by step."""
    out = {}
    for name, scheme in runs.items():
        if scheme.kind is ACCURATE:
            terms = [(1.0, scheme.accurate)]
        elif scheme.kind is FAST:
            terms = [(1.0, scheme.fast)]
        elif scheme.kind is MTS:
            slow = [(1.0, scheme.accurate)] if scheme.residual else [(1.0, scheme.accurate), (-1.0, scheme.fast)]
            terms = [(1.0, scheme.fast)] + slow
        else:
            continue
        out[LAMMPS_PREFIX + name] = dict(terms=terms, step_ps=scheme.step_ps, inner_steps=scheme.inner_steps,
                                         kind=scheme.kind, plugin_run=name,
                                         fast_run=LAMMPS_PREFIX + fast_run_of(runs, scheme))
    return out


@functools.lru_cache(maxsize=None)
def model_precision(path):
    """"float32" if any floating-point weight of a frozen model is float32, else "float64"."""
    import ctypes
    import torch
    from .. import deepmd_ops
    # Frozen deepmd-kit models reference deepmd's operators, whose library needs MPI.
    if deepmd_ops.op_library():
        if deepmd_ops.mpi_library():
            ctypes.CDLL(deepmd_ops.mpi_library(), mode=ctypes.RTLD_GLOBAL)
        torch.ops.load_library(deepmd_ops.op_library())
    model = torch.jit.load(path, map_location="cpu")
    tensors = list(model.parameters()) + list(model.buffers())
    return "float32" if any(t.dtype == torch.float32 for t in tensors) else "float64"


def ideal_speedup(kind, interval, inner_steps, r):
    """The speedup over accurate-only if only model time counted, from r = t_fast /
    t_accurate measured in the same run (for the LAMMPS rows, LAMMPS's own)."""
    if kind in (ACCURATE, PYTHON_FORCE):
        return 1.0   # the baseline runs the same model
    if kind == FAST:
        return 1.0 / r
    if kind == ALTERNATING:
        return interval / (1 + (interval - 1) * r)
    # rRESPA: one slow evaluation per k fast ones.  A residual model is costed as the
    # accurate model (the bundled one has the same cutoff, sel and network sizes).
    return inner_steps / (1 + inner_steps * r)


def measure(runs, structure, platform=defaults.PLATFORM, steps=200, rounds=5, warmup=8, threads=None,
            with_lammps=False):
    """Time `runs` (schemes by name; an accurate-only scheme, the reference, and a
    fast-only scheme of each fast model among them) on `structure`; returns a
    :class:`BenchResult`.  The reference and each scheme's fast-only run are found by
    their kind and models, not by name.

    The schemes are timed in interleaved rounds and each keeps its median, so a
    machine that slows down or speeds up during the run affects all of them alike."""
    import openmm.unit as u
    from .schemes import switching_force
    reference = reference_run(runs)
    lammps_runs = lammps_schemes(runs) if with_lammps else {}
    contexts = {name: build_context(scheme, structure, platform, threads=threads) for name, scheme in runs.items()}
    # The plugin's energy at the input coordinates, for the check against LAMMPS.
    first_energy = {scheme["plugin_run"]: contexts[scheme["plugin_run"]].getState(getEnergy=True)
                    .getPotentialEnergy().value_in_unit(u.kilojoule_per_mole) for scheme in lammps_runs.values()}
    # Every round starts from the state after the warm-up, so all rounds time the same
    # stretch of dynamics, and a fast model that would drift off over a long run
    # (a blow-up) cannot end the measurement.
    warm = {}
    for name, context in contexts.items():
        context.getIntegrator().step(warmup)
        warm[name] = context.getState(getPositions=True, getVelocities=True)
    samples = {name: [] for name in [*runs, *lammps_runs]}
    lammps_energy = {}
    workspace = tempfile.TemporaryDirectory(prefix="switchingdp-lammps-") if lammps_runs else contextlib.nullcontext()
    with workspace as workdir:
        if lammps_runs:
            data_file = os.path.join(workdir, "system.data")
            type_names = lammps.write_data(data_file, structure.positions, structure.elements, structure.masses,
                                           structure.box)
            skin = switching_force(contexts[reference]).getNeighborListSkin().value_in_unit(u.angstrom)
        for _ in range(rounds):
            for name, scheme in runs.items():
                contexts[name].setState(warm[name])
                outer = max(1, steps // (rounds * (scheme.inner_steps if scheme.kind is MTS else 1)))
                samples[name].append(timed_steps_per_second(contexts[name], outer))
            # One lmp process per LAMMPS run: start-up and model loading are not timed
            # (LAMMPS's loop time), its warm-up is the plugin's.
            for i, (name, counterpart) in enumerate(lammps_runs.items()):
                inner = counterpart["inner_steps"] if counterpart["kind"] is MTS else None
                outer = max(1, steps // (rounds * (inner or 1)))
                script = lammps.input_script(data_file, type_names, counterpart["terms"], counterpart["step_ps"], outer,
                                             warmup=warmup, inner=inner, temperature=TEMPERATURE, friction=FRICTION,
                                             skin=skin)
                result = lammps.run(script, workdir, f"run{i}", threads=threads or 1)
                samples[name].append(result.steps_per_second)
                lammps_energy.setdefault(name, result.first_energy)
    speed = {name: float(np.median(samples[name])) for name in samples}
    step_ps = {**{name: scheme.step_ps for name, scheme in runs.items()},
               **{name: counterpart["step_ps"] for name, counterpart in lammps_runs.items()}}
    ns_day = {name: ns_per_day(speed[name], step_ps[name]) for name in samples}
    first_fast = next(name for name, scheme in runs.items() if scheme.kind is FAST)
    r = speed[reference] / speed[first_fast]   # t_fast / t_accurate
    rows = []
    for name, scheme in runs.items():
        # t_fast / t_accurate of this scheme's own fast model
        r_scheme = speed[reference] / speed[fast_run_of(runs, scheme)] if scheme.uses_fast_model else r
        ideal = ideal_speedup(scheme.kind, scheme.interval, scheme.inner_steps, r_scheme)
        speedup = ns_day[name] / ns_day[reference]
        rows.append(SpeedRow(name, speed[name], ns_day[name], speedup, ideal, speedup / ideal))
    # LAMMPS rows are measured against LAMMPS accurate-only.
    for name, counterpart in lammps_runs.items():
        lammps_reference = LAMMPS_PREFIX + reference
        r_lammps = speed[lammps_reference] / speed[counterpart["fast_run"]]
        ideal = ideal_speedup(counterpart["kind"], 1, counterpart["inner_steps"], r_lammps)
        speedup = ns_day[name] / ns_day[lammps_reference]
        rows.append(SpeedRow(name, speed[name], ns_day[name], speedup, ideal, speedup / ideal))
    comparison = None
    if lammps_runs:
        comparison = []
        for name, counterpart in lammps_runs.items():
            plugin_run = counterpart["plugin_run"]
            plugin_e, lammps_e = first_energy[plugin_run], lammps_energy[name]
            precision = "float32" if any(model_precision(m) == "float32" for _, m in counterpart["terms"]) else "float64"
            comparison.append(LammpsComparison(plugin_run, speed[plugin_run], speed[name],
                                               speed[plugin_run] / speed[name], plugin_e, lammps_e,
                                               abs(lammps_e - plugin_e) / abs(plugin_e), ENERGY_TOLERANCE[precision]))
    return BenchResult(len(structure.positions), steps, r, rows, comparison)


# A model may be at most this much slower per step with all threads than with one
# before the thread-scaling table flags it (the issue that made the compressed fast
# model 8x slower at 2 threads went unnoticed because every published bench pinned
# threads).
THREAD_SLOWDOWN_LIMIT = 1.5


@dataclass
class ModelScaling:
    """One model alone: steps/s with torch on one thread and on many."""
    model: str
    one_thread: float
    many_threads: float


@dataclass
class ThreadScaling:
    """What :func:`thread_scaling` measured: the many threads' count and a
    :class:`ModelScaling` per model."""
    threads: int
    rows: list


def thread_scaling(models, structure, platform=defaults.PLATFORM, steps=100, rounds=3, warmup=4,
                   threads=None):
    """Each model alone, timed with torch on one thread and on `threads` (default: the
    process's current count, one per core unless set), in interleaved rounds (median);
    returns a :class:`ThreadScaling`.
    torch's count is put back afterwards; the CPU platform's own threads are the
    Contexts' (the models' time is what changes)."""
    import torch
    many = threads or torch.get_num_threads()
    contexts = {model: build_context(Scheme(ACCURATE, model), structure, platform) for model in models}
    for context in contexts.values():
        context.getIntegrator().step(warmup)
    samples = {(model, n): [] for model in models for n in (1, many)}
    before = torch.get_num_threads()
    try:
        for _ in range(rounds):
            for n in (1, many):
                torch.set_num_threads(n)
                for model, context in contexts.items():
                    samples[(model, n)].append(timed_steps_per_second(context, max(1, steps // rounds)))
    finally:
        torch.set_num_threads(before)
    return ThreadScaling(many, [ModelScaling(model, float(np.median(samples[(model, 1)])),
                                             float(np.median(samples[(model, many)]))) for model in models])


def print_thread_scaling(scaling):
    """Print a :class:`ThreadScaling`'s table and the line that flags a model slower with
    more threads; returns the flagged models' file names."""
    table, threads = [(row.model, row.one_thread, row.many_threads) for row in scaling.rows], scaling.threads
    print(f"\nEach model alone with torch on 1 thread and on {threads} (interleaved rounds, median); "
          f"flagged if more than {THREAD_SLOWDOWN_LIMIT:g}x slower on {threads}:")
    print(f"| model | steps/s, 1 thread | steps/s, {threads} threads | {threads} threads / 1 thread |")
    print("|---|---:|---:|---:|")
    for model, one, many in table:
        print(f"| {os.path.basename(model)} | {one:.2f} | {many:.2f} | {many / one:.2f}x |")
    slow = [os.path.basename(model) for model, one, many in table if one / many > THREAD_SLOWDOWN_LIMIT]
    print(f"thread check: {'SLOWER with more threads: ' + ', '.join(slow) if slow else 'no model is slower with more threads beyond the limit'}")
    sys.stdout.flush()
    return slow


def markdown_rows(rows):
    """The speed table of :class:`SpeedRow` rows (a :class:`BenchResult`'s ``rows``)."""
    lines = ["| scheme | steps/s | ns/day | speedup vs accurate-only | ideal | efficiency |",
             "|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        lines.append(f"| {row.name} | {row.steps_per_second:.2f} | {row.ns_per_day:.3f} | {row.speedup:.2f}x | "
                     f"{row.ideal:.2f}x | {row.efficiency:.0%} |")
    return "\n".join(lines)


def print_comparison(comparison, threads):
    """Print the plugin/LAMMPS table of :class:`LammpsComparison` rows and the
    first-frame energy check; raises :class:`EnergyMismatch` when it fails."""
    print(f"\nLAMMPS (pair_style deepmd) rows: the same models on the same coordinates, {threads} thread(s) "
          "in both engines; their speedup, ideal and efficiency are against LAMMPS accurate-only.")
    print("| model / scheme | plugin steps/s | LAMMPS steps/s | plugin/LAMMPS | "
          "first-frame energy, plugin (kJ/mol) | LAMMPS (kJ/mol) | relative difference |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for c in comparison:
        print(f"| {c.run} | {c.plugin_steps_per_second:.2f} | {c.lammps_steps_per_second:.2f} | {c.ratio:.2f}x | "
              f"{c.plugin_energy:.10f} | {c.lammps_energy:.10f} | {c.relative_difference:.1e} |")
    bad = [(c.run, c.relative_difference, c.tolerance) for c in comparison if c.relative_difference > c.tolerance]
    worst = max(c.relative_difference for c in comparison)
    print(f"first-frame energy check, plugin vs LAMMPS: largest relative difference {worst:.1e} "
          f"(tolerance {ENERGY_TOLERANCE['float64']:g} for float64 models, "
          f"{ENERGY_TOLERANCE['float32']:g} with a float32 model): {'FAILED' if bad else 'ok'}")
    sys.stdout.flush()
    if bad:
        raise EnergyMismatch("plugin and LAMMPS first-frame energies differ: " + ", ".join(
            f"{name} {rel:.1e} > {tol:g}" for name, rel, tol in bad))
