#ifndef OPENMM_SWITCHINGDP_ENGINECHECKS_H_
#define OPENMM_SWITCHINGDP_ENGINECHECKS_H_

#include "DPModelInfo.h"
#include <cstddef>

namespace SwitchingDPPlugin {

// The checks and messages the host and device engines share.

/** Throws unless there is one type name per DP particle. */
void checkOneTypePerParticle(std::size_t numTypeNames, std::size_t numParticles);

/** Throws the error for a DP particle (System index) whose position is NaN or infinite. */
[[noreturn]] void throwNonFinitePosition(int particle);

/**
 * Warns on stderr that a DP particle (System index) has `count` neighbours of model
 * type `type` within the cutoff of model `model` (0 accurate, 1 fast), more than sel.
 */
void warnSelExceeded(const DPModelInfo& info, int model, int particle, long long count, int type);

} // namespace SwitchingDPPlugin

#endif
