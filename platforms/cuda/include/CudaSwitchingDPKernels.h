#ifndef CUDA_SWITCHINGDP_KERNELS_H_
#define CUDA_SWITCHINGDP_KERNELS_H_

#include "CommonSwitchingDPKernels.h"
#include "openmm/KernelFactory.h"
#include "openmm/cuda/CudaContext.h"
#include <c10/cuda/CUDAGuard.h>
#include <optional>

namespace SwitchingDPPlugin {

/**
 * The CUDA platform's kernel: the common kernel with torch on OpenMM's GPU.
 *
 * OpenMM works in its own CUDA context; PyTorch in the device's primary context.
 * The dense position and force arrays are OpenMM device arrays that torch views
 * as CUDA tensors (torch::from_blob), so coordinates and forces never leave the
 * GPU.  The hand-over between the two contexts' streams is made safe by waiting:
 * for OpenMM's stream after the copy kernel, for torch's stream before OpenMM's
 * add kernel reads the forces.
 */
class CudaCalcSwitchingDPForceKernel : public CommonCalcSwitchingDPForceKernel {
public:
    CudaCalcSwitchingDPForceKernel(std::string name, const OpenMM::Platform& platform, OpenMM::CudaContext& cu);
    ~CudaCalcSwitchingDPForceKernel();
protected:
    torch::Device getTorchDevice() override;
    torch::Tensor wrapArray(OpenMM::ArrayInterface& array, int64_t rows, torch::ScalarType type) override;
    void enterTorch() override;
    void leaveTorch() override;
    void waitForOpenMM() override;
    void waitForTorch() override;
    std::shared_ptr<DeviceGraphs> makeDeviceGraphs() override;
private:
    OpenMM::CudaContext& cu;
    CUcontext primaryContext = nullptr;  // PyTorch's context on OpenMM's device, retained while we live
    std::optional<c10::cuda::CUDAGuard> deviceGuard;  // torch's current device while in torch
};

class CudaSwitchingDPKernelFactory : public OpenMM::KernelFactory {
public:
    OpenMM::KernelImpl* createKernelImpl(std::string name, const OpenMM::Platform& platform, OpenMM::ContextImpl& context) const;
};

} // namespace SwitchingDPPlugin

#endif
