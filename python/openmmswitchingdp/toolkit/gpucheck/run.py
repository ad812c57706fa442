"""The whole GPU check: every part asked for, each a summary line and tables, then
the summary (see :mod:`openmmswitchingdp.toolkit.gpucheck`)."""
import dataclasses
import json
import os
import sys
import traceback
from dataclasses import dataclass, field

from ... import bundled
from . import common, summary
from . import engines as engines_part
from . import families as families_part
from . import pairings as pairings_part
from . import replays as replays_part
from . import timing as timing_part
from .common import (DEFAULT_BUDGET_S, FAILED, PARTS, SKIPPED, TIMING_MODELS, TIMING_SIZES, BENCH_SIZES, Check,
                     atoms_for, copies_for, find_root, repository_models, select, short_error, water_dir)
from .contexts import precision_properties

__all__ = ["GpuCheckOptions", "run_check"]


@dataclass
class GpuCheckOptions:
    """What :func:`run_check` runs (the command line's options, see
    :mod:`openmmswitchingdp.toolkit.cli.gpucheck`).  ``copies``: copies per box edge for
    timing and bench (None: their default sizes); ``budgets``: seconds per part."""
    parts: list = field(default_factory=lambda: list(PARTS))
    copies: list = None
    out: str = None
    platform: str = "CUDA"
    reference: str = "Reference"
    precision: list = field(default_factory=lambda: ["mixed"])
    root: str = None
    pdb: str = None
    models: list = None
    pairings: list = field(default_factory=lambda: list(pairings_part.PAIRINGS))
    repeats: int = 10
    variants: list = field(default_factory=lambda: ["default", "eager", "torchscript"])
    warmup: int = 3
    max_eval_s: float = 1.0
    bench_steps: int = 120
    bench_rounds: int = 3
    bench_warmup: int = 8
    deadline_s: float = None
    budgets: dict = field(default_factory=lambda: dict(DEFAULT_BUDGET_S))


def _json_value(value):
    return dataclasses.asdict(value) if dataclasses.is_dataclass(value) else str(value)


def run_check(args):
    """Run the parts of `args` (a :class:`GpuCheckOptions`), print each table and the
    summary (and write them to ``args.out``); returns the exit status: 0 when every
    check passed, 1 when one failed, 2 when the platform cannot run here."""
    common.set_deadline(args.deadline_s)
    out = args.out
    if out:
        os.makedirs(out, exist_ok=True)

    def say(text=""):
        print(text, flush=True)

    def write(name, text):
        if out:
            with open(os.path.join(out, name), "w") as f:
                f.write(text.rstrip("\n") + "\n")

    problem = summary.platform_problem(args.platform)
    if problem:
        message = f"gpucheck: {args.platform} is not available: {problem}; nothing was run"
        print(message, file=sys.stderr, flush=True)
        write("summary.md", message)
        return 2
    root = os.path.abspath(args.root) if args.root else find_root()
    folder = water_dir(root)
    pdb = args.pdb or (os.path.join(folder, "water.pdb") if root else bundled.WATER_PDB)
    precision = args.precision[0]
    header = summary.machine_line(args.platform) + (f", {precision} precision" if precision_properties(args.platform, precision)
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
        rows, known = families_part.check_families(models, root, pdb, args.platform, args.reference, args.precision,
                                     args.budgets["families"], part_say)
        results["families"] = rows
        return families_part.families_check(rows, args.platform, args.reference)

    def replays(part_say):
        rows = replays_part.check_replays(folder, pdb, args.platform, args.reference, part_say)
        results["replays"] = rows
        return replays_part.replays_check(rows, args.platform, args.reference)

    def timing(part_say):
        timing_models = [m for m in (os.path.join(folder, name) for name in TIMING_MODELS) if os.path.exists(m)]
        copies = args.copies or [copies_for(s) for s in TIMING_SIZES]
        rows, failed = timing_part.time_models(select(timing_models, args.models), root, pdb, copies, args.platform, precision,
                                   args.repeats, args.warmup, args.max_eval_s, args.budgets["timing"], part_say,
                                   variants=args.variants)
        atoms_list = [atoms_for(c) for c in copies]
        table = "\n".join(["| model | " + " | ".join(f"{a:,}" for a in atoms_list) + " |",
                           "|---|" + "---:|" * len(atoms_list)] + [timing_part.timing_line(row, atoms_list) for row in rows])
        tables.append((f"One evaluation on {args.platform}, ms (median):", table))
        results["timing"] = [(name, {str(k): v for k, v in r.items()}) for name, r in rows]
        return timing_part.timing_check(rows, failed, args.platform)

    def engine(part_say):
        rows = engines_part.model_engines(models, root, part_say)
        if rows is None:
            return Check("model engines", SKIPPED, "SwitchingDPForce has no getModelEngine in this build")
        results["engine"] = rows
        return engines_part.engine_check(rows)

    def bench(part_say):
        copies = args.copies or [copies_for(s) for s in BENCH_SIZES]
        entries = pairings_part.run_bench({name: pairings_part.PAIRINGS[name] for name in args.pairings}, folder, pdb, copies, args.platform,
                            precision, args.bench_steps, args.bench_rounds, args.bench_warmup,
                            args.budgets["bench"], known, part_say)
        tables.append((f"Bench on {args.platform}: steps/s (speedup in ns/day over accurate-only):",
                       pairings_part.bench_table(entries)))
        results["bench"] = entries
        return pairings_part.bench_check(entries, args.platform)

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
    text = summary.format_summary(header, checks, tables)
    say()
    say(text)
    write("summary.md", text)
    results["checks"] = [dataclasses.asdict(c) for c in checks]
    if out:
        with open(os.path.join(out, "results.json"), "w") as f:
            json.dump(results, f, indent=1, default=_json_value)
    return summary.exit_status(checks)

