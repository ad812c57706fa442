"""Does switching keep the accurate model's structure and dynamics?

Runs the same system in NVT (Langevin, same temperature, friction, seeds and
simulated time) with the accurate model alone, the fast model alone, alternation
(1 accurate step in --interval) and rRESPA (outer step = --inner-steps inner steps),
and reports for each, against accurate-only:

- the Pearson correlation of the radial distribution function of every element
  pair (the metric of Kanda et al. 2025, Table 1), computed with MDTraj;
- the diffusion coefficient of every element from the mean-squared displacement;
- the mean potential energy of the sampled frames under the accurate model, and
  the mean temperature;
- the speed of each run (steps/s, ns/day).

It writes rdf.png, msd.png, energy.png (the potential energy the force reports
step by step, which shows the switching cycle), deviation.png and results.json to
--out.  --timestep is the inner step, as in every tool (rRESPA, "rRESPA outer/inner
fs", runs its slow term every --timestep x --inner-steps fs).  The library,
openmmswitchingdp.toolkit.validate, runs the schemes; analysis computes the comparison and
plots draws it.

    switchingdp-validate --time 10 --out results/validate
"""
import argparse

from ... import defaults
from .. import analysis
from ..validate import ValidateOptions, validate
from .common import (HelpFormatter, add_pair_options, add_schedule_options, add_threads_option, apply_threads,
                     check_files, timestep_line)

__all__ = ["main", "command", "build_parser"]


def build_parser():
    """The argument parser of switchingdp-validate."""
    parser = argparse.ArgumentParser(prog="switchingdp-validate", description=__doc__, formatter_class=HelpFormatter)
    add_pair_options(parser)
    parser.add_argument("--replicate", type=int, default=1, help="tile the PDB box n x n x n times")
    parser.add_argument("--time", type=float, default=10.0, help="ps of sampled NVT per scheme")
    parser.add_argument("--equilibration", type=float, default=defaults.EQUILIBRATION_PS,
                        help="ps of accurate-only NVT from the PDB; every scheme starts from its end state")
    parser.add_argument("--scheme-equilibration", type=float, default=defaults.SCHEME_EQUILIBRATION_PS,
                        help="ps each scheme then runs under its own dynamics before sampling")
    parser.add_argument("--temperature", type=float, default=defaults.TEMPERATURE, help="K")
    add_schedule_options(parser)
    parser.add_argument("--sample-interval", type=float, default=defaults.SAMPLE_INTERVAL_FS,
                        help="fs between sampled frames")
    parser.add_argument("--guard", type=float, nargs="?", const=defaults.GUARD, metavar="THRESHOLD",
                        help="also run guarded alternation with this deviation threshold "
                             f"(eV/A; alone: {defaults.GUARD:g})")
    parser.add_argument("--platform", default=defaults.PLATFORM, help="OpenMM platform")
    add_threads_option(parser)
    parser.add_argument("--seed", type=int, default=defaults.SEED, help="seed for velocities and the thermostat")
    parser.add_argument("--out", default="validate", help="folder for plots and results.json")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    return parser


def main(argv=None):
    """switchingdp-validate; returns the :class:`~openmmswitchingdp.toolkit.validate.ValidationResult`."""
    parser = build_parser()
    args = parser.parse_args(argv)
    check_files(parser, args, ("accurate", "fast", "pdb"))
    if min(args.replicate, args.interval, args.inner_steps) < 1:
        parser.error("--replicate, --interval and --inner-steps must be at least 1")
    if not (args.time > 0 and args.timestep > 0 and args.sample_interval > 0 and args.temperature > 0
            and args.equilibration >= 0 and args.scheme_equilibration >= 0):
        parser.error("--time, --timestep, --sample-interval and --temperature must be positive, "
                     "--equilibration and --scheme-equilibration not negative")
    if args.guard is not None and not args.guard > 0:
        parser.error("--guard must be a positive deviation threshold (eV/A)")
    if args.time * 1000 < 20 * args.sample_interval:
        parser.error("--time must cover at least 20 sampled frames for the MSD fit")
    apply_threads(parser, args.threads)   # every Context validate() builds on the CPU platform
    options = ValidateOptions(args.accurate, args.fast, args.pdb, args.replicate, args.time, args.equilibration,
                              args.scheme_equilibration, args.temperature, args.timestep, args.interval,
                              args.inner_steps, args.sample_interval, args.platform, args.seed, out=args.out,
                              progress=not args.no_progress, other_fast=args.other_fast, guard=args.guard)
    print(timestep_line(args.timestep, args.inner_steps), flush=True)
    results = validate(options)
    print(f"\n{results.atoms} atoms, {args.time:g} ps NVT at {args.temperature:g} K per scheme "
          f"(after {args.equilibration:g} ps accurate-only and {args.scheme_equilibration:g} ps its own); "
          "RDF Pearson r against accurate-only")
    print(analysis.markdown_table(results))
    print(f"plots and results.json in {args.out}")
    return results


def command(argv=None):
    """The console script: main() returns its results for Python callers, which the
    script must not hand to sys.exit (that prints them and exits with status 1)."""
    main(argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(command())
