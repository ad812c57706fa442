"""openmm-ml's ``switchingdp`` potential: SwitchingDPForce through ``MLPotential``.

    from openmmml import MLPotential
    potential = MLPotential("switchingdp", accurate="acc.pth", fast="fast.pth")
    system = potential.createSystem(topology, interval=4)
    mixed = potential.createMixedSystem(topology, mmSystem, mlAtoms, interpolate=True)

or ``MLPotential("switchingdp", model="one.pth")`` for one model.  Registered
through the ``openmmml.potentials`` entry point; openmm-ml is needed only to use
this module (``pip install openmm-switchingdp[tools]``), not by the force itself.

Keyword arguments of ``createSystem`` / ``createMixedSystem`` (all optional; the one
list of them is :data:`FORCE_SETTINGS`, with ``types``):
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

from openmmml.mlpotential import MLPotential, MLPotentialImpl

from . import SwitchingDPForce, defaults, typesFromTopology
from ._mlfactory import SwitchingDPPotentialImplFactory

__all__ = ["SwitchingDPPotentialImplFactory", "SwitchingDPPotentialImpl", "FORCE_SETTINGS", "FORCE_ARGUMENTS",
           "MODES", "SLOW_TERMS", "INTERPOLATION_PARAMETER"]

#: The schedule's modes by their one spelling (``"mts"``: SwitchingDPForce.MultipleTimeStep, integrated as rRESPA).
MODES = {defaults.MODE: SwitchingDPForce.Alternating, defaults.MTS_MODE: SwitchingDPForce.MultipleTimeStep}
#: The slow terms of multiple time steps.
SLOW_TERMS = {"difference": SwitchingDPForce.Difference, "residual": SwitchingDPForce.Residual}
INTERPOLATION_PARAMETER = "lambda_interpolate"   # openmm-ml's name for it


def _choice(name, value, choices):
    if isinstance(value, str) and value.lower() in choices:
        return choices[value.lower()]
    if not isinstance(value, str) and value in choices.values():
        return value
    hint = ""
    if name == "mode" and str(value).lower() in defaults.OLD_MTS_SPELLINGS:
        hint = f"; the multiple-time-step mode is spelled {defaults.MTS_MODE!r}"
    raise ValueError(f"switchingdp: {name} must be one of {', '.join(choices)}, got {value!r}{hint}")


def _floats(values):
    return [float(v) for v in values]


def _as_is(value):
    return value


#: The one list of the force's settings that createSystem and createMixedSystem take,
#: in the order they are applied: (keyword, SwitchingDPForce setter, conversion of the value).
FORCE_SETTINGS = (
    ("interval", "setAccurateInterval", int),
    ("phase", "setAccuratePhase", int),
    ("mode", "setMode", lambda value: _choice("mode", value, MODES)),
    ("slowForceGroup", "setSlowForceGroup", int),
    ("slowTerm", "setSlowTerm", lambda value: _choice("slowTerm", value, SLOW_TERMS)),
    ("frameParameters", "setFrameParameters", _floats),
    ("atomicParameters", "setAtomicParameters", _floats),
    ("neighborListSkin", "setNeighborListSkin", _as_is),
    ("energyScaleParameter", "setEnergyScaleParameter", _as_is),
    ("deviationCheckInterval", "setDeviationCheckInterval", int),
    ("deviationThreshold", "setDeviationThreshold", float),
    ("fallbackSteps", "setFallbackSteps", int),
    ("deviationLimit", "setDeviationLimit", float),
)
#: Every keyword that configures the force: ``types`` and those of :data:`FORCE_SETTINGS`.
FORCE_ARGUMENTS = ("types",) + tuple(name for name, _, _ in FORCE_SETTINGS)


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
        """False: a DP model sees only atoms within its cutoff."""
        return False

    def createForce(self, topology, atoms=None, forceGroup=0, types=None, **settings):
        """A SwitchingDPForce for `atoms` (all atoms if None) of `topology`, its DP types
        `types` (default: the element symbols) and `settings` (keywords of
        :data:`FORCE_SETTINGS`; None leaves the force's default)."""
        settings = _forceArguments(settings)
        force = copy.copy(self._template)
        if atoms is not None:
            atoms = [int(a) for a in atoms]
            force.setParticles(atoms)
        force.setTypes(list(types) if types is not None else typesFromTopology(topology, atoms))
        force.setUsesPeriodicBoundaryConditions(topology.getPeriodicBoxVectors() is not None)
        force.setForceGroup(forceGroup)
        for name, setter, convert in FORCE_SETTINGS:
            if settings.get(name) is not None:
                getattr(force, setter)(convert(settings[name]))
        return force

    def addForces(self, topology, system, atoms, forceGroup, **args):
        """Add the force to `system` (openmm-ml's createSystem)."""
        system.addForce(self.createForce(topology, atoms, forceGroup, **_forceArguments(args)))

    def getSupportedEmbeddings(self):
        """Every embedding openmm-ml has."""
        # Every embedding openmm-ml has, handled here so that interpolation keeps
        # the force out of a CustomCVForce (see the module's documentation).
        return sorted(MLPotential._embeddingFactories)

    def createMixedSystem(self, topology, system, atoms, forceGroup, interpolate, embedding, returnInfo=False, **args):
        """openmm-ml's createMixedSystem; with `interpolate` the force is added to the
        System directly, scaled by ``lambda_interpolate`` (see the module)."""
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


# Arguments openmm-ml's embeddings read themselves and pass on to every potential.
_EMBEDDING_ARGUMENTS = {"mlLongRange", "linkAtomDistances"}


def _forceArguments(args):
    """The createSystem/createMixedSystem arguments that configure the force; an
    error naming any that nothing here or in openmm-ml's embeddings knows."""
    unknown = set(args) - set(FORCE_ARGUMENTS) - _EMBEDDING_ARGUMENTS
    if unknown:
        raise TypeError(f"switchingdp: unknown arguments {sorted(unknown)}; known: {sorted(FORCE_ARGUMENTS)}")
    return {k: v for k, v in args.items() if k in FORCE_ARGUMENTS}


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
