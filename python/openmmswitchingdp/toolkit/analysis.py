"""Analysis of validate's runs: radial distribution functions and their Pearson
correlation with accurate-only (Kanda et al. 2025, Table 1), diffusion from the
mean-squared displacement, and the summary table.  Pure functions of the sampled
frames; running is :mod:`.validate`'s job, plotting :mod:`.plots`'."""
import itertools

import numpy as np

from ..units import KJ_PER_MOL_PER_MEV

__all__ = ["element_pairs", "rdf", "largest_rdf_range", "diffusion_coefficient", "compare", "markdown_table"]


def element_pairs(elements):
    """Every pair of distinct element symbols (with repeats, e.g. O-O, O-H, H-H), in order of appearance."""
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


def compare(raw, names, unstable, elements, box, rdf_bin_width=0.005):
    """Each scheme against the first (accurate-only).  raw: per stable scheme the
    sampled run (times ps, xyz nm, boxes nm, energies kJ/mol/atom, temperatures K,
    deviations eV/A, evaluations per step, speed); unstable: per blown-up scheme its
    Unstable.  Returns (per-scheme results for results.json, RDF curves, MSD curves)."""
    r_max = min(1.0, largest_rdf_range(box))
    pairs = element_pairs(elements)
    unique = sorted(set(elements), key=elements.index)
    rows, rdfs, msds = {}, {}, {}
    for name in names:
        if name in unstable:
            rows[name] = {"unstable_after_ps": unstable[name].time_ps, "reason": unstable[name].reason}
            continue
        run = raw[name]
        rdfs[name] = {pair: rdf(run["xyz"], run["boxes"], elements, pair, r_max, rdf_bin_width) for pair in pairs}
        diffusion, msds[name] = {}, {}
        for element in unique:
            mask = np.array(elements) == element
            diffusion[element], lag_times, msd = diffusion_coefficient(run["times"], run["xyz"][:, mask])
            msds[name][element] = (lag_times, msd)
        deviations = run["deviations"]
        rows[name] = {
            "rdf_pearson": {"-".join(pair): float(np.corrcoef(rdfs[names[0]][pair][1], rdfs[name][pair][1])[0, 1])
                            for pair in pairs},
            "diffusion_1e-5_cm2_per_s": {k: float(v) for k, v in diffusion.items()},
            "mean_energy_meV_per_atom": float(run["energies"].mean() / KJ_PER_MOL_PER_MEV),
            "mean_temperature_K": float(run["temperatures"].mean()),
            "steps_per_second": run["steps_per_second"],
            "ns_per_day": run["ns_per_day"],
            "speedup": run["ns_per_day"] / raw[names[0]]["ns_per_day"],
            # The fast model's deviation from the accurate one on this scheme's frames.
            "max_force_deviation_eV_per_A": {"mean": float(deviations[:, 0].mean()),
                                             "p95": float(np.quantile(deviations[:, 0], 0.95)),
                                             "max": float(deviations[:, 0].max())},
            "rms_force_deviation_eV_per_A": float(deviations[:, 1].mean()),
            "evaluations_per_step": {"accurate": float(run["evaluations_per_step"][0]),
                                     "fast": float(run["evaluations_per_step"][1])},
        }
    return rows, rdfs, msds


def markdown_table(results):
    """The comparison table of a validation's results (a ValidationResult, or its
    results.json as a dict)."""
    schemes_ = results.schemes if hasattr(results, "schemes") else results["schemes"]
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
