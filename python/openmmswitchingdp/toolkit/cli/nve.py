"""The NVE table on the command line: energy conservation of the full model and of
rRESPA at each --outer step (see :mod:`openmmswitchingdp.toolkit.nve`).

    python -m openmmswitchingdp.toolkit.cli.nve --outer 1 2 4 --duration 5

--timestep is the inner step, as in every tool; each --outer step must be a multiple
of it.  (--inner, its name before, is still accepted, with a note.)
"""
import argparse

from ... import bundled, defaults
from ..nve import markdown, table
from .common import TIMESTEP_HELP, HelpFormatter

__all__ = ["main", "build_parser"]


def build_parser():
    """The argument parser of the NVE table."""
    parser = argparse.ArgumentParser(prog="python -m openmmswitchingdp.toolkit.cli.nve", description=__doc__,
                                     formatter_class=HelpFormatter)
    parser.add_argument("--accurate", default=bundled.ACCURATE_MODEL, help="accurate model (.pth)")
    parser.add_argument("--fast", default=bundled.FAST_MODEL, help="fast model (.pth)")
    parser.add_argument("--pdb", default=bundled.WATER_PDB, help="structure; its CRYST1 record sets the box")
    parser.add_argument("--outer", type=float, nargs="+", default=[1.0, 2.0, 4.0], help="rRESPA outer steps, fs")
    parser.add_argument("--timestep", type=float, default=defaults.TIMESTEP_FS, help=TIMESTEP_HELP)
    parser.add_argument("--inner", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--duration", type=float, default=5.0, help="ps per run")
    parser.add_argument("--equilibration", type=float, default=defaults.EQUILIBRATION_PS,
                        help="ps of Langevin NVT first")
    parser.add_argument("--temperature", type=float, default=defaults.TEMPERATURE, help="K, of the equilibration")
    parser.add_argument("--residual", action="store_true", help="--accurate is a co-trained residual model")
    parser.add_argument("--alternating", type=int, metavar="N",
                        help="also run alternation (accurate on 1 step in N) under velocity Verlet")
    parser.add_argument("--platform", default=defaults.PLATFORM, help="OpenMM platform")
    return parser


def main(argv=None):
    """Print the NVE table; returns its rows."""
    args = build_parser().parse_args(argv)
    if args.inner is not None:
        print(f"note: --inner is now spelled --timestep (the inner step in every tool); using {args.inner:g} fs")
        args.timestep = args.inner
    rows = table(args.accurate, args.fast, args.pdb, args.outer, args.timestep, args.duration,
                 temperature=args.temperature, equilibration_ps=args.equilibration, platform=args.platform,
                 residual=args.residual, progress=lambda label: print(f"done: {label}", flush=True),
                 alternating=args.alternating)
    print(f"\nNVE, {args.duration} ps per run after {args.equilibration} ps at {args.temperature:g} K; "
          f"slow term: {'residual' if args.residual else 'accurate - fast'}")
    print(markdown(rows))
    return rows


if __name__ == "__main__":
    main()
