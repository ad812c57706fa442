"""Deprecated: :mod:`openmmswitchingdp.analysis` moved to
:mod:`openmmswitchingdp.toolkit.analysis`; this alias stays for one release."""
from ._deprecated import alias

alias(globals(), "openmmswitchingdp.analysis", "openmmswitchingdp.toolkit.analysis")
