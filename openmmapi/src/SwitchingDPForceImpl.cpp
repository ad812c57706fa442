#include "internal/SwitchingDPForceImpl.h"
#include "SwitchingDPKernels.h"
#include "openmm/OpenMMException.h"
#include "openmm/internal/ContextImpl.h"
#include "openmm/CustomIntegrator.h"
#include <cctype>
#include <regex>
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
    checkPeriodicBox(system, owner);
    schedule = owner.getSchedule();
    checkGuardSettings(schedule);
    checkMultipleTimeStepGroups(context, owner, schedule);
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
    EvaluationPlan plan = schedule.plan(step, ownGroup, groups, guard);
    if (!energyScaleParameter.empty()) {
        double scale = context.getParameter(energyScaleParameter);
        if (!std::isfinite(scale))
            throw OpenMMException("SwitchingDPForce: the energy scale parameter '" + energyScaleParameter + "' is not finite");
        for (double& c : plan.coefficients)
            c *= scale;
    }
    // Nothing to evaluate (a scale of 0 included), so nothing to check either.
    if (plan.coefficients[Accurate] == 0.0 && plan.coefficients[Fast] == 0.0)
        return 0.0;
    ModelDeviation deviation;
    double energy = kernel.getAs<CalcSwitchingDPForceKernel>().execute(context, includeForces, includeEnergy,
            plan.coefficients, plan.checkDeviation ? &deviation : nullptr, plan.residual);
    if (plan.checkDeviation)
        recordDeviation(context, step, plan.model, deviation, guard);
    return energy;
}

void SwitchingDPForceImpl::recordDeviation(ContextImpl& context, long long step, Model model, const ModelDeviation& deviation,
                                           GuardState guard) {
    lastDeviation = deviation;
    lastDeviation.step = step;
    lastDeviation.model = model;
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

void SwitchingDPForceImpl::checkPeriodicBox(const System& system, const SwitchingDPForce& force) {
    if (!force.usesPeriodicBoundaryConditions() || force.periodicitySetExplicitly())
        return;
    // OpenMM gives every System a 2 nm cubic box until one is set; a force that is
    // periodic only by default would silently put the models in it.
    Vec3 a, b, c;
    system.getDefaultPeriodicBoxVectors(a, b, c);
    if (a == Vec3(2, 0, 0) && b == Vec3(0, 2, 0) && c == Vec3(0, 0, 2))
        throw OpenMMException("SwitchingDPForce: the force is periodic by default, but the System's periodic box was "
                "never set (it is OpenMM's default 2 nm cube).  For a periodic system, set the box "
                "(System.setDefaultPeriodicBoxVectors(), or a Topology with a box through createSystem()); for a "
                "non-periodic one (a cluster, a molecule in vacuum), call setUsesPeriodicBoundaryConditions(False).  "
                "(If your box really is a 2 nm cube, call setUsesPeriodicBoundaryConditions(True).)");
}

/** The force groups a CustomIntegrator's steps ask for: every group for f/energy, else the fN/energyN named. */
static int groupsCustomIntegratorEvaluates(const CustomIntegrator& integrator) {
    static const std::regex groupVariable("\\b(f|energy)([0-9]+)\\b"), allVariable("\\b(f|energy)\\b");
    int groups = 0;
    for (int i = 0; i < integrator.getNumComputations(); i++) {
        CustomIntegrator::ComputationType type;
        std::string variable, expression;
        integrator.getComputationStep(i, type, variable, expression);
        for (const std::string& text : {variable, expression}) {
            if (std::regex_search(text, allVariable))
                groups |= integrator.getIntegrationForceGroups();
            for (std::sregex_iterator m(text.begin(), text.end(), groupVariable), end; m != end; ++m) {
                int group = std::stoi((*m)[2].str());
                if (group >= 0 && group < 32)
                    groups |= 1 << group;
            }
        }
    }
    return groups;
}

void SwitchingDPForceImpl::checkMultipleTimeStepGroups(ContextImpl& context, const SwitchingDPForce& force,
                                                       const SwitchingDPSchedule& schedule) {
    if (schedule.numModels != 2 || schedule.mode != SwitchingDPSchedule::MultipleTimeStep)
        return;
    const int own = force.getForceGroup(), slow = schedule.slowForceGroup;
    if (slow == own)
        throw OpenMMException("SwitchingDPForce: in MultipleTimeStep mode the slow force group (" + std::to_string(slow) +
                ") is the force's own group, so both terms would be applied together, which is the accurate model "
                "alone on every step.  Give the slow term its own group: setSlowForceGroup() with a group other than "
                "getForceGroup(), and integrate it on the outer step.");
    const Integrator& integrator = context.getIntegrator();
    const CustomIntegrator* custom = dynamic_cast<const CustomIntegrator*>(&integrator);
    int evaluated = (custom != nullptr ? groupsCustomIntegratorEvaluates(*custom) : integrator.getIntegrationForceGroups());
    for (int group : {slow, own})
        if ((evaluated & (1 << group)) == 0) {
            const bool isSlow = (group == slow);
            throw OpenMMException("SwitchingDPForce: in MultipleTimeStep mode the " + std::string(isSlow ? "slow term" :
                    "fast model") + " goes to force group " + std::to_string(group) + (isSlow ? " (setSlowForceGroup)" :
                    " (the force's own group)") + ", but the integrator never evaluates that group, so the run would use " +
                    (isSlow ? "the fast model alone" : "the slow term alone") + ".  Include group " + std::to_string(group) +
                    " in the integrator (for MTSIntegrator / MTSLangevinIntegrator, a (group, steps) pair; for a "
                    "CustomIntegrator, f" + std::to_string(group) + "), or use Alternating mode.");
        }
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
    checkMultipleTimeStepGroups(context, owner, owner.getSchedule());
    kernel.getAs<CalcSwitchingDPForceKernel>().copyParametersToContext(context, owner);
    schedule = owner.getSchedule();
}

std::vector<long long> SwitchingDPForceImpl::getEvaluationCounts() const {
    return kernel.getAs<const CalcSwitchingDPForceKernel>().getEvaluationCounts();
}
