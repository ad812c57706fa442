"""The timing part: one evaluation of each model at each size."""
import statistics
import time

import numpy as np
import openmm.unit as u

from .common import FAILED, OK, SKIPPED, Budget, Check, atoms_for, label, short_error, structure
from .contexts import VARIANTS, model_context, precision_properties

__all__ = ["one_evaluation_ms", "time_models", "timing_line", "timing_check"]

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
    """The table line of one :func:`time_models` row."""
    name, results = row
    cells = []
    for atoms in atoms_list:
        value = results.get(atoms, "-")
        cells.append(f"{value:.2f}" if isinstance(value, float) else str(value))
    return f"| {name} | " + " | ".join(cells) + " |"


def timing_check(rows, failed, platform):
    """The summary line of :func:`time_models`' rows."""
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
