"""Whether the platform runs here, the machine's line, and the summary of the checks."""
import openmm as mm
import torch

from ... import LOADED_PLUGINS
from ..schemes import platform_names
from .common import FAILED

__all__ = ["platform_problem", "machine_line", "format_summary", "exit_status"]

def platform_problem(platform):
    """None where `platform` runs the plugin here, else why not."""
    names = platform_names()
    if platform not in names:
        failures = [f for f in mm.Platform.getPluginLoadFailures() if platform.lower() in f.lower()]
        return (f"OpenMM has no {platform} platform here (platforms: {', '.join(names)})"
                + (f"; plugin load failures: {' | '.join(failures)}" if failures else ""))
    library = {"CUDA": "libOpenMMSwitchingDPCUDA.so", "OpenCL": "libOpenMMSwitchingDPOpenCL.so"}.get(platform)
    if library and library not in LOADED_PLUGINS:
        return f"the plugin's {platform} kernel ({library}) was not built or not loaded (loaded: {', '.join(LOADED_PLUGINS)})"
    if platform == "CUDA" and not torch.cuda.is_available():
        return (f"torch {torch.__version__} (CUDA {torch.version.cuda}) sees no CUDA device "
                "(torch.cuda.is_available() is False)")
    return None


def machine_line(platform):
    """torch's, OpenMM's and the GPU's versions and names, and the platform, in one line."""
    parts = [f"torch {torch.__version__}", f"OpenMM {mm.__version__}"]
    if torch.cuda.is_available():
        parts.append(f"GPU {torch.cuda.get_device_name(0)} (torch CUDA {torch.version.cuda})")
    parts.append(f"platform {platform}")
    return ", ".join(parts)


def format_summary(header, checks, tables=()):
    """The summary: one row per check, then the tables given (title, markdown)."""
    lines = [f"== gpucheck summary: {header}", "| check | result | detail |", "|---|---|---|"]
    for check in checks:
        lines.append(f"| {check.part} | {check.status} | {check.detail} |")
    failed = sum(check.status == FAILED for check in checks)
    lines.append(f"{len(checks)} checks: {failed} failed" if failed else f"{len(checks)} checks: none failed")
    for title, table in tables:
        if table:
            lines += ["", title, table]
    return "\n".join(lines)


def exit_status(checks):
    """1 when a check failed, else 0."""
    return 1 if any(check.status == FAILED for check in checks) else 0
