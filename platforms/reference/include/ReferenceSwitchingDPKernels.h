#ifndef REFERENCE_SWITCHINGDP_KERNELS_H_
#define REFERENCE_SWITCHINGDP_KERNELS_H_

#include "SwitchingDPKernels.h"
#include "SwitchingDPEngine.h"
#include "openmm/KernelFactory.h"
#include <memory>

namespace SwitchingDPPlugin {

/** The kernel for the Reference and CPU platforms: the engine on CPU tensors over host memory. */
class ReferenceCalcSwitchingDPForceKernel : public CalcSwitchingDPForceKernel {
public:
    ReferenceCalcSwitchingDPForceKernel(std::string name, const OpenMM::Platform& platform) :
            CalcSwitchingDPForceKernel(name, platform) {
    }
    void initialize(const OpenMM::System& system, const SwitchingDPForce& force, const std::vector<int>& particles);
    double execute(OpenMM::ContextImpl& context, bool includeForces, bool includeEnergy, const ModelCoefficients& coefficients,
                   ModelDeviation* deviation, bool residual);
    void copyParametersToContext(OpenMM::ContextImpl& context, const SwitchingDPForce& force);
    std::vector<long long> getEvaluationCounts() const;
private:
    std::unique_ptr<SwitchingDPEngine> engine;
    torch::Tensor positions;  // [DP particles, 3] float64, nm: the engine's input, refilled each call
};

class ReferenceSwitchingDPKernelFactory : public OpenMM::KernelFactory {
public:
    OpenMM::KernelImpl* createKernelImpl(std::string name, const OpenMM::Platform& platform, OpenMM::ContextImpl& context) const;
};

} // namespace SwitchingDPPlugin

#endif
