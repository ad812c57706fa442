"""Distillation: a fast partner for one accurate DeePMD model, made by the accurate
model itself (the library of ``switchingdp-distill``).

Split by job: :mod:`.settings` (the settings and training schedule), :mod:`.resume`
(the work folder's record of finished stages), :mod:`.data` (deepmd-kit's data and
the teacher's labels), :mod:`.geometry` (distances and neighbour counts),
:mod:`.selection` (frames by the pair's deviation), :mod:`.trainer` (deepmd-kit's
trainer as a subprocess), :mod:`.checkpoint` (freezing and compressing the fast
model), :mod:`.sampling` (MD frames), :mod:`.pipeline` (the stages) and
:mod:`.report` (report.md).  The names below are re-exported from them.
"""
from .checkpoint import freeze_fast
from .data import label_frames, model_metadata, read_system, write_system
from .geometry import closest_pairs, neighbour_statistics, pair_distances, sel_from_counts
from .pipeline import Distillation, distill, silent_bar
from .report import write_report
from .resume import Work, check_resumable, file_digest
from .sampling import sample_md
from .selection import classify, deviation_statistics, select_frames
from .settings import PREF_E, PREF_F, SEL_HEADROOM, START_LR, STOP_LR, VALIDATION_EVERY, Settings
from .trainer import dp_command, last_lcurve, last_lcurve_step, run_logged, train, training_input

__all__ = ["Settings", "Distillation", "distill", "silent_bar", "write_report", "Work", "check_resumable",
           "file_digest", "model_metadata", "label_frames", "write_system", "read_system", "pair_distances",
           "closest_pairs", "neighbour_statistics", "sel_from_counts", "classify", "select_frames",
           "deviation_statistics", "dp_command", "training_input", "run_logged", "last_lcurve_step", "train",
           "last_lcurve", "freeze_fast", "sample_md", "SEL_HEADROOM", "VALIDATION_EVERY", "START_LR", "STOP_LR",
           "PREF_E", "PREF_F"]
