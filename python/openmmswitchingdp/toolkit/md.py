"""Molecular dynamics with a SwitchingDPForce: the library of ``switchingdp-md``.

:class:`MdOptions` says what to run (models, structure, mode, schedule, thermostat,
guard, outputs); :func:`run` runs it with an ``app.Simulation`` and returns an
:class:`MdResult`.  ``timestep_fs`` is the inner step in every mode: the only step of
alternation and of one model, and in multiple-time-step mode (``"mts"``, rRESPA) the
fast model's step, the outer step being ``timestep_fs * inner_steps``.

Every :data:`STEPS_PER_PROGRESS_UPDATE` steps the run checks the instantaneous
temperature from the velocities: above :data:`MAX_TEMPERATURE_FACTOR` times the
thermostat's, or not finite, the run has blown up and :func:`run` raises
:class:`RunFailed`, as it does for a non-finite potential energy at the end.
"""
import dataclasses
import math
import os
import sys
import time
from dataclasses import dataclass, field

from .. import bundled, defaults
from .schemes import ACCURATE, ALTERNATING, MTS, Scheme, switching_force

__all__ = ["MdOptions", "MdResult", "RunFailed", "run", "describe", "scheme_of", "degrees_of_freedom",
           "instantaneous_temperature", "check_temperature", "guard_warning", "MODES", "MAX_TEMPERATURE_FACTOR",
           "STEPS_PER_PROGRESS_UPDATE", "FREQUENT_FALLBACK", "options_from",
           "reported_as_one_line", "first_line"]

STEPS_PER_PROGRESS_UPDATE = 10
#: A run whose instantaneous temperature exceeds this times the thermostat's has blown
#: up: at 50 fs the bundled pair reaches 30000 K after one step and 1.7e7 K after ten,
#: while sound runs stay within a few tens of per cent (the bundled PDB starts at 1.2x).
MAX_TEMPERATURE_FACTOR = defaults.BLOW_UP_TEMPERATURE_FACTOR
#: Warn when the guard's fallbacks add more than this share of accurate steps to the
#: schedule's: at 1 eV/A the distilled pair fell back to 92 % accurate steps and ran
#: 100 K hot.
FREQUENT_FALLBACK = 0.05
#: The modes by their one spelling, and the scheme kind each runs.
MODES = {"alternating": ALTERNATING, defaults.MTS_MODE: MTS, "single": ACCURATE}


class RunFailed(Exception):
    """A run that went wrong in a way the user can act on (it blew up)."""


@dataclass
class MdOptions:
    """What :func:`run` runs.  ``accurate`` and ``fast`` default to the bundled pair
    (with ``slow_term="residual"``, the bundled residual and the fast model it was
    co-trained with); ``mode`` is ``"alternating"``, ``"mts"`` or ``"single"`` (the
    accurate model alone).  ``timestep_fs`` is the inner step (see the module);
    ``steps`` counts outer steps in ``"mts"`` mode.  ``trajectory`` (.dcd or .pdb),
    ``log`` and ``deviation_log`` are files, empty or None for none."""
    accurate: str = None
    fast: str = None
    pdb: str = bundled.WATER_PDB
    types: list = None
    temperature: float = defaults.TEMPERATURE
    friction: float = defaults.FRICTION
    timestep_fs: float = defaults.TIMESTEP_FS
    steps: int = 2000
    mode: str = defaults.MODE
    interval: int = defaults.INTERVAL
    phase: int = defaults.PHASE
    inner_steps: int = defaults.INNER_STEPS
    slow_term: str = defaults.SLOW_TERM
    frame_parameters: list = field(default_factory=list)
    platform: str = defaults.PLATFORM
    minimize: bool = False
    seed: int = defaults.SEED
    trajectory: str = "trajectory.dcd"
    log: str = "md.log"
    report_interval: int = 100
    progress: bool = True
    guard: float = None
    deviation_check_interval: int = defaults.DEVIATION_CHECK_INTERVAL
    fallback_steps: int = defaults.FALLBACK_STEPS
    deviation_limit: float = None
    deviation_log: str = None

    def __post_init__(self):
        if self.mode not in MODES:
            old = str(self.mode).lower() in defaults.OLD_MTS_SPELLINGS
            hint = f"; multiple time steps are spelled {defaults.MTS_MODE!r}" if old else ""
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}{hint}")
        residual = self.mode == defaults.MTS_MODE and self.slow_term == "residual"
        if self.accurate is None:
            self.accurate = bundled.RESIDUAL_MODEL if residual else bundled.ACCURATE_MODEL
        if self.fast is None:
            self.fast = bundled.FAST_MODEL

    @property
    def watching(self):
        """Whether the deviation is checked (a guard, a limit or a log)."""
        return self.guard is not None or self.deviation_limit is not None or bool(self.deviation_log)

    @property
    def outer_fs(self):
        """The integrator's step, fs: ``timestep_fs * inner_steps`` in ``"mts"`` mode, else ``timestep_fs``."""
        return self.timestep_fs * (self.inner_steps if self.mode == defaults.MTS_MODE else 1)


@dataclass
class MdResult:
    """What a run measured: atoms, model evaluations (accurate, fast), wall time, the
    instantaneous temperatures of the checks (K), the potential energy at the end
    (kJ/mol), speed, and the share of accurate steps where the guard ran."""
    atoms: int
    steps: int
    accurate_evaluations: int
    fast_evaluations: int
    seconds: float
    temperatures: list
    final_energy: float
    steps_per_second: float
    ns_per_day: float
    warning: str = None


def scheme_of(options):
    """The :class:`~openmmswitchingdp.toolkit.schemes.Scheme` of `options`."""
    kind = MODES[options.mode]
    return Scheme(kind, options.accurate, None if kind == ACCURATE else options.fast, options.timestep_fs,
                  interval=options.interval, phase=options.phase, inner_steps=options.inner_steps,
                  residual=options.slow_term == "residual", guard=options.guard,
                  deviation_check_interval=options.deviation_check_interval if options.watching else 0,
                  fallback_steps=options.fallback_steps, deviation_limit=options.deviation_limit)


def describe(options):
    """One line of what :func:`run` will run (printed before it starts)."""
    scheme = scheme_of(options)
    if scheme.kind == MTS:
        what = (f"rRESPA: slow term every {options.outer_fs:g} fs (outer step), fast model every "
                f"{options.timestep_fs:g} fs (inner step, --timestep)")
    elif scheme.kind == ACCURATE:
        what = f"one model ({os.path.basename(options.accurate)})"
    else:
        what = f"accurate model on 1 step in {options.interval}"
        if options.guard is not None:
            what += f", guarded at {options.guard:g} eV/A"
    if scheme.kind != ACCURATE:
        slow = "residual" if scheme.residual else "accurate"
        what += f" ({os.path.basename(options.accurate)} {slow}, {os.path.basename(options.fast)} fast)"
    step = f"{options.outer_fs:g} fs" + (f" ({options.inner_steps} x {options.timestep_fs:g} fs)"
                                         if scheme.kind == MTS else "")
    return f"{options.steps} steps of {step} on {options.platform}; {what}"


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
    from ..units import BOLTZMANN_KJ_PER_MOL_K
    velocities = context.getState(getVelocities=True).getVelocities(asNumpy=True)
    v = velocities.value_in_unit(u.nanometer / u.picosecond)
    kinetic = 0.5 * float(np.sum(masses[:, None] * v * v))   # dalton nm^2/ps^2 = kJ/mol
    return 2 * kinetic / (dof * BOLTZMANN_KJ_PER_MOL_K)


def check_temperature(temperature, options, step):
    """Raise :class:`RunFailed` when the run has blown up (see :data:`MAX_TEMPERATURE_FACTOR`)."""
    if math.isfinite(temperature) and temperature <= MAX_TEMPERATURE_FACTOR * options.temperature:
        return
    if math.isfinite(temperature):
        what = (f"temperature {temperature:.3g} K is above {MAX_TEMPERATURE_FACTOR} x the thermostat's "
                f"{options.temperature:g} K")
    else:
        what = f"the temperature is not finite ({temperature} K)"
    raise RunFailed(f"the run blew up at step {step}: {what}; try a smaller --timestep (now "
                    f"{options.timestep_fs:g} fs), or check the models on this structure")


def reported_as_one_line(error):
    """Whether an error is the user's to act on (shown as one line) rather than a bug
    (shown with its traceback): the plugin's and OpenMM's errors (a plain Exception or
    OpenMMException carrying the C++ message), wrong values, files, a blown-up run."""
    import openmm as mm
    return isinstance(error, (RunFailed, ValueError, OSError)) or \
        type(error) in (Exception, getattr(mm, "OpenMMException", Exception))


def first_line(error):
    """The first line of an error's message (and a pointer to --debug for the rest)."""
    lines = str(error).strip().splitlines() or [type(error).__name__]
    return lines[0] + (" (the rest with --debug)" if len(lines) > 1 else "")


def guard_warning(options, accurate):
    """The warning when the guard ran the accurate model on many more steps than the
    schedule (None otherwise)."""
    if options.guard is None:
        return None
    share, scheduled = accurate / options.steps, 1 / options.interval
    if share <= scheduled + FREQUENT_FALLBACK:
        return None
    return (f"the guard ran the accurate model on {100 * share:.0f} % of the steps (the schedule alone: "
            f"{100 * scheduled:.0f} %). Frequent fallbacks heat the system: each change between fallback and "
            "alternation leaves the stiffest motions out of equilibrium (docs/guard/README.md). Check the "
            "temperature in the log; "
            "raise the threshold above the pair's deviation along plain alternation, or improve the fast model.")


def _simulation(options, scheme):
    import openmm as mm
    import openmm.app as app
    import openmm.unit as u
    pdb = app.PDBFile(options.pdb)
    system = scheme.create_system(pdb.topology, options.types or None, options.frame_parameters)
    integrator = scheme.create_integrator(options.temperature, options.friction, options.seed)
    simulation = app.Simulation(pdb.topology, system, integrator, mm.Platform.getPlatformByName(options.platform))
    simulation.context.setPositions(pdb.positions)
    if options.minimize:
        simulation.minimizeEnergy()
    simulation.context.setVelocitiesToTemperature(options.temperature * u.kelvin, options.seed)
    if options.trajectory:
        reporter = app.DCDReporter if options.trajectory.endswith(".dcd") else app.PDBReporter
        simulation.reporters.append(reporter(options.trajectory, options.report_interval))
    if options.log:
        simulation.reporters.append(app.StateDataReporter(options.log, options.report_interval, step=True, time=True,
                                                          potentialEnergy=True, kineticEnergy=True,
                                                          totalEnergy=True, temperature=True, speed=True))
    if options.deviation_log:
        from ..reporters import DeviationReporter
        simulation.reporters.append(DeviationReporter(options.deviation_log, 1, switching_force(system)))
    return simulation


def run(options):
    """Run `options` (an :class:`MdOptions`); returns an :class:`MdResult`.  Raises
    :class:`RunFailed` when the run blows up.  The progress bar goes to stderr."""
    import numpy as np
    import openmm.unit as u
    from tqdm import tqdm

    scheme = scheme_of(options)
    simulation = _simulation(options, scheme)
    system = simulation.system
    force = switching_force(system)
    masses = np.array([system.getParticleMass(i).value_in_unit(u.dalton) for i in range(system.getNumParticles())])
    dof = degrees_of_freedom(system)
    temperatures = []
    start = time.perf_counter()
    with tqdm(total=options.steps, unit="step", disable=not options.progress, file=sys.stderr) as progress:
        done = 0
        while done < options.steps:
            chunk = min(STEPS_PER_PROGRESS_UPDATE, options.steps - done)
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
            check_temperature(temperatures[-1], options, done)
    elapsed = time.perf_counter() - start
    # Counted before the energy below, which is one more evaluation.
    accurate, fast = scheme.evaluations(force.getEvaluationCounts(simulation.context))
    energy = simulation.context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(u.kilojoule_per_mole)
    if not math.isfinite(energy):
        raise RunFailed(f"the run blew up: the potential energy at the end ({energy} kJ/mol) is not finite; "
                        f"try a smaller --timestep (now {options.timestep_fs:g} fs), or check the models on this "
                        "structure")
    steps_per_second = options.steps / elapsed
    from ..units import ns_per_day
    return MdResult(atoms=system.getNumParticles(), steps=options.steps, accurate_evaluations=accurate,
                    fast_evaluations=fast, seconds=elapsed, temperatures=temperatures, final_energy=energy,
                    steps_per_second=steps_per_second, ns_per_day=ns_per_day(steps_per_second, scheme.step_ps),
                    warning=guard_warning(options, accurate))


def options_from(namespace):
    """An :class:`MdOptions` from attributes of the same names (e.g. parsed arguments);
    others are ignored."""
    names = {f.name for f in dataclasses.fields(MdOptions)}
    return MdOptions(**{k: v for k, v in vars(namespace).items() if k in names})
