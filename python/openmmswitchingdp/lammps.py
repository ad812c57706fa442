"""Deprecated: :mod:`openmmswitchingdp.lammps` moved to
:mod:`openmmswitchingdp.toolkit.lammps`; this alias stays for one release."""
from ._deprecated import alias

alias(globals(), "openmmswitchingdp.lammps", "openmmswitchingdp.toolkit.lammps")
