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

It writes rdf.png, msd.png and energy.png (the potential energy the force reports
step by step, which shows the switching cycle) and results.json to --out.

    switchingdp-validate --time 10 --out results/validate
"""
import argparse
import itertools
import json
import os
import time

import numpy as np

from . import bundled
from .cli import DEFAULT_GUARD
from .bench import make_context, replicated_system, schemes
from .units import BOLTZMANN_KJ_PER_MOL_K, KJ_PER_MOL_PER_MEV, ns_per_day

CYCLE_WINDOW_STEPS = 24   # inner steps of the step-by-step energy trace
BLOW_UP_TEMPERATURE_FACTOR = 3.0   # a run hotter than this times the thermostat's is reported as unstable


class Unstable(Exception):
    """A run that blew up: non-finite positions, or a temperature far above the thermostat's."""
    def __init__(self, time_ps, reason):
        super().__init__(f"unstable after {time_ps:.2f} ps: {reason}")
        self.time_ps, self.reason = time_ps, reason


def element_pairs(elements):
    unique = sorted(set(elements), key=elements.index)
    return list(itertools.combinations_with_replacement(unique, 2))


def rdf(xyz, boxes, elements, pair, r_max, bin_width):
    """(r, g(r)) in nm for one element pair, averaged over frames, with MDTraj.

    xyz: (frames, atoms, 3) nm; boxes: (frames, 3, 3) nm."""
    import mdtraj
    topology = mdtraj.Topology()
    chain = topology.add_chain()
    for symbol in elements:
        topology.add_atom(symbol, mdtraj.element.get_by_symbol(symbol), topology.add_residue("X", chain))
    trajectory = mdtraj.Trajectory(xyz, topology)
    trajectory.unitcell_vectors = boxes
    selection = [f"element {symbol}" for symbol in pair]
    pairs = topology.select_pairs(*selection)
    return mdtraj.compute_rdf(trajectory, pairs, r_range=(0.0, r_max), bin_width=bin_width, periodic=True)


def largest_rdf_range(box):
    """Half the smallest distance between opposite box faces (nm): the minimum-image limit."""
    volume = abs(np.linalg.det(box))
    spacings = [volume / np.linalg.norm(np.cross(box[(k + 1) % 3], box[(k + 2) % 3])) for k in range(3)]
    return 0.5 * min(spacings)


def diffusion_coefficient(times_ps, xyz):
    """D in 1e-5 cm^2/s from the slope of the mean-squared displacement (centre-of-mass
    motion removed, all time origins), fitted between 10% and 50% of the run."""
    xyz = xyz - xyz.mean(axis=1, keepdims=True)
    frames = len(xyz)
    lags = np.arange(1, frames // 2 + 1)
    msd = np.array([((xyz[lag:] - xyz[:-lag]) ** 2).sum(axis=2).mean() for lag in lags])
    lag_times = lags * (times_ps[1] - times_ps[0])
    fit = lag_times >= 0.1 * (times_ps[-1] - times_ps[0])
    slope = np.polyfit(lag_times[fit], msd[fit], 1)[0] if fit.sum() >= 2 else np.nan
    # nm^2/ps / 6 -> cm^2/s is 1e-2; in units of 1e-5 cm^2/s that is 1e3.
    return slope / 6 * 1e3, lag_times, msd


def frame_evaluator(accurate, fast, system_data, platform):
    """A function frame -> (potential energy under the accurate model alone, kJ/mol;
    the pair's maximum and RMS atomic force deviation there, eV/A)."""
    from . import SwitchingDPForce
    import openmm.unit as u
    scheme = dict(accurate=accurate, fast=fast, interval=1, dt=0.0005)
    context = make_context(scheme, system_data, platform)
    force = SwitchingDPForce.cast(context.getSystem().getForce(0))
    force.setDeviationCheckInterval(1)
    force.updateParametersInContext(context)

    def evaluate(positions):
        context.setPositions(positions)
        energy = context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(u.kilojoule_per_mole)
        deviation = force.getLastDeviation(context)
        return energy, deviation.maxForceDeviation, deviation.rmsForceDeviation
    return evaluate


def temperature_of(state, atoms):
    return 2 * state.getKineticEnergy()._value / (3 * atoms * BOLTZMANN_KJ_PER_MOL_K)


def stepper(context, temperature, bar):
    """advance(steps): integrate and return the State after it (positions, velocities,
    energy), turning a blow-up into Unstable (the run is stopped, the others go on)."""
    atoms = context.getSystem().getNumParticles()

    def advance(steps):
        try:
            context.getIntegrator().step(steps)
        except Exception as error:   # the plugin reports non-finite positions
            bar.close()
            raise Unstable(context.getState().getTime()._value, str(error).splitlines()[0][:120])
        state = context.getState(getPositions=True, getVelocities=True, getEnergy=True)
        if temperature_of(state, atoms) > BLOW_UP_TEMPERATURE_FACTOR * temperature:
            bar.close()
            raise Unstable(state.getTime()._value, f"temperature {temperature_of(state, atoms):.0f} K")
        return state
    return advance


def run_steps(advance, bar, steps, chunk=100):
    """advance() in chunks, updating the progress bar; returns the last State (None for no steps)."""
    state = None
    for done in range(0, steps, chunk):
        state = advance(min(chunk, steps - done))
        bar.update(min(chunk, steps - done))
    return state


def shared_start(scheme, system_data, args, progress):
    """Positions and velocities after args.equilibration ps of accurate-only NVT: every
    scheme starts from them, so none spends its run relaxing from the input structure."""
    context = make_context(scheme, system_data, args.platform, seed=args.seed, temperature=args.temperature)
    steps = int(round(args.equilibration * 1000 / (scheme["dt"] * 1e3)))
    bar = progress(total=steps, desc="equilibration (accurate)", unit="step")
    try:
        state = run_steps(stepper(context, args.temperature, bar), bar, steps)
    except Unstable as blowup:
        raise RuntimeError(f"the accurate-only equilibration is {blowup}") from None
    bar.close()
    if state is None:
        return None
    return state.getPositions(), state.getVelocities()


def run_scheme(name, scheme, system_data, args, evaluate_frame, progress, start=None):
    """Sampled frames, energies, temperatures and speed of one NVT run, from `start`
    (positions, velocities) when given."""
    import openmm.unit as u
    context = make_context(scheme, system_data, args.platform, seed=args.seed, temperature=args.temperature)
    if start is not None:
        context.setPositions(start[0])
        context.setVelocities(start[1])
    integrator = context.getIntegrator()
    inner = scheme.get("inner", 1)
    outer_fs = scheme["dt"] * 1e3
    per_sample = int(round(args.sample_interval / outer_fs))
    if per_sample < 1 or abs(per_sample * outer_fs - args.sample_interval) > 1e-6:
        raise ValueError(f"{name}: --sample-interval {args.sample_interval} fs is not a multiple of its "
                         f"{outer_fs:g} fs step")
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
        cycle.append((state.getTime().value_in_unit(u.femtosecond), state.getPotentialEnergy()._value / atoms))
        integrator.step(1)
    bar.update(cycle_steps)

    times, xyz, boxes, energies, temperatures, deviations = [], [], [], [], [], []
    counts_before = evaluation_counts(context)
    elapsed = 0.0
    for _ in range(samples):
        start = time.perf_counter()
        state = advance(per_sample)
        elapsed += time.perf_counter() - start
        bar.update(per_sample)
        times.append(state.getTime()._value)
        positions = state.getPositions(asNumpy=True)
        xyz.append(positions._value)
        boxes.append(np.array(state.getPeriodicBoxVectors()._value))
        temperatures.append(temperature_of(state, atoms))
        energy, max_deviation, rms_deviation = evaluate_frame(positions)
        energies.append(energy / atoms)
        deviations.append((max_deviation, rms_deviation))
    bar.close()
    counts = evaluation_counts(context) - counts_before
    steps_per_second = samples * per_sample / elapsed
    return dict(times=np.array(times), xyz=np.array(xyz), boxes=np.array(boxes), energies=np.array(energies),
                temperatures=np.array(temperatures), cycle=np.array(cycle), steps_per_second=steps_per_second,
                deviations=np.array(deviations), evaluations_per_step=counts / (samples * per_sample * inner),
                ns_per_day=ns_per_day(steps_per_second, scheme["dt"]))


def evaluation_counts(context):
    """(accurate, fast) evaluations of the Context's SwitchingDPForce so far."""
    from . import SwitchingDPForce
    force = SwitchingDPForce.cast(context.getSystem().getForce(0))
    return np.array(force.getEvaluationCounts(context), dtype=float)


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
    system_data = replicated_system(pdb, replicate)
    elements = system_data[1]
    runs = schemes(accurate, fast, interval, inner_steps, timestep_fs, other_fast=other_fast, guard=guard)
    names = [name for i, name in enumerate(runs) if which is None or i in which]
    if names[0] != "accurate-only":
        raise ValueError("accurate-only is the reference and must be among the schemes")
    if progress:
        from tqdm import tqdm as progress_bar
    else:
        def progress_bar(**_):
            class Silent:
                def update(self, _):
                    pass

                def close(self):
                    pass
            return Silent()
    evaluate_frame = frame_evaluator(accurate, fast, system_data, platform)
    start = shared_start(runs["accurate-only"], system_data, args, progress_bar)
    raw, unstable = {}, {}
    for name in names:
        try:
            raw[name] = run_scheme(name, runs[name], system_data, args, evaluate_frame, progress_bar, start)
        except Unstable as blowup:
            if name == names[0]:
                raise RuntimeError(f"the reference run ({name}) is {blowup}; nothing to compare with") from None
            unstable[name] = blowup
    stable = [name for name in names if name in raw]

    box = system_data[3]
    r_max = min(1.0, largest_rdf_range(box))
    pairs = element_pairs(elements)
    results = {"atoms": len(elements), "time_ps": time_ps, "equilibration_ps": equilibration_ps,
               "scheme_equilibration_ps": scheme_equilibration_ps, "temperature": temperature, "schemes": {}}
    curves = {}
    for name in names:
        if name in unstable:
            results["schemes"][name] = {"unstable_after_ps": unstable[name].time_ps, "reason": unstable[name].reason}
            continue
        run = raw[name]
        curves[name] = {pair: rdf(run["xyz"], run["boxes"], elements, pair, r_max, rdf_bin_width) for pair in pairs}
        diffusion, msd_curves = {}, {}
        for element in sorted(set(elements), key=elements.index):
            mask = np.array(elements) == element
            diffusion[element], lag_times, msd = diffusion_coefficient(run["times"], run["xyz"][:, mask])
            msd_curves[element] = (lag_times, msd)
        run["msd"] = msd_curves
        results["schemes"][name] = {
            "rdf_pearson": {"-".join(pair): float(np.corrcoef(curves[names[0]][pair][1], curves[name][pair][1])[0, 1])
                            for pair in pairs},
            "diffusion_1e-5_cm2_per_s": {k: float(v) for k, v in diffusion.items()},
            "mean_energy_meV_per_atom": float(raw[name]["energies"].mean() / KJ_PER_MOL_PER_MEV),
            "mean_temperature_K": float(raw[name]["temperatures"].mean()),
            "steps_per_second": raw[name]["steps_per_second"],
            "ns_per_day": raw[name]["ns_per_day"],
            "speedup": raw[name]["ns_per_day"] / raw[names[0]]["ns_per_day"],
            # The fast model's deviation from the accurate one on this scheme's frames.
            "max_force_deviation_eV_per_A": {
                "mean": float(raw[name]["deviations"][:, 0].mean()),
                "p95": float(np.quantile(raw[name]["deviations"][:, 0], 0.95)),
                "max": float(raw[name]["deviations"][:, 0].max())},
            "rms_force_deviation_eV_per_A": float(raw[name]["deviations"][:, 1].mean()),
            "evaluations_per_step": {"accurate": float(raw[name]["evaluations_per_step"][0]),
                                     "fast": float(raw[name]["evaluations_per_step"][1])},
        }
    if out:
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "results.json"), "w") as f:
            json.dump(results, f, indent=1)
        plot(out, stable, pairs, curves, raw)
    return results


def plot_panels(out, filename, keys, names, curve, title, xlabel, ylabel):
    """One panel per key (an element pair or an element), one line per scheme;
    curve(name, key) gives the (x, y) to draw."""
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(1, len(keys), figsize=(4.5 * len(keys), 3.5), squeeze=False)
    for ax, key in zip(axes[0], keys):
        for name in names:
            ax.plot(*curve(name, key), label=name)
        ax.set_title(title(key))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
    axes[0][0].legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(os.path.join(out, filename), dpi=120)
    plt.close(figure)


def plot(out, names, pairs, curves, raw):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def rdf_curve(name, pair):
        r, g = curves[name][pair]
        return r * 10, g

    def msd_curve(name, element):
        lag, msd = raw[name]["msd"][element]
        return lag, msd * 100
    plot_panels(out, "rdf.png", pairs, names, rdf_curve, "-".join, "r (A)", "g(r)")
    plot_panels(out, "msd.png", list(raw[names[0]]["msd"]), names, msd_curve, lambda e: f"MSD of {e}",
                "lag (ps)", "MSD (A^2)")

    def time_series(filename, series, xlabel, ylabel, title, **style):
        """One panel, one line per scheme: series(name) -> (times from the start, values)."""
        figure, ax = plt.subplots(figsize=(6, 3.5))
        for name in names:
            ax.plot(*series(name), label=name, **style)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.legend(fontsize=8)
        figure.tight_layout()
        figure.savefig(os.path.join(out, filename), dpi=120)
        plt.close(figure)

    def energy_cycle(name):
        cycle = raw[name]["cycle"]
        return cycle[:, 0] - cycle[0, 0], cycle[:, 1] / KJ_PER_MOL_PER_MEV

    def deviation(name):
        return raw[name]["times"] - raw[name]["times"][0], raw[name]["deviations"][:, 0]
    time_series("energy.png", energy_cycle, "time (fs)", "potential energy reported (meV/atom)",
                "Energy step by step (alternation shows its cycle)", marker=".")
    time_series("deviation.png", deviation, "time (ps)", "max |F_accurate - F_fast| (eV/A)",
                "The pair's force deviation on each scheme's frames", lw=1)


def markdown_table(results):
    schemes_ = results["schemes"]
    first = next(row for row in schemes_.values() if "rdf_pearson" in row)
    pairs, elements = list(first["rdf_pearson"]), list(first["diffusion_1e-5_cm2_per_s"])
    lines = ["| scheme | " + " | ".join(f"RDF r {p}" for p in pairs) + " | " +
             " | ".join(f"D {e} (1e-5 cm2/s)" for e in elements) +
             " | <E_accurate> (meV/atom) | <T> (K) | max dev. mean / max (eV/A) | evaluations per step"
             " (acc. + fast) | steps/s | ns/day | speedup |",
             "|---|" + "---:|" * (len(pairs) + len(elements) + 7)]
    for name, row in schemes_.items():
        if "unstable_after_ps" in row:
            lines.append(f"| {name} | unstable after {row['unstable_after_ps']:.2f} ps ({row['reason']}) |" +
                         " |" * (len(pairs) + len(elements) + 6))
            continue
        lines.append(f"| {name} | " + " | ".join(f"{row['rdf_pearson'][p]:.4f}" for p in pairs) + " | " +
                     " | ".join(f"{row['diffusion_1e-5_cm2_per_s'][e]:.2f}" for e in elements) +
                     f" | {row['mean_energy_meV_per_atom']:.2f} | {row['mean_temperature_K']:.1f} | "
                     f"{row['max_force_deviation_eV_per_A']['mean']:.3f} / {row['max_force_deviation_eV_per_A']['max']:.3f} | "
                     f"{row['evaluations_per_step']['accurate']:.2f} + {row['evaluations_per_step']['fast']:.2f} | "
                     f"{row['steps_per_second']:.2f} | {row['ns_per_day']:.3f} | {row['speedup']:.2f}x |")
    return "\n".join(lines)


def build_parser():
    parser = argparse.ArgumentParser(prog="switchingdp-validate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accurate", default=bundled.ACCURATE_MODEL)
    parser.add_argument("--fast", default=bundled.FAST_MODEL)
    parser.add_argument("--pdb", default=bundled.WATER_PDB)
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
    parser.add_argument("--platform", default="CPU")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default="validate", help="folder for plots and results.json")
    parser.add_argument("--no-progress", action="store_true")
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
    results = validate(args.accurate, args.fast, args.pdb, args.replicate, args.time, args.equilibration,
                       args.scheme_equilibration, args.temperature, args.timestep, args.interval, args.inner_steps,
                       args.sample_interval, args.platform, args.seed, out=args.out, progress=not args.no_progress,
                       other_fast=args.other_fast, guard=args.guard)
    print(f"\n{results['atoms']} atoms, {args.time:g} ps NVT at {args.temperature:g} K per scheme "
          f"(after {args.equilibration:g} ps accurate-only and {args.scheme_equilibration:g} ps its own); "
          "RDF Pearson r against accurate-only")
    print(markdown_table(results))
    print(f"plots and results.json in {args.out}")
    return results


def command(argv=None):
    """The console script: main() returns its results for Python callers, which the
    script must not hand to sys.exit (that prints them and exits with status 1)."""
    main(argv)
    return 0


if __name__ == "__main__":
    command()
