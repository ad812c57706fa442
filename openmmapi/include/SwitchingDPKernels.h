#ifndef OPENMM_SWITCHINGDP_KERNELS_H_
#define OPENMM_SWITCHINGDP_KERNELS_H_

#include "SwitchingDPForce.h"
#include "openmm/KernelImpl.h"
#include "openmm/System.h"
#include "openmm/internal/ContextImpl.h"
#include <vector>

namespace SwitchingDPPlugin {

/**
 * The kernel each platform implements for SwitchingDPForce.  It only computes:
 * which model runs with which coefficient, and whether the deviation is checked,
 * is the schedule's plan (SwitchingDPSchedule::plan), which SwitchingDPForceImpl
 * passes on; the weighted sum itself is SwitchingDPEngine::evaluateSum.
 */
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
     * Add sum_m coefficients[m] * F_m to the forces (if includeForces) and return
     * sum_m coefficients[m] * E_m (kJ/mol).  Models with a zero coefficient are
     * not evaluated; at least one coefficient is non-zero.  If deviation is given,
     * also fill it (all but step, model and fallback) from both models at these
     * coordinates (SwitchingDPEngine::deviation; residual: the accurate slot holds
     * a residual model).
     */
    virtual double execute(OpenMM::ContextImpl& context, bool includeForces, bool includeEnergy,
                           const ModelCoefficients& coefficients, ModelDeviation* deviation = nullptr,
                           bool residual = false) = 0;
    /** Give the engine the force's current frame and atomic parameters (updateParametersInContext). */
    virtual void copyParametersToContext(OpenMM::ContextImpl& context, const SwitchingDPForce& force) = 0;
    /** Evaluations of each model so far, indexed by Model. */
    virtual std::vector<long long> getEvaluationCounts() const = 0;
};

} // namespace SwitchingDPPlugin

#endif
