"""switchingdp-md: molecular dynamics with a SwitchingDPForce.

With no arguments it runs 2000 steps (1 ps) of the bundled water (64 H2O) at 330 K
with the bundled 6 A (accurate) and 4 A (fast) models in the 1:3 scheme.

--timestep is the inner step in every mode and every tool: the step the fast model
advances the system by (in alternation and --mode single, the only step).

--mode mts runs multiple time steps (SwitchingDPForce.MultipleTimeStep), integrated
as rRESPA (MTSLangevinIntegrator): the fast model every --timestep, the slow term
(accurate - fast, or --slow-term residual for a co-trained residual model given as
--accurate) every outer step of --timestep x --inner-steps; --steps counts outer
steps.  NOTE: before this release --timestep was the outer step with --mode mts;
the run prints both steps at start.

--mode single runs the --accurate model alone (plain DP MD, one model loaded).
--frame-parameters gives models that take frame parameters (deepmd-kit's fparam) their values.

--guard THRESHOLD watches the fast model: on every --deviation-check-interval-th
accurate step the fast model also runs, and when its forces deviate from the
accurate model's by more than THRESHOLD eV/A on some atom, the run falls back to the
accurate model until the deviation is back under it for a whole interval (or for
--fallback-steps steps).  --deviation-limit stops the run above a larger deviation.
--deviation-log FILE writes every check (CSV; also without --guard).

Every 10 steps (each progress update) the run checks the instantaneous temperature
from the velocities: above MAX_TEMPERATURE_FACTOR (3) times --temperature, or not
finite, the run has blown up (too long a --timestep, or a model that fails on this
structure) and stops with exit status 1, as does a non-finite potential energy at
the end.  A structure far from equilibrium at a low --temperature can cross the
bound while it relaxes: --minimize first.  The summary reports the mean of these
temperatures and the potential energy at the end.

Errors are one line on stderr with exit status 1 (2 for wrong arguments); --debug
shows the full traceback.
"""
import argparse
import os
import sys

from ... import bundled, defaults
from ..md import (MAX_TEMPERATURE_FACTOR, MODES, RunFailed, describe, first_line, options_from,
                  reported_as_one_line, run)
from .common import (MTS_NOTE, TIMESTEP_HELP, HelpFormatter, add_threads_option, apply_threads, check_platform,
                     timestep_line)

__all__ = ["main", "build_parser", "check_arguments", "reported_as_one_line", "first_line", "PROG",
           "MAX_TEMPERATURE_FACTOR", "RunFailed", "IGNORED_BY_MODE"]

PROG = "switchingdp-md"
# The options each mode ignores.  The parser keeps None for them, so that an option
# given to a mode that ignores it can be refused (check_arguments).
IGNORED_BY_MODE = {"single": ("fast", "interval", "phase", "inner_steps", "slow_term"),
                   "alternating": ("inner_steps", "slow_term"),
                   defaults.MTS_MODE: ("interval", "phase")}
MODE_DEFAULTS = {"interval": defaults.INTERVAL, "phase": defaults.PHASE, "inner_steps": defaults.INNER_STEPS,
                 "slow_term": defaults.SLOW_TERM}


class _Mode(argparse.Action):
    """--mode, refusing the names the multiple-time-step mode had elsewhere with a clear message."""

    def __call__(self, parser, namespace, value, option_string=None):
        if value.lower() in defaults.OLD_MTS_SPELLINGS:
            parser.error(f"--mode: the multiple-time-step mode is spelled '{defaults.MTS_MODE}' (got {value!r})")
        if value not in MODES:
            parser.error(f"argument --mode: invalid choice: {value!r} (choose from {', '.join(map(repr, MODES))})")
        setattr(namespace, self.dest, value)


def build_parser():
    """The argument parser of switchingdp-md."""
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__, formatter_class=HelpFormatter)
    parser.add_argument("--accurate", help="accurate model (.pth; default: the bundled 6 A water model, or with "
                                           "--slow-term residual the residual co-trained with the bundled fast model)")
    parser.add_argument("--fast", help="fast model (.pth; default: the bundled 4 A water model distilled from the 6 A one)")
    parser.add_argument("--pdb", default=bundled.WATER_PDB, help="structure; its CRYST1 record sets the box")
    parser.add_argument("--types", nargs="+", help="DP type per atom (default: element symbols from the PDB)")
    parser.add_argument("--temperature", type=float, default=defaults.TEMPERATURE, help="K")
    parser.add_argument("--friction", type=float, default=defaults.FRICTION, help="Langevin friction, 1/ps")
    parser.add_argument("--timestep", type=float, default=defaults.TIMESTEP_FS, help=TIMESTEP_HELP)
    parser.add_argument("--steps", type=int, default=2000, help="MD steps (outer steps with --mode mts)")
    parser.add_argument("--interval", type=int, help="alternating: accurate on one step in this many (4: the 1:3 "
                                                     f"scheme; default: {defaults.INTERVAL})")
    parser.add_argument("--phase", type=int, help=f"alternating: step offset of the accurate steps "
                                                  f"(default: {defaults.PHASE})")
    parser.add_argument("--mode", action=_Mode, metavar="{" + ",".join(MODES) + "}", default=defaults.MODE,
                        help=f"single: the --accurate model alone; {MTS_NOTE}")
    parser.add_argument("--frame-parameters", type=float, nargs="+", default=[], metavar="VALUE",
                        help="fparam values for models with dim_fparam > 0")
    parser.add_argument("--inner-steps", type=int, help=f"mts: fast-model steps per outer step "
                                                        f"(default: {defaults.INNER_STEPS})")
    parser.add_argument("--slow-term", choices=["difference", "residual"],
                        help="mts: slow group = accurate - fast, or the --accurate model as a co-trained residual "
                             f"(default: {defaults.SLOW_TERM})")
    parser.add_argument("--platform", default=defaults.PLATFORM, help="OpenMM platform (Reference, CPU, CUDA, OpenCL)")
    add_threads_option(parser)
    parser.add_argument("--minimize", action="store_true", help="minimise the energy first")
    parser.add_argument("--seed", type=int, default=defaults.SEED, help="seed for velocities and the thermostat")
    parser.add_argument("--trajectory", default="trajectory.dcd", help=".dcd or .pdb; empty for none")
    parser.add_argument("--log", default="md.log", help="energies, temperature and speed (CSV); empty for none")
    parser.add_argument("--report-interval", type=int, default=100, help="steps between trajectory frames and log lines")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (it goes to stderr)")
    parser.add_argument("--debug", action="store_true", help="on an error, Python's full traceback instead of one line")
    parser.add_argument("--guard", type=float, nargs="?", const=defaults.GUARD, metavar="THRESHOLD",
                        help=f"eV/A: fall back to the accurate model above it (alone: {defaults.GUARD:g}, "
                             "chosen on the bundled water; see the README)")
    parser.add_argument("--deviation-check-interval", type=int, default=defaults.DEVIATION_CHECK_INTERVAL,
                        metavar="K", help="check the deviation on every K-th accurate step (with --guard or "
                                          "--deviation-log)")
    parser.add_argument("--fallback-steps", type=int, default=defaults.FALLBACK_STEPS,
                        help="steps of a fallback (0: until clean for a whole interval)")
    parser.add_argument("--deviation-limit", type=float, metavar="X", help="eV/A: stop the run above it")
    parser.add_argument("--deviation-log", metavar="FILE", help="CSV of every deviation check")
    return parser


def check_output_folder(parser, option, path):
    """Refuse an output file in a folder that is not there (or not writable) before the
    run: OpenMM's reporters would fail only once the System is built."""
    folder = os.path.dirname(path) or os.curdir
    if not os.path.isdir(folder):
        parser.error(f"{option}: folder does not exist: {folder}")
    if not os.access(folder, os.W_OK):
        parser.error(f"{option}: folder is not writable: {folder}")


def check_arguments(parser, args):
    """Refuse wrong or ignored arguments (``parser.error``) and fill in the defaults of
    the options only some modes use."""
    ignored = [name for name in IGNORED_BY_MODE[args.mode] if getattr(args, name) is not None]
    if ignored:
        parser.error(f"--mode {args.mode} ignores " + ", ".join("--" + name.replace("_", "-") for name in ignored))
    for name, default in MODE_DEFAULTS.items():
        if getattr(args, name) is None:
            setattr(args, name, default)
    # A residual is only meaningful with the fast model it was co-trained with, and the
    # accurate model is no residual: never pair the bundled one with another's.
    residual = args.mode == defaults.MTS_MODE and args.slow_term == "residual"
    if residual and (args.accurate is None) != (args.fast is None):
        parser.error("--slow-term residual: give both --accurate (the residual) and --fast (the model it was "
                     "co-trained with), or neither for the bundled pair")
    if args.accurate is None:
        args.accurate = bundled.RESIDUAL_MODEL if residual else bundled.ACCURATE_MODEL
    if args.fast is None:
        args.fast = bundled.FAST_MODEL
    for name in ("accurate", "pdb") if args.mode == "single" else ("accurate", "fast", "pdb"):
        if not os.path.exists(getattr(args, name)):
            parser.error(f"--{name}: file not found: {getattr(args, name)}")
    for name in ("steps", "interval", "report_interval", "inner_steps"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    for name in ("temperature", "timestep"):
        if not getattr(args, name) > 0:
            parser.error(f"--{name} must be positive")
    if args.friction < 0 or args.phase < 0:
        parser.error("--friction and --phase must not be negative")
    if args.trajectory and not args.trajectory.endswith((".dcd", ".pdb")):
        parser.error("--trajectory must end in .dcd or .pdb")
    watching = args.guard is not None or args.deviation_limit is not None or args.deviation_log
    if watching and args.mode == "single":
        parser.error("--guard, --deviation-limit and --deviation-log need two models (not --mode single)")
    if args.guard is not None and args.mode != "alternating":
        parser.error("--guard falls back to accurate-only steps, which is for --mode alternating "
                     f"(with --mode {defaults.MTS_MODE} use --deviation-limit or --deviation-log)")
    for name in ("guard", "deviation_limit"):
        if getattr(args, name) is not None and not getattr(args, name) > 0:
            parser.error(f"--{name.replace('_', '-')} must be positive (eV/A)")
    if args.deviation_check_interval < 1 or args.fallback_steps < 0:
        parser.error("--deviation-check-interval must be at least 1 and --fallback-steps not negative")
    for option in ("trajectory", "log", "deviation_log"):
        if getattr(args, option):
            check_output_folder(parser, "--" + option.replace("_", "-"), getattr(args, option))
    check_platform(parser, args.platform)


def _run(args):
    import numpy as np
    options = options_from(argparse.Namespace(**vars(args), timestep_fs=args.timestep,
                                              progress=not args.no_progress))
    if options.mode == defaults.MTS_MODE:
        print(timestep_line(options.timestep_fs, options.inner_steps), flush=True)
    import openmm.app as app
    atoms = app.PDBFile(options.pdb).topology.getNumAtoms()
    print(f"{atoms} atoms, {describe(options)}", flush=True)
    result = run(options)
    print(f"model evaluations: {result.accurate_evaluations} accurate, {result.fast_evaluations} fast")
    print(f"speed: {result.ns_per_day:.3f} ns/day, {result.steps_per_second:.2f} steps/s")
    samples = f"{len(result.temperatures)} sample" + ("s" if len(result.temperatures) > 1 else "")
    print(f"mean temperature: {np.mean(result.temperatures):.1f} K over {samples}; "
          f"potential energy at the end: {result.final_energy:.1f} kJ/mol")
    if result.warning:
        print(f"warning: {result.warning}")
    return 0


def main(argv=None):
    """switchingdp-md; returns the exit status (0, or 1 after an error, which it prints
    as one line unless --debug).  Wrong arguments exit with status 2 (argparse)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    check_arguments(parser, args)
    apply_threads(parser, args.threads)
    try:
        return _run(args)
    except KeyboardInterrupt:
        if args.debug:
            raise
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if args.debug or not reported_as_one_line(error):
            raise
        print(f"{PROG}: error: {first_line(error)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
