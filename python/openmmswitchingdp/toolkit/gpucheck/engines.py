"""The engine part: which engine runs each model (SwitchingDPForce.getModelEngine)."""
import os

from ... import SwitchingDPForce
from .common import FAILED, OK, Check, label, short_error

__all__ = ["model_engines", "engine_check"]

def model_engines(models, root, say=print):
    """(label, engine, note) per model from SwitchingDPForce.getModelEngine (and
    getModelEngineNote where the build has it), or None where it has no getModelEngine."""
    if not hasattr(SwitchingDPForce, "getModelEngine"):
        return None
    rows = []
    say("\n## Model engines (SwitchingDPForce.getModelEngine)")
    say("| model | engine | note |")
    say("|---|---|---|")
    for path in models:
        try:
            force = SwitchingDPForce(path)
            engine = str(force.getModelEngine(SwitchingDPForce.Accurate))
            note = str(force.getModelEngineNote(SwitchingDPForce.Accurate)) if hasattr(force, "getModelEngineNote") else ""
        except Exception as error:   # noqa: BLE001
            engine, note = "error", short_error(error, 100)
        rows.append((label(path, root), engine, note))
        say(f"| {rows[-1][0]} | {engine} | {note} |")
    return rows


def engine_check(rows):
    """The summary line of :func:`model_engines`' rows."""
    engines = {}
    for name, engine, _ in rows:
        engines.setdefault(engine, []).append(os.path.basename(name))
    detail = "; ".join(f"{engine}: {', '.join(names)}" for engine, names in engines.items())
    return Check("model engines", FAILED if "error" in engines else OK, detail)
