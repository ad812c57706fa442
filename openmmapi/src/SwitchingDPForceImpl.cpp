#include "internal/SwitchingDPForceImpl.h"
#include "SwitchingDPKernels.h"
#include "openmm/OpenMMException.h"
#include "openmm/internal/ContextImpl.h"
#include <cmath>
#include <sstream>

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
    energyScaleParameter = owner.getEnergyScaleParameter();
    kernel = context.getPlatform().createKernel(CalcSwitchingDPForceKernel::Name(), context);
    kernel.getAs<CalcSwitchingDPForceKernel>().initialize(system, owner, particles);
}

double SwitchingDPForceImpl::calcForcesAndEnergy(ContextImpl& context, bool includeForces, bool includeEnergy, int groups) {
    // The step count, not a call counter: extra evaluations (getState, reporters,
    // minimisation) never shift the schedule, and checkpoints carry it.
    long long step = context.getStepCount();
    if (schedule.numModels == 2)
        checkStepped(context, step);
    bool ownGroup = (groups & (1 << owner.getForceGroup())) != 0;
    ModelCoefficients coefficients = schedule.coefficients(step, ownGroup, groups);
    if (!energyScaleParameter.empty()) {
        double scale = context.getParameter(energyScaleParameter);
        if (!std::isfinite(scale))
            throw OpenMMException("SwitchingDPForce: the energy scale parameter '" + energyScaleParameter + "' is not finite");
        for (double& c : coefficients)
            c *= scale;
    }
    if (coefficients[Accurate] == 0.0 && coefficients[Fast] == 0.0)
        return 0.0;
    return kernel.getAs<CalcSwitchingDPForceKernel>().execute(context, includeForces, includeEnergy, coefficients);
}

void SwitchingDPForceImpl::checkStepped(ContextImpl& context, long long step) {
    // A wrapper such as CustomCVForce or ATMForce evaluates its forces in an inner
    // Context that no integrator steps: it copies the outer Context's time (and
    // positions) in before each evaluation, but not the step count, and OpenMM gives
    // the inner Context no way to reach the outer one.  So the schedule cannot follow
    // the outer steps there.  The sign: time moves while the step count stands still
    // in a Context that has never been stepped.  It shows at the second outer step;
    // the first (time 0, step 0) is the outer step 0 anyway.
    double time = context.getTime();
    if (!stepped && evaluated && time != lastTime && step == lastStep) {
        std::ostringstream message;
        message << "SwitchingDPForce: this force is being evaluated in a Context whose time moved from " << lastTime
                << " to " << time << " ps while its step count stayed at " << step << " and no integrator has "
                "stepped it: the inner Context of a wrapper such as CustomCVForce or ATMForce.  Such a Context "
                "never advances its step count, so the " << (schedule.mode == SwitchingDPSchedule::Alternating ?
                "alternation" : "multiple-time-step split") << " cannot follow the integrator's steps.  Add the "
                "SwitchingDPForce to the System directly (setEnergyScaleParameter() scales it by a global parameter, "
                "which is what openmm-ml's interpolation needs; MLPotential('switchingdp') does this), or put a "
                "one-model SwitchingDPForce in the wrapper.  (In a plain Context whose time you set by hand, also "
                "set its step count.)";
        throw OpenMMException(message.str());
    }
    evaluated = true;
    lastTime = time;
    lastStep = step;
}

std::map<std::string, double> SwitchingDPForceImpl::getDefaultParameters() {
    if (owner.getEnergyScaleParameter().empty())
        return {};
    return {{owner.getEnergyScaleParameter(), 1.0}};
}

std::vector<std::string> SwitchingDPForceImpl::getKernelNames() {
    return {CalcSwitchingDPForceKernel::Name()};
}

void SwitchingDPForceImpl::updateParametersInContext(ContextImpl& context) {
    // Parameters first: if their lengths are wrong this throws and changes nothing.
    if (owner.getEnergyScaleParameter() != energyScaleParameter)
        throw OpenMMException("SwitchingDPForce: the energy scale parameter is fixed when the Context is created (it is '" +
                energyScaleParameter + "' in this Context); call reinitialize() to change it");
    kernel.getAs<CalcSwitchingDPForceKernel>().copyParametersToContext(context, owner);
    schedule = owner.getSchedule();
}

std::vector<long long> SwitchingDPForceImpl::getEvaluationCounts() const {
    return kernel.getAs<const CalcSwitchingDPForceKernel>().getEvaluationCounts();
}
