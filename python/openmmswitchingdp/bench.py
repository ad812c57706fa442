"""Speed of switching schemes against each single model, measured side by side.

For each system size it runs, in one process, Langevin MD with: the accurate model
alone, the fast model alone (both at the inner time step), alternation (1 accurate
step in --interval) and rRESPA (slow term every --inner-steps inner steps, fast model
every inner step), and the accurate model through OpenMM's PythonForce calling
deepmd-kit's DeepPot each step: what a user would write without this plugin
(--no-baseline skips it).  It prints steps/s and ns/day, the speedup in ns/day over
accurate-only, the ideal speedup from the single-model step times measured in the
same run, and their ratio (efficiency):

    alternating: n / (1 + (n-1) r)      rRESPA: k / (1 + k r)      r = t_fast / t_accurate

    switchingdp-bench --replicate 1 2 --platform CPU

After each size's table it times each model alone with torch on one thread and on
all of them (--threads, or one per core), and flags a model that is more than 1.5x
slower with more threads (--no-thread-scaling skips it).

--lammps adds the same models on the same coordinates in LAMMPS with deepmd-kit's
`pair_style deepmd` (accurate-only, each fast-only and rRESPA through `run_style
respa` with `pair_style hybrid/scaled`), each round one `lmp` run per row timed by
LAMMPS's loop time, both engines on --threads threads (1 unless given).  It prints the
plugin/LAMMPS speed ratio of each model or scheme and checks that both report the same
first-frame potential energy.
"""
import argparse
import contextlib
import functools
import os
import sys
import tempfile
import time

import numpy as np

from . import bundled, lammps
from .schemes import (ACCURATE, ALTERNATING, FAST, FRICTION, PYTHON_FORCE, RESPA, TEMPERATURE, HelpFormatter,
                      Scheme, Structure, add_threads_option, apply_threads, build_context, standard_schemes)
from .units import ns_per_day

LAMMPS_PREFIX = "LAMMPS "
# First-frame energies of the plugin and LAMMPS must agree to this relative
# difference: the same model on the same coordinates, float64 or float32 arithmetic.
ENERGY_TOLERANCE = {"float64": 1e-6, "float32": 1e-4}


class EnergyMismatch(RuntimeError):
    """The plugin and LAMMPS disagree on a first-frame energy."""


def fast_run(scheme):
    """The name of the fast-only run that times a switching scheme's fast model."""
    return "fast-only" + scheme.tag


def timed_steps_per_second(context, steps):
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
        if scheme.kind == ACCURATE:
            terms = [(1.0, scheme.accurate)]
        elif scheme.kind == FAST:
            terms = [(1.0, scheme.fast)]
        elif scheme.kind == RESPA:
            slow = [(1.0, scheme.accurate)] if scheme.residual else [(1.0, scheme.accurate), (-1.0, scheme.fast)]
            terms = [(1.0, scheme.fast)] + slow
        else:
            continue
        out[LAMMPS_PREFIX + name] = dict(terms=terms, step_ps=scheme.step_ps, inner_steps=scheme.inner_steps,
                                         kind=scheme.kind, plugin_run=name,
                                         fast_run=LAMMPS_PREFIX + fast_run(scheme))
    return out


@functools.lru_cache(maxsize=None)
def model_precision(path):
    """"float32" if any floating-point weight of a frozen model is float32, else "float64"."""
    import ctypes
    import torch
    from . import deepmd_ops
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


def measure(runs, structure, platform="CPU", steps=200, rounds=5, warmup=8, threads=None, with_lammps=False):
    """Time `runs` (schemes by name, accurate-only and fast-only among them) on
    `structure`: (timed inner steps per scheme, t_fast/t_accurate, rows (scheme,
    steps/s, ns/day, speedup, ideal, efficiency), and with_lammps the comparison with
    LAMMPS (else None): one tuple per LAMMPS run (plugin run, plugin steps/s, LAMMPS
    steps/s, plugin/LAMMPS, plugin first-frame energy, LAMMPS's, relative difference,
    tolerance), energies in kJ/mol).

    The schemes are timed in interleaved rounds and each keeps its median, so a
    machine that slows down or speeds up during the run affects all of them alike."""
    import openmm.unit as u
    from .schemes import switching_force
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
            skin = switching_force(contexts["accurate-only"]).getNeighborListSkin().value_in_unit(u.angstrom)
        for _ in range(rounds):
            for name, scheme in runs.items():
                contexts[name].setState(warm[name])
                outer = max(1, steps // (rounds * (scheme.inner_steps if scheme.kind == RESPA else 1)))
                samples[name].append(timed_steps_per_second(contexts[name], outer))
            # One lmp process per LAMMPS run: start-up and model loading are not timed
            # (LAMMPS's loop time), its warm-up is the plugin's.
            for i, (name, counterpart) in enumerate(lammps_runs.items()):
                inner = counterpart["inner_steps"] if counterpart["kind"] == RESPA else None
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
    r = speed["accurate-only"] / speed["fast-only"]   # t_fast / t_accurate
    rows = []
    for name, scheme in runs.items():
        # t_fast / t_accurate of this scheme's own fast model
        r_scheme = speed["accurate-only"] / speed[fast_run(scheme)] if scheme.uses_fast_model else r
        ideal = ideal_speedup(scheme.kind, scheme.interval, scheme.inner_steps, r_scheme)
        speedup = ns_day[name] / ns_day["accurate-only"]
        rows.append((name, speed[name], ns_day[name], speedup, ideal, speedup / ideal))
    # LAMMPS rows are measured against LAMMPS accurate-only.
    for name, counterpart in lammps_runs.items():
        reference = LAMMPS_PREFIX + "accurate-only"
        r_lammps = speed[reference] / speed[counterpart["fast_run"]]
        ideal = ideal_speedup(counterpart["kind"], 1, counterpart["inner_steps"], r_lammps)
        speedup = ns_day[name] / ns_day[reference]
        rows.append((name, speed[name], ns_day[name], speedup, ideal, speedup / ideal))
    comparison = None
    if lammps_runs:
        comparison = []
        for name, counterpart in lammps_runs.items():
            plugin_run = counterpart["plugin_run"]
            plugin_e, lammps_e = first_energy[plugin_run], lammps_energy[name]
            precision = "float32" if any(model_precision(m) == "float32" for _, m in counterpart["terms"]) else "float64"
            comparison.append((plugin_run, speed[plugin_run], speed[name], speed[plugin_run] / speed[name],
                               plugin_e, lammps_e, abs(lammps_e - plugin_e) / abs(plugin_e),
                               ENERGY_TOLERANCE[precision]))
    return steps, r, rows, comparison


# A model may be at most this much slower per step with all threads than with one
# before the thread-scaling table flags it (the issue that made the compressed fast
# model 8x slower at 2 threads went unnoticed because every published bench pinned
# threads).
THREAD_SLOWDOWN_LIMIT = 1.5


def thread_scaling(models, structure, platform="CPU", steps=100, rounds=3, warmup=4, threads=None):
    """Each model alone, timed with torch on one thread and on `threads` (default: the
    process's current count, one per core unless set), in interleaved rounds (median):
    a list of (model file, steps/s at 1 thread, steps/s at `threads`), and `threads`.
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
    return [(model, float(np.median(samples[(model, 1)])), float(np.median(samples[(model, many)])))
            for model in models], many


def print_thread_scaling(table, threads):
    """The thread-scaling table and the line that flags a model slower with more threads."""
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
    """The speed table of measure()'s rows."""
    lines = ["| scheme | steps/s | ns/day | speedup vs accurate-only | ideal | efficiency |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, sps, nsd, speedup, ideal, efficiency in rows:
        lines.append(f"| {name} | {sps:.2f} | {nsd:.3f} | {speedup:.2f}x | {ideal:.2f}x | {efficiency:.0%} |")
    return "\n".join(lines)


def print_comparison(comparison, threads):
    """The plugin/LAMMPS table and the first-frame energy check; raises EnergyMismatch."""
    print(f"\nLAMMPS (pair_style deepmd) rows: the same models on the same coordinates, {threads} thread(s) "
          "in both engines; their speedup, ideal and efficiency are against LAMMPS accurate-only.")
    print("| model / scheme | plugin steps/s | LAMMPS steps/s | plugin/LAMMPS | "
          "first-frame energy, plugin (kJ/mol) | LAMMPS (kJ/mol) | relative difference |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, plugin_sps, lammps_sps, ratio, plugin_e, lammps_e, rel, _ in comparison:
        print(f"| {name} | {plugin_sps:.2f} | {lammps_sps:.2f} | {ratio:.2f}x | {plugin_e:.10f} | "
              f"{lammps_e:.10f} | {rel:.1e} |")
    bad = [(name, rel, tol) for name, *_, rel, tol in comparison if rel > tol]
    worst = max(rel for *_, rel, _ in comparison)
    print(f"first-frame energy check, plugin vs LAMMPS: largest relative difference {worst:.1e} "
          f"(tolerance {ENERGY_TOLERANCE['float64']:g} for float64 models, "
          f"{ENERGY_TOLERANCE['float32']:g} with a float32 model): {'FAILED' if bad else 'ok'}")
    sys.stdout.flush()
    if bad:
        raise EnergyMismatch("plugin and LAMMPS first-frame energies differ: " + ", ".join(
            f"{name} {rel:.1e} > {tol:g}" for name, rel, tol in bad))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="switchingdp-bench", description=__doc__, formatter_class=HelpFormatter)
    parser.add_argument("--accurate", default=bundled.ACCURATE_MODEL, help="accurate model (.pth)")
    parser.add_argument("--fast", default=bundled.FAST_MODEL, help="fast model (.pth)")
    parser.add_argument("--pdb", default=bundled.WATER_PDB, help="structure; its CRYST1 record sets the box")
    parser.add_argument("--replicate", type=int, nargs="+", default=[1, 2],
                        help="tile the PDB box n x n x n times; one table per value")
    parser.add_argument("--interval", type=int, default=4, help="alternation: accurate on 1 step in this many")
    parser.add_argument("--inner-steps", type=int, default=4, help="rRESPA: inner steps per outer step")
    parser.add_argument("--timestep", type=float, default=0.5, help="inner time step, fs")
    parser.add_argument("--steps", type=int, default=200, help="timed inner steps per run at the smallest size")
    parser.add_argument("--warmup", type=int, default=8, help="untimed steps per run before timing")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds; the median is kept")
    parser.add_argument("--platform", default="CPU", help="OpenMM platform")
    parser.add_argument("--other-fast", nargs="+", default=[], metavar="MODEL",
                        help="more fast models to compare (e.g. a compressed float32 one)")
    parser.add_argument("--residual", metavar="MODEL",
                        help="also time rRESPA with this residual model co-trained with --fast (Fu et al.)")
    parser.add_argument("--no-thread-scaling", dest="thread_scaling", action="store_false",
                        help="skip the table of each model at 1 thread against all threads")
    parser.add_argument("--no-baseline", dest="baseline", action="store_false",
                        help="skip the PythonForce + DeepPot baseline (it needs deepmd-kit)")
    parser.add_argument("--lammps", action="store_true",
                        help="also time accurate-only, fast-only and rRESPA in LAMMPS (pair_style deepmd) "
                             "and compare speeds and first-frame energies; implies --threads 1 unless given")
    add_threads_option(parser, note="; with --lammps: 1 unless given, LAMMPS on as many")
    args = parser.parse_args(argv)
    if min(args.interval, args.inner_steps, args.steps, args.rounds, *args.replicate) < 1:
        parser.error("--interval, --inner-steps, --steps, --rounds and --replicate must be at least 1")
    if args.lammps:
        reason = lammps.unavailable_reason()
        if reason:
            parser.error(f"--lammps: {reason}")
        if args.threads is None:
            args.threads = 1   # LAMMPS runs one thread: the fair comparison
    apply_threads(parser, args.threads)

    runs = standard_schemes(args.accurate, args.fast, args.interval, args.inner_steps, args.timestep, args.baseline,
                            args.other_fast, args.residual)
    results = []
    for copies in args.replicate:
        structure = Structure.from_pdb(args.pdb, copies)
        steps, r, rows, comparison = measure(runs, structure, args.platform, max(4 * args.inner_steps,
                                                                                 args.steps // copies**3),
                                             args.rounds, args.warmup, args.threads, args.lammps)
        atoms = len(structure.positions)
        results.append((atoms, rows) if comparison is None else (atoms, rows, comparison))
        threads = f", {args.threads} thread(s)" if args.threads else ""
        print(f"\n{atoms} atoms on {args.platform}{threads}, {steps} timed inner steps per scheme in {args.rounds} "
              f"interleaved rounds (median), t_fast/t_accurate = {r:.2f}")
        print(markdown_rows(rows))
        sys.stdout.flush()
        if comparison is not None:
            print_comparison(comparison, args.threads)
        import torch
        if args.thread_scaling and args.platform != "CUDA" and (args.threads or torch.get_num_threads()) > 1:
            models = list(dict.fromkeys([args.accurate, args.fast, *args.other_fast] +
                                        ([args.residual] if args.residual else [])))
            table, many = thread_scaling(models, structure, args.platform, max(8, args.steps // copies**3),
                                         args.rounds, args.warmup, args.threads)
            print_thread_scaling(table, many)
    return results


def command(argv=None):
    """The console script: main() returns its results for Python callers, which the
    script must not hand to sys.exit (that prints them and exits with status 1)."""
    try:
        main(argv)
    except EnergyMismatch as error:
        print(f"switchingdp-bench: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    command()
