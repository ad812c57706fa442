// The OpenCL platform's SwitchingDPForce kernel: the common kernel with its default
// hooks (torch on the CPU; positions come down from the device, forces go up).
#include "CommonSwitchingDPKernels.h"
#include "openmm/KernelFactory.h"
#include "openmm/OpenMMException.h"
#include "openmm/opencl/OpenCLContext.h"
#include "openmm/opencl/OpenCLPlatform.h"

using namespace SwitchingDPPlugin;
using namespace OpenMM;

namespace {

class OpenCLSwitchingDPKernelFactory : public KernelFactory {
public:
    KernelImpl* createKernelImpl(std::string name, const Platform& platform, ContextImpl& context) const override {
        if (name != CalcSwitchingDPForceKernel::Name())
            throw OpenMMException("SwitchingDPForce: unknown kernel " + name);
        // With several devices OpenMM keeps one OpenCLContext per device, each with
        // all positions, and sums their force buffers: the first one is enough.
        OpenCLPlatform::PlatformData& data = *static_cast<OpenCLPlatform::PlatformData*>(context.getPlatformData());
        return new CommonCalcSwitchingDPForceKernel(name, platform, *data.contexts[0]);
    }
};

} // namespace

// Called by Platform::loadPluginLibrary().  Python loads this library only where
// OpenMM's OpenCL platform was loaded.
extern "C" void registerPlatforms() {
}

extern "C" void registerKernelFactories() {
    for (int i = 0; i < Platform::getNumPlatforms(); i++) {
        Platform& platform = Platform::getPlatform(i);
        if (dynamic_cast<OpenCLPlatform*>(&platform) != nullptr)
            platform.registerKernelFactory(CalcSwitchingDPForceKernel::Name(), new OpenCLSwitchingDPKernelFactory());
    }
}
