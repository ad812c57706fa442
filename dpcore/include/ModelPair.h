#ifndef OPENMM_SWITCHINGDP_MODELPAIR_H_
#define OPENMM_SWITCHINGDP_MODELPAIR_H_

#include <array>

// What the engine and everything above it share about the pair of models: which
// is which, how much of each one an evaluation takes, and how far apart they are.
// It lives in dpcore, the lowest layer, so that the engine needs nothing from the
// API (openmmapi) above it.

namespace SwitchingDPPlugin {

/**
 * The two models of a SwitchingDPForce: the one enum for the whole code base (the
 * Force, its schedule, the engine and every kernel index their pairs of models with it).
 */
enum Model { Accurate = 0, Fast = 1 };

/** The two models' coefficients in one force evaluation, indexed by Model; 0 = not evaluated. */
typedef std::array<double, 2> ModelCoefficients;

/** How messages name a model. */
inline const char* modelRole(int model) {
    return model == Accurate ? "accurate" : "fast";
}

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

} // namespace SwitchingDPPlugin

#endif
