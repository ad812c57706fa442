"""The GPU check's command line (see HELP)."""

# torch before openmm and our libraries: the order torch expects (see openmmswitchingdp/__init__.py).
import torch  # noqa: F401  (first, on purpose)

import argparse
import dataclasses
import sys
import textwrap

from ..gpucheck.common import BENCH_SIZES, DEFAULT_BUDGET_S, PARTS, TIMING_SIZES, copies_for
from ..gpucheck.contexts import VARIANTS
from ..gpucheck.pairings import PAIRINGS
from ..gpucheck.run import GpuCheckOptions, run_check
from .common import HelpFormatter

__all__ = ["main", "parse_args"]

HELP = """What a GPU machine needs checked, through the public API only (SwitchingDPForce
built as every tool builds it, OpenMM Contexts), run by scripts/gpu-check.sh after
the CUDA C++ test:

    python -m openmmswitchingdp.toolkit.cli.gpucheck [--parts families timing bench engine]
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
bench     the bench's schemes (openmmswitchingdp.toolkit.bench.measure: accurate-only,
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
__doc__ = ("The GPU check's command line (run by scripts/gpu-check.sh); the library is\n"
           ":mod:`openmmswitchingdp.toolkit.gpucheck`.\n\nIts help::\n\n" + textwrap.indent(HELP, "    "))



def parse_args(argv):
    """The parsed arguments, with ``copies`` (per --sizes value) and ``budgets`` (per part) added."""
    parser = argparse.ArgumentParser(prog="python -m openmmswitchingdp.toolkit.cli.gpucheck", description=HELP,
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
    """The GPU check; returns the exit status (0 passed, 1 a check failed, 2 the platform cannot run here)."""
    args = parse_args(argv)
    names = {f.name for f in dataclasses.fields(GpuCheckOptions)}
    return run_check(GpuCheckOptions(**{k: v for k, v in vars(args).items() if k in names}))


if __name__ == "__main__":
    sys.exit(main())
