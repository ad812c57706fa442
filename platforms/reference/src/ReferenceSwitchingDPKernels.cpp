#include "ReferenceSwitchingDPKernels.h"
#include "openmm/OpenMMException.h"
#include "openmm/reference/ReferencePlatform.h"

using namespace SwitchingDPPlugin;
using namespace OpenMM;

static ReferencePlatform::PlatformData& platformData(ContextImpl& context) {
    return *reinterpret_cast<ReferencePlatform::PlatformData*>(context.getPlatformData());
}

void ReferenceCalcSwitchingDPForceKernel::initialize(const System& system, const SwitchingDPForce& force,
                                                     const std::vector<int>& particles) {
    std::array<std::string, 2> contents = {force.getModelContents(SwitchingDPForce::Accurate),
                                           force.getModelContents(SwitchingDPForce::Fast)};
    std::array<std::string, 2> labels = {force.getModelFile(SwitchingDPForce::Accurate),
                                         force.getModelFile(SwitchingDPForce::Fast)};
    engine = std::make_unique<SwitchingDPEngine>(contents, labels, force.getTypes(), particles,
            force.usesPeriodicBoundaryConditions(), force.getNeighborListSkin());
    schedule = force.getSchedule();
}

double ReferenceCalcSwitchingDPForceKernel::execute(ContextImpl& context, bool includeForces, bool includeEnergy,
                                                    bool ownGroup, int groups) {
    std::array<double, 2> coefficients = schedule.coefficients(context.getStepCount(), ownGroup, groups);
    ReferencePlatform::PlatformData& data = platformData(context);
    const std::vector<Vec3>& positions = *data.positions;
    std::vector<Vec3>& forces = *data.forces;
    const std::vector<int>& particles = engine->getParticles();
    double energy = 0.0;
    for (int model = 0; model < 2; model++) {
        if (coefficients[model] == 0.0)
            continue;
        const DPResult& result = engine->evaluate(model, positions, data.periodicBoxVectors);
        energy += coefficients[model] * result.energy;
        if (includeForces)
            for (size_t i = 0; i < particles.size(); i++)
                forces[particles[i]] += Vec3(result.forces[3*i], result.forces[3*i+1], result.forces[3*i+2]) * coefficients[model];
    }
    return energy;
}

void ReferenceCalcSwitchingDPForceKernel::copyParametersToContext(ContextImpl& context, const SwitchingDPForce& force) {
    schedule = force.getSchedule();
}

std::vector<long long> ReferenceCalcSwitchingDPForceKernel::getEvaluationCounts() const {
    return {engine->getEvaluationCount(SwitchingDPEngine::Accurate), engine->getEvaluationCount(SwitchingDPEngine::Fast)};
}

KernelImpl* ReferenceSwitchingDPKernelFactory::createKernelImpl(std::string name, const Platform& platform, ContextImpl& context) const {
    if (name == CalcSwitchingDPForceKernel::Name())
        return new ReferenceCalcSwitchingDPForceKernel(name, platform);
    throw OpenMMException("SwitchingDPForce: unknown kernel " + name);
}
