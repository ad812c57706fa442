#ifndef OPENMM_SWITCHINGDPFORCEIMPL_H_
#define OPENMM_SWITCHINGDPFORCEIMPL_H_

#include "SwitchingDPForce.h"
#include "SwitchingDPSchedule.h"
#include "openmm/Kernel.h"
#include "openmm/internal/ForceImpl.h"
#include <array>
#include <map>
#include <string>
#include <vector>

namespace SwitchingDPPlugin {

class SwitchingDPForceImpl : public OpenMM::ForceImpl {
public:
    SwitchingDPForceImpl(const SwitchingDPForce& owner) : owner(owner) {
    }
    void initialize(OpenMM::ContextImpl& context);
    const SwitchingDPForce& getOwner() const {
        return owner;
    }
    void updateContextState(OpenMM::ContextImpl& context, bool& forcesInvalid) {
        // Integrators call this before every step: the Context is being stepped.
        stepped = true;
    }
    double calcForcesAndEnergy(OpenMM::ContextImpl& context, bool includeForces, bool includeEnergy, int groups);
    std::map<std::string, double> getDefaultParameters();
    std::vector<std::string> getKernelNames();
    void updateParametersInContext(OpenMM::ContextImpl& context);
    std::vector<long long> getEvaluationCounts() const;
    const ModelDeviation& getLastDeviation() const {
        return lastDeviation;
    }
private:
    const SwitchingDPForce& owner;
    OpenMM::Kernel kernel;
    // The Context's copy of the schedule: set at initialization and by
    // updateParametersInContext(), applied once per evaluation here and nowhere else.
    SwitchingDPSchedule schedule;
    std::string energyScaleParameter;  // fixed at initialization: the Context owns the parameter
    // What shows the force is in a wrapper's inner Context, whose step count never
    // advances while the wrapper copies the outer time into it: see checkStepped().
    bool stepped = false, evaluated = false;
    double lastTime = 0;
    long long lastStep = 0;
    void checkStepped(OpenMM::ContextImpl& context, long long step);
    /** The schedule's settings that need more than one setter to be meaningful. */
    static void checkGuardSettings(const SwitchingDPSchedule& schedule);
    /** A periodic force (by default) in a System whose box is OpenMM's untouched default: refused. */
    static void checkPeriodicBox(const OpenMM::System& system, const SwitchingDPForce& force);
    /**
     * MultipleTimeStep mode: the slow group must differ from the force's own group,
     * and the Context's integrator must evaluate both groups; otherwise the split
     * silently runs one model alone.
     */
    static void checkMultipleTimeStepGroups(OpenMM::ContextImpl& context, const SwitchingDPForce& force,
                                            const SwitchingDPSchedule& schedule);
    // The guard's history lives in two Context parameters (so checkpoints and
    // States carry it), named after the force; empty when the force has no guard.
    static std::array<std::string, 2> guardParameterNames(const SwitchingDPForce& force);
    std::array<std::string, 2> guardParameters;
    GuardState readGuard(OpenMM::ContextImpl& context) const;
    void writeGuard(OpenMM::ContextImpl& context, const GuardState& guard);
    /** Keep a check's result (model: the step's, from the plan), enforce the limit and advance the guard. */
    void recordDeviation(OpenMM::ContextImpl& context, long long step, Model model, const ModelDeviation& deviation,
                         GuardState guard);
    ModelDeviation lastDeviation;
};

} // namespace SwitchingDPPlugin

#endif
