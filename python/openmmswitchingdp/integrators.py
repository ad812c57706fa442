"""CustomIntegrator recipes for SwitchingDPForce.

Which to use:

- ``VelocityVerletRESPAIntegrator``: NVE rRESPA (Tuckerman, Berne and Martyna 1992)
  with the force in MultipleTimeStep mode: the slow term (accurate - fast, or a
  co-trained residual) is applied with the outer step, the fast model with inner
  steps.  Time-reversible and symplectic: use it to check energy conservation of a
  model pair and outer step before production.  Same algorithm as OpenMM's
  MTSIntegrator with two groups, written out so it can be modified.
- ``BAOABRESPAIntegrator``: constant-temperature rRESPA, the Langevin "O" step in
  each inner step (BAOAB-RESPA).  The production integrator for MultipleTimeStep mode;
  OpenMM's MTSLangevinIntegrator does the same.
- ``AlternatingLangevinIntegrator``: BAOAB Langevin dynamics with one force
  evaluation per step, for Alternating mode.  The forces at the new positions are
  computed at the end of step s (with the model of step s) and reused for the first
  half kick of step s+1, so one step in getAccurateInterval() uses the accurate model.
  The native LangevinMiddleIntegrator also works with Alternating mode; use this one
  when you want BAOAB or want to change the recipe.
"""
import openmm as mm
import openmm.unit as u

__all__ = ["VelocityVerletRESPAIntegrator", "BAOABRESPAIntegrator", "AlternatingLangevinIntegrator"]

_GAS_CONSTANT = u.MOLAR_GAS_CONSTANT_R.value_in_unit(u.kilojoule_per_mole / u.kelvin)


def _value(quantity, unit):
    return quantity.value_in_unit(unit) if u.is_quantity(quantity) else quantity


def _check_inner(innerSteps, fastGroup, slowGroup):
    if int(innerSteps) != innerSteps or innerSteps < 1:
        raise ValueError(f"innerSteps must be a positive integer, got {innerSteps}")
    if fastGroup == slowGroup:
        raise ValueError("the fast and slow force groups must differ")
    for group in (fastGroup, slowGroup):
        if not 0 <= group <= 31:
            raise ValueError(f"force groups must be between 0 and 31, got {group}")


def _add_inner_step(integrator, innerSteps):
    """Global h = dt/innerSteps, recomputed each step so setStepSize() works."""
    integrator.addGlobalVariable("h", 0)
    integrator.addComputeGlobal("h", f"dt/{innerSteps}")


def _add_ou_coefficients(integrator, temperature, friction):
    """a, b of the exact Ornstein-Uhlenbeck velocity update over time h, and kT."""
    gamma = _value(friction, u.picosecond**-1)
    if gamma < 0:
        raise ValueError(f"friction must not be negative, got {gamma}")
    integrator.addGlobalVariable("gamma", gamma)
    integrator.addGlobalVariable("kT", _GAS_CONSTANT * _value(temperature, u.kelvin))
    integrator.addGlobalVariable("a", 0)
    integrator.addGlobalVariable("b", 0)
    integrator.addComputeGlobal("a", "exp(-gamma*h)")
    integrator.addComputeGlobal("b", "sqrt(1-a*a)")


def _add_drift(integrator, fraction):
    """x += fraction*h*v with constraints, h the inner step."""
    integrator.addComputePerDof("x", f"x+{fraction}*h*v")
    integrator.addComputePerDof("x1", "x")
    integrator.addConstrainPositions()
    integrator.addComputePerDof("v", f"v+(x-x1)/({fraction}*h)")
    integrator.addConstrainVelocities()


def _inner_step(integrator, force, thermostat):
    """One inner step with `force` (e.g. "f0", or "f" for all groups): kick, drift and
    kick, with the Ornstein-Uhlenbeck velocity update between two half drifts when
    there is a thermostat (BAOAB)."""
    kick = f"v+0.5*h*{force}/m"
    integrator.addComputePerDof("v", kick)
    if thermostat:
        _add_drift(integrator, 0.5)
        integrator.addComputePerDof("v", "a*v+b*sqrt(kT/m)*gaussian")
        integrator.addConstrainVelocities()
        _add_drift(integrator, 0.5)
    else:
        _add_drift(integrator, 1)
    integrator.addComputePerDof("v", kick)


def _integrator(dt, innerSteps, thermostat, fastForce, slowForce=None):
    """Slow half kick, inner steps with the fast force, slow half kick."""
    integrator = mm.CustomIntegrator(dt)
    _add_inner_step(integrator, innerSteps)
    if thermostat:
        _add_ou_coefficients(integrator, *thermostat)
    integrator.addPerDofVariable("x1", 0)
    integrator.addUpdateContextState()
    if slowForce:
        integrator.addComputePerDof("v", f"v+0.5*dt*{slowForce}/m")
    for _ in range(innerSteps):
        _inner_step(integrator, fastForce, thermostat)
    if slowForce:
        integrator.addComputePerDof("v", f"v+0.5*dt*{slowForce}/m")
    integrator.addConstrainVelocities()
    return integrator


def VelocityVerletRESPAIntegrator(dt, innerSteps, fastGroup=0, slowGroup=1):
    """rRESPA velocity Verlet: outer step dt for slowGroup, dt/innerSteps for fastGroup."""
    _check_inner(innerSteps, fastGroup, slowGroup)
    return _integrator(dt, innerSteps, None, f"f{fastGroup}", f"f{slowGroup}")


def BAOABRESPAIntegrator(temperature, friction, dt, innerSteps, fastGroup=0, slowGroup=1):
    """rRESPA Langevin dynamics: slow half kicks around inner BAOAB steps."""
    _check_inner(innerSteps, fastGroup, slowGroup)
    return _integrator(dt, innerSteps, (temperature, friction), f"f{fastGroup}", f"f{slowGroup}")


def AlternatingLangevinIntegrator(temperature, friction, dt):
    """BAOAB Langevin dynamics with one force evaluation per step (Alternating mode)."""
    return _integrator(dt, 1, (temperature, friction), "f")
