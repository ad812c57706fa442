"""Does switching keep the accurate model's structure and dynamics?  The library of
``switchingdp-validate`` (see :mod:`openmmswitchingdp.toolkit.cli.validate`).

:func:`validate` runs the schemes of a :class:`ValidateOptions` in NVT from a shared
equilibrated state and compares each with accurate-only (:mod:`.analysis`), drawing the
plots with :mod:`.plots`; it returns a :class:`ValidationResult`.
"""
import dataclasses
import json
import os
import time
from dataclasses import dataclass, field

import numpy as np

from . import analysis, plots
from .. import bundled, defaults
from .schemes import MTS, Structure, build_context, pair_evaluator, reference_run, standard_schemes, switching_force
from ..units import BOLTZMANN_KJ_PER_MOL_K, ns_per_day

__all__ = ["ValidateOptions", "ValidationResult", "validate", "Unstable", "temperature_of", "state_time_ps",
           "stepper", "run_steps", "shared_start", "steps_per_sample", "run_scheme", "evaluation_counts", "Silent",
           "CYCLE_WINDOW_STEPS", "BLOW_UP_TEMPERATURE_FACTOR"]

CYCLE_WINDOW_STEPS = 24   # inner steps of the step-by-step energy trace
#: A run hotter than this times the thermostat's is reported as unstable.
BLOW_UP_TEMPERATURE_FACTOR = defaults.BLOW_UP_TEMPERATURE_FACTOR


@dataclass
class ValidateOptions:
    """What :func:`validate` runs.  Models and PDB paths; ``replicate`` tiles the box
    n x n x n times; times in ps unless the name says fs; ``timestep_fs`` is the inner
    step (an rRESPA outer step is ``timestep_fs * inner_steps``).  ``which`` picks
    schemes by position among :func:`~openmmswitchingdp.toolkit.schemes.standard_schemes`'
    (0 accurate-only, 1 fast-only, 2 alternating, 3 rRESPA, then fast-only and
    alternating for each of ``other_fast``, then guarded alternation if ``guard``, a
    deviation threshold in eV/A); None runs them all.  ``out``: a folder for the plots
    and results.json (None: none written)."""
    accurate: str = bundled.ACCURATE_MODEL
    fast: str = bundled.FAST_MODEL
    pdb: str = bundled.WATER_PDB
    replicate: int = 1
    time_ps: float = 10.0
    equilibration_ps: float = defaults.EQUILIBRATION_PS
    scheme_equilibration_ps: float = defaults.SCHEME_EQUILIBRATION_PS
    temperature: float = defaults.TEMPERATURE
    timestep_fs: float = defaults.TIMESTEP_FS
    interval: int = defaults.INTERVAL
    inner_steps: int = defaults.INNER_STEPS
    sample_interval_fs: float = defaults.SAMPLE_INTERVAL_FS
    platform: str = defaults.PLATFORM
    seed: int = defaults.SEED
    rdf_bin_width: float = 0.005
    out: str = None
    which: list = None
    progress: bool = True
    other_fast: list = field(default_factory=list)
    guard: float = None

    def replace(self, **changes):
        """A copy with `changes`."""
        return dataclasses.replace(self, **changes)


@dataclass
class ValidationResult:
    """What :func:`validate` found: the atoms, the run lengths and temperature, and per
    scheme (by name) its row of results (``rdf_pearson`` per element pair,
    ``diffusion_1e-5_cm2_per_s`` per element, energy, temperature, deviations, speed;
    or ``unstable_after_ps`` and ``reason`` for a run that blew up)."""
    atoms: int
    time_ps: float
    equilibration_ps: float
    scheme_equilibration_ps: float
    temperature: float
    schemes: dict

    def as_dict(self):
        """The result as results.json holds it."""
        return dataclasses.asdict(self)


class Unstable(Exception):
    """A run that blew up: non-finite positions, or a temperature far above the thermostat's."""
    def __init__(self, time_ps, reason):
        super().__init__(f"unstable after {time_ps:.2f} ps: {reason}")
        self.time_ps, self.reason = time_ps, reason


def temperature_of(state, atoms):
    """Instantaneous temperature (K) of a State with kinetic energy, no constraints."""
    import openmm.unit as u
    return 2 * state.getKineticEnergy().value_in_unit(u.kilojoule_per_mole) / (3 * atoms * BOLTZMANN_KJ_PER_MOL_K)


def state_time_ps(state):
    """A State's time, ps."""
    import openmm.unit as u
    return state.getTime().value_in_unit(u.picosecond)


def stepper(context, temperature, bar):
    """advance(steps): integrate and return the State after it (positions, velocities,
    energy), turning a blow-up into Unstable (the run is stopped, the others go on)."""
    atoms = context.getSystem().getNumParticles()

    def advance(steps):
        try:
            context.getIntegrator().step(steps)
        except Exception as error:   # the plugin reports non-finite positions
            bar.close()
            raise Unstable(state_time_ps(context.getState()), str(error).splitlines()[0][:120])
        state = context.getState(getPositions=True, getVelocities=True, getEnergy=True)
        if temperature_of(state, atoms) > BLOW_UP_TEMPERATURE_FACTOR * temperature:
            bar.close()
            raise Unstable(state_time_ps(state), f"temperature {temperature_of(state, atoms):.0f} K")
        return state
    return advance


def run_steps(advance, bar, steps, chunk=100):
    """advance() in chunks, updating the progress bar; returns the last State (None for no steps)."""
    state = None
    for done in range(0, steps, chunk):
        state = advance(min(chunk, steps - done))
        bar.update(min(chunk, steps - done))
    return state


def shared_start(scheme, structure, options, progress):
    """Positions and velocities after ``options.equilibration_ps`` of accurate-only NVT
    (`options`: a :class:`ValidateOptions`): every scheme starts from them, so none
    spends its run relaxing from the input structure."""
    context = build_context(scheme, structure, options.platform, seed=options.seed, temperature=options.temperature)
    steps = int(round(options.equilibration_ps * 1000 / scheme.step_fs))
    bar = progress(total=steps, desc="equilibration (accurate)", unit="step")
    try:
        state = run_steps(stepper(context, options.temperature, bar), bar, steps)
    except Unstable as blowup:
        raise RuntimeError(f"the accurate-only equilibration is {blowup}") from None
    bar.close()
    if state is None:
        return None
    return state.getPositions(), state.getVelocities()


def steps_per_sample(name, scheme, sample_interval_fs):
    """A scheme's (outer) steps between sampled frames: the interval must be a whole
    number of its steps."""
    per_sample = int(round(sample_interval_fs / scheme.step_fs))
    if per_sample < 1 or abs(per_sample * scheme.step_fs - sample_interval_fs) > 1e-6:
        raise ValueError(f"{name}: --sample-interval {sample_interval_fs:g} fs is not a multiple of its "
                         f"{scheme.step_fs:g} fs step; give one that is a multiple of every scheme's step")
    return per_sample


def run_scheme(name, scheme, structure, options, evaluate_frame, progress, start=None):
    """Sampled frames, energies, temperatures and speed of one NVT run (a dict), from
    `start` (positions, velocities) when given; `options` is a :class:`ValidateOptions`."""
    import openmm.unit as u
    context = build_context(scheme, structure, options.platform, seed=options.seed, temperature=options.temperature)
    if start is not None:
        context.setPositions(start[0])
        context.setVelocities(start[1])
    integrator = context.getIntegrator()
    inner = scheme.inner_steps if scheme.kind is MTS else 1
    outer_fs = scheme.step_fs
    per_sample = steps_per_sample(name, scheme, options.sample_interval_fs)
    equilibration = int(round(options.scheme_equilibration_ps * 1000 / outer_fs))
    samples = int(round(options.time_ps * 1000 / options.sample_interval_fs))
    atoms = context.getSystem().getNumParticles()
    bar = progress(total=equilibration + samples * per_sample, desc=name, unit="step")
    advance = stepper(context, options.temperature, bar)
    run_steps(advance, bar, equilibration)

    # The step-by-step energy the force reports: the switching cycle of alternation.
    cycle_steps = max(1, CYCLE_WINDOW_STEPS // inner)
    cycle = []
    for _ in range(cycle_steps):
        state = context.getState(getEnergy=True)
        cycle.append((state.getTime().value_in_unit(u.femtosecond),
                      state.getPotentialEnergy().value_in_unit(u.kilojoule_per_mole) / atoms))
        integrator.step(1)
    bar.update(cycle_steps)

    times, xyz, boxes, energies, temperatures, deviations = [], [], [], [], [], []
    counts_before = evaluation_counts(context, scheme)
    elapsed = 0.0
    for _ in range(samples):
        start = time.perf_counter()
        state = advance(per_sample)
        elapsed += time.perf_counter() - start
        bar.update(per_sample)
        times.append(state_time_ps(state))
        positions = state.getPositions(asNumpy=True).value_in_unit(u.nanometer)
        xyz.append(positions)
        boxes.append(np.array(state.getPeriodicBoxVectors().value_in_unit(u.nanometer)))
        temperatures.append(temperature_of(state, atoms))
        energy, max_deviation, rms_deviation = evaluate_frame(positions)
        energies.append(energy / atoms)
        deviations.append((max_deviation, rms_deviation))
    bar.close()
    counts = evaluation_counts(context, scheme) - counts_before
    steps_per_second = samples * per_sample / elapsed
    return dict(times=np.array(times), xyz=np.array(xyz), boxes=np.array(boxes), energies=np.array(energies),
                temperatures=np.array(temperatures), cycle=np.array(cycle), steps_per_second=steps_per_second,
                deviations=np.array(deviations), evaluations_per_step=counts / (samples * per_sample * inner),
                ns_per_day=ns_per_day(steps_per_second, scheme.step_ps))


def evaluation_counts(context, scheme):
    """(accurate, fast) model evaluations of the scheme's SwitchingDPForce so far."""
    counts = switching_force(context).getEvaluationCounts(context)
    return np.array(scheme.evaluations(counts), dtype=float)


def validate(options):
    """Run the schemes of `options` (a :class:`ValidateOptions`) and compare them with
    accurate-only; returns a :class:`ValidationResult`.  Every scheme starts from the
    state after ``equilibration_ps`` of accurate-only NVT and then equilibrates
    ``scheme_equilibration_ps`` under its own dynamics before sampling.  Every sampled
    frame of every scheme is also scored by the pair's force deviation.  A scheme that
    blows up is reported as unstable and the others go on; the reference must not."""
    o = options
    structure = Structure.from_pdb(o.pdb, o.replicate)
    elements = structure.elements
    runs = standard_schemes(o.accurate, o.fast, o.interval, o.inner_steps, o.timestep_fs, other_fast=o.other_fast,
                            guard=o.guard)
    names = [name for i, name in enumerate(runs) if o.which is None or i in o.which]
    reference = reference_run(runs)
    if names[0] != reference:
        raise ValueError("accurate-only is the reference and must be among the schemes")
    for name in names:   # before any run, not after the first schemes' hours
        steps_per_sample(name, runs[name], o.sample_interval_fs)
    if o.progress:
        from tqdm import tqdm as progress_bar
    else:
        def progress_bar(**_):
            return Silent()
    evaluate_frame = pair_evaluator(o.accurate, o.fast, structure, o.platform)
    start = shared_start(runs[reference], structure, o, progress_bar)
    raw, unstable = {}, {}
    for name in names:
        try:
            raw[name] = run_scheme(name, runs[name], structure, o, evaluate_frame, progress_bar, start)
        except Unstable as blowup:
            if name == names[0]:
                raise RuntimeError(f"the reference run ({name}) is {blowup}; nothing to compare with") from None
            unstable[name] = blowup
    rows, rdfs, msds = analysis.compare(raw, names, unstable, elements, structure.box, o.rdf_bin_width)
    result = ValidationResult(len(elements), o.time_ps, o.equilibration_ps, o.scheme_equilibration_ps,
                              o.temperature, rows)
    if o.out:
        os.makedirs(o.out, exist_ok=True)
        with open(os.path.join(o.out, "results.json"), "w") as f:
            json.dump(result.as_dict(), f, indent=1)
        plots.plot(o.out, [name for name in names if name in raw], analysis.element_pairs(elements), rdfs, msds, raw)
    return result


class Silent:
    """A progress bar that shows nothing."""

    def update(self, _):
        """Nothing."""

    def close(self):
        """Nothing."""
