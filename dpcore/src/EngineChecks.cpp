#include "EngineChecks.h"
#include "openmm/OpenMMException.h"
#include <iostream>
#include <string>

using namespace SwitchingDPPlugin;
using OpenMM::OpenMMException;

void SwitchingDPPlugin::checkOneTypePerParticle(std::size_t numTypeNames, std::size_t numParticles) {
    if (numTypeNames != numParticles)
        throw OpenMMException("SwitchingDPForce: " + std::to_string(numTypeNames) + " type names for " +
                std::to_string(numParticles) + " DP particles");
}

void SwitchingDPPlugin::throwNonFinitePosition(int particle) {
    throw OpenMMException("SwitchingDPForce: particle " + std::to_string(particle) +
            " has a non-finite position (NaN or infinity); the simulation has probably blown up");
}

void SwitchingDPPlugin::warnSelExceeded(const DPModelInfo& info, int model, int particle, long long count, int type) {
    std::cerr << "SwitchingDPForce warning: particle " << particle << " has " << count << " neighbours of type '"
              << info.typeMap[type] << "' within the " << modelRole(model) << " model's cutoff, more than its sel ("
              << info.sel[type] << "); the model keeps only the nearest. Retrain with a larger sel if this persists."
              << std::endl;
}
