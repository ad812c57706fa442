#include "internal/SwitchingDPForceImpl.h"
#include "SwitchingDPKernels.h"
#include "openmm/OpenMMException.h"
#include "openmm/internal/ContextImpl.h"

using namespace SwitchingDPPlugin;
using namespace OpenMM;

/** The DP particles of a force in a System: its explicit list, or all particles. */
static std::vector<int> resolveParticles(const System& system, const SwitchingDPForce& force) {
    std::vector<int> particles = force.getParticles();
    if (particles.empty())
        for (int i = 0; i < system.getNumParticles(); i++)
            particles.push_back(i);
    for (int p : particles)
        if (p >= system.getNumParticles())
            throw OpenMMException("SwitchingDPForce: particle index " + std::to_string(p) + " is out of range (the System has " +
                    std::to_string(system.getNumParticles()) + " particles)");
    return particles;
}

void SwitchingDPForceImpl::initialize(ContextImpl& context) {
    const System& system = context.getSystem();
    std::vector<int> particles = resolveParticles(system, owner);
    if (owner.getTypes().empty())
        throw OpenMMException("SwitchingDPForce: no DP types set; call setTypes() with one type name per DP particle "
                "(openmmswitchingdp.typesFromTopology() gives element symbols)");
    if (owner.getTypes().size() != particles.size())
        throw OpenMMException("SwitchingDPForce: setTypes() gave " + std::to_string(owner.getTypes().size()) +
                " names but the force has " + std::to_string(particles.size()) + " DP particles" +
                (owner.getParticles().empty() ? " (all particles of the System)" : " (from setParticles())"));
    schedule = owner.getSchedule();
    kernel = context.getPlatform().createKernel(CalcSwitchingDPForceKernel::Name(), context);
    kernel.getAs<CalcSwitchingDPForceKernel>().initialize(system, owner, particles);
}

double SwitchingDPForceImpl::calcForcesAndEnergy(ContextImpl& context, bool includeForces, bool includeEnergy, int groups) {
    // The step count, not a call counter: extra evaluations (getState, reporters,
    // minimisation) never shift the schedule, and checkpoints carry it.
    bool ownGroup = (groups & (1 << owner.getForceGroup())) != 0;
    ModelCoefficients coefficients = schedule.coefficients(context.getStepCount(), ownGroup, groups);
    if (coefficients[Accurate] == 0.0 && coefficients[Fast] == 0.0)
        return 0.0;
    return kernel.getAs<CalcSwitchingDPForceKernel>().execute(context, includeForces, includeEnergy, coefficients);
}

std::vector<std::string> SwitchingDPForceImpl::getKernelNames() {
    return {CalcSwitchingDPForceKernel::Name()};
}

void SwitchingDPForceImpl::updateParametersInContext(ContextImpl& context) {
    // Parameters first: if their lengths are wrong this throws and changes nothing.
    kernel.getAs<CalcSwitchingDPForceKernel>().copyParametersToContext(context, owner);
    schedule = owner.getSchedule();
}

std::vector<long long> SwitchingDPForceImpl::getEvaluationCounts() const {
    return kernel.getAs<const CalcSwitchingDPForceKernel>().getEvaluationCounts();
}
