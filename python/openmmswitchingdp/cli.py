"""Deprecated: :mod:`openmmswitchingdp.cli` moved to :mod:`openmmswitchingdp.toolkit.md`
(library) and :mod:`openmmswitchingdp.toolkit.cli.md` (command line); this alias stays
for one release."""
from ._deprecated import alias

_last = alias(globals(), "openmmswitchingdp.cli", "openmmswitchingdp.toolkit.md", "openmmswitchingdp.toolkit.cli.md")
from .defaults import GUARD as DEFAULT_GUARD  # noqa: E402,F401  (its name here before)

if __name__ == "__main__":
    raise SystemExit(_last.main())
