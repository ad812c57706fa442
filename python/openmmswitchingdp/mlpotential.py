"""openmm-ml's ``switchingdp`` potential: SwitchingDPForce through ``MLPotential``.

    from openmmml import MLPotential
    potential = MLPotential("switchingdp", accurate="acc.pth", fast="fast.pth")
    system = potential.createSystem(topology, interval=4)
    mixed = potential.createMixedSystem(topology, mmSystem, mlAtoms, interpolate=True)

or ``MLPotential("switchingdp", model="one.pth")`` for one model.  Registered
through the ``openmmml.potentials`` entry point; openmm-ml is needed only to use
this module (``pip install openmm-switchingdp[tools]``), not by the force itself.

Keyword arguments of ``createSystem`` / ``createMixedSystem`` (all optional):
``interval`` and ``phase`` (alternation), ``mode`` ("alternating" or "mts"),
``slowForceGroup`` and ``slowTerm`` ("difference" or "residual") for rRESPA,
``frameParameters``, ``atomicParameters`` (the DP atoms' values, particle-major),
``neighborListSkin`` (nm or a length Quantity), ``energyScaleParameter``, the
guard's ``deviationCheckInterval``, ``deviationThreshold``, ``fallbackSteps`` and
``deviationLimit`` (eV/A; see SwitchingDPForce), and
``types`` (the DP atoms' type names; by default the topology's element symbols).  With ``interpolate=True``, openmm-ml
puts a potential's forces in a CustomCVForce, whose inner Context has no step count
for the schedule to follow; this potential instead adds the SwitchingDPForce to the
System directly, scaled by the ``lambda_interpolate`` parameter, and lets the
embedding interpolate the MM terms as usual.  The energy is the same,
lambda*E_ML + (1-lambda)*E_MM, and alternation and rRESPA follow the integrator.
"""
import copy

from openmmml.mlpotential import MLPotential, MLPotentialImpl, MLPotentialImplFactory

from . import SwitchingDPForce, typesFromTopology

MODES = {"alternating": SwitchingDPForce.Alternating, "mts": SwitchingDPForce.MultipleTimeStep}
SLOW_TERMS = {"difference": SwitchingDPForce.Difference, "residual": SwitchingDPForce.Residual}
INTERPOLATION_PARAMETER = "lambda_interpolate"   # openmm-ml's name for it


def _choice(name, value, choices):
    if isinstance(value, str) and value.lower() in choices:
        return choices[value.lower()]
    if not isinstance(value, str) and value in choices.values():
        return value
    raise ValueError(f"switchingdp: {name} must be one of {', '.join(choices)}, got {value!r}")


class SwitchingDPPotentialImplFactory(MLPotentialImplFactory):
    def createImpl(self, name, accurate=None, fast=None, model=None, **args):
        return SwitchingDPPotentialImpl(name, accurate=accurate, fast=fast, model=model, **args)


class SwitchingDPPotentialImpl(MLPotentialImpl):
    """Builds a SwitchingDPForce from model files and a Topology."""

    def __init__(self, name, accurate=None, fast=None, model=None, **args):
        if args:
            raise TypeError(f"MLPotential('{name}') got unknown arguments {sorted(args)}; it takes accurate= and "
                            "fast= (a switching pair) or model= (one model); schedule settings go to createSystem()")
        if model is not None and (accurate is not None or fast is not None):
            raise ValueError(f"MLPotential('{name}'): give either model= (one model) or accurate= and fast=, not both")
        if model is None and (accurate is None or fast is None):
            raise ValueError(f"MLPotential('{name}'): give accurate= and fast= (two model files) or model= (one)")
        self.files = [model] if model is not None else [accurate, fast]
        # Read the files now, so a missing or damaged one is reported here.
        self._template = SwitchingDPForce(*self.files)

    def getMLLongRange(self):
        # A DP model sees only atoms within its cutoff.
        return False

    def createForce(self, topology, atoms=None, forceGroup=0, types=None, interval=None, phase=None, mode=None,
                    slowForceGroup=None, slowTerm=None, frameParameters=None, atomicParameters=None,
                    neighborListSkin=None, energyScaleParameter=None, deviationCheckInterval=None,
                    deviationThreshold=None, fallbackSteps=None, deviationLimit=None):
        """A SwitchingDPForce for `atoms` (all atoms if None) of `topology`."""
        force = copy.copy(self._template)
        if atoms is not None:
            atoms = [int(a) for a in atoms]
            force.setParticles(atoms)
        force.setTypes(list(types) if types is not None else typesFromTopology(topology, atoms))
        force.setUsesPeriodicBoundaryConditions(topology.getPeriodicBoxVectors() is not None)
        force.setForceGroup(forceGroup)
        if interval is not None:
            force.setAccurateInterval(int(interval))
        if phase is not None:
            force.setAccuratePhase(int(phase))
        if mode is not None:
            force.setMode(_choice("mode", mode, MODES))
        if slowForceGroup is not None:
            force.setSlowForceGroup(int(slowForceGroup))
        if slowTerm is not None:
            force.setSlowTerm(_choice("slowTerm", slowTerm, SLOW_TERMS))
        if frameParameters is not None:
            force.setFrameParameters([float(v) for v in frameParameters])
        if atomicParameters is not None:
            force.setAtomicParameters([float(v) for v in atomicParameters])
        if neighborListSkin is not None:
            force.setNeighborListSkin(neighborListSkin)
        if energyScaleParameter is not None:
            force.setEnergyScaleParameter(energyScaleParameter)
        if deviationCheckInterval is not None:
            force.setDeviationCheckInterval(int(deviationCheckInterval))
        if deviationThreshold is not None:
            force.setDeviationThreshold(float(deviationThreshold))
        if fallbackSteps is not None:
            force.setFallbackSteps(int(fallbackSteps))
        if deviationLimit is not None:
            force.setDeviationLimit(float(deviationLimit))
        return force

    def addForces(self, topology, system, atoms, forceGroup, **args):
        system.addForce(self.createForce(topology, atoms, forceGroup, **_forceArguments(args)))

    def getSupportedEmbeddings(self):
        # Every embedding openmm-ml has, handled here so that interpolation keeps
        # the force out of a CustomCVForce (see the module's documentation).
        return sorted(MLPotential._embeddingFactories)

    def createMixedSystem(self, topology, system, atoms, forceGroup, interpolate, embedding, returnInfo=False, **args):
        generic = MLPotential._embeddingFactories[embedding].createEmbedding(embedding)
        if not interpolate:
            return generic.createMixedSystem(self, topology, system, atoms, forceGroup, interpolate,
                                             returnInfo=returnInfo, **args)
        if args.get("energyScaleParameter") is not None:
            raise ValueError("switchingdp: with interpolate=True the energy scale parameter is "
                             f"'{INTERPOLATION_PARAMETER}'; do not set energyScaleParameter")
        recorder = _RecordingImpl(self)
        info = generic.createMixedSystem(recorder, topology, system, atoms, forceGroup, interpolate,
                                         returnInfo=True, **args)
        if isinstance(info, dict):
            mixed = info["system"]
        else:  # an embedding that does not support returnInfo
            mixed, info = info, None
        if len(recorder.calls) != 1:
            raise RuntimeError(f"switchingdp: the '{embedding}' embedding asked for the ML forces "
                               f"{len(recorder.calls)} times; expected once")
        mlTopology, mlAtoms, mlGroup, mlArgs = recorder.calls[0]
        mixed.addForce(self.createForce(mlTopology, mlAtoms, mlGroup, energyScaleParameter=INTERPOLATION_PARAMETER,
                                        **_forceArguments(mlArgs)))
        if returnInfo:
            return info if info is not None else mixed
        return mixed


_FORCE_ARGUMENTS = {"types", "interval", "phase", "mode", "slowForceGroup", "slowTerm", "frameParameters",
                    "atomicParameters", "neighborListSkin", "energyScaleParameter", "deviationCheckInterval",
                    "deviationThreshold", "fallbackSteps", "deviationLimit"}
# Arguments openmm-ml's embeddings read themselves and pass on to every potential.
_EMBEDDING_ARGUMENTS = {"mlLongRange", "linkAtomDistances"}


def _forceArguments(args):
    """The createSystem/createMixedSystem arguments that configure the force; an
    error naming any that nothing here or in openmm-ml's embeddings knows."""
    unknown = set(args) - _FORCE_ARGUMENTS - _EMBEDDING_ARGUMENTS
    if unknown:
        raise TypeError(f"switchingdp: unknown arguments {sorted(unknown)}; known: {sorted(_FORCE_ARGUMENTS)}")
    return {k: v for k, v in args.items() if k in _FORCE_ARGUMENTS}


class _RecordingImpl(MLPotentialImpl):
    """Stands in for the potential while an embedding builds an interpolating
    System: it records what the ML forces should cover and adds none, so the
    embedding's CustomCVForce holds only MM terms."""

    def __init__(self, potential):
        self.potential = potential
        self.calls = []

    def getMLLongRange(self):
        return self.potential.getMLLongRange()

    def addForces(self, topology, system, atoms, forceGroup, **args):
        self.calls.append((topology, None if atoms is None else list(atoms), forceGroup, args))
