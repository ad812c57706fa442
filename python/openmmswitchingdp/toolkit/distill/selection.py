"""Frame selection by the pair's force deviation, after DP-GEN's trust levels."""
import numpy as np

__all__ = ["classify", "select_frames", "deviation_statistics"]


def classify(deviations, trust_lo, trust_hi=None, too_close=None):
    """Three classes of a frame, after DP-GEN: 'accurate' (deviation below trust_lo: the
    fast model is already right there), 'candidate' (worth labelling) and 'failed'
    (non-finite, at or above trust_hi when one is given, or marked in the boolean
    `too_close`: two atoms closer than physical)."""
    deviations = np.asarray(deviations, dtype=float)
    failed = ~np.isfinite(deviations)
    if trust_hi is not None:
        failed |= deviations >= trust_hi
    if too_close is not None:
        failed |= np.asarray(too_close, dtype=bool)
    return np.where(failed, "failed", np.where(deviations >= trust_lo, "candidate", "accurate"))


def select_frames(deviations, trust_lo, trust_hi, limit, seed=0, too_close=None):
    """Indices (sorted) of at most `limit` candidate frames, drawn at random among all
    candidates when there are more (as DP-GEN does)."""
    candidates = np.flatnonzero(classify(deviations, trust_lo, trust_hi, too_close) == "candidate")
    if len(candidates) > limit:
        candidates = np.random.default_rng(seed).choice(candidates, size=limit, replace=False)
    return np.sort(candidates)


def deviation_statistics(deviations, trust_lo, trust_hi=None, too_close=None):
    """Frames, median, 95th percentile and maximum of the finite deviations, and the
    number of frames of each class (see :func:`classify`)."""
    deviations = np.asarray(deviations, dtype=float)
    finite = deviations[np.isfinite(deviations)]
    classes = classify(deviations, trust_lo, trust_hi, too_close)
    return {"frames": int(len(deviations)),
            "median": float(np.median(finite)) if len(finite) else float("nan"),
            "p95": float(np.quantile(finite, 0.95)) if len(finite) else float("nan"),
            "max": float(finite.max()) if len(finite) else float("nan"),
            **{name: int((classes == name).sum()) for name in ("accurate", "candidate", "failed")}}
