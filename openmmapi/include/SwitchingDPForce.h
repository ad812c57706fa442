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
 * models: an accurate one (e.g. 6 A cutoff) and a fast one (e.g. 4 A).
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
 * OpenMM units throughout (nm, kJ/mol); models are taken to use A and eV.
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
     * Create a force from two frozen models (.pth files written by `dp --pt freeze`).
     * The files are read now and their contents kept, so a serialized System does
     * not need them.
     */
    SwitchingDPForce(const std::string& accurateModelFile, const std::string& fastModelFile);
    /** Create a force from the contents of two model files (used by deserialization). */
    static SwitchingDPForce* fromModelContents(const std::string& accurateContents, const std::string& fastContents,
                                               const std::string& accurateLabel = "accurate model",
                                               const std::string& fastLabel = "fast model");

    const std::string& getModelFile(Model model) const { return labels[model]; }
    /** The bytes of a model file, as embedded in serialized Systems. */
    const std::string& getModelContents(Model model) const { return contents[model]; }
    /** A model's cutoff in nm. */
    double getModelCutoff(Model model) const;
    /** A model's type_map: the type names it knows, in its own order. */
    const std::vector<std::string>& getModelTypeMap(Model model) const { return infos[model].typeMap; }
    /** A model's sel: how many neighbours of each type it keeps. */
    const std::vector<int>& getModelSel(Model model) const { return infos[model].sel; }

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

    /** Extra range of the neighbour list in nm, which lets it be reused between steps. */
    void setNeighborListSkin(double skin);
    double getNeighborListSkin() const { return skin; }

    void setUsesPeriodicBoundaryConditions(bool periodic);
    bool usesPeriodicBoundaryConditions() const { return periodic; }

    /** How many times each model ({accurate, fast}) has been evaluated in a Context. */
    std::vector<long long> getEvaluationCounts(OpenMM::Context& context) const;
    /**
     * Copy the schedule settings (interval, phase, mode, slow group, slow term) to a
     * Context.  Models, types, particles, skin and periodicity are fixed when the
     * Context is created; reinitialize it to change them.
     */
    void updateParametersInContext(OpenMM::Context& context);
protected:
    OpenMM::ForceImpl* createImpl() const;
private:
    SwitchingDPForce(const std::array<std::string, 2>& contents, const std::array<std::string, 2>& labels);
    void checkTypesKnown(const std::vector<std::string>& names) const;
    std::array<std::string, 2> contents, labels;
    std::array<DPModelInfo, 2> infos;
    std::vector<std::string> types;
    std::vector<int> particles;
    SwitchingDPSchedule schedule;
    double skin = 0.1;
    bool periodic = true;
};

} // namespace SwitchingDPPlugin

#endif
