#ifndef OPENMM_SWITCHINGDP_ENGINE_FROM_FORCE_H_
#define OPENMM_SWITCHINGDP_ENGINE_FROM_FORCE_H_

#include "SwitchingDPEngine.h"
#include "SwitchingDPForce.h"
#include <memory>
#include <vector>

namespace SwitchingDPPlugin {

/**
 * The engine for a Force's models, types, periodicity, skin and parameters, over
 * its resolved DP particles, as every platform's kernel builds it.  It lives here,
 * not in dpcore, because the engine must not know the Force: dpcore is the layer
 * below the API.
 */
std::unique_ptr<SwitchingDPEngine> createEngine(const SwitchingDPForce& force, const std::vector<int>& particles,
                                                const torch::Device& device);

} // namespace SwitchingDPPlugin

#endif
