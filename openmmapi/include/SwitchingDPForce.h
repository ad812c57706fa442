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
 * Python, lengths may be given as openmm.unit Quantities and are returned as them;
 * deviation thresholds and limits may be given as force Quantities (e.g.
 * kJ/mol/nm), and a Quantity of any other dimension is refused.  Paths may be
 * os.PathLike and numbers numpy scalars.
 *
 * Periodicity: the force is periodic unless setUsesPeriodicBoundaryConditions(false)
 * is called.  A periodic force whose System still has OpenMM's default box (2 nm
 * cube, never set) is refused when a Context is created, since that box is almost
 * certainly not the user's: set the box, or make the force non-periodic.
 *
 * Threads (CPU, Reference and OpenCL platforms, where the models run on the CPU):
 * the models run on torch's intra-op thread pool, whose size is torch's setting
 * (torch.set_num_threads(); by default one thread per core, measured the fastest
 * here).  deepmd-kit's own operators, which compressed models call, bring a second
 * OpenMP runtime; they run on the evaluating thread alone, so that its idle thread
 * pool never competes with torch's for the cores (see OpenMPRuntimes.h).
 *
 * Safety: two DP particles closer than MinimumDistance (nm) are refused with their
 * indices (at every evaluation where the neighbour list is built on the host; on
 * CUDA, whose list stays on the GPU, when the result is not finite), as are
 * non-finite positions and a model result that is not finite.
 */
class SwitchingDPForce : public OpenMM::Force {
public:
    /** Two DP particles closer than this (nm; 0.1 A) make an evaluation fail with their indices. */
    static constexpr double MinimumDistance = MINIMUM_DISTANCE_NM;
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
    /** The file a model was read from (for a deserialized force, the file it was read from when saved). */
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
     * Which path evaluates a model: "native" (se_e2_a models: the descriptor and
     * fitting net run as a short sequence of fixed-shape tensor operations, replayed
     * as a CUDA graph on CUDA), "torchscript" (the frozen module's own code: every
     * other family, or an se_e2_a model with a setting the native path does not
     * cover, see getModelEngineNote()) or "exported" (a .pt2 package).
     */
    std::string getModelEngine(Model model) const;
    /** Why an se_e2_a model is not on the native path (empty if it is, or if it is not se_e2_a). */
    const std::string& getModelEngineNote(Model model) const { return infos[checkModel(model)].engineNote; }
    /**
     * Whether se_e2_a models run the native path (default true).  False runs every
     * TorchScript model through its own forward_lower, e.g. to compare the two;
     * both give deepmd-kit's results.  Fixed when a Context is created.
     */
    void setUseNativePath(bool use) { useNativePath = use; }
    /** Whether se_e2_a models run the native path. */
    bool getUseNativePath() const { return useNativePath; }
    /**
     * Whether, on the CUDA platform, native-path evaluations are captured once per
     * neighbour-list capacity as CUDA graphs and replayed (default true).  If a
     * capture fails, that model runs eagerly and one line on stderr says why.
     * Other platforms and paths ignore it.  Fixed when a Context is created.
     */
    void setUseCUDAGraphs(bool use) { useCUDAGraphs = use; }
    /** Whether CUDA graphs are used on the CUDA platform. */
    bool getUseCUDAGraphs() const { return useCUDAGraphs; }

    /**
     * The frame parameters (DeePMD-kit's fparam, e.g. an electronic temperature),
     * given to every model that takes them (dim_fparam > 0).  Their number must
     * equal each such model's dim_fparam; this is checked when a Context is created
     * and by updateParametersInContext().
     */
    void setFrameParameters(const std::vector<double>& values);
    /** The frame parameters given to setFrameParameters() (empty if none). */
    const std::vector<double>& getFrameParameters() const { return frameParameters; }
    /**
     * The atomic parameters (DeePMD-kit's aparam): dim_aparam values for each DP
     * particle, particle-major (all of particle 0's values, then particle 1's, in
     * the order of the DP particles), given to every model that takes them.
     */
    void setAtomicParameters(const std::vector<double>& values);
    /** The atomic parameters given to setAtomicParameters(), particle-major (empty if none). */
    const std::vector<double>& getAtomicParameters() const { return atomicParameters; }

    /** One DP type name per DP particle (names from the models' type_map). */
    void setTypes(const std::vector<std::string>& types);
    /** The DP type names given to setTypes(), one per DP particle. */
    const std::vector<std::string>& getTypes() const { return types; }
    /** The System particles the models act on (default: empty, meaning all particles). */
    void setParticles(const std::vector<int>& particles);
    /** The particles given to setParticles(); empty means every particle of the System. */
    const std::vector<int>& getParticles() const { return particles; }

    /** Alternating mode: accurate on one step in `interval` (4 gives the 1:3 scheme). */
    void setAccurateInterval(int interval);
    /** Alternating mode: the accurate model runs on one step in this many (default 4). */
    int getAccurateInterval() const { return schedule.accurateInterval; }
    /** Alternating mode: the accurate steps are those with (step - phase) % interval == 0. */
    void setAccuratePhase(int phase);
    /** Alternating mode: the step offset of the accurate steps (default 0). */
    int getAccuratePhase() const { return schedule.accuratePhase; }
    /** The model used at an integrator step in Alternating mode. */
    Model getModelForStep(long long step) const { return schedule.modelForStep(step); }

    /**
     * Alternating (the default: one model per step, chosen from the step count) or
     * MultipleTimeStep (the fast model in this force's group, the slow term in
     * getSlowForceGroup(), for rRESPA integrators).  In MultipleTimeStep mode, creating
     * a Context fails if the slow group is this force's own group or if the
     * integrator never evaluates it.
     */
    void setMode(Mode mode);
    /** Alternating or MultipleTimeStep. */
    Mode getMode() const { return (Mode) schedule.mode; }
    /** MultipleTimeStep mode: the force group that receives the slow term (0 to 31; not the force's own group). */
    void setSlowForceGroup(int group);
    /** MultipleTimeStep mode: the force group that receives the slow term (default 1). */
    int getSlowForceGroup() const { return schedule.slowForceGroup; }
    /**
     * MultipleTimeStep mode: what the slow group receives, accurate - fast
     * (Difference, the default, for independently trained models) or the accurate
     * slot's model itself (Residual, for a residual co-trained with the fast model,
     * E = E_fast + E_residual).
     */
    void setSlowTerm(SlowTerm term);
    /** Difference or Residual. */
    SlowTerm getSlowTerm() const { return (SlowTerm) schedule.slowTerm; }
    /** All the settings that decide which model runs when (used by the ForceImpl). */
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
    /** The global parameter that scales this force, or empty for none. */
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
    /** Deviation checks on every k-th accurate step; 0 (the default) for none. */
    int getDeviationCheckInterval() const { return schedule.deviationCheckInterval; }
    /**
     * The guard (Alternating mode; needs deviation checks): when a check finds a
     * maximum atomic force deviation above this (eV/A), the force uses the accurate
     * model on every step for getFallbackSteps() steps, or, if that is 0, until the
     * deviation, checked on every step meanwhile, has stayed at or below the
     * threshold for a whole interval; then the interval resumes.  The schedule stays
     * a function of the step count and this history, which Context parameters named
     * after the force hold, so checkpoints and States carry it.  0 (the default)
     * turns the guard off.  In Python, a force Quantity (e.g. kJ/mol/nm) is converted
     * to eV/A; a plain number is taken as eV/A.
     */
    void setDeviationThreshold(double maxForceDeviation);
    /** The guard's threshold in eV/A; 0 when the guard is off. */
    double getDeviationThreshold() const { return schedule.deviationThreshold; }
    /** Steps of accurate-only dynamics after the threshold is crossed; 0 (the default): until clean for an interval. */
    void setFallbackSteps(int steps);
    /** Steps of a fallback; 0 (the default): until clean for a whole interval. */
    int getFallbackSteps() const { return schedule.fallbackSteps; }
    /**
     * A maximum atomic force deviation (eV/A) above which the step fails with an
     * error naming the step, the deviation and the worst particle, instead of going
     * on with a trajectory the fast model has taken somewhere wrong.  Needs
     * deviation checks; 0 (the default) for no limit.  In Python, a force Quantity
     * is converted to eV/A; a plain number is taken as eV/A.
     */
    void setDeviationLimit(double maxForceDeviation);
    /** The deviation limit in eV/A; 0 for none. */
    double getDeviationLimit() const { return schedule.deviationLimit; }
    /** The last deviation check in a Context (step -1 if none yet in it). */
    ModelDeviation getLastDeviation(OpenMM::Context& context) const;

    /** Extra range of the neighbour list in nm, which lets it be reused between steps. */
    void setNeighborListSkin(double skin);
    /** The neighbour list's skin in nm (default 0.1). */
    double getNeighborListSkin() const { return skin; }

    /**
     * Whether the models see the System's periodic box (default true).  A periodic
     * force in a System whose box was never set (OpenMM's default 2 nm cube) is
     * refused when a Context is created, unless this was called explicitly.
     */
    void setUsesPeriodicBoundaryConditions(bool periodic);
    /** Whether the models see the periodic box. */
    bool usesPeriodicBoundaryConditions() const { return periodic; }
    /** Whether setUsesPeriodicBoundaryConditions() was called (else the force is periodic by default). */
    bool periodicitySetExplicitly() const { return periodicExplicit; }

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
    bool periodicExplicit = false;
    bool useNativePath = true, useCUDAGraphs = true;
};

} // namespace SwitchingDPPlugin

#endif
