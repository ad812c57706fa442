"""The bench part: switchingdp-bench's schemes for each model pairing (a residual only
with the fast model it was co-trained with)."""
import dataclasses
import os
import time

from ... import defaults
from ..bench import markdown_rows, measure
from ..schemes import standard_schemes
from .common import FAILED, OK, SKIPPED, Budget, Check, atoms_for, short_error, structure
from .contexts import default_precision, energy_forces, model_context, model_parameters

__all__ = ["CO_TRAINED", "Pairing", "PAIRINGS", "check_pairing", "runs_on", "run_bench", "bench_check", "bench_table"]

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
        """Every model file name of the pairing."""
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
    rows (:class:`~openmmswitchingdp.toolkit.bench.SpeedRow`), status, note)."""
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
        runs = standard_schemes(paths[pairing.accurate], paths[pairing.fast], defaults.INTERVAL, defaults.INNER_STEPS,
                                defaults.TIMESTEP_FS, False, other_fast,
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
                    result = measure(runs, structure(pdb, copies), platform, steps, rounds, warmup)
            except Exception as error:   # noqa: BLE001
                entries.append(dict(pairing=name, atoms=atoms, status=FAILED, note=short_error(error)))
                say(f"\nbench, pairing {name}, {atoms:,} atoms: FAILED: {short_error(error)}")
                continue
            last_duration = time.perf_counter() - start
            entries.append(dict(pairing=name, atoms=atoms, r=result.fast_ratio, rows=result.rows, status=OK, note=note))
            say(f"\nbench, pairing {name} ({pairing.accurate} / {pairing.fast}"
                + (f", residual {pairing.residual}" if pairing.residual else "") + f"): {atoms:,} atoms on "
                f"{platform}, {result.steps} timed inner steps per scheme in {rounds} rounds (median), "
                f"t_fast/t_accurate = {result.fast_ratio:.2f}" + (f"; {note}" if note else ""))
            say(markdown_rows(result.rows))
    return entries


def bench_check(entries, platform):
    """The summary line of :func:`run_bench`'s entries."""
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
        for row in e["rows"]:
            cells.setdefault((e["pairing"], row.name), {})[e["atoms"]] = \
                f"{row.steps_per_second:.1f} ({row.speedup:.2f}x)"
    lines = ["| pairing | scheme | " + " | ".join(f"{a:,} atoms" for a in atoms_list) + " |",
             "|---|---|" + "---:|" * len(atoms_list)]
    for (pairing, name), row in cells.items():
        lines.append(f"| {pairing} | {name} | " + " | ".join(row.get(a, "-") for a in atoms_list) + " |")
    return "\n".join(lines)
