#ifndef OPENMM_SWITCHINGDPFORCE_H_
#define OPENMM_SWITCHINGDPFORCE_H_

#include "SwitchingDPSchedule.h"
#include "DPModelInfo.h"
#include "openmm/Context.h"
#include "openmm/Force.h"
#include <array>
#include <string>
#include <vector>

namespace SwitchingDPPlugin {

/**
 * A Force that computes energies and forces with two frozen DeePMD-kit PyTorch
 * models: an accurate one (e.g. 6 A cutoff) and a fast one (e.g. 4 A); or with
 * one model, as plain Deep Potential MD.
 *
 * Models are TorchScript files written by `dp --pt freeze` (.pth) or packages
 * exported by `dp --pt-expt freeze` (.pt2), in any mix, of any descriptor family
 * (se_e2_a, se_e2_r, DPA-1, and message-passing DPA-2 and DPA-3).
 *
 * In Alternating mode (the default) the Force uses the accurate model on one
 * integrator step in getAccurateInterval() and the fast model otherwise, chosen
 * from the Context's step count, so extra force evaluations (getState, reporters,
 * minimisation) never shift the schedule and checkpoints resume it exactly.
 *
 * In MultipleTimeStep mode the Force's own force group receives the fast model and
 * getSlowForceGroup() receives the slow term: accurate - fast (Difference) or the
 * second model itself (Residual, for co-trained pairs where E = E_fast + E_residual),
 * for OpenMM's MTSIntegrator, MTSLangevinIntegrator and CustomIntegrator recipes.
 *
 * The schedule follows the step count of the Context the Force is in, so the
 * Force must be in the System that the integrator steps.  Wrappers that evaluate
 * their forces in an inner Context (CustomCVForce, ATMForce) never advance that
 * Context's step count: a two-model force inside one raises an error at the first
 * evaluation that shows it, instead of silently using a different schedule.  Use
 * setEnergyScaleParameter() where a wrapper would only have scaled the energy.
 *
 * OpenMM units throughout (nm, kJ/mol); models are taken to use A and eV.  In
 * Python, lengths may be given as openmm.unit Quantities and are returned as them.
 */
class SwitchingDPForce : public OpenMM::Force {
public:
    // The enums of the engine and the schedule, under the names users know.
    typedef SwitchingDPPlugin::Model Model;
    static constexpr Model Accurate = SwitchingDPPlugin::Accurate, Fast = SwitchingDPPlugin::Fast;
    typedef SwitchingDPSchedule::Mode Mode;
    static constexpr Mode Alternating = SwitchingDPSchedule::Alternating, MultipleTimeStep = SwitchingDPSchedule::MultipleTimeStep;
    typedef SwitchingDPSchedule::SlowTerm SlowTerm;
    static constexpr SlowTerm Difference = SwitchingDPSchedule::Difference, Residual = SwitchingDPSchedule::Residual;

    /**
     * Create a force from two frozen models (.pth or .pt2 files).  The files are read
     * now and their contents kept, so a serialized System does not need them.
     */
    SwitchingDPForce(const std::string& accurateModelFile, const std::string& fastModelFile);
    /**
     * Create a force from one frozen model: plain DP MD, with the same neighbour
     * list, cache, serialization and platforms.  The model takes the Accurate slot;
     * there is no schedule, so the alternation and MTS settings are refused.
     */
    explicit SwitchingDPForce(const std::string& modelFile);
    /**
     * Create a force from the contents of model files (used by deserialization);
     * empty fastContents gives a one-model force.
     */
    static SwitchingDPForce* fromModelContents(const std::string& accurateContents, const std::string& fastContents,
                                               const std::string& accurateLabel = "accurate model",
                                               const std::string& fastLabel = "fast model");

    /** 2 for a switching pair, 1 for a one-model force (its model is Accurate). */
    int getNumModels() const { return numModels; }
    const std::string& getModelFile(Model model) const { return labels[checkModel(model)]; }
    /** The bytes of a model file, as embedded in serialized Systems. */
    const std::string& getModelContents(Model model) const { return contents[checkModel(model)]; }
    /** A model's cutoff in nm. */
    double getModelCutoff(Model model) const;
    /** A model's type_map: the type names it knows, in its own order. */
    const std::vector<std::string>& getModelTypeMap(Model model) const { return infos[checkModel(model)].typeMap; }
    /** A model's sel: how many neighbours of each type it keeps. */
    const std::vector<int>& getModelSel(Model model) const { return infos[checkModel(model)].sel; }
    /** How many frame parameters (dim_fparam) a model takes; 0 if none. */
    int getModelNumFrameParameters(Model model) const { return infos[checkModel(model)].dimFparam; }
    /** How many atomic parameters per particle (dim_aparam) a model takes; 0 if none. */
    int getModelNumAtomicParameters(Model model) const { return infos[checkModel(model)].dimAparam; }
    /** Whether a model passes messages between atoms (DPA-2, DPA-3). */
    bool getModelUsesMessagePassing(Model model) const { return infos[checkModel(model)].messagePassing; }

    /**
     * The frame parameters (DeePMD-kit's fparam, e.g. an electronic temperature),
     * given to every model that takes them (dim_fparam > 0).  Their number must
     * equal each such model's dim_fparam; this is checked when a Context is created
     * and by updateParametersInContext().
     */
    void setFrameParameters(const std::vector<double>& values);
    const std::vector<double>& getFrameParameters() const { return frameParameters; }
    /**
     * The atomic parameters (DeePMD-kit's aparam): dim_aparam values for each DP
     * particle, particle-major (all of particle 0's values, then particle 1's, in
     * the order of the DP particles), given to every model that takes them.
     */
    void setAtomicParameters(const std::vector<double>& values);
    const std::vector<double>& getAtomicParameters() const { return atomicParameters; }

    /** One DP type name per DP particle (names from the models' type_map). */
    void setTypes(const std::vector<std::string>& types);
    const std::vector<std::string>& getTypes() const { return types; }
    /** The System particles the models act on (default: empty, meaning all particles). */
    void setParticles(const std::vector<int>& particles);
    const std::vector<int>& getParticles() const { return particles; }

    /** Alternating mode: accurate on one step in `interval` (4 gives the 1:3 scheme). */
    void setAccurateInterval(int interval);
    int getAccurateInterval() const { return schedule.accurateInterval; }
    /** Alternating mode: the accurate steps are those with (step - phase) % interval == 0. */
    void setAccuratePhase(int phase);
    int getAccuratePhase() const { return schedule.accuratePhase; }
    /** The model used at an integrator step in Alternating mode. */
    Model getModelForStep(long long step) const { return schedule.modelForStep(step); }

    void setMode(Mode mode);
    Mode getMode() const { return (Mode) schedule.mode; }
    /** MultipleTimeStep mode: the force group that receives the slow term (0 to 31). */
    void setSlowForceGroup(int group);
    int getSlowForceGroup() const { return schedule.slowForceGroup; }
    void setSlowTerm(SlowTerm term);
    SlowTerm getSlowTerm() const { return (SlowTerm) schedule.slowTerm; }
    const SwitchingDPSchedule& getSchedule() const { return schedule; }

    /**
     * The name of a Context global parameter that multiplies this force's energy
     * and forces (every model term, in every mode), or empty (the default) for
     * none.  openmm-ml's interpolation between MM and ML/MM uses it with
     * "lambda_interpolate", so that the force can sit directly in the System and
     * follow the integrator's steps instead of being wrapped in a CustomCVForce.
     * The Context creates the parameter with the value 1; change it with
     * Context.setParameter().  At 0 no model is evaluated.  Fixed when a Context
     * is created.
     */
    void setEnergyScaleParameter(const std::string& name);
    const std::string& getEnergyScaleParameter() const { return energyScaleParameter; }

    /**
     * Deviation checks: on every k-th accurate step (Alternating mode) the fast
     * model also runs on the same coordinates and the force records how far apart
     * the two are (getLastDeviation(); DP-GEN's model deviation).  0 (the default)
     * turns checks off.  In MultipleTimeStep mode with the Difference slow term the
     * deviation is read off every slow-term evaluation, which runs both models
     * anyway, so no extra evaluation is made; with the Residual slow term it is the
     * residual model's force.
     */
    void setDeviationCheckInterval(int accurateSteps);
    int getDeviationCheckInterval() const { return schedule.deviationCheckInterval; }
    /**
     * The guard (Alternating mode; needs deviation checks): when a check finds a
     * maximum atomic force deviation above this (eV/A), the force uses the accurate
     * model on every step for getFallbackSteps() steps, or, if that is 0, until the
     * deviation, checked on every step meanwhile, has stayed at or below the
     * threshold for a whole interval; then the interval resumes.  The schedule stays
     * a function of the step count and this history, which Context parameters named
     * after the force hold, so checkpoints and States carry it.  0 (the default)
     * turns the guard off.
     */
    void setDeviationThreshold(double maxForceDeviation);
    double getDeviationThreshold() const { return schedule.deviationThreshold; }
    /** Steps of accurate-only dynamics after the threshold is crossed; 0 (the default): until clean for an interval. */
    void setFallbackSteps(int steps);
    int getFallbackSteps() const { return schedule.fallbackSteps; }
    /**
     * A maximum atomic force deviation (eV/A) above which the step fails with an
     * error naming the step, the deviation and the worst particle, instead of going
     * on with a trajectory the fast model has taken somewhere wrong.  Needs
     * deviation checks; 0 (the default) for no limit.
     */
    void setDeviationLimit(double maxForceDeviation);
    double getDeviationLimit() const { return schedule.deviationLimit; }
    /** The last deviation check in a Context (step -1 if none yet in it). */
    ModelDeviation getLastDeviation(OpenMM::Context& context) const;

    /** Extra range of the neighbour list in nm, which lets it be reused between steps. */
    void setNeighborListSkin(double skin);
    double getNeighborListSkin() const { return skin; }

    void setUsesPeriodicBoundaryConditions(bool periodic);
    bool usesPeriodicBoundaryConditions() const { return periodic; }

    /** How many times each model ({accurate, fast}) has been evaluated in a Context. */
    std::vector<long long> getEvaluationCounts(OpenMM::Context& context) const;
    /**
     * Copy the schedule settings (interval, phase, mode, slow group, slow term) and
     * the frame and atomic parameters to a Context.  Models, types, particles, skin
     * and periodicity are fixed when the Context is created; reinitialize it to
     * change them.
     */
    void updateParametersInContext(OpenMM::Context& context);
protected:
    OpenMM::ForceImpl* createImpl() const;
private:
    SwitchingDPForce(const std::array<std::string, 2>& contents, const std::array<std::string, 2>& labels);
    void checkTypesKnown(const std::vector<std::string>& names) const;
    /** The model itself, or an exception if this force does not have it. */
    Model checkModel(Model model) const;
    /** An exception if this is a one-model force: `setting` needs two models. */
    void checkSwitching(const std::string& setting) const;
    int numModels = 2;
    std::array<std::string, 2> contents, labels;
    std::vector<double> frameParameters, atomicParameters;
    std::string energyScaleParameter;
    std::array<DPModelInfo, 2> infos;
    std::vector<std::string> types;
    std::vector<int> particles;
    SwitchingDPSchedule schedule;
    double skin = 0.1;
    bool periodic = true;
};

} // namespace SwitchingDPPlugin

#endif
