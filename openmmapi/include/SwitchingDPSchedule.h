#ifndef OPENMM_SWITCHINGDP_SCHEDULE_H_
#define OPENMM_SWITCHINGDP_SCHEDULE_H_

#include "ModelPair.h"

namespace SwitchingDPPlugin {

/**
 * What the guard remembers: the only history the schedule depends on besides the
 * step count.  Kept in Context parameters, so checkpoints and States carry it.
 */
struct GuardState {
    static constexpr long long NoFallback = -1, OpenFallback = -2;
    long long fallbackUntil = NoFallback;  ///< accurate-only before this step; OpenFallback: until clean for an interval
    long long lastDirtyStep = -1;          ///< the last checked step whose deviation exceeded the threshold
    bool operator==(const GuardState& other) const {
        return fallbackUntil == other.fallbackUntil && lastDirtyStep == other.lastDirtyStep;
    }
};

/**
 * Everything the schedule decides for one force evaluation, so that the ForceImpl
 * derives none of it: the kernels get coefficients, checkDeviation and residual
 * and only compute; model goes into the recorded ModelDeviation.
 */
struct EvaluationPlan {
    ModelCoefficients coefficients = {0.0, 0.0};  ///< 0 = the model is not evaluated
    bool checkDeviation = false;  ///< compute the model deviation in this evaluation
    bool residual = false;        ///< the Accurate slot holds a residual model (MultipleTimeStep, Residual)
    Model model = Accurate;       ///< the model the step is integrated with (MultipleTimeStep: Fast, the inner steps')
};

/**
 * The settings of a SwitchingDPForce that decide which model contributes to which
 * force group at which step, and the one function that applies them, plan().  Only
 * SwitchingDPForceImpl calls it, once per force evaluation; kernels receive its
 * result and only compute.
 */
struct SwitchingDPSchedule {
    enum Mode { Alternating = 0, MultipleTimeStep = 1 };
    enum SlowTerm { Difference = 0, Residual = 1 };

    int accurateInterval = 4;  ///< accurate on one step in this many (Alternating)
    int accuratePhase = 0;     ///< the accurate steps are those with (step - phase) % interval == 0
    int mode = Alternating;
    int slowForceGroup = 1;    ///< MultipleTimeStep: the group that receives the slow term
    int slowTerm = Difference;
    int numModels = 2;         ///< 1: a one-model force, whose model (Accurate) is used at every step
    int deviationCheckInterval = 0;  ///< check the deviation on every k-th accurate step; 0 = never
    double deviationThreshold = 0;   ///< eV/A: above it the guard falls back to the accurate model; 0 = no guard
    int fallbackSteps = 0;           ///< steps of a fallback; 0 = until clean for a whole interval
    double deviationLimit = 0;       ///< eV/A: above it the step fails; 0 = no limit

    bool guarded() const {
        return numModels == 2 && deviationThreshold > 0;
    }
    bool inFallback(long long step, const GuardState& guard) const {
        return guard.fallbackUntil == GuardState::OpenFallback || step < guard.fallbackUntil;
    }

    /** The model used at an integrator step in Alternating mode. */
    Model modelForStep(long long step) const {
        if (numModels == 1)
            return Accurate;
        long long offset = (step - accuratePhase) % accurateInterval;
        return offset == 0 ? Accurate : Fast;
    }

    /** The model used at a step, with the guard: accurate while it falls back. */
    Model modelForStep(long long step, const GuardState& guard) const {
        if (numModels == 2 && inFallback(step, guard))
            return Accurate;
        return modelForStep(step);
    }

    /**
     * Whether the deviation is checked at a step (Alternating mode): on every k-th
     * accurate step of the interval, and on every step of an open-ended fallback.
     * (In MultipleTimeStep mode every evaluation of the slow term checks it; see plan().)
     */
    bool checksDeviation(long long step, const GuardState& guard) const {
        if (numModels == 1 || deviationCheckInterval == 0 || mode != Alternating)
            return false;
        if (inFallback(step, guard))
            return guard.fallbackUntil == GuardState::OpenFallback;
        if (modelForStep(step) != Accurate)
            return false;
        return ((step - accuratePhase) / accurateInterval) % deviationCheckInterval == 0;
    }

    /**
     * The guard after a check at `step` found maxForceDeviation.  Applying it twice
     * at one step changes nothing, so an evaluation repeated after a checkpoint is
     * loaded leaves the schedule as it was.
     */
    GuardState afterCheck(long long step, double maxForceDeviation, GuardState guard) const {
        if (!guarded())
            return guard;
        if (maxForceDeviation > deviationThreshold) {
            guard.lastDirtyStep = step;
            guard.fallbackUntil = fallbackSteps > 0 ? step + 1 + fallbackSteps : GuardState::OpenFallback;
        }
        else if (guard.fallbackUntil == GuardState::OpenFallback && step - guard.lastDirtyStep >= accurateInterval)
            guard.fallbackUntil = step + 1;  // every step since the last bad one was checked and clean
        return guard;
    }

    /**
     * The whole decision for one force evaluation at an integrator step.  ownGroup
     * says whether the evaluation includes the Force's own group; groups is OpenMM's
     * bit set of requested groups.
     * - coefficients: each model's coefficient in the energy; 0 means the model is not
     *   evaluated at all.  One model: 1 in its own group.  Alternating: 1 for the
     *   step's model in its own group.  MultipleTimeStep: the fast model in its own
     *   group, and in the slow group the accurate model (less the fast one unless
     *   the slow term is a Residual).
     * - checkDeviation: Alternating, on the steps checksDeviation() names when the
     *   evaluation includes the own group; MultipleTimeStep, whenever the slow group
     *   is requested (the slow term evaluates what the deviation needs anyway).
     * - residual: the Accurate slot holds a residual model (MultipleTimeStep, Residual).
     */
    EvaluationPlan plan(long long step, bool ownGroup, int groups, const GuardState& guard = GuardState()) const {
        EvaluationPlan plan;
        if (numModels == 1) {
            plan.coefficients[Accurate] = ownGroup ? 1.0 : 0.0;
            return plan;
        }
        if (mode == Alternating) {
            plan.model = modelForStep(step, guard);
            if (ownGroup) {
                plan.coefficients[plan.model] = 1.0;
                plan.checkDeviation = checksDeviation(step, guard);
            }
            return plan;
        }
        plan.model = Fast;
        plan.residual = slowTerm == Residual;
        if (ownGroup)
            plan.coefficients[Fast] += 1.0;
        if ((groups & (1 << slowForceGroup)) != 0) {
            plan.coefficients[Accurate] += 1.0;
            if (slowTerm == Difference)
                plan.coefficients[Fast] -= 1.0;
            plan.checkDeviation = deviationCheckInterval > 0;
        }
        return plan;
    }
};

} // namespace SwitchingDPPlugin

#endif
