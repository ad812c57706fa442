"""Deprecated: :mod:`openmmswitchingdp.gpucheck` moved to
:mod:`openmmswitchingdp.toolkit.gpucheck` (library) and
:mod:`openmmswitchingdp.toolkit.cli.gpucheck` (command line); this alias stays for one
release."""
from ._deprecated import alias

_last = alias(globals(), "openmmswitchingdp.gpucheck", "openmmswitchingdp.toolkit.gpucheck", "openmmswitchingdp.toolkit.cli.gpucheck")

if __name__ == "__main__":
    raise SystemExit(_last.main())
