#ifndef OPENMM_SWITCHINGDP_KERNELS_H_
#define OPENMM_SWITCHINGDP_KERNELS_H_

#include "SwitchingDPForce.h"
#include "openmm/KernelImpl.h"
#include "openmm/System.h"
#include "openmm/internal/ContextImpl.h"
#include <vector>

namespace SwitchingDPPlugin {

/** The kernel each platform implements for SwitchingDPForce. */
class CalcSwitchingDPForceKernel : public OpenMM::KernelImpl {
public:
    static std::string Name() {
        return "CalcSwitchingDPForce";
    }
    CalcSwitchingDPForceKernel(std::string name, const OpenMM::Platform& platform) : OpenMM::KernelImpl(name, platform) {
    }
    /** particles: the DP particles, resolved (never empty). */
    virtual void initialize(const OpenMM::System& system, const SwitchingDPForce& force, const std::vector<int>& particles) = 0;
    /**
     * Add the forces and return the energy of the terms the schedule assigns to the
     * requested groups (ownGroup: whether the Force's own group is requested;
     * groups: OpenMM's bit set of requested groups).
     */
    virtual double execute(OpenMM::ContextImpl& context, bool includeForces, bool includeEnergy,
                           bool ownGroup, int groups) = 0;
    virtual void copyParametersToContext(OpenMM::ContextImpl& context, const SwitchingDPForce& force) = 0;
    /** {accurate, fast} model evaluations so far. */
    virtual std::vector<long long> getEvaluationCounts() const = 0;
};

} // namespace SwitchingDPPlugin

#endif
