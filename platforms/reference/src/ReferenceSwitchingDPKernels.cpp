#include "ReferenceSwitchingDPKernels.h"
#include "internal/SwitchingDPEngineFromForce.h"
#include "openmm/OpenMMException.h"
#include "openmm/reference/ReferencePlatform.h"

using namespace SwitchingDPPlugin;
using namespace OpenMM;

static ReferencePlatform::PlatformData& platformData(ContextImpl& context) {
    return *reinterpret_cast<ReferencePlatform::PlatformData*>(context.getPlatformData());
}

void ReferenceCalcSwitchingDPForceKernel::initialize(const System& system, const SwitchingDPForce& force,
                                                     const std::vector<int>& particles) {
    engine = createEngine(force, particles, torch::kCPU);
    positions = torch::zeros({(int64_t) particles.size(), 3}, torch::kFloat64);
}

double ReferenceCalcSwitchingDPForceKernel::execute(ContextImpl& context, bool includeForces, bool includeEnergy,
                                                    const ModelCoefficients& coefficients, ModelDeviation* deviation,
                                                    bool residual) {
    ReferencePlatform::PlatformData& data = platformData(context);
    const std::vector<Vec3>& all = *data.positions;
    std::vector<Vec3>& forces = *data.forces;
    const std::vector<int>& particles = engine->getParticles();
    double* p = positions.data_ptr<double>();
    for (size_t i = 0; i < particles.size(); i++)
        for (int k = 0; k < 3; k++)
            p[3*i+k] = all[particles[i]][k];
    DPResult sum = engine->evaluateSum(coefficients, positions, data.periodicBoxVectors, includeForces, deviation, residual);
    if (includeForces) {
        const double* f = sum.forces.data_ptr<double>();
        for (size_t i = 0; i < particles.size(); i++)
            forces[particles[i]] += Vec3(f[3*i], f[3*i+1], f[3*i+2]);
    }
    return sum.energy;
}

void ReferenceCalcSwitchingDPForceKernel::copyParametersToContext(ContextImpl& context, const SwitchingDPForce& force) {
    engine->setParameters(force.getFrameParameters(), force.getAtomicParameters());
}

std::vector<long long> ReferenceCalcSwitchingDPForceKernel::getEvaluationCounts() const {
    return {engine->getEvaluationCount(Accurate), engine->getEvaluationCount(Fast)};
}

KernelImpl* ReferenceSwitchingDPKernelFactory::createKernelImpl(std::string name, const Platform& platform, ContextImpl& context) const {
    if (name == CalcSwitchingDPForceKernel::Name())
        return new ReferenceCalcSwitchingDPForceKernel(name, platform);
    throw OpenMMException("SwitchingDPForce: unknown kernel " + name);
}
