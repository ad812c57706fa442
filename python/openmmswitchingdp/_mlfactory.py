"""openmm-ml's entry point for the ``switchingdp`` potential.

A module of its own because openmm-ml loads its entry points while
``openmmml.mlpotential`` itself is being imported: :mod:`openmmswitchingdp.mlpotential`
imports that module, so an entry point inside it would be loaded half-initialised
(and fail) whenever a script imported :mod:`openmmswitchingdp.mlpotential` before
openmm-ml.  This module needs only openmm-ml's base class, which exists by then.
"""
from openmmml.mlpotential import MLPotentialImplFactory

__all__ = ["SwitchingDPPotentialImplFactory"]


class SwitchingDPPotentialImplFactory(MLPotentialImplFactory):
    """openmm-ml's factory of the ``switchingdp`` potential (registered through the
    ``openmmml.potentials`` entry point)."""

    def createImpl(self, name, accurate=None, fast=None, model=None, **args):
        """The potential of model files `accurate` and `fast`, or of one `model`."""
        from .mlpotential import SwitchingDPPotentialImpl
        return SwitchingDPPotentialImpl(name, accurate=accurate, fast=fast, model=model, **args)
