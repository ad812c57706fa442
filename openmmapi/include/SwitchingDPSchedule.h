#ifndef OPENMM_SWITCHINGDP_SCHEDULE_H_
#define OPENMM_SWITCHINGDP_SCHEDULE_H_

#include "DPModelInfo.h"

namespace SwitchingDPPlugin {

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

    /** The model used at an integrator step in Alternating mode. */
    Model modelForStep(long long step) const {
        if (numModels == 1)
            return Accurate;
        long long offset = (step - accuratePhase) % accurateInterval;
        return offset == 0 ? Accurate : Fast;
    }

    /**
     * The coefficient of each model in the energy of one force evaluation at an
     * integrator step.  ownGroup says whether the evaluation includes the Force's
     * own group; groups is OpenMM's bit set of requested groups.  A zero
     * coefficient means the model is not evaluated at all.
     */
    ModelCoefficients coefficients(long long step, bool ownGroup, int groups) const {
        ModelCoefficients c = {0.0, 0.0};
        bool slowGroup = (groups & (1 << slowForceGroup)) != 0;
        if (numModels == 1) {
            c[Accurate] = ownGroup ? 1.0 : 0.0;
            return c;
        }
        if (mode == Alternating) {
            if (ownGroup)
                c[modelForStep(step)] = 1.0;
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
