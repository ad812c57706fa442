"""Resuming a distillation: the work folder's record of finished stages, and the
check that a resumed run has the settings it was started with."""
import dataclasses
import json
import os

from .settings import Settings

__all__ = ["Work", "file_digest", "check_resumable"]


class Work:
    """The run's folder: what is done is recorded in progress.json, stage by stage,
    so a run started again skips it."""

    def __init__(self, out, log):
        self.root = os.path.abspath(out)
        self.log = log
        os.makedirs(self.root, exist_ok=True)
        self.progress_file = self.path("progress.json")
        self.progress = json.load(open(self.progress_file)) if os.path.exists(self.progress_file) else {}

    def path(self, *parts):
        """A path inside the work folder."""
        return os.path.join(self.root, *parts)

    def done(self, stage):
        """Whether `stage` finished in this or an earlier run."""
        return stage in self.progress

    def result(self, stage):
        """The recorded result of a finished `stage`."""
        return self.progress[stage]

    def finish(self, stage, result=None):
        """Record `stage` as finished with `result` (atomically)."""
        self.progress[stage] = result if result is not None else {}
        temporary = self.progress_file + ".tmp"
        with open(temporary, "w") as f:
            json.dump(self.progress, f, indent=1)
        os.replace(temporary, self.progress_file)


def file_digest(path):
    """The SHA-256 of a file's contents, hex."""
    import hashlib
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_resumable(work, settings):
    """Record the settings of a new run, or refuse to resume one made with other ones."""
    identity = {name: getattr(settings, name) for name in Settings.IDENTITY}
    identity["accurate_sha256"] = file_digest(settings.accurate)
    identity["pdb_sha256"] = file_digest(settings.pdb)
    saved_file = work.path("settings.json")
    if os.path.exists(saved_file):
        saved = json.load(open(saved_file))["identity"]
        changed = [name for name in identity if saved.get(name) != identity[name]]
        if changed and work.progress:
            raise ValueError(f"{work.root} holds a run made with other settings ({', '.join(changed)}); "
                             "use another --out, or the same settings to resume it")
    with open(saved_file, "w") as f:
        json.dump({"identity": identity, "settings": dataclasses.asdict(settings)}, f, indent=1)
