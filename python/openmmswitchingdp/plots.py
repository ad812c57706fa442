"""Deprecated: :mod:`openmmswitchingdp.plots` moved to
:mod:`openmmswitchingdp.toolkit.plots`; this alias stays for one release."""
from ._deprecated import alias

alias(globals(), "openmmswitchingdp.plots", "openmmswitchingdp.toolkit.plots")
