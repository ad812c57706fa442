"""Deprecated: :mod:`openmmswitchingdp.validate` moved to
:mod:`openmmswitchingdp.toolkit.validate` (library) and
:mod:`openmmswitchingdp.toolkit.cli.validate` (command line); this alias stays for one
release."""
from ._deprecated import alias

_last = alias(globals(), "openmmswitchingdp.validate", "openmmswitchingdp.toolkit.validate", "openmmswitchingdp.toolkit.cli.validate")

if __name__ == "__main__":
    raise SystemExit(_last.command())
