"""NVE drift of a co-trained pair at a 4 fs rRESPA outer step against its own velocity
Verlet, for several seeds (192 atoms, 1 ps after 1 ps of NVT each); one JSON line per seed.

    python docs/distill/nve_seeds/seeds.py distilled 11 12 13 14
    python docs/distill/nve_seeds/seeds.py handmade 11 12 13 14
"""
import json
import os
import sys

from openmmswitchingdp import bundled, nve

WATER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "examples", "water")
PAIRS = {"distilled": (bundled.RESIDUAL_MODEL, bundled.FAST_MODEL),
         "handmade": (os.path.join(WATER, "water_6A_residual.pth"), bundled.HANDMADE_FAST_MODEL)}

pair = sys.argv[1]
for seed in [int(a) for a in sys.argv[2:]]:
    rows = nve.table(*PAIRS[pair], bundled.WATER_PDB, [4.0], duration_ps=1.0, equilibration_ps=1.0,
                     seed=seed, residual=True)
    print(json.dumps({"pair": pair, "seed": seed, "rows": rows}), flush=True)
