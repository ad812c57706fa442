#ifndef OPENMM_SWITCHINGDPFORCEIMPL_H_
#define OPENMM_SWITCHINGDPFORCEIMPL_H_

#include "SwitchingDPForce.h"
#include "SwitchingDPSchedule.h"
#include "openmm/Kernel.h"
#include "openmm/internal/ForceImpl.h"
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
    }
    double calcForcesAndEnergy(OpenMM::ContextImpl& context, bool includeForces, bool includeEnergy, int groups);
    std::map<std::string, double> getDefaultParameters() {
        return {};
    }
    std::vector<std::string> getKernelNames();
    void updateParametersInContext(OpenMM::ContextImpl& context);
    std::vector<long long> getEvaluationCounts() const;
private:
    const SwitchingDPForce& owner;
    OpenMM::Kernel kernel;
    // The Context's copy of the schedule: set at initialization and by
    // updateParametersInContext(), applied once per evaluation here and nowhere else.
    SwitchingDPSchedule schedule;
};

} // namespace SwitchingDPPlugin

#endif
