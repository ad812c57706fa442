%module(package="openmmswitchingdp") switchingdpforce

%import(module="openmm") "swig/OpenMMSwigHeaders.i"
%include "swig/typemaps.i"
%include <std_string.i>
%include <std_vector.i>

%{
#include "SwitchingDPForce.h"
#include "OpenMM.h"
#include "OpenMMAmoeba.h"
#include "OpenMMDrude.h"
#include "openmm/RPMDIntegrator.h"
#include "openmm/RPMDMonteCarloBarostat.h"
%}

namespace std {
    %template(SwitchingDPStringVector) vector<string>;
    %template(SwitchingDPIntVector) vector<int>;
    %template(SwitchingDPLongVector) vector<long long>;
    %template(SwitchingDPDoubleVector) vector<double>;
}

// C++ exceptions (OpenMMException, bad input) become Python exceptions, as in OpenMM.
%exception {
    try {
        $action
    }
    catch (std::exception& e) {
        PyErr_SetString(PyExc_Exception, const_cast<char*>(e.what()));
        return NULL;
    }
}

// Model contents are bytes, not text.
%typemap(out) const std::string& getModelContents {
    $result = PyBytes_FromStringAndSize($1->data(), $1->size());
}

%newobject SwitchingDPPlugin::SwitchingDPForce::fromModelContents;
%newobject SwitchingDPPlugin::SwitchingDPForce::_copy;

// The API and its documentation come from the C++ headers (SWIG -doxygen turns
// their comments into Python docstrings): only what Python must not see is listed.
%ignore SwitchingDPPlugin::DPModelInfo;
%ignore SwitchingDPPlugin::ModelCoefficients;
%ignore SwitchingDPPlugin::modelRole;
%ignore SwitchingDPPlugin::Accurate;   // users know them as SwitchingDPForce.Accurate / .Fast
%ignore SwitchingDPPlugin::Fast;
%ignore SwitchingDPPlugin::inspectDPModel;
%ignore SwitchingDPPlugin::readModelFile;
%ignore SwitchingDPPlugin::SwitchingDPSchedule;
%ignore SwitchingDPPlugin::GuardState;
%ignore SwitchingDPPlugin::EvaluationPlan;
%ignore SwitchingDPPlugin::SwitchingDPForce::getSchedule;
%ignore SwitchingDPPlugin::SwitchingDPForce::Model;
%ignore SwitchingDPPlugin::SwitchingDPForce::Mode;
%ignore SwitchingDPPlugin::SwitchingDPForce::SlowTerm;

// Physical values in and out as openmm.unit Quantities, as OpenMM's own API does;
// setters also take plain numbers in OpenMM units (nm).
%pythonprepend SwitchingDPPlugin::SwitchingDPForce::setNeighborListSkin %{
    skin = _strip_units(skin, unit.nanometer, "skin")
%}
%pythonappend SwitchingDPPlugin::SwitchingDPForce::getNeighborListSkin %{
    val = unit.Quantity(val, unit.nanometer)
%}
%pythonappend SwitchingDPPlugin::SwitchingDPForce::getModelCutoff %{
    val = unit.Quantity(val, unit.nanometer)
%}

%pythonbegin %{
import operator as _operator
import os as _os

import openmm.unit as unit

# eV/A in kJ/mol/nm: the deviation settings' unit, as deepmd-kit and DP-GEN use it.
_KJ_PER_MOL_NM_PER_EV_A = 96.48533212331002 * 10


def _strip_units(value, expected, name):
    """A Quantity's value in `expected` units as a float, or a plain number (numpy too) as a float."""
    if unit.is_quantity(value):
        if expected is None:
            raise TypeError(f"{name} must be a plain number, got a Quantity in {value.unit}")
        if not value.unit.is_compatible(expected):
            raise TypeError(f"{name} must be in units compatible with {expected}, got {value.unit}")
        value = value.value_in_unit(expected)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}") from None


def _force_deviation(value, name):
    """A force deviation in eV/A: a force Quantity converted (molar, e.g. kJ/mol/nm, or
    per particle, e.g. eV/A written as elementary_charge*volt/angstrom), a plain number
    taken as eV/A; any other dimension refused."""
    if unit.is_quantity(value):
        molar = unit.kilojoule_per_mole / unit.nanometer
        if value.unit.is_compatible(molar):
            return value.value_in_unit(molar) / _KJ_PER_MOL_NM_PER_EV_A
        if value.unit.is_compatible(unit.kilojoule / unit.nanometer):
            return (value * unit.AVOGADRO_CONSTANT_NA).value_in_unit(molar) / _KJ_PER_MOL_NM_PER_EV_A
        raise TypeError(f"{name} is a force deviation (eV/A, or a force Quantity such as kJ/mol/nm); "
                        f"got a Quantity in {value.unit}")
    return _strip_units(value, None, name)


def _integer(value, name):
    """An integer setting: Python and numpy integers; floats and other types refused."""
    try:
        return _operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {value!r}") from None


def _path(value):
    """A model path: str or os.PathLike (pathlib.Path)."""
    return _os.fspath(value) if isinstance(value, _os.PathLike) else value


def _numbers(values, name):
    """A list of floats from any iterable of numbers (a numpy array is flattened)."""
    if hasattr(values, "ravel"):
        values = values.ravel()
    return [_strip_units(v, None, name) for v in values]
%}

%pythonprepend SwitchingDPPlugin::SwitchingDPForce::SwitchingDPForce %{
    args = tuple(_path(a) for a in args)
%}
%pythonprepend SwitchingDPPlugin::SwitchingDPForce::setDeviationThreshold %{
    maxForceDeviation = _force_deviation(maxForceDeviation, "the deviation threshold")
%}
%pythonprepend SwitchingDPPlugin::SwitchingDPForce::setDeviationLimit %{
    maxForceDeviation = _force_deviation(maxForceDeviation, "the deviation limit")
%}
%pythonprepend SwitchingDPPlugin::SwitchingDPForce::setAccurateInterval %{
    interval = _integer(interval, "the accurate interval")
%}
%pythonprepend SwitchingDPPlugin::SwitchingDPForce::setAccuratePhase %{
    phase = _integer(phase, "the accurate phase")
%}
%pythonprepend SwitchingDPPlugin::SwitchingDPForce::setSlowForceGroup %{
    group = _integer(group, "the slow force group")
%}
%pythonprepend SwitchingDPPlugin::SwitchingDPForce::setDeviationCheckInterval %{
    accurateSteps = _integer(accurateSteps, "the deviation check interval")
%}
%pythonprepend SwitchingDPPlugin::SwitchingDPForce::setFallbackSteps %{
    steps = _integer(steps, "the fallback steps")
%}
%pythonprepend SwitchingDPPlugin::SwitchingDPForce::setMode %{
    mode = _integer(mode, "the mode")
%}
%pythonprepend SwitchingDPPlugin::SwitchingDPForce::setSlowTerm %{
    term = _integer(term, "the slow term")
%}
%pythonprepend SwitchingDPPlugin::SwitchingDPForce::getModelForStep %{
    step = _integer(step, "the step")
%}
%pythonprepend SwitchingDPPlugin::SwitchingDPForce::setParticles %{
    particles = [_integer(p, "a particle index") for p in particles]
%}
%pythonprepend SwitchingDPPlugin::SwitchingDPForce::setTypes %{
    types = [str(t) for t in types]
%}
%pythonprepend SwitchingDPPlugin::SwitchingDPForce::setFrameParameters %{
    values = _numbers(values, "a frame parameter")
%}
%pythonprepend SwitchingDPPlugin::SwitchingDPForce::setAtomicParameters %{
    values = _numbers(values, "an atomic parameter")
%}

%include "ModelPair.h"
%include "DPModelInfo.h"
%include "SwitchingDPSchedule.h"
%include "SwitchingDPForce.h"

namespace SwitchingDPPlugin {
%extend SwitchingDPForce {
    static SwitchingDPPlugin::SwitchingDPForce& _cast(OpenMM::Force& force) {
        SwitchingDPPlugin::SwitchingDPForce* result = dynamic_cast<SwitchingDPPlugin::SwitchingDPForce*>(&force);
        if (result == NULL)
            throw OpenMM::OpenMMException("SwitchingDPForce.cast: the force is not a SwitchingDPForce");
        return *result;
    }
    static bool isinstance(OpenMM::Force& force) {
        return (dynamic_cast<SwitchingDPPlugin::SwitchingDPForce*>(&force) != NULL);
    }
    SwitchingDPPlugin::SwitchingDPForce* _copy() const {
        return new SwitchingDPPlugin::SwitchingDPForce(*self);
    }
    %pythoncode %{
        @staticmethod
        def cast(force):
            """Cast an openmm.Force (e.g. from System.getForce()) back to a SwitchingDPForce."""
            result = SwitchingDPForce._cast(force)
            result._castFrom = force  # the C++ object belongs to `force`: keep it alive
            return result

        def __copy__(self):
            return self._copy()

        def __deepcopy__(self, memo):
            return self._copy()
    %}
}
}
