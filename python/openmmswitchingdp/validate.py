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
--out.  This module runs the schemes; analysis.py computes the comparison and
plots.py draws it.

    switchingdp-validate --time 10 --out results/validate
"""
import argparse
import json
import os
import time

import numpy as np

from . import analysis, bundled, plots
from .cli import DEFAULT_GUARD
from .schemes import (RESPA, HelpFormatter, Structure, add_threads_option, apply_threads, build_context,
                      pair_evaluator, standard_schemes, switching_force)
from .units import BOLTZMANN_KJ_PER_MOL_K, ns_per_day

CYCLE_WINDOW_STEPS = 24   # inner steps of the step-by-step energy trace
BLOW_UP_TEMPERATURE_FACTOR = 3.0   # a run hotter than this times the thermostat's is reported as unstable


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


def shared_start(scheme, structure, args, progress):
    """Positions and velocities after args.equilibration ps of accurate-only NVT: every
    scheme starts from them, so none spends its run relaxing from the input structure."""
    context = build_context(scheme, structure, args.platform, seed=args.seed, temperature=args.temperature)
    steps = int(round(args.equilibration * 1000 / scheme.step_fs))
    bar = progress(total=steps, desc="equilibration (accurate)", unit="step")
    try:
        state = run_steps(stepper(context, args.temperature, bar), bar, steps)
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


def run_scheme(name, scheme, structure, args, evaluate_frame, progress, start=None):
    """Sampled frames, energies, temperatures and speed of one NVT run, from `start`
    (positions, velocities) when given."""
    import openmm.unit as u
    context = build_context(scheme, structure, args.platform, seed=args.seed, temperature=args.temperature)
    if start is not None:
        context.setPositions(start[0])
        context.setVelocities(start[1])
    integrator = context.getIntegrator()
    inner = scheme.inner_steps if scheme.kind == RESPA else 1
    outer_fs = scheme.step_fs
    per_sample = steps_per_sample(name, scheme, args.sample_interval)
    equilibration = int(round(args.scheme_equilibration * 1000 / outer_fs))
    samples = int(round(args.time * 1000 / args.sample_interval))
    atoms = context.getSystem().getNumParticles()
    bar = progress(total=equilibration + samples * per_sample, desc=name, unit="step")
    advance = stepper(context, args.temperature, bar)
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


def validate(accurate, fast, pdb=bundled.WATER_PDB, replicate=1, time_ps=10.0, equilibration_ps=1.0,
             scheme_equilibration_ps=0.5, temperature=330.0, timestep_fs=0.5, interval=4, inner_steps=4,
             sample_interval_fs=10.0, platform="CPU", seed=1, rdf_bin_width=0.005, out=None, which=None,
             progress=True, other_fast=(), guard=None):
    """Run the schemes and compare them with accurate-only; returns a dict of results
    (per scheme: rdf_pearson per pair, diffusion per element, energy, temperature, speed).
    Every scheme starts from the state after equilibration_ps of accurate-only NVT and
    then equilibrates scheme_equilibration_ps under its own dynamics before sampling.
    `which` picks schemes by position: 0 accurate-only, 1 fast-only, 2 alternating, 3 rRESPA,
    then fast-only and alternating for each of `other_fast` (more fast models), then
    guarded alternation if `guard` (a deviation threshold, eV/A) is given.
    Every sampled frame of every scheme is also scored by the pair's force deviation.
    Writes plots and results.json to `out` if given."""
    args = argparse.Namespace(time=time_ps, equilibration=equilibration_ps,
                              scheme_equilibration=scheme_equilibration_ps, temperature=temperature,
                              sample_interval=sample_interval_fs, platform=platform, seed=seed)
    structure = Structure.from_pdb(pdb, replicate)
    elements = structure.elements
    runs = standard_schemes(accurate, fast, interval, inner_steps, timestep_fs, other_fast=other_fast, guard=guard)
    names = [name for i, name in enumerate(runs) if which is None or i in which]
    if names[0] != "accurate-only":
        raise ValueError("accurate-only is the reference and must be among the schemes")
    for name in names:   # before any run, not after the first schemes' hours
        steps_per_sample(name, runs[name], sample_interval_fs)
    if progress:
        from tqdm import tqdm as progress_bar
    else:
        def progress_bar(**_):
            return Silent()
    evaluate_frame = pair_evaluator(accurate, fast, structure, platform)
    start = shared_start(runs["accurate-only"], structure, args, progress_bar)
    raw, unstable = {}, {}
    for name in names:
        try:
            raw[name] = run_scheme(name, runs[name], structure, args, evaluate_frame, progress_bar, start)
        except Unstable as blowup:
            if name == names[0]:
                raise RuntimeError(f"the reference run ({name}) is {blowup}; nothing to compare with") from None
            unstable[name] = blowup
    rows, rdfs, msds = analysis.compare(raw, names, unstable, elements, structure.box, rdf_bin_width)
    results = {"atoms": len(elements), "time_ps": time_ps, "equilibration_ps": equilibration_ps,
               "scheme_equilibration_ps": scheme_equilibration_ps, "temperature": temperature, "schemes": rows}
    if out:
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "results.json"), "w") as f:
            json.dump(results, f, indent=1)
        plots.plot(out, [name for name in names if name in raw], analysis.element_pairs(elements), rdfs, msds, raw)
    return results


class Silent:
    """A progress bar that shows nothing."""
    def update(self, _):
        pass

    def close(self):
        pass


def build_parser():
    parser = argparse.ArgumentParser(prog="switchingdp-validate", description=__doc__, formatter_class=HelpFormatter)
    parser.add_argument("--accurate", default=bundled.ACCURATE_MODEL, help="accurate model (.pth)")
    parser.add_argument("--fast", default=bundled.FAST_MODEL, help="fast model (.pth)")
    parser.add_argument("--pdb", default=bundled.WATER_PDB, help="structure; its CRYST1 record sets the box")
    parser.add_argument("--replicate", type=int, default=1, help="tile the PDB box n x n x n times")
    parser.add_argument("--time", type=float, default=10.0, help="ps of sampled NVT per scheme")
    parser.add_argument("--equilibration", type=float, default=1.0,
                        help="ps of accurate-only NVT from the PDB; every scheme starts from its end state")
    parser.add_argument("--scheme-equilibration", type=float, default=0.5,
                        help="ps each scheme then runs under its own dynamics before sampling")
    parser.add_argument("--temperature", type=float, default=330.0, help="K")
    parser.add_argument("--timestep", type=float, default=0.5, help="inner time step, fs")
    parser.add_argument("--interval", type=int, default=4, help="alternation: accurate on 1 step in this many")
    parser.add_argument("--inner-steps", type=int, default=4, help="rRESPA: inner steps per outer step")
    parser.add_argument("--sample-interval", type=float, default=10.0, help="fs between sampled frames")
    parser.add_argument("--other-fast", nargs="+", default=[], metavar="MODEL",
                        help="more fast models to compare (e.g. a compressed float32 one)")
    parser.add_argument("--guard", type=float, nargs="?", const=DEFAULT_GUARD, metavar="THRESHOLD",
                        help=f"also run guarded alternation with this deviation threshold (eV/A; alone: {DEFAULT_GUARD:g})")
    parser.add_argument("--platform", default="CPU", help="OpenMM platform")
    add_threads_option(parser)
    parser.add_argument("--seed", type=int, default=1, help="seed for velocities and the thermostat")
    parser.add_argument("--out", default="validate", help="folder for plots and results.json")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    for name in ("accurate", "fast", "pdb"):
        if not os.path.exists(getattr(args, name)):
            parser.error(f"--{name}: file not found: {getattr(args, name)}")
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
    results = validate(args.accurate, args.fast, args.pdb, args.replicate, args.time, args.equilibration,
                       args.scheme_equilibration, args.temperature, args.timestep, args.interval, args.inner_steps,
                       args.sample_interval, args.platform, args.seed, out=args.out, progress=not args.no_progress,
                       other_fast=args.other_fast, guard=args.guard)
    print(f"\n{results['atoms']} atoms, {args.time:g} ps NVT at {args.temperature:g} K per scheme "
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
    command()
