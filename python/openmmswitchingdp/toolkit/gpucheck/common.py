"""What every part of the GPU check shares: the parts, tolerances and budgets, a
summary line (:class:`Check`), sizes and structures, the repository's models, and
the time budget of a part within the run's deadline."""
import dataclasses
import functools
import glob
import os
import time

import numpy as np

from ... import bundled
from ..schemes import Structure

__all__ = ["PARTS", "BASE_ATOMS", "MAX_COPIES", "TIMING_SIZES", "BENCH_SIZES", "TIMING_MODELS", "TOLERANCE", "DEFAULT_BUDGET_S", "OK", "FAILED", "SKIPPED", "REPORTED", "Check", "copies_for", "atoms_for", "structure", "displaced", "find_root", "water_dir", "repository_models", "label", "select", "is_export", "short_error", "relative_errors", "Budget", "set_deadline"]

PARTS = ("families", "replays", "timing", "bench", "engine")
BASE_ATOMS = 192   # the bundled water box
MAX_COPIES = 16
TIMING_SIZES = (192, 1536, 12288, 98304)
BENCH_SIZES = (192, 1536, 12288)
TIMING_MODELS = ("water_6A.pth", "water_4A.pth", "water_4A_fp32_compressed.pth")
# Relative errors against the reference platform above which a family fails: loose
# enough for the float32 models (CUDA sums in another order; the H200 run saw 1e-6 in
# energy, up to 1.6e-4 in forces), far above what float64 models give (1e-15..1e-10).
TOLERANCE = {"energy": 1e-5, "forces": 1e-3}
DEFAULT_BUDGET_S = {"families": 60, "timing": 60, "bench": 120, "engine": 20}

OK, FAILED, SKIPPED, REPORTED = "ok", "FAILED", "skipped", "reported"

@dataclasses.dataclass
class Check:
    """One line of the summary: the part, its status (OK, FAILED, SKIPPED or REPORTED) and the detail."""
    part: str
    status: str   # OK, FAILED, SKIPPED or REPORTED
    detail: str



def copies_for(size, base_atoms=BASE_ATOMS):
    """Copies per box edge for a --sizes value: an atom count base_atoms x n^3, or n."""
    size = int(size)
    if size >= base_atoms:
        n = round((size / base_atoms) ** (1 / 3))
        if base_atoms * n ** 3 == size:
            return n
        raise ValueError(f"{size} atoms is not {base_atoms} x n^3 (the bundled box tiled n x n x n)")
    if 1 <= size <= MAX_COPIES:
        return size
    raise ValueError(f"size {size}: give an atom count ({base_atoms} x n^3) or copies per edge (1 to {MAX_COPIES})")


def atoms_for(copies, base_atoms=BASE_ATOMS):
    """The atoms of the bundled box tiled `copies` times per edge."""
    return base_atoms * copies ** 3


@functools.lru_cache(maxsize=None)
def structure(pdb, copies):
    """The PDB's box tiled copies x copies x copies times (as switchingdp-bench does)."""
    return Structure.from_pdb(pdb, copies)


def displaced(base, scale, seed):
    """`base` with every atom moved by a normal deviate of `scale` nm."""
    rng = np.random.default_rng(seed)
    return Structure(base.topology, base.positions + rng.normal(0.0, scale, base.positions.shape))


def find_root(start=None):
    """The repository root (holding examples/water/water_6A.pth) at or above `start`
    (default: the working directory), else above this file (a source tree), else None."""
    candidates = [os.path.abspath(start or os.getcwd())]
    here = os.path.abspath(__file__)   # python/openmmswitchingdp/toolkit/gpucheck/common.py in a source tree
    candidates.append(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(here))))))
    for candidate in candidates:
        path = candidate
        while True:
            if os.path.exists(os.path.join(path, "examples", "water", "water_6A.pth")):
                return path
            parent = os.path.dirname(path)
            if parent == path:
                break
            path = parent
    return None


def water_dir(root):
    """Where the water models are: the repository's examples/water, else the package's data."""
    return os.path.join(root, "examples", "water") if root else bundled.DATA_DIR


def repository_models(root):
    """Every model file of the repository: the water models (se_e2_a: float64, float32,
    compressed, distilled, residuals) and the test fixtures of every other family
    (tests/data: se_e2_r, se_atten_v2, DPA-2, DPA-3, frame and atomic parameters, .pt2
    exports).  Without a repository, the models installed with the package."""
    files = sorted(glob.glob(os.path.join(water_dir(root), "*.pth")))
    if root:
        data = os.path.join(root, "tests", "data")
        files += sorted(glob.glob(os.path.join(data, "*.pth"))) + sorted(glob.glob(os.path.join(data, "*.pt2")))
    return files


def label(path, root):
    """A model's name in the tables: relative to the repository, else its file name."""
    return os.path.relpath(path, root) if root else os.path.basename(path)


def select(paths, patterns):
    """The paths whose name contains one of `patterns` (all when none given)."""
    if not patterns:
        return list(paths)
    return [p for p in paths if any(pattern in os.path.basename(p) for pattern in patterns)]


def is_export(path):
    """An AOTInductor export: compiled code for the machine that exported it."""
    return path.endswith(".pt2")


def short_error(error, limit=160):
    """An error's last non-empty line, cut to `limit` characters."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    text = lines[-1] if lines else type(error).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."


def relative_errors(reference, result):
    """(``|dE| / |E|``, ``max |dF| / max |F|``) of `result` against `reference`, (E, F) pairs."""
    (e0, f0), (e1, f1) = reference, result
    return abs(e1 - e0) / max(abs(e0), 1e-300), float(np.abs(f1 - f0).max() / max(np.abs(f0).max(), 1e-300))


DEADLINE = None   # time.perf_counter() after which no part starts new work (--deadline-s)


def set_deadline(seconds):
    """No part starts new work after `seconds` from now (None: no deadline)."""
    global DEADLINE
    DEADLINE = None if seconds is None else time.perf_counter() + seconds


class Budget:
    """A part's time budget, within the whole run's deadline: whether `expected` more
    seconds still fit."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.start = time.perf_counter()

    @property
    def elapsed(self):
        """Seconds since the part started."""
        return time.perf_counter() - self.start

    def fits(self, expected=0.0):
        """Whether `expected` more seconds fit in the budget and before the deadline."""
        within_deadline = DEADLINE is None or time.perf_counter() + expected <= DEADLINE
        return self.elapsed + expected <= self.seconds and within_deadline

    def __str__(self):
        return f"time budget ({self.seconds:g} s for the part" + (", or the run's deadline)" if DEADLINE else ")")
