#!/usr/bin/env bash
# The distilled fast partner of the bundled 6 A model, made by switchingdp-distill from
# water_6A.pth and water.pdb alone (no reference data, no classical force field):
#   water_4A_distilled.pth            the fast model (float32, compressed)
#   water_6A_distilled_residual.pth   the residual co-trained with it (for rRESPA)
#   distilled.report.md               the command's report (rounds, validate, bench, NVE)
# The hand-made 4 A model (generate_data.py, explore.py, train.py) stays as the
# comparison; see the README's "Distilled pair" section.
#
# About 2 hours on the 2-core development machine (one thread).  Run it again with
# the same arguments to resume after an interruption.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
WORK="${1:-$HERE/work/distill}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" DP_INTRA_OP_PARALLELISM_THREADS=1 DP_INTER_OP_PARALLELISM_THREADS=1
switchingdp-distill --accurate "$HERE/water_6A.pth" --pdb "$HERE/water.pdb" --out "$WORK" \
    --explore-time 4 --rounds 2 --residual --residual-steps 6000 --validate-time 5 --nve-time 1 --no-progress
cp "$WORK/fast.pth" "$HERE/water_4A_distilled.pth"
cp "$WORK/residual.pth" "$HERE/water_6A_distilled_residual.pth"
cp "$WORK/report.md" "$HERE/distilled.report.md"
