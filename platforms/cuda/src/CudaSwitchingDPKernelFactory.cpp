#include "CudaSwitchingDPKernels.h"
#include "openmm/OpenMMException.h"
#include "openmm/cuda/CudaPlatform.h"

using namespace SwitchingDPPlugin;
using namespace OpenMM;

// Called by Platform::loadPluginLibrary().  Registers on the CUDA platform if it
// is loaded (libOpenMMCUDA.so needs a CUDA driver; without one there is no CUDA
// platform and nothing to do).
extern "C" void registerPlatforms() {
}

extern "C" void registerKernelFactories() {
    for (int i = 0; i < Platform::getNumPlatforms(); i++) {
        Platform& platform = Platform::getPlatform(i);
        if (dynamic_cast<CudaPlatform*>(&platform) != nullptr)
            platform.registerKernelFactory(CalcSwitchingDPForceKernel::Name(), new CudaSwitchingDPKernelFactory());
    }
}

KernelImpl* CudaSwitchingDPKernelFactory::createKernelImpl(std::string name, const Platform& platform, ContextImpl& context) const {
    // With several devices OpenMM keeps one CudaContext per device, each with all
    // positions, and sums their force buffers: running on the first is enough.
    CudaPlatform::PlatformData& data = *static_cast<CudaPlatform::PlatformData*>(context.getPlatformData());
    CudaContext& cu = *data.contexts[0];
    if (name == CalcSwitchingDPForceKernel::Name())
        return new CudaCalcSwitchingDPForceKernel(name, platform, cu);
    throw OpenMMException("SwitchingDPForce: unknown kernel " + name);
}
