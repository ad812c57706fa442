"""1:3 alternation of the distilled pair and of the hand-made pair at 1536 atoms, against
accurate-only, from one shared start (switchingdp-validate's Python API)."""
import json, sys
from openmmswitchingdp import validate, analysis
fast, out = sys.argv[1], sys.argv[2]
results = validate.validate("/work/main/examples/water/water_6A.pth", fast, "/work/main/examples/water/water.pdb",
                            replicate=2, time_ps=1.0, equilibration_ps=1.0, scheme_equilibration_ps=0.25,
                            out=out, progress=False, which=[0, 2, 5],
                            other_fast=["/work/main/examples/water/water_4A_fp32_compressed.pth"])
print(analysis.markdown_table(results))
