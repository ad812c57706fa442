"""Deprecated: :mod:`openmmswitchingdp.schemes` moved to
:mod:`openmmswitchingdp.toolkit.schemes`; this alias stays for one release."""
from ._deprecated import alias

alias(globals(), "openmmswitchingdp.schemes", "openmmswitchingdp.toolkit.schemes")
