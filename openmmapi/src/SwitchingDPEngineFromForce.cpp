#include "internal/SwitchingDPEngineFromForce.h"

using namespace SwitchingDPPlugin;

std::unique_ptr<SwitchingDPEngine> SwitchingDPPlugin::createEngine(const SwitchingDPForce& force,
                                                                   const std::vector<int>& particles,
                                                                   const torch::Device& device) {
    const bool twoModels = force.getNumModels() == 2;
    return std::make_unique<SwitchingDPEngine>(
            std::array<std::string, 2>{force.getModelContents(Accurate), twoModels ? force.getModelContents(Fast) : ""},
            std::array<std::string, 2>{force.getModelFile(Accurate), twoModels ? force.getModelFile(Fast) : ""},
            force.getTypes(), particles, force.usesPeriodicBoundaryConditions(), force.getNeighborListSkin(), device,
            SwitchingDPEngine::ListForDevice, DPUnits(), force.getFrameParameters(), force.getAtomicParameters(),
            force.getUseNativePath());
}
