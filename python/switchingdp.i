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

namespace SwitchingDPPlugin {

%feature("docstring") SwitchingDPForce "A Force that alternates between, or splits into force groups, an accurate and a fast DeePMD-kit model.";

class SwitchingDPForce : public OpenMM::Force {
public:
    enum Model { Accurate = 0, Fast = 1 };
    enum Mode { Alternating = 0, MultipleTimeStep = 1 };
    enum SlowTerm { Difference = 0, Residual = 1 };
    SwitchingDPForce(const std::string& accurateModelFile, const std::string& fastModelFile);
    SwitchingDPForce(const std::string& modelFile);
    static SwitchingDPForce* fromModelContents(const std::string& accurateContents, const std::string& fastContents,
                                               const std::string& accurateLabel = "accurate model",
                                               const std::string& fastLabel = "fast model");
    int getNumModels() const;
    const std::string& getModelFile(Model model) const;
    const std::string& getModelContents(Model model) const;
    double getModelCutoff(Model model) const;
    const std::vector<std::string>& getModelTypeMap(Model model) const;
    const std::vector<int>& getModelSel(Model model) const;
    int getModelNumFrameParameters(Model model) const;
    int getModelNumAtomicParameters(Model model) const;
    bool getModelUsesMessagePassing(Model model) const;
    void setFrameParameters(const std::vector<double>& values);
    const std::vector<double>& getFrameParameters() const;
    void setAtomicParameters(const std::vector<double>& values);
    const std::vector<double>& getAtomicParameters() const;
    void setTypes(const std::vector<std::string>& types);
    const std::vector<std::string>& getTypes() const;
    void setParticles(const std::vector<int>& particles);
    const std::vector<int>& getParticles() const;
    void setAccurateInterval(int interval);
    int getAccurateInterval() const;
    void setAccuratePhase(int phase);
    int getAccuratePhase() const;
    Model getModelForStep(long long step) const;
    void setMode(Mode mode);
    Mode getMode() const;
    void setSlowForceGroup(int group);
    int getSlowForceGroup() const;
    void setSlowTerm(SlowTerm term);
    SlowTerm getSlowTerm() const;
    void setEnergyScaleParameter(const std::string& name);
    const std::string& getEnergyScaleParameter() const;
    void setNeighborListSkin(double skin);
    double getNeighborListSkin() const;
    void setUsesPeriodicBoundaryConditions(bool periodic);
    bool usesPeriodicBoundaryConditions() const;
    std::vector<long long> getEvaluationCounts(OpenMM::Context& context) const;
    void updateParametersInContext(OpenMM::Context& context);

    %extend {
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
};

}
%newobject SwitchingDPPlugin::SwitchingDPForce::_copy;
