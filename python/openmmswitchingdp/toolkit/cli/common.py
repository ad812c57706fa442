"""What the command-line tools share: the help format, the ``--threads`` option,
the platform check and the exit-code wrapper of a console script."""
import argparse

from ... import bundled, defaults
from ..schemes import limit_threads, platform_names

__all__ = ["HelpFormatter", "THREADS_HELP", "add_threads_option", "apply_threads", "platform_names",
           "check_platform", "check_files", "TIMESTEP_HELP", "MTS_NOTE", "timestep_line", "add_pair_options",
           "add_schedule_options"]

THREADS_HELP = ("CPU threads of the models (torch) and of OpenMM's CPU platform "
                "(default: one per core (torch's and OpenMM's default; measured fastest))")
#: The one meaning of ``--timestep`` in every tool.
TIMESTEP_HELP = ("inner time step, fs: the step the fast model advances by (in alternation and with one model, "
                 "the only step); an rRESPA (--mode mts) outer step is --timestep x --inner-steps")
#: What every tool's help says about the multiple-time-step mode's name.
MTS_NOTE = "mts: multiple time steps (SwitchingDPForce.MultipleTimeStep), integrated as rRESPA"


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """The tools' ``--help``: the description as written, and each option's default,
    except where there is none to show (None, an empty list, a flag's False/True)."""

    def _get_help_string(self, action):
        default = action.default
        if default is None or isinstance(default, bool) or default == []:
            return action.help
        return super()._get_help_string(action)


def add_pair_options(parser):
    """--accurate, --fast and --pdb, the bundled pair and water by default, and
    --other-fast (more fast models to compare)."""
    parser.add_argument("--accurate", default=bundled.ACCURATE_MODEL, help="accurate model (.pth)")
    parser.add_argument("--fast", default=bundled.FAST_MODEL, help="fast model (.pth)")
    parser.add_argument("--pdb", default=bundled.WATER_PDB, help="structure; its CRYST1 record sets the box")
    parser.add_argument("--other-fast", nargs="+", default=[], metavar="MODEL",
                        help="more fast models to compare (e.g. a compressed float32 one)")


def add_schedule_options(parser):
    """--timestep (the inner step), --interval (alternation) and --inner-steps (rRESPA),
    with one meaning in every tool."""
    parser.add_argument("--timestep", type=float, default=defaults.TIMESTEP_FS, help=TIMESTEP_HELP)
    parser.add_argument("--interval", type=int, default=defaults.INTERVAL,
                        help="alternation: accurate on 1 step in this many")
    parser.add_argument("--inner-steps", type=int, default=defaults.INNER_STEPS,
                        help="rRESPA (mts): inner steps per outer step")


def add_threads_option(parser, note=""):
    """The ``--threads`` option every command-line tool shares (`note`: a tool's
    addition to the help).  Apply it with :func:`apply_threads`."""
    parser.add_argument("--threads", type=int, metavar="N", help=THREADS_HELP + note)


def apply_threads(parser, threads):
    """Refuse a ``--threads`` below 1 (``parser.error``); for a given N run torch on N
    threads and make N the CPU platform's default, so every Context the tool then
    builds on it (its own and those of the library functions it calls) uses N.  None
    leaves both libraries' defaults (one thread per core)."""
    if threads is None:
        return
    if threads < 1:
        parser.error(f"--threads must be at least 1 (got {threads})")
    import openmm as mm
    limit_threads(threads)
    if "CPU" in platform_names():   # an OpenMM built without it has only the models' threads to set
        mm.Platform.getPlatformByName("CPU").setPropertyDefaultValue("Threads", str(threads))


def check_platform(parser, platform):
    """``parser.error`` unless OpenMM has a platform named `platform` here."""
    available = platform_names()
    if platform not in available:
        parser.error(f"--platform: no OpenMM platform {platform!r} here; available: {', '.join(available)}")


def check_files(parser, args, names):
    """``parser.error`` for the first of the options `names` (attribute names of
    `args`) whose file does not exist."""
    import os
    for name in names:
        if not os.path.exists(getattr(args, name)):
            parser.error(f"--{name}: file not found: {getattr(args, name)}")


def timestep_line(timestep_fs, inner_steps):
    """The line every tool prints at start for rRESPA: both steps, so nobody is surprised."""
    return (f"rRESPA (--mode mts): inner step {timestep_fs:g} fs (--timestep, the fast model), outer step "
            f"{timestep_fs * inner_steps:g} fs ({inner_steps} inner steps, the slow term)")
