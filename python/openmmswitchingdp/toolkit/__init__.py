"""The tools built on the plugin, each a library module plus a thin command-line
module in :mod:`openmmswitchingdp.toolkit.cli`:

- :mod:`.schemes`: the one notion of a scheme (what runs) and the one way to build its Context;
- :mod:`.md`: molecular dynamics (``switchingdp-md``);
- :mod:`.bench`: speed of the schemes side by side (``switchingdp-bench``), with :mod:`.lammps`
  for the comparison with LAMMPS;
- :mod:`.validate`: structure and dynamics against accurate-only (``switchingdp-validate``),
  with :mod:`.analysis` and :mod:`.plots`;
- :mod:`.nve`: energy conservation of rRESPA;
- :mod:`.distill`: a fast partner for one accurate model (``switchingdp-distill``);
- :mod:`.gpucheck`: what a GPU machine needs checked (scripts/gpu-check.sh).

Library modules never import command-line modules.  The defaults they share are in
:mod:`openmmswitchingdp.defaults`.
"""

__all__ = []
