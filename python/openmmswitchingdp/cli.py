"""switchingdp-md: molecular dynamics with a SwitchingDPForce.

With no arguments it runs 2000 steps (1 ps) of the bundled water (64 H2O) at 330 K
with the bundled 6 A (accurate) and 4 A (fast) models in the 1:3 scheme.

--mode mts runs rRESPA instead (MTSLangevinIntegrator): --timestep is then the outer
step, at which the slow term (accurate - fast, or --slow-term residual for a
co-trained residual model given as --accurate) is applied; the fast model is applied
--inner-steps times per outer step.

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
import math
import os
import sys
import time

from . import bundled
from .schemes import HelpFormatter, add_threads_option, apply_threads, platform_names

PROG = "switchingdp-md"
STEPS_PER_PROGRESS_UPDATE = 10
# A run whose instantaneous temperature exceeds this times the thermostat's has blown
# up: at 50 fs the bundled pair reaches 30000 K after one step and 1.7e7 K after ten,
# while sound runs stay within a few tens of per cent (the bundled PDB starts at 1.2x).
MAX_TEMPERATURE_FACTOR = 3
# The defaults of the options that only some modes use: the parser keeps None, so that
# an option given to a mode that ignores it can be refused (check_arguments).
DEFAULT_INTERVAL = 4
DEFAULT_PHASE = 0
DEFAULT_INNER_STEPS = 4
DEFAULT_SLOW_TERM = "difference"
# The options each mode ignores.
IGNORED_BY_MODE = {"single": ("fast", "interval", "phase", "inner_steps", "slow_term"),
                   "alternating": ("inner_steps", "slow_term"),
                   "mts": ("interval", "phase")}
# The guard's threshold when --guard is given without one (eV/A): the level at which
# guarding a weak fast model (median deviation 1.64) kept its RDFs (at 1.5 it did not,
# and ran 490 K hot).  The hand-made pair never crossed it (largest 0.80 in 1000
# checks); the bundled distilled pair does on a few per cent of checks (99th
# percentile 1.17), which is enough to make guarded runs hot; see docs/guard/README.md.
DEFAULT_GUARD = 1.0
# Warn when the guard's fallbacks add more than this share of accurate steps to the
# schedule's: at 1 eV/A the distilled pair fell back to 92 % accurate steps and ran
# 100 K hot.
FREQUENT_FALLBACK = 0.05


class RunFailed(Exception):
    """A run that went wrong in a way the user can act on (it blew up)."""


def build_parser():
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__, formatter_class=HelpFormatter)
    parser.add_argument("--accurate", help="accurate model (.pth; default: the bundled 6 A water model, or with "
                                           "--slow-term residual the residual co-trained with the bundled fast model)")
    parser.add_argument("--fast", help="fast model (.pth; default: the bundled 4 A water model distilled from the 6 A one)")
    parser.add_argument("--pdb", default=bundled.WATER_PDB, help="structure; its CRYST1 record sets the box")
    parser.add_argument("--types", nargs="+", help="DP type per atom (default: element symbols from the PDB)")
    parser.add_argument("--temperature", type=float, default=330.0, help="K")
    parser.add_argument("--friction", type=float, default=1.0, help="Langevin friction, 1/ps")
    parser.add_argument("--timestep", type=float, default=0.5, help="fs")
    parser.add_argument("--steps", type=int, default=2000, help="MD steps (outer steps with --mode mts)")
    parser.add_argument("--interval", type=int, help="alternating: accurate on one step in this many (4: the 1:3 "
                                                     f"scheme; default: {DEFAULT_INTERVAL})")
    parser.add_argument("--phase", type=int, help=f"alternating: step offset of the accurate steps "
                                                  f"(default: {DEFAULT_PHASE})")
    parser.add_argument("--mode", choices=["alternating", "mts", "single"], default="alternating",
                        help="single: the --accurate model alone")
    parser.add_argument("--frame-parameters", type=float, nargs="+", default=[], metavar="VALUE",
                        help="fparam values for models with dim_fparam > 0")
    parser.add_argument("--inner-steps", type=int, help=f"mts: fast-model steps per outer step "
                                                        f"(default: {DEFAULT_INNER_STEPS})")
    parser.add_argument("--slow-term", choices=["difference", "residual"],
                        help="mts: slow group = accurate - fast, or the --accurate model as a co-trained residual "
                             f"(default: {DEFAULT_SLOW_TERM})")
    parser.add_argument("--platform", default="CPU", help="OpenMM platform (Reference, CPU, CUDA, OpenCL)")
    add_threads_option(parser)
    parser.add_argument("--minimize", action="store_true", help="minimise the energy first")
    parser.add_argument("--seed", type=int, default=1, help="seed for velocities and the thermostat")
    parser.add_argument("--trajectory", default="trajectory.dcd", help=".dcd or .pdb; empty for none")
    parser.add_argument("--log", default="md.log", help="energies, temperature and speed (CSV); empty for none")
    parser.add_argument("--report-interval", type=int, default=100, help="steps between trajectory frames and log lines")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (it goes to stderr)")
    parser.add_argument("--debug", action="store_true", help="on an error, Python's full traceback instead of one line")
    parser.add_argument("--guard", type=float, nargs="?", const=DEFAULT_GUARD, metavar="THRESHOLD",
                        help=f"eV/A: fall back to the accurate model above it (alone: {DEFAULT_GUARD:g}, "
                             "chosen on the bundled water; see the README)")
    parser.add_argument("--deviation-check-interval", type=int, default=1, metavar="K",
                        help="check the deviation on every K-th accurate step (with --guard or --deviation-log)")
    parser.add_argument("--fallback-steps", type=int, default=0,
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
    # An option the chosen mode ignores would be silently without effect: refuse it.
    ignored = [name for name in IGNORED_BY_MODE[args.mode] if getattr(args, name) is not None]
    if ignored:
        parser.error(f"--mode {args.mode} ignores " + ", ".join("--" + name.replace("_", "-") for name in ignored))
    for name, default in (("interval", DEFAULT_INTERVAL), ("phase", DEFAULT_PHASE),
                          ("inner_steps", DEFAULT_INNER_STEPS), ("slow_term", DEFAULT_SLOW_TERM)):
        if getattr(args, name) is None:
            setattr(args, name, default)
    # A residual is only meaningful with the fast model it was co-trained with, and the
    # accurate model is no residual: never pair the bundled one with another's.
    residual = args.mode == "mts" and args.slow_term == "residual"
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
                     "(with --mode mts use --deviation-limit or --deviation-log)")
    for name in ("guard", "deviation_limit"):
        if getattr(args, name) is not None and not getattr(args, name) > 0:
            parser.error(f"--{name.replace('_', '-')} must be positive (eV/A)")
    if args.deviation_check_interval < 1 or args.fallback_steps < 0:
        parser.error("--deviation-check-interval must be at least 1 and --fallback-steps not negative")
    for option in ("trajectory", "log", "deviation_log"):
        if getattr(args, option):
            check_output_folder(parser, "--" + option.replace("_", "-"), getattr(args, option))
    available = platform_names()
    if args.platform not in available:
        parser.error(f"--platform: no OpenMM platform {args.platform!r} here; available: {', '.join(available)}")


def reported_as_one_line(error):
    """Whether an error is the user's to act on (shown as one line) rather than a bug
    (shown with its traceback): the plugin's and OpenMM's errors (a plain Exception or
    OpenMMException carrying the C++ message), wrong values, files, a blown-up run."""
    import openmm as mm
    return isinstance(error, (RunFailed, ValueError, OSError)) or \
        type(error) in (Exception, getattr(mm, "OpenMMException", Exception))


def first_line(error):
    lines = str(error).strip().splitlines() or [type(error).__name__]
    return lines[0] + (" (the rest with --debug)" if len(lines) > 1 else "")


def main(argv=None):
    """switchingdp-md; returns the exit status (0, or 1 after an error, which it prints
    as one line unless --debug).  Wrong arguments exit with status 2 (argparse)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    check_arguments(parser, args)
    apply_threads(parser, args.threads)
    try:
        return run(args)
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


def degrees_of_freedom(system):
    """As OpenMM's StateDataReporter counts them: 3 per particle with mass, less one per
    constraint involving one, less 3 when a CMMotionRemover removes the centre's motion."""
    import openmm as mm
    import openmm.unit as u
    has_mass = [system.getParticleMass(i).value_in_unit(u.dalton) > 0 for i in range(system.getNumParticles())]
    dof = 3 * sum(has_mass)
    for i in range(system.getNumConstraints()):
        first, second, _ = system.getConstraintParameters(i)
        if has_mass[first] or has_mass[second]:
            dof -= 1
    if any(isinstance(system.getForce(i), mm.CMMotionRemover) for i in range(system.getNumForces())):
        dof -= 3
    return dof


def instantaneous_temperature(context, masses, dof):
    """K, from the velocities alone: asking the State for the kinetic energy would also
    compute the energy, one more model evaluation per check."""
    import numpy as np
    import openmm.unit as u
    from .units import BOLTZMANN_KJ_PER_MOL_K
    velocities = context.getState(getVelocities=True).getVelocities(asNumpy=True)
    v = velocities.value_in_unit(u.nanometer / u.picosecond)
    kinetic = 0.5 * float(np.sum(masses[:, None] * v * v))   # dalton nm^2/ps^2 = kJ/mol
    return 2 * kinetic / (dof * BOLTZMANN_KJ_PER_MOL_K)


def check_temperature(temperature, args, step):
    """Raise RunFailed when the run has blown up (see MAX_TEMPERATURE_FACTOR)."""
    if math.isfinite(temperature) and temperature <= MAX_TEMPERATURE_FACTOR * args.temperature:
        return
    if math.isfinite(temperature):
        what = (f"temperature {temperature:.3g} K is above {MAX_TEMPERATURE_FACTOR} x the thermostat's "
                f"{args.temperature:g} K")
    else:
        what = f"the temperature is not finite ({temperature} K)"
    raise RunFailed(f"the run blew up at step {step}: {what}; try a smaller --timestep (now {args.timestep:g} fs), "
                    "or check the models on this structure")


def run(args):
    import numpy as np
    import openmm as mm
    import openmm.app as app
    import openmm.unit as u
    from tqdm import tqdm

    from .schemes import ACCURATE, ALTERNATING, RESPA, Scheme, switching_force

    pdb = app.PDBFile(args.pdb)
    topology = pdb.topology
    kind = {"single": ACCURATE, "mts": RESPA, "alternating": ALTERNATING}[args.mode]
    watching = args.guard is not None or args.deviation_limit is not None or args.deviation_log
    # --timestep is the outer step of rRESPA, the scheme's is the inner one
    inner_fs = args.timestep / args.inner_steps if kind == RESPA else args.timestep
    scheme = Scheme(kind, args.accurate, None if kind == ACCURATE else args.fast, inner_fs, interval=args.interval,
                    phase=args.phase, inner_steps=args.inner_steps, residual=args.slow_term == "residual",
                    guard=args.guard, deviation_check_interval=args.deviation_check_interval if watching else 0,
                    fallback_steps=args.fallback_steps, deviation_limit=args.deviation_limit)
    system = scheme.create_system(topology, args.types or None, args.frame_parameters)
    force = switching_force(system)
    integrator = scheme.create_integrator(args.temperature, args.friction, args.seed)
    if kind == RESPA:
        description = f"rRESPA: slow term every {args.timestep} fs, fast model every {inner_fs:g} fs"
    elif kind == ACCURATE:
        description = f"one model ({os.path.basename(args.accurate)})"
    else:
        description = f"accurate model on 1 step in {args.interval}"
        if args.guard is not None:
            description += f", guarded at {args.guard:g} eV/A"
    if kind != ACCURATE:
        slow = "residual" if scheme.residual else "accurate"
        description += f" ({os.path.basename(args.accurate)} {slow}, {os.path.basename(args.fast)} fast)"
    platform = mm.Platform.getPlatformByName(args.platform)
    simulation = app.Simulation(topology, system, integrator, platform)
    simulation.context.setPositions(pdb.positions)
    if args.minimize:
        simulation.minimizeEnergy()
    simulation.context.setVelocitiesToTemperature(args.temperature * u.kelvin, args.seed)
    if args.trajectory:
        reporter = app.DCDReporter if args.trajectory.endswith(".dcd") else app.PDBReporter
        simulation.reporters.append(reporter(args.trajectory, args.report_interval))
    if args.log:
        simulation.reporters.append(app.StateDataReporter(args.log, args.report_interval, step=True, time=True,
                                                          potentialEnergy=True, kineticEnergy=True,
                                                          totalEnergy=True, temperature=True, speed=True))
    if args.deviation_log:
        from .reporters import DeviationReporter
        simulation.reporters.append(DeviationReporter(args.deviation_log, 1, force))
    print(f"{system.getNumParticles()} atoms, {args.steps} steps of {args.timestep} fs on {args.platform}; {description}",
          flush=True)
    masses = np.array([system.getParticleMass(i).value_in_unit(u.dalton) for i in range(system.getNumParticles())])
    dof = degrees_of_freedom(system)
    temperatures = []
    start = time.perf_counter()
    # The bar goes to stderr: stdout keeps the run's description and summary only.
    with tqdm(total=args.steps, unit="step", disable=args.no_progress, file=sys.stderr) as progress:
        done = 0
        while done < args.steps:
            chunk = min(STEPS_PER_PROGRESS_UPDATE, args.steps - done)
            try:
                simulation.step(chunk)
            except Exception as error:
                if not reported_as_one_line(error):
                    raise
                # e.g. the plugin's refusal of two atoms run into each other
                raise RunFailed(f"the run stopped between steps {done} and {done + chunk}: {first_line(error)}") \
                    from error
            done += chunk
            progress.update(chunk)
            temperatures.append(instantaneous_temperature(simulation.context, masses, dof))
            check_temperature(temperatures[-1], args, done)
    elapsed = time.perf_counter() - start
    # Counted before the energy below, which is one more evaluation.
    accurate, fast = scheme.evaluations(force.getEvaluationCounts(simulation.context))
    energy = simulation.context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(u.kilojoule_per_mole)
    if not math.isfinite(energy):
        raise RunFailed(f"the run blew up: the potential energy at the end ({energy} kJ/mol) is not finite; "
                        f"try a smaller --timestep (now {args.timestep:g} fs), or check the models on this structure")
    steps_per_second = args.steps / elapsed
    ns_per_day = steps_per_second * args.timestep * 1e-6 * 86400
    print(f"model evaluations: {accurate} accurate, {fast} fast")
    print(f"speed: {ns_per_day:.3f} ns/day, {steps_per_second:.2f} steps/s")
    samples = f"{len(temperatures)} sample" + ("s" if len(temperatures) > 1 else "")
    print(f"mean temperature: {np.mean(temperatures):.1f} K over {samples}; "
          f"potential energy at the end: {energy:.1f} kJ/mol")
    if args.guard is not None:
        share, scheduled = accurate / args.steps, 1 / args.interval
        if share > scheduled + FREQUENT_FALLBACK:
            print(f"warning: the guard ran the accurate model on {100 * share:.0f} % of the steps (the schedule alone: "
                  f"{100 * scheduled:.0f} %). Frequent fallbacks heat the system: each change between fallback and "
                  "alternation leaves the stiffest motions out of equilibrium (docs/guard/README.md). Check the "
                  "temperature in the log; "
                  "raise the threshold above the pair's deviation along plain alternation, or improve the fast model.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
