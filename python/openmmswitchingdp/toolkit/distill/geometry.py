"""Geometry of the data: minimum-image distances, closest pairs, neighbour counts
and deepmd-kit's ``sel`` from them (A)."""
import numpy as np

from .settings import SEL_HEADROOM

__all__ = ["pair_distances", "closest_pairs", "neighbour_statistics", "sel_from_counts"]


def pair_distances(coord, box):
    """Minimum-image distances (atoms x atoms, A) in one frame; inf on the diagonal."""
    inverse = np.linalg.inv(box)
    fractional = coord @ inverse
    delta = fractional[:, None, :] - fractional[None, :, :]
    delta -= np.round(delta)
    distance = np.linalg.norm(delta @ box, axis=2)
    np.fill_diagonal(distance, np.inf)
    return distance


def closest_pairs(coords, boxes):
    """Per frame, the smallest minimum-image interatomic distance (A)."""
    return np.array([pair_distances(coord, box).min() for coord, box in zip(coords, boxes)])


def neighbour_statistics(coords, boxes, atom_types, ntypes, rcut):
    """(largest number of neighbours of each type within rcut of any atom in any frame,
    smallest interatomic distance), in A.  Minimum image: the box must be at least
    2 rcut across, which the plugin requires anyway."""
    atom_types = np.asarray(atom_types)
    largest = np.zeros(ntypes, dtype=int)
    smallest = np.inf
    for coord, box in zip(coords, boxes):
        distance = pair_distances(coord, box)
        smallest = min(smallest, float(distance.min()))
        within = distance < rcut
        for t in range(ntypes):
            largest[t] = max(largest[t], int(within[:, atom_types == t].sum(axis=1).max(initial=0)))
    return largest.tolist(), smallest


def sel_from_counts(counts):
    """deepmd-kit's sel from observed neighbour counts: headroom, a multiple of 4, at least 4."""
    return [max(4, int(np.ceil(c * SEL_HEADROOM / 4.0)) * 4) for c in counts]
