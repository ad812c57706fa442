"""Deprecated: :mod:`openmmswitchingdp.nve` moved to :mod:`openmmswitchingdp.toolkit.nve`
(library) and :mod:`openmmswitchingdp.toolkit.cli.nve` (command line); this alias stays
for one release."""
from ._deprecated import alias

_last = alias(globals(), "openmmswitchingdp.nve", "openmmswitchingdp.toolkit.nve", "openmmswitchingdp.toolkit.cli.nve")

if __name__ == "__main__":
    _last.main()
