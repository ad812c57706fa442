"""Deprecated: :mod:`openmmswitchingdp.bench` moved to
:mod:`openmmswitchingdp.toolkit.bench` (library) and
:mod:`openmmswitchingdp.toolkit.cli.bench` (command line); this alias stays for one
release."""
from ._deprecated import alias

_last = alias(globals(), "openmmswitchingdp.bench", "openmmswitchingdp.toolkit.bench", "openmmswitchingdp.toolkit.cli.bench")

if __name__ == "__main__":
    raise SystemExit(_last.command())
