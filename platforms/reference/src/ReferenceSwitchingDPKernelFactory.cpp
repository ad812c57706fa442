#include "ReferenceSwitchingDPKernels.h"
#include "openmm/reference/ReferencePlatform.h"

using namespace SwitchingDPPlugin;
using namespace OpenMM;

// Called by Platform::loadPluginLibrary().  The CPU platform derives from the
// Reference platform and keeps positions and forces the same way, so every
// ReferencePlatform gets the host kernel.
extern "C" void registerPlatforms() {
}

extern "C" void registerKernelFactories() {
    for (int i = 0; i < Platform::getNumPlatforms(); i++) {
        Platform& platform = Platform::getPlatform(i);
        if (dynamic_cast<ReferencePlatform*>(&platform) != nullptr)
            platform.registerKernelFactory(CalcSwitchingDPForceKernel::Name(), new ReferenceSwitchingDPKernelFactory());
    }
}
