"""What a GPU machine needs checked, through the public API only: the library of
``python -m openmmswitchingdp.toolkit.cli.gpucheck`` (run by scripts/gpu-check.sh;
the parts are described there).

Split by job: :mod:`.common` (parts, tolerances, sizes, the repository's models, time
budgets, :class:`Check`), :mod:`.contexts` (one model's Context), the parts
:mod:`.families`, :mod:`.replays`, :mod:`.timing`, :mod:`.pairings` (the bench) and
:mod:`.engines`, :mod:`.summary` and :mod:`.run` (the whole check).  The names below
are re-exported from them.
"""
# torch before openmm and our libraries: the order torch expects (see openmmswitchingdp/__init__.py).
import torch  # noqa: F401  (first, on purpose)

from .common import (BASE_ATOMS, BENCH_SIZES, DEFAULT_BUDGET_S, FAILED, MAX_COPIES, OK, PARTS, REPORTED, SKIPPED,
                     TIMING_MODELS, TIMING_SIZES, TOLERANCE, Budget, Check, atoms_for, copies_for, displaced,
                     find_root, is_export, label, relative_errors, repository_models, select, set_deadline,
                     short_error, structure, water_dir)
from .contexts import (VARIANTS, default_precision, energy_forces, model_context, model_parameters,
                       precision_properties)
from .engines import engine_check, model_engines
from .families import check_families, families_check
from .pairings import CO_TRAINED, PAIRINGS, Pairing, bench_check, bench_table, check_pairing, run_bench, runs_on
from .replays import REPLAY_MODELS, check_replays, replay_configurations, replays_check
from .run import GpuCheckOptions, run_check
from .summary import exit_status, format_summary, machine_line, platform_problem
from .timing import one_evaluation_ms, time_models, timing_check, timing_line

__all__ = ["PARTS", "BASE_ATOMS", "MAX_COPIES", "TIMING_SIZES", "BENCH_SIZES", "TIMING_MODELS", "TOLERANCE",
           "DEFAULT_BUDGET_S", "OK", "FAILED", "SKIPPED", "REPORTED", "Check", "Budget", "set_deadline", "copies_for",
           "atoms_for", "structure", "displaced", "find_root", "water_dir", "repository_models", "label", "select",
           "is_export", "short_error", "relative_errors", "VARIANTS", "precision_properties", "default_precision",
           "model_parameters", "model_context", "energy_forces", "check_families", "families_check",
           "REPLAY_MODELS", "replay_configurations", "check_replays", "replays_check", "one_evaluation_ms",
           "time_models", "timing_line", "timing_check", "CO_TRAINED", "Pairing", "PAIRINGS", "check_pairing",
           "runs_on", "run_bench", "bench_check", "bench_table", "model_engines", "engine_check",
           "platform_problem", "machine_line", "format_summary", "exit_status", "GpuCheckOptions", "run_check"]
