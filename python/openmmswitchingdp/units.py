"""Unit conversions for the Python tools, the same numbers as dpcore/include/DPUnits.h:
DeePMD models work in A and eV, OpenMM in nm and kJ/mol."""

__all__ = ["KJ_PER_MOL_PER_EV", "ANGSTROM_PER_NM", "KJ_PER_MOL_PER_MEV", "KJ_PER_MOL_NM_PER_EV_A", "BOLTZMANN_KJ_PER_MOL_K", "ns_per_day"]

KJ_PER_MOL_PER_EV = 96.48533212331002  # CODATA 2018
ANGSTROM_PER_NM = 10.0
KJ_PER_MOL_PER_MEV = KJ_PER_MOL_PER_EV * 1e-3
# force: eV/A -> kJ/mol/nm
KJ_PER_MOL_NM_PER_EV_A = KJ_PER_MOL_PER_EV * ANGSTROM_PER_NM
BOLTZMANN_KJ_PER_MOL_K = 0.00831446261815324


def ns_per_day(steps_per_second, timestep_ps):
    """Simulated ns per day at `steps_per_second` steps of `timestep_ps` ps."""
    return steps_per_second * timestep_ps * 1e-3 * 86400
