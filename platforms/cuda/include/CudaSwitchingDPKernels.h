#ifndef CUDA_SWITCHINGDP_KERNELS_H_
#define CUDA_SWITCHINGDP_KERNELS_H_

#include "SwitchingDPKernels.h"
#include "SwitchingDPSchedule.h"
#include "SwitchingDPTorchEngine.h"
#include "openmm/KernelFactory.h"
#include "openmm/cuda/CudaContext.h"
#include <memory>

namespace SwitchingDPPlugin {

/**
 * The kernel for the CUDA platform: the same semantics as the Reference kernel
 * (schedule from the step count, per-model cache, DP subset), with positions,
 * neighbour list, models and forces kept on the GPU.
 *
 * OpenMM works in its own CUDA context; PyTorch in the device's primary context.
 * Each execute() copies OpenMM's positions into a tensor with a small kernel in
 * OpenMM's context and waits for it, evaluates the models in the primary context
 * and waits for them, then adds the forces into OpenMM's fixed-point force buffer
 * with another small kernel in OpenMM's context.  The two waits are what make
 * the hand-over between the contexts' streams safe.
 */
class CudaCalcSwitchingDPForceKernel : public CalcSwitchingDPForceKernel {
public:
    CudaCalcSwitchingDPForceKernel(std::string name, const OpenMM::Platform& platform, OpenMM::CudaContext& cu);
    ~CudaCalcSwitchingDPForceKernel();
    void initialize(const OpenMM::System& system, const SwitchingDPForce& force, const std::vector<int>& particles);
    double execute(OpenMM::ContextImpl& context, bool includeForces, bool includeEnergy, bool ownGroup, int groups);
    void copyParametersToContext(OpenMM::ContextImpl& context, const SwitchingDPForce& force);
    std::vector<long long> getEvaluationCounts() const;
private:
    OpenMM::CudaContext& cu;
    CUdevice device = 0;
    CUcontext primaryContext = nullptr;  // PyTorch's context on OpenMM's device, retained while we live
    std::unique_ptr<SwitchingDPTorchEngine> engine;
    SwitchingDPSchedule schedule;
    bool periodic = false;
    torch::Tensor positions;  // [DP particles, 3] float64, nm, on the GPU
    torch::Tensor dpIndex;    // [System particles] int32 on the GPU: DP index of each particle, or -1
};

class CudaSwitchingDPKernelFactory : public OpenMM::KernelFactory {
public:
    OpenMM::KernelImpl* createKernelImpl(std::string name, const OpenMM::Platform& platform, OpenMM::ContextImpl& context) const;
};

} // namespace SwitchingDPPlugin

#endif
