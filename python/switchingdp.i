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
import openmm.unit as unit


def _strip_units(value, expected, name):
    """A Quantity's value in `expected` units, or a plain number as it is."""
    if unit.is_quantity(value):
        if not value.unit.is_compatible(expected):
            raise TypeError(f"{name} must be in units compatible with {expected}, got {value.unit}")
        return value.value_in_unit(expected)
    return value
%}

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
