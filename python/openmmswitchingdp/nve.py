"""Energy conservation (NVE) of single-model and rRESPA dynamics, as a measured figure.

Every run starts from the same state (the structure equilibrated at the given
temperature with Langevin dynamics and the full potential: the accurate model, or
fast + residual) and integrates with velocity-Verlet rRESPA
(openmmswitchingdp.integrators.VelocityVerletRESPAIntegrator); the reference row is
the same integrator with one inner step, i.e. velocity Verlet with the full force
every step.  For each run it reports the drift of the total energy (slope
of a straight-line fit, meV/atom/ps) and its fluctuation around that line (standard
deviation, meV/atom).

    python -m openmmswitchingdp.nve --outer 1 2 4 --duration 5
"""
import argparse

import numpy as np

from . import bundled
from .units import KJ_PER_MOL_PER_MEV

SLOW_GROUP = 1


def equilibrated_state(accurate, fast, pdb_path, temperature, equilibration_ps, seed, platform, slow_term=None):
    """Positions, velocities and box after Langevin equilibration with the full potential."""
    import openmm as mm
    import openmm.app as app
    integrator = mm.LangevinMiddleIntegrator(temperature, 1.0, 0.0005)
    integrator.setRandomNumberSeed(seed)  # before the Context exists, or it has no effect
    context, _ = make_context(accurate, fast, pdb_path, integrator, platform, slow_term)
    pdb = app.PDBFile(pdb_path)
    context.setPositions(pdb.positions)
    context.setVelocitiesToTemperature(temperature, seed)
    context.getIntegrator().step(int(round(equilibration_ps / 0.0005)))
    return context.getState(getPositions=True, getVelocities=True)


def make_context(accurate, fast, pdb_path, integrator, platform, slow_term=None, interval=None):
    """A Context with the force in MultipleTimeStep mode (fast in group 0, slow term in
    group 1), or alternating with the given interval."""
    import openmm as mm
    import openmm.app as app
    from openmmml import MLPotential
    from . import SwitchingDPForce
    pdb = app.PDBFile(pdb_path)
    if interval is None:
        settings = dict(mode="mts", slowForceGroup=SLOW_GROUP,
                        slowTerm=slow_term if slow_term is not None else SwitchingDPForce.Difference)
    else:
        settings = dict(interval=interval)
    system = MLPotential("switchingdp", accurate=accurate, fast=fast).createSystem(pdb.topology, removeCMMotion=False,
                                                                                 **settings)
    force = SwitchingDPForce.cast(system.getForce(0))
    return mm.Context(system, integrator, mm.Platform.getPlatformByName(platform)), force


def nve_run(accurate, fast, pdb_path, state, outer_fs, inner_fs, duration_ps, report_fs, platform, slow_term=None,
            interval=None):
    """(times ps, total energies kJ/mol, number of atoms) of one NVE run from `state`;
    with `interval`, alternation under velocity Verlet at `outer_fs` instead of rRESPA.
    The energy is the one the force reports, i.e. of the model scheduled at that step."""
    from .integrators import VelocityVerletRESPAIntegrator
    inner_steps = int(round(outer_fs / inner_fs))
    if inner_steps < 1 or abs(inner_steps * inner_fs - outer_fs) > 1e-9:
        raise ValueError(f"the outer step {outer_fs} fs must be a multiple of the inner step {inner_fs} fs")
    integrator = VelocityVerletRESPAIntegrator(outer_fs * 1e-3, inner_steps, 0, SLOW_GROUP)
    context, _ = make_context(accurate, fast, pdb_path, integrator, platform, slow_term, interval)
    context.setState(state)
    context.setStepCount(0)
    per_report = max(1, int(round(report_fs / outer_fs)))
    reports = int(round(duration_ps * 1000 / (per_report * outer_fs)))
    times, energies = [], []
    for i in range(reports + 1):
        if i:
            integrator.step(per_report)
        s = context.getState(getEnergy=True)
        times.append(s.getTime()._value)
        energies.append(s.getPotentialEnergy()._value + s.getKineticEnergy()._value)
    return np.array(times), np.array(energies), context.getSystem().getNumParticles()


def drift_and_fluctuation(times, energies, atoms):
    """(drift meV/atom/ps, fluctuation meV/atom) from a straight-line fit."""
    per_atom = energies / atoms / KJ_PER_MOL_PER_MEV
    slope, intercept = np.polyfit(times, per_atom, 1)
    return slope, np.std(per_atom - (slope * times + intercept))


def table(accurate, fast, pdb_path, outers, inner_fs=0.5, duration_ps=5.0, report_fs=10.0, temperature=330.0,
          equilibration_ps=1.0, seed=1, platform="CPU", slow_term=None, progress=None, alternating=None):
    """Rows (label, outer fs, drift, fluctuation) for the full model, each rRESPA outer
    step and, if `alternating` (an interval) is given, alternation at the inner step."""
    state = equilibrated_state(accurate, fast, pdb_path, temperature, equilibration_ps, seed, platform, slow_term)
    rows = []
    # With one inner step the slow and fast groups act together every step: plain
    # velocity Verlet with the full (accurate) potential.
    runs = [("full model, velocity Verlet", inner_fs, None)]
    runs += [(f"rRESPA {o:g}/{inner_fs:g} fs", o, None) for o in outers]
    if alternating:
        runs.append((f"alternating 1:{alternating - 1}, velocity Verlet", inner_fs, alternating))
    for label, outer, interval in runs:
        times, energies, atoms = nve_run(accurate, fast, pdb_path, state, outer, inner_fs, duration_ps, report_fs,
                                         platform, slow_term, interval)
        drift, fluctuation = drift_and_fluctuation(times, energies, atoms)
        rows.append((label, outer, drift, fluctuation))
        if progress:
            progress(label)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accurate", default=bundled.ACCURATE_MODEL)
    parser.add_argument("--fast", default=bundled.FAST_MODEL)
    parser.add_argument("--pdb", default=bundled.WATER_PDB)
    parser.add_argument("--outer", type=float, nargs="+", default=[1.0, 2.0, 4.0], help="rRESPA outer steps, fs")
    parser.add_argument("--inner", type=float, default=0.5, help="inner step, fs")
    parser.add_argument("--duration", type=float, default=5.0, help="ps per run")
    parser.add_argument("--equilibration", type=float, default=1.0, help="ps of Langevin NVT first")
    parser.add_argument("--residual", action="store_true", help="--accurate is a co-trained residual model")
    parser.add_argument("--alternating", type=int, metavar="N",
                        help="also run alternation (accurate on 1 step in N) under velocity Verlet")
    parser.add_argument("--platform", default="CPU")
    args = parser.parse_args(argv)
    from . import SwitchingDPForce
    slow_term = SwitchingDPForce.Residual if args.residual else SwitchingDPForce.Difference
    rows = table(args.accurate, args.fast, args.pdb, args.outer, args.inner, args.duration,
                 equilibration_ps=args.equilibration, platform=args.platform, slow_term=slow_term,
                 progress=lambda label: print(f"done: {label}", flush=True), alternating=args.alternating)
    print(f"\nNVE, {args.duration} ps per run after {args.equilibration} ps at 330 K; "
          f"slow term: {'residual' if args.residual else 'accurate - fast'}")
    print("| integrator | outer step (fs) | drift (meV/atom/ps) | fluctuation (meV/atom) |")
    print("|---|---:|---:|---:|")
    for label, outer, drift, fluctuation in rows:
        print(f"| {label} | {outer:g} | {drift:+.3f} | {fluctuation:.3f} |")
    return rows


if __name__ == "__main__":
    main()
