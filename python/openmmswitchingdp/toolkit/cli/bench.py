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

--timestep is the inner step, as in every tool: rRESPA ("rRESPA outer/inner fs" in
the table) runs its slow term every --timestep x --inner-steps fs.

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
import sys

from ... import defaults
from .. import lammps
from ..bench import EnergyMismatch, markdown_rows, measure, print_comparison, print_thread_scaling, thread_scaling
from ..schemes import Structure, standard_schemes
from .common import (HelpFormatter, add_pair_options, add_schedule_options, add_threads_option, apply_threads,
                     timestep_line)

__all__ = ["main", "command", "build_parser"]


def build_parser():
    """The argument parser of switchingdp-bench."""
    parser = argparse.ArgumentParser(prog="switchingdp-bench", description=__doc__, formatter_class=HelpFormatter)
    add_pair_options(parser)
    parser.add_argument("--replicate", type=int, nargs="+", default=[1, 2],
                        help="tile the PDB box n x n x n times; one table per value")
    add_schedule_options(parser)
    parser.add_argument("--steps", type=int, default=200, help="timed inner steps per run at the smallest size")
    parser.add_argument("--warmup", type=int, default=8, help="untimed steps per run before timing")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds; the median is kept")
    parser.add_argument("--platform", default=defaults.PLATFORM, help="OpenMM platform")
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
    return parser


def main(argv=None):
    """switchingdp-bench; returns a :class:`~openmmswitchingdp.toolkit.bench.BenchResult`
    per --replicate value (raises EnergyMismatch when LAMMPS disagrees)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if min(args.interval, args.inner_steps, args.steps, args.rounds, *args.replicate) < 1:
        parser.error("--interval, --inner-steps, --steps, --rounds and --replicate must be at least 1")
    if not args.timestep > 0:
        parser.error("--timestep must be positive")
    if args.lammps:
        reason = lammps.unavailable_reason()
        if reason:
            parser.error(f"--lammps: {reason}")
        if args.threads is None:
            args.threads = 1   # LAMMPS runs one thread: the fair comparison
    apply_threads(parser, args.threads)

    runs = standard_schemes(args.accurate, args.fast, args.interval, args.inner_steps, args.timestep, args.baseline,
                            args.other_fast, args.residual)
    print(timestep_line(args.timestep, args.inner_steps))
    results = []
    for copies in args.replicate:
        structure = Structure.from_pdb(args.pdb, copies)
        result = measure(runs, structure, args.platform, max(4 * args.inner_steps, args.steps // copies**3),
                         args.rounds, args.warmup, args.threads, args.lammps)
        results.append(result)
        threads = f", {args.threads} thread(s)" if args.threads else ""
        print(f"\n{result.atoms} atoms on {args.platform}{threads}, {result.steps} timed inner steps per scheme in "
              f"{args.rounds} interleaved rounds (median), t_fast/t_accurate = {result.fast_ratio:.2f}")
        print(markdown_rows(result.rows))
        sys.stdout.flush()
        if result.comparison is not None:
            print_comparison(result.comparison, args.threads)
        import torch
        if args.thread_scaling and args.platform != "CUDA" and (args.threads or torch.get_num_threads()) > 1:
            models = list(dict.fromkeys([args.accurate, args.fast, *args.other_fast] +
                                        ([args.residual] if args.residual else [])))
            print_thread_scaling(thread_scaling(models, structure, args.platform, max(8, args.steps // copies**3),
                                                args.rounds, args.warmup, args.threads))
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
    sys.exit(command())
