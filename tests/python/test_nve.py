"""Energy conservation of rRESPA with the bundled pair, against velocity Verlet with
the accurate model alone (short runs; benchmarks/README have the long ones)."""
import pytest

from helpers import ACCURATE, FAST, WATER_PDB
from openmmswitchingdp.nve import table

DURATION_PS = 0.5


def test_mts_at_2_fs_drifts_no_more_than_the_bound_from_accurate_only():
    rows = table(ACCURATE, FAST, WATER_PDB, [2.0], duration_ps=DURATION_PS, report_fs=5.0, equilibration_ps=0.1)
    (_, _, reference_drift, reference_fluctuation), (_, outer, mts_drift, mts_fluctuation) = rows
    assert outer == 2.0
    # The bound: what the accurate-only run could show as drift over this short run
    # (its own drift plus its fluctuation spread over the run), times a margin of 5.
    bound = 5 * (abs(reference_drift) + reference_fluctuation / DURATION_PS)
    print(f"reference drift {reference_drift:+.3f} meV/atom/ps, fluctuation {reference_fluctuation:.3f} meV/atom; "
          f"rRESPA 2 fs drift {mts_drift:+.3f}, fluctuation {mts_fluctuation:.3f}; bound {bound:.3f}")
    assert abs(mts_drift) <= bound
    assert mts_fluctuation > 0 and reference_fluctuation > 0
