#ifndef OPENMM_SWITCHINGDP_SCHEDULE_H_
#define OPENMM_SWITCHINGDP_SCHEDULE_H_

#include "DPModelInfo.h"

namespace SwitchingDPPlugin {

/**
 * How far apart the two models are at one step: DP-GEN's model deviation for the
 * pair, taking the accurate model as the reference.  Forces in eV/A (DP-GEN's unit,
 * so its trust levels carry over; with two models DP-GEN's model_devi is half of
 * these), energy in eV per DP atom.
 */
struct ModelDeviation {
    long long step = -1;              ///< the integrator step it belongs to; -1 before the first check
    double maxForceDeviation = 0;     ///< max over DP atoms of |F_accurate - F_fast|
    double rmsForceDeviation = 0;     ///< sqrt of the mean over DP atoms of |F_accurate - F_fast|^2
    double energyDeviationPerAtom = 0; ///< (E_accurate - E_fast) / number of DP atoms
    int worstParticle = -1;           ///< the System index of the atom with the largest deviation
    int model = 0;                    ///< the model the schedule used at that step (Accurate or Fast)
    bool fallback = false;            ///< whether the guard keeps the accurate model on after that step
};

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
 * The settings of a SwitchingDPForce that decide which model contributes to which
 * force group at which step, and the one function that applies them.  Only
 * SwitchingDPForceImpl calls it, once per force evaluation; kernels receive its
 * result (ModelCoefficients) and only compute.
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
     * (In MultipleTimeStep mode the slow term's evaluation gives it; see the ForceImpl.)
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
     * The coefficient of each model in the energy of one force evaluation at an
     * integrator step.  ownGroup says whether the evaluation includes the Force's
     * own group; groups is OpenMM's bit set of requested groups.  A zero
     * coefficient means the model is not evaluated at all.
     */
    ModelCoefficients coefficients(long long step, bool ownGroup, int groups, const GuardState& guard = GuardState()) const {
        ModelCoefficients c = {0.0, 0.0};
        bool slowGroup = (groups & (1 << slowForceGroup)) != 0;
        if (numModels == 1) {
            c[Accurate] = ownGroup ? 1.0 : 0.0;
            return c;
        }
        if (mode == Alternating) {
            if (ownGroup)
                c[modelForStep(step, guard)] = 1.0;
            return c;
        }
        if (ownGroup)
            c[Fast] += 1.0;
        if (slowGroup) {
            c[Accurate] += 1.0;
            if (slowTerm == Difference)
                c[Fast] -= 1.0;
        }
        return c;
    }
};

} // namespace SwitchingDPPlugin

#endif
