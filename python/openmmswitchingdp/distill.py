"""Deprecated: :mod:`openmmswitchingdp.distill` moved to
:mod:`openmmswitchingdp.toolkit.distill` (library) and
:mod:`openmmswitchingdp.toolkit.cli.distill` (command line); this alias stays for one
release."""
from ._deprecated import alias

_last = alias(globals(), "openmmswitchingdp.distill", "openmmswitchingdp.toolkit.distill", "openmmswitchingdp.toolkit.cli.distill")

if __name__ == "__main__":
    raise SystemExit(_last.main())
