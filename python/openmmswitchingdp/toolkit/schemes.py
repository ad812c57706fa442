"""What runs, and how its Context is built: the one notion of a scheme that every tool
(switchingdp-md, -bench, -validate, -distill and the NVE table) shares.

A Scheme names the models and the schedule: the accurate model alone, the fast model
alone, alternation (1 accurate step in `interval`), rRESPA (the slow term every
`inner_steps` inner steps; accurate - fast, or a co-trained residual), guarded
alternation, or the PythonForce + DeepPot baseline.  `Structure` is what it runs on
(a PDB, optionally tiled).  `build_context()` puts them together; `Scheme.create_system`
and `Scheme.create_integrator` are its two halves for callers that need an
`app.Simulation` or their own integrator.  Systems are built through openmm-ml
(`MLPotential("switchingdp")`), as a user would.
"""
import dataclasses
import enum
import os
from dataclasses import dataclass

import numpy as np

from .. import defaults
from ..defaults import FRICTION, SLOW_GROUP, TEMPERATURE

__all__ = ["Kind", "ACCURATE", "FAST", "ALTERNATING", "MTS", "RESPA", "PYTHON_FORCE", "KINDS", "Scheme",
           "standard_schemes", "Structure", "build_context", "switching_force", "limit_threads", "pair_evaluator",
           "reference_run", "fast_run_of", "platform_names", "SLOW_GROUP", "FRICTION", "TEMPERATURE"]


class Kind(str, enum.Enum):
    """What a :class:`Scheme` runs: one model, alternation, multiple time steps or the
    PythonForce baseline.  The multiple-time-step kind is spelled ``"mts"``, as the
    command line's ``--mode mts`` and openmm-ml's ``mode="mts"`` (the force's
    ``MultipleTimeStep``); its schemes are labelled "rRESPA outer/inner fs"."""
    ACCURATE = "accurate"
    FAST = "fast"
    ALTERNATING = "alternating"
    MTS = "mts"
    PYTHON_FORCE = "PythonForce"

    def __str__(self):
        return self.value


ACCURATE, FAST, ALTERNATING, MTS, PYTHON_FORCE = (Kind.ACCURATE, Kind.FAST, Kind.ALTERNATING, Kind.MTS,
                                                  Kind.PYTHON_FORCE)
RESPA = MTS   # the kind's name before it was spelled "mts" everywhere
KINDS = tuple(Kind)


@dataclass(frozen=True)
class Scheme:
    """One way to run MD with a model pair.

    kind: a :class:`Kind` (or its value): ACCURATE (the accurate model alone), FAST (the
    fast model alone), ALTERNATING, MTS (rRESPA) or PYTHON_FORCE (the accurate model through OpenMM's PythonForce and
    deepmd-kit's DeepPot, what a user would write without this plugin).
    timestep_fs is the inner step; an rRESPA step is inner_steps of them.
    With `residual`, `accurate` is a residual model co-trained with `fast` (Fu et al.).
    guard: deviation threshold (eV/A) of guarded alternation; deviation_check_interval
    > 0 checks the deviation without a guard too (for a log).
    tag: appended to the name, to tell apart schemes with other fast models."""
    kind: Kind
    accurate: str = None
    fast: str = None
    timestep_fs: float = defaults.TIMESTEP_FS
    interval: int = 1
    phase: int = 0
    inner_steps: int = 1
    residual: bool = False
    guard: float = None
    deviation_check_interval: int = 0
    fallback_steps: int = 0
    deviation_limit: float = None
    tag: str = ""

    def __post_init__(self):
        if str(self.kind).lower() in defaults.OLD_MTS_SPELLINGS:
            raise ValueError(f"the scheme kind {self.kind!r} is now spelled {defaults.MTS_MODE!r} (Kind.MTS), as --mode mts")
        try:
            object.__setattr__(self, "kind", Kind(self.kind))
        except ValueError:
            raise ValueError(f"unknown scheme kind {self.kind!r}; one of {', '.join(k.value for k in KINDS)}") \
                from None
        needs = {FAST: ("fast",), ACCURATE: ("accurate",), PYTHON_FORCE: ("accurate",)}.get(
            self.kind, ("accurate", "fast"))
        for role in needs:
            if not getattr(self, role):
                raise ValueError(f"a {self.kind} scheme needs the {role} model")
        if not self.timestep_fs > 0 or self.interval < 1 or self.inner_steps < 1:
            raise ValueError("the time step must be positive, the interval and inner steps at least 1")
        if self.guard is not None and self.kind != ALTERNATING:
            raise ValueError("only alternation can be guarded")

    # --- names and times ---------------------------------------------------------
    @property
    def name(self):
        """The scheme's label in every tool's tables, e.g. "alternating 1:3" or "rRESPA 2/0.5 fs"."""
        if self.kind == ACCURATE:
            base = "accurate-only"
        elif self.kind == FAST:
            base = "fast-only"
        elif self.kind == ALTERNATING:
            base = f"alternating 1:{self.interval - 1}"
            if self.guard is not None:
                base += f", guarded at {self.guard:g} eV/A"
        elif self.kind == RESPA:
            base = f"rRESPA {self.step_fs:g}/{self.timestep_fs:g} fs"
            if self.residual:
                base += ", co-trained residual"
        else:
            base = "accurate, PythonForce + DeepPot"
        return base + self.tag

    @property
    def step_fs(self):
        """The integrator's step (the outer one for rRESPA), fs."""
        return self.timestep_fs * (self.inner_steps if self.kind == RESPA else 1)

    @property
    def step_ps(self):
        """:attr:`step_fs` in ps."""
        return self.step_fs * 1e-3

    @property
    def uses_fast_model(self):
        """Whether the scheme runs the fast model."""
        return self.kind in (FAST, ALTERNATING, RESPA)

    def evaluations(self, counts):
        """(accurate, fast) model evaluations from the force's getEvaluationCounts():
        a fast-only scheme runs its model as a one-model force, counted as accurate."""
        accurate, fast = counts
        return (0, accurate) if self.kind == FAST else (accurate, fast)

    # --- building ------------------------------------------------------------------
    def potential(self):
        """The openmm-ml potential and the createSystem keywords of this scheme."""
        from openmmml import MLPotential
        if self.kind in (ACCURATE, FAST):
            return MLPotential("switchingdp", model=self.accurate if self.kind == ACCURATE else self.fast), {}
        settings = {}
        if self.kind == ALTERNATING:
            settings.update(interval=self.interval, phase=self.phase)
        else:
            settings.update(mode=defaults.MTS_MODE, slowForceGroup=SLOW_GROUP, slowTerm="residual" if self.residual else "difference")
        if self.guard is not None or self.deviation_check_interval or self.deviation_limit is not None:
            settings.update(deviationCheckInterval=self.deviation_check_interval or 1,
                            deviationThreshold=self.guard or 0.0, fallbackSteps=self.fallback_steps,
                            deviationLimit=self.deviation_limit or 0.0)
        return MLPotential("switchingdp", accurate=self.accurate, fast=self.fast), settings

    def create_system(self, topology, types=None, frame_parameters=()):
        """An OpenMM System of `topology` with this scheme's force as its only force."""
        if self.kind == PYTHON_FORCE:
            return _python_force_system(topology, self.accurate, types)
        potential, settings = self.potential()
        return potential.createSystem(topology, removeCMMotion=False, types=types,
                                      frameParameters=list(frame_parameters), **settings)

    def create_integrator(self, temperature=TEMPERATURE, friction=FRICTION, seed=1):
        """Langevin dynamics at `temperature` (K) and `friction` (1/ps): LangevinMiddle, or
        MTSLangevin with the slow term once per outer step for rRESPA."""
        import openmm as mm
        import openmm.unit as u
        from openmm.mtsintegrator import MTSLangevinIntegrator
        if self.kind == RESPA:
            integrator = MTSLangevinIntegrator(temperature * u.kelvin, friction / u.picosecond,
                                               self.step_fs * u.femtosecond, [(SLOW_GROUP, 1), (0, self.inner_steps)])
        else:
            integrator = mm.LangevinMiddleIntegrator(temperature * u.kelvin, friction / u.picosecond,
                                                     self.timestep_fs * u.femtosecond)
        integrator.setRandomNumberSeed(seed)
        return integrator

    def replace(self, **changes):
        """A copy with `changes` (field names and values)."""
        return dataclasses.replace(self, **changes)


def standard_schemes(accurate, fast, interval=defaults.INTERVAL, inner_steps=defaults.INNER_STEPS,
                     timestep_fs=defaults.TIMESTEP_FS, baseline=False, other_fast=(),
                     residual=None, guard=None):
    """The schemes the tools compare, by name; accurate-only first (the reference):
    fast-only, alternation 1:(interval-1) and rRESPA, then a fast-only and an
    alternating scheme for each of `other_fast` (e.g. a compressed float32 model),
    guarded alternation if `guard` (eV/A), rRESPA with a co-trained `residual` model,
    and the PythonForce + DeepPot baseline."""
    schemes = [Scheme(ACCURATE, accurate, fast, timestep_fs)]
    for i, model in enumerate([fast, *other_fast]):
        tag = "" if i == 0 else f" ({os.path.basename(model)})"
        schemes.append(Scheme(FAST, accurate, model, timestep_fs, tag=tag))
        schemes.append(Scheme(ALTERNATING, accurate, model, timestep_fs, interval=interval, tag=tag))
        if i == 0:
            schemes.append(Scheme(RESPA, accurate, fast, timestep_fs, inner_steps=inner_steps))
    if guard:
        schemes.append(Scheme(ALTERNATING, accurate, fast, timestep_fs, interval=interval, guard=guard,
                              deviation_check_interval=1))
    if residual:
        schemes.append(Scheme(RESPA, residual, fast, timestep_fs, inner_steps=inner_steps, residual=True))
    if baseline:
        schemes.append(Scheme(PYTHON_FORCE, accurate, None, timestep_fs))
    return {scheme.name: scheme for scheme in schemes}


@dataclass
class Structure:
    """What a scheme runs on: an OpenMM Topology (with its periodic box) and positions (nm)."""
    topology: object
    positions: np.ndarray

    @classmethod
    def from_pdb(cls, path, copies=1):
        """The PDB's structure, its box tiled copies^3 times."""
        import openmm.app as app
        import openmm.unit as u
        pdb = app.PDBFile(path)
        if pdb.topology.getPeriodicBoxVectors() is None:
            raise ValueError(f"{path} has no periodic box (CRYST1 record); the DP models need one")
        structure = cls(pdb.topology, np.array(pdb.getPositions(asNumpy=True).value_in_unit(u.nanometer)))
        return structure if copies == 1 else structure.tiled(copies)

    @property
    def box(self):
        """(3, 3) periodic box vectors, nm."""
        import openmm.unit as u
        return np.array(self.topology.getPeriodicBoxVectors().value_in_unit(u.nanometer))

    @property
    def elements(self):
        """Element symbols of the atoms."""
        return [atom.element.symbol for atom in self.topology.atoms()]

    @property
    def masses(self):
        """Masses of the atoms, dalton."""
        import openmm.unit as u
        return [atom.element.mass.value_in_unit(u.dalton) for atom in self.topology.atoms()]

    def tiled(self, copies):
        """The structure repeated copies x copies x copies times along its box vectors."""
        import openmm as mm
        import openmm.app as app
        import openmm.unit as u
        box = self.box
        shifts = [i * box[0] + j * box[1] + k * box[2]
                  for i in range(copies) for j in range(copies) for k in range(copies)]
        topology = app.Topology()
        for _ in shifts:
            atom_map = {}
            for chain in self.topology.chains():
                new_chain = topology.addChain(chain.id)
                for residue in chain.residues():
                    new_residue = topology.addResidue(residue.name, new_chain, residue.id, residue.insertionCode)
                    for atom in residue.atoms():
                        atom_map[atom] = topology.addAtom(atom.name, atom.element, new_residue, atom.id)
            for bond in self.topology.bonds():
                topology.addBond(atom_map[bond[0]], atom_map[bond[1]], bond.type, bond.order)
        topology.setPeriodicBoxVectors([mm.Vec3(*v) for v in box * copies] * u.nanometer)
        return Structure(topology, np.concatenate([self.positions + s for s in shifts]))


def build_context(scheme, structure, platform=defaults.PLATFORM, temperature=TEMPERATURE, seed=defaults.SEED, threads=None,
                  integrator=None, friction=FRICTION, types=None, frame_parameters=(), velocities=True):
    """A Context running `scheme` on `structure` (positions set, velocities drawn at
    `temperature` unless velocities=False), with Langevin dynamics unless an
    `integrator` is given.  threads: the CPU platform's thread count (None: OpenMM's
    default; the models' torch threads are the process's, see limit_threads)."""
    import openmm as mm
    import openmm.unit as u
    system = scheme.create_system(structure.topology, types, frame_parameters)
    if integrator is None:
        integrator = scheme.create_integrator(temperature, friction, seed)
    properties = {"Threads": str(threads)} if threads and platform == "CPU" else {}
    context = mm.Context(system, integrator, mm.Platform.getPlatformByName(platform), properties)
    context.setPositions(structure.positions * u.nanometer)
    if velocities:
        context.setVelocitiesToTemperature(temperature * u.kelvin, seed)
    return context


def switching_force(source):
    """The SwitchingDPForce of a System, or of a Context's System (None for the
    PythonForce baseline)."""
    from .. import SwitchingDPForce
    system = source.getSystem() if hasattr(source, "getSystem") else source
    for i in range(system.getNumForces()):
        if SwitchingDPForce.isinstance(system.getForce(i)):
            return SwitchingDPForce.cast(system.getForce(i))
    return None


def limit_threads(threads):
    """Run this process's torch (and so the plugin's models) on `threads` threads."""
    import torch
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:   # allowed only before torch's first parallel work
        pass


def _python_force_system(topology, model_file, types=None):
    """What a user would write without this plugin: an OpenMM PythonForce whose callback
    gives the State's positions and box to deepmd-kit's DeepPot."""
    import openmm as mm
    import openmm.unit as u
    from deepmd.infer import DeepPot
    from ..units import ANGSTROM_PER_NM, KJ_PER_MOL_NM_PER_EV_A, KJ_PER_MOL_PER_EV
    deeppot = DeepPot(model_file)
    names = types or [atom.element.symbol for atom in topology.atoms()]
    type_map = deeppot.get_type_map()
    missing = sorted(set(names) - set(type_map))
    if missing:
        raise ValueError(f"{model_file}: type(s) {', '.join(missing)} not in the model's type_map {type_map}")
    atom_types = [type_map.index(name) for name in names]
    system = mm.System()
    for atom in topology.atoms():
        system.addParticle(atom.element.mass)
    system.setDefaultPeriodicBoxVectors(*topology.getPeriodicBoxVectors())

    def compute(state):
        positions = state.getPositions(asNumpy=True).value_in_unit(u.nanometer) * ANGSTROM_PER_NM
        box = np.array(state.getPeriodicBoxVectors().value_in_unit(u.nanometer)) * ANGSTROM_PER_NM
        energy, forces, _ = deeppot.eval(positions.reshape(1, -1), box.reshape(1, 9), atom_types)
        return float(energy[0, 0]) * KJ_PER_MOL_PER_EV, forces.reshape(-1, 3) * KJ_PER_MOL_NM_PER_EV_A

    force = mm.PythonForce(compute)
    force.setUsesPeriodicBoundaryConditions(True)
    system.addForce(force)
    return system


def pair_evaluator(accurate, fast, structure, platform=defaults.PLATFORM):
    """A function (positions nm, box nm or None) -> (potential energy under the accurate
    model alone, kJ/mol; the pair's maximum and RMS atomic force deviation
    ``|F_accurate - F_fast|`` there, eV/A), computed by the plugin's deviation check."""
    import openmm as mm
    import openmm.unit as u
    scheme = Scheme(ALTERNATING, accurate, fast, interval=1, deviation_check_interval=1)
    context = build_context(scheme, structure, platform, velocities=False)
    force = switching_force(context)

    def evaluate(positions, box=None):
        if box is not None:
            context.setPeriodicBoxVectors(*[mm.Vec3(*v) for v in np.asarray(box)])
        context.setPositions(np.asarray(positions) * u.nanometer)
        energy = context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(u.kilojoule_per_mole)
        deviation = force.getLastDeviation(context)
        return energy, deviation.maxForceDeviation, deviation.rmsForceDeviation
    return evaluate


def reference_run(runs):
    """The name of the reference run among `runs` (schemes by name): the first scheme
    of kind ACCURATE."""
    for name, scheme in runs.items():
        if scheme.kind is ACCURATE:
            return name
    raise ValueError("the schemes need an accurate-only run: it is the reference")


def fast_run_of(runs, scheme):
    """The name of the fast-only run among `runs` that times `scheme`'s fast model."""
    for name, candidate in runs.items():
        if candidate.kind is FAST and candidate.fast == scheme.fast:
            return name
    raise ValueError(f"no fast-only run of {scheme.fast} among the schemes, for {scheme.name}")


def platform_names():
    """The names of the OpenMM platforms available here."""
    import openmm as mm
    return [mm.Platform.getPlatform(i).getName() for i in range(mm.Platform.getNumPlatforms())]
