"""Energy conservation (NVE) of single-model and rRESPA dynamics, as a measured figure.

Every run starts from the same state (the structure equilibrated at the given
temperature with Langevin dynamics and the full potential: the accurate model, or
fast + residual) and integrates with velocity-Verlet rRESPA
(openmmswitchingdp.integrators.VelocityVerletRESPAIntegrator); the reference row is
the same integrator with one inner step, i.e. velocity Verlet with the full force
every step.  For each run it reports the drift of the total energy (slope
of a straight-line fit, meV/atom/ps) and its fluctuation around that line (standard
deviation, meV/atom).

    python -m openmmswitchingdp.toolkit.cli.nve --outer 1 2 4 --duration 5

:func:`table` returns an :class:`NveRow` per run.
"""
from dataclasses import dataclass

import numpy as np

from .. import defaults
from .schemes import ALTERNATING, MTS, SLOW_GROUP, Scheme, Structure, build_context
from ..units import KJ_PER_MOL_PER_MEV

__all__ = ["NveRow", "table", "markdown", "pair_scheme", "equilibrated_state", "nve_run", "drift_and_fluctuation"]


@dataclass
class NveRow:
    """One NVE run: its label, the outer step (fs), the drift of the total energy
    (meV/atom/ps) and its fluctuation around the fitted line (meV/atom)."""
    label: str
    outer_fs: float
    drift: float
    fluctuation: float


def pair_scheme(accurate, fast, residual=False, interval=None, timestep_fs=defaults.TIMESTEP_FS, inner_steps=1):
    """rRESPA with the slow term accurate - fast (or `accurate` as a co-trained residual),
    or alternation with `interval`."""
    if interval is not None:
        return Scheme(ALTERNATING, accurate, fast, timestep_fs, interval=interval)
    return Scheme(MTS, accurate, fast, timestep_fs, inner_steps=inner_steps, residual=residual)


def equilibrated_state(accurate, fast, pdb_path, temperature, equilibration_ps, seed, platform, residual=False):
    """Positions, velocities and box after Langevin equilibration with the full potential
    (the accurate model, or fast + residual; rRESPA with one inner step is the full force)."""
    scheme = pair_scheme(accurate, fast, residual)
    context = build_context(scheme, Structure.from_pdb(pdb_path), platform, temperature, seed)
    context.getIntegrator().step(int(round(equilibration_ps * 1000 / scheme.step_fs)))
    return context.getState(getPositions=True, getVelocities=True)


def nve_run(accurate, fast, pdb_path, state, outer_fs, timestep_fs, duration_ps, report_fs, platform, residual=False,
            interval=None):
    """(times ps, total energies kJ/mol, number of atoms) of one NVE run from `state`;
    with `interval`, alternation under velocity Verlet at `outer_fs` instead of rRESPA.
    The energy is the one the force reports, i.e. of the model scheduled at that step."""
    import openmm.unit as u
    from ..integrators import VelocityVerletRESPAIntegrator
    inner_steps = int(round(outer_fs / timestep_fs))
    if inner_steps < 1 or abs(inner_steps * timestep_fs - outer_fs) > 1e-9:
        raise ValueError(f"the outer step {outer_fs} fs must be a multiple of the inner step {timestep_fs} fs")
    integrator = VelocityVerletRESPAIntegrator(outer_fs * 1e-3, inner_steps, 0, SLOW_GROUP)
    scheme = pair_scheme(accurate, fast, residual, interval, timestep_fs, inner_steps)
    context = build_context(scheme, Structure.from_pdb(pdb_path), platform, integrator=integrator, velocities=False)
    context.setState(state)
    context.setStepCount(0)
    per_report = max(1, int(round(report_fs / outer_fs)))
    reports = int(round(duration_ps * 1000 / (per_report * outer_fs)))
    times, energies = [], []
    for i in range(reports + 1):
        if i:
            integrator.step(per_report)
        s = context.getState(getEnergy=True)
        times.append(s.getTime().value_in_unit(u.picosecond))
        energies.append((s.getPotentialEnergy() + s.getKineticEnergy()).value_in_unit(u.kilojoule_per_mole))
    return np.array(times), np.array(energies), context.getSystem().getNumParticles()


def drift_and_fluctuation(times, energies, atoms):
    """(drift meV/atom/ps, fluctuation meV/atom) from a straight-line fit."""
    per_atom = energies / atoms / KJ_PER_MOL_PER_MEV
    slope, intercept = np.polyfit(times, per_atom, 1)
    return slope, np.std(per_atom - (slope * times + intercept))


def table(accurate, fast, pdb_path, outers, timestep_fs=defaults.TIMESTEP_FS, duration_ps=5.0, report_fs=10.0,
          temperature=defaults.TEMPERATURE, equilibration_ps=defaults.EQUILIBRATION_PS, seed=defaults.SEED,
          platform=defaults.PLATFORM, residual=False, progress=None, alternating=None):
    """:class:`NveRow` rows for the full model, each rRESPA outer step in `outers` (fs,
    multiples of the inner step `timestep_fs`) and, if `alternating` (an interval) is
    given, alternation at the inner step.  `progress(label)` is called after each run."""
    state = equilibrated_state(accurate, fast, pdb_path, temperature, equilibration_ps, seed, platform, residual)
    rows = []
    # With one inner step the slow and fast groups act together every step: plain
    # velocity Verlet with the full (accurate) potential.
    runs = [("full model, velocity Verlet", timestep_fs, None)]
    runs += [(f"rRESPA {o:g}/{timestep_fs:g} fs", o, None) for o in outers]
    if alternating:
        runs.append((f"alternating 1:{alternating - 1}, velocity Verlet", timestep_fs, alternating))
    for label, outer, interval in runs:
        times, energies, atoms = nve_run(accurate, fast, pdb_path, state, outer, timestep_fs, duration_ps, report_fs,
                                         platform, residual, interval)
        drift, fluctuation = drift_and_fluctuation(times, energies, atoms)
        rows.append(NveRow(label, outer, drift, fluctuation))
        if progress:
            progress(label)
    return rows


def markdown(rows):
    """The NVE table of :func:`table`'s rows."""
    lines = ["| integrator | outer step (fs) | drift (meV/atom/ps) | fluctuation (meV/atom) |", "|---|---:|---:|---:|"]
    lines += [f"| {r.label} | {r.outer_fs:g} | {r.drift:+.3f} | {r.fluctuation:.3f} |" for r in rows]
    return "\n".join(lines)
