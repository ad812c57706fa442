#include "internal/SwitchingDPForceImpl.h"
#include "SwitchingDPKernels.h"
#include "openmm/OpenMMException.h"
#include "openmm/internal/ContextImpl.h"
#include <cctype>
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
    checkGuardSettings(schedule);
    if (schedule.guarded())
        guardParameters = guardParameterNames(owner);
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
    GuardState guard = readGuard(context);
    ModelCoefficients coefficients = schedule.coefficients(step, ownGroup, groups, guard);
    if (!energyScaleParameter.empty()) {
        double scale = context.getParameter(energyScaleParameter);
        if (!std::isfinite(scale))
            throw OpenMMException("SwitchingDPForce: the energy scale parameter '" + energyScaleParameter + "' is not finite");
        for (double& c : coefficients)
            c *= scale;
    }
    if (coefficients[Accurate] == 0.0 && coefficients[Fast] == 0.0)
        return 0.0;
    // Deviation checks: scheduled ones in Alternating mode; in MultipleTimeStep mode
    // whenever the slow term runs, which evaluates what the deviation needs anyway.
    bool slowGroup = (groups & (1 << schedule.slowForceGroup)) != 0;
    bool check = schedule.numModels == 2 && schedule.deviationCheckInterval > 0 &&
            (schedule.mode == SwitchingDPSchedule::Alternating ? ownGroup && schedule.checksDeviation(step, guard) : slowGroup);
    ModelDeviation deviation;
    double energy = kernel.getAs<CalcSwitchingDPForceKernel>().execute(context, includeForces, includeEnergy, coefficients,
            check ? &deviation : nullptr, schedule.slowTerm == SwitchingDPSchedule::Residual &&
            schedule.mode == SwitchingDPSchedule::MultipleTimeStep);
    if (check)
        recordDeviation(context, step, deviation, guard);
    return energy;
}

void SwitchingDPForceImpl::recordDeviation(ContextImpl& context, long long step, const ModelDeviation& deviation, GuardState guard) {
    lastDeviation = deviation;
    lastDeviation.step = step;
    lastDeviation.model = schedule.mode == SwitchingDPSchedule::Alternating ? schedule.modelForStep(step, guard) : Fast;
    if (schedule.deviationLimit > 0 && deviation.maxForceDeviation > schedule.deviationLimit) {
        std::ostringstream message;
        message << "SwitchingDPForce: at step " << step << " the fast model's forces deviate from the accurate model's by up to "
                << deviation.maxForceDeviation << " eV/A (on particle " << deviation.worstParticle << "; RMS "
                << deviation.rmsForceDeviation << " eV/A), above the deviation limit of " << schedule.deviationLimit
                << " eV/A: the fast model is outside what it was trained on here.  Go back to a checkpoint and run "
                "with the accurate model, a lower deviation threshold, or a fast model trained on such configurations.";
        throw OpenMMException(message.str());
    }
    GuardState next = schedule.afterCheck(step, deviation.maxForceDeviation, guard);
    lastDeviation.fallback = schedule.inFallback(step + 1, next);
    if (!(next == guard))
        writeGuard(context, next);
}

void SwitchingDPForceImpl::checkGuardSettings(const SwitchingDPSchedule& schedule) {
    const std::string name = "SwitchingDPForce: ";
    if ((schedule.deviationThreshold > 0 || schedule.deviationLimit > 0) && schedule.deviationCheckInterval == 0)
        throw OpenMMException(name + "a deviation threshold or limit needs deviation checks; call setDeviationCheckInterval() "
                "with k > 0 (1: on every accurate step)");
    if (schedule.deviationThreshold > 0 && schedule.mode != SwitchingDPSchedule::Alternating)
        throw OpenMMException(name + "the guard (setDeviationThreshold) falls back to accurate-only steps, which is "
                "for Alternating mode; in MultipleTimeStep mode use setDeviationLimit() or a shorter outer step");
    if (schedule.deviationLimit > 0 && schedule.deviationThreshold > schedule.deviationLimit)
        throw OpenMMException(name + "the deviation limit (" + std::to_string(schedule.deviationLimit) +
                " eV/A) is below the threshold (" + std::to_string(schedule.deviationThreshold) +
                " eV/A), so the guard could never act; set the limit above the threshold");
}

static std::string parameterPrefix(const std::string& forceName) {
    std::string prefix;
    for (char c : forceName)
        prefix += (std::isalnum((unsigned char) c) ? c : '_');
    return prefix;
}

GuardState SwitchingDPForceImpl::readGuard(ContextImpl& context) const {
    GuardState guard;
    if (!guardParameters[0].empty()) {
        guard.fallbackUntil = (long long) context.getParameter(guardParameters[0]);
        guard.lastDirtyStep = (long long) context.getParameter(guardParameters[1]);
    }
    return guard;
}

void SwitchingDPForceImpl::writeGuard(ContextImpl& context, const GuardState& guard) {
    if (guardParameters[0].empty())
        return;
    context.setParameter(guardParameters[0], (double) guard.fallbackUntil);
    context.setParameter(guardParameters[1], (double) guard.lastDirtyStep);
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

std::array<std::string, 2> SwitchingDPForceImpl::guardParameterNames(const SwitchingDPForce& force) {
    std::string prefix = parameterPrefix(force.getName());
    return {prefix + "_guardFallbackUntil", prefix + "_guardLastDirtyStep"};
}

std::map<std::string, double> SwitchingDPForceImpl::getDefaultParameters() {
    std::map<std::string, double> parameters;
    if (!owner.getEnergyScaleParameter().empty())
        parameters[owner.getEnergyScaleParameter()] = 1.0;
    if (owner.getSchedule().guarded()) {
        std::array<std::string, 2> names = guardParameterNames(owner);
        GuardState initial;
        parameters[names[0]] = (double) initial.fallbackUntil;
        parameters[names[1]] = (double) initial.lastDirtyStep;
    }
    return parameters;
}

std::vector<std::string> SwitchingDPForceImpl::getKernelNames() {
    return {CalcSwitchingDPForceKernel::Name()};
}

void SwitchingDPForceImpl::updateParametersInContext(ContextImpl& context) {
    if (owner.getEnergyScaleParameter() != energyScaleParameter)
        throw OpenMMException("SwitchingDPForce: the energy scale parameter is fixed when the Context is created (it is '" +
                energyScaleParameter + "' in this Context); call reinitialize() to change it");
    if (owner.getSchedule().guarded() != schedule.guarded())
        throw OpenMMException("SwitchingDPForce: whether the guard is on (a deviation threshold > 0) is fixed when the Context "
                "is created, since its history is kept in Context parameters; call reinitialize() to change it");
    // Checks and parameters first: if anything is wrong this throws and changes nothing.
    checkGuardSettings(owner.getSchedule());
    kernel.getAs<CalcSwitchingDPForceKernel>().copyParametersToContext(context, owner);
    schedule = owner.getSchedule();
}

std::vector<long long> SwitchingDPForceImpl::getEvaluationCounts() const {
    return kernel.getAs<const CalcSwitchingDPForceKernel>().getEvaluationCounts();
}
