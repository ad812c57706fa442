#ifndef OPENMM_SWITCHINGDP_ENGINE_H_
#define OPENMM_SWITCHINGDP_ENGINE_H_

#include "DPModelInfo.h"
#include "ModelPair.h"
#include "DPNeighborList.h"
#include "DPUnits.h"
#include "openmm/Vec3.h"
#include <torch/script.h>
#include <array>
#include <memory>
#include <string>
#include <vector>

namespace SwitchingDPPlugin {

class DPModel;
class DeviceGraphs;

/** One model's energy and forces on the DP particles, in OpenMM units. */
struct DPResult {
    double energy = 0;     ///< kJ/mol
    torch::Tensor forces;  ///< [n, 3] float64, kJ/mol/nm, on the engine's device
};

/**
 * The one engine behind every platform's kernel: both models (or one), one shared
 * neighbour list, the extended atoms and ghost-to-owner force folding, the sel
 * widening rule, unit conversion (DPUnits), a per-model cache keyed by the exact
 * positions and box, evaluation counts, and the checks on positions and sel.
 *
 * Positions and forces are tensors on one device: the CPU for the Reference, CPU
 * and OpenCL platforms (with the host cell list, HostNeighborList), a GPU for CUDA
 * (with TensorNeighborList, which never leaves the device).
 */
class SwitchingDPEngine {
public:
    /** Which DPNeighborList to use: the one for the device (host list on the CPU), or either explicitly. */
    enum NeighborListKind { ListForDevice, HostList, TensorList };
    /**
     * contents/labels: the two frozen models (indexed by Model) and names for
     * errors (empty contents for the fast model: a one-model engine); typeNames: one DP type name per DP particle; particles: the DP
     * particles' indices in the System (used in messages); skin in nm; device: where
     * the models and all tensors live; listKind: which neighbour list (tests and
     * measurements compare them; the host list needs a CPU device); the frame and
     * atomic parameters as in setParameters(); nativePath: se_e2_a models run the
     * native path (false: every TorchScript model runs its own forward_lower).
     */
    SwitchingDPEngine(const std::array<std::string, 2>& contents, const std::array<std::string, 2>& labels,
                      const std::vector<std::string>& typeNames, const std::vector<int>& particles,
                      bool periodic, double skinNm, const torch::Device& device = torch::kCPU,
                      NeighborListKind listKind = ListForDevice, const DPUnits& units = DPUnits(),
                      const std::vector<double>& frameParameters = {}, const std::vector<double>& atomicParameters = {},
                      bool nativePath = true);
    ~SwitchingDPEngine();
    /**
     * Evaluate one model.  positions: the DP particles' positions, [n, 3] float64
     * in nm on the engine's device; box: the three box vectors in nm (ignored if
     * not periodic).  Returns the cached result if the model already ran at
     * exactly these coordinates.  The result stays valid until the next
     * evaluation of the same model.
     */
    const DPResult& evaluate(Model model, const torch::Tensor& positions, const OpenMM::Vec3* box);
    /**
     * One force evaluation: sum_m coefficients[m] * (E_m, F_m) over the models with a
     * non-zero coefficient (the others are not evaluated), written here once for
     * every platform's kernel.  The forces ([n, 3] float64 on the engine's device, a
     * new tensor) are left undefined unless includeForces.  If `deviation` is given,
     * also fills it as deviation() does.
     */
    DPResult evaluateSum(const ModelCoefficients& coefficients, const torch::Tensor& positions, const OpenMM::Vec3* box,
                         bool includeForces, ModelDeviation* deviation = nullptr, bool residual = false);
    long long getEvaluationCount(Model model) const { return evaluations[model]; }
    /**
     * How far apart the two models are at these coordinates (DP-GEN's model
     * deviation, the accurate model as reference): fills the force and energy
     * fields and worstParticle of `deviation`, in eV/A and eV per atom.  Evaluates
     * whichever model has not run here (the cache has the other).  residual: the
     * Accurate slot holds a co-trained residual model, whose force is itself the
     * difference, so only it is needed.
     */
    void deviation(const torch::Tensor& positions, const OpenMM::Vec3* box, bool residual, ModelDeviation& deviation);
    /**
     * The frame parameters (fparam, given to every model with dim_fparam > 0) and
     * atomic parameters (aparam, dim_aparam values per DP particle, particle-major).
     * Throws, naming the model and the length it expects, if a model needs values it
     * does not get or the lengths are wrong.  Invalidates the cache.
     */
    void setParameters(const std::vector<double>& frame, const std::vector<double>& atomic);
    /** Wall time of one model's evaluations (cache hits excluded), and the part spent in the model call itself. */
    struct Timing {
        double evaluateSeconds = 0, modelSeconds = 0;
    };
    const Timing& getTiming(Model model) const { return timing[model]; }
    const std::vector<int>& getParticles() const { return particles; }
    int getNumParticles() const { return (int) particles.size(); }
    const DPModelInfo& getInfo(Model model) const;
    /**
     * Let models that can be captured replay their evaluations through `graphs` (a
     * platform's CUDA graphs); null: every model runs eagerly.
     */
    void setDeviceGraphs(std::shared_ptr<DeviceGraphs> graphs);
    /** Whether the model's last evaluation was a replay of a captured device graph. */
    bool usesDeviceGraphs(Model model) const;
    const torch::Device& getDevice() const { return device; }
    /** The shared neighbour list (model units). */
    const DPNeighborList& getNeighborList() const { return *neighbors; }
private:
    struct Cache {
        bool valid = false;
        torch::Tensor positions;      // nm, a copy
        std::array<double, 9> box{};  // nm
        DPResult result;
    };
    void checkFinite(const torch::Tensor& positions) const;
    /** Throws, naming the closest pair if two particles overlap, else the model. */
    [[noreturn]] void throwNonFiniteResult(Model model, const DPModelInput& input) const;
    /** The nlist forward_lower gets: padded to sum(sel), one column more if a type overflows its sel. */
    torch::Tensor widenForModel(Model model, const torch::Tensor& nlist, const torch::Tensor& types);
    /** Whether some type overflows its sel in nlist; warns the first time (naming a particle), once per model. */
    bool checkSelOverflow(Model model, const torch::Tensor& nlist, const torch::Tensor& types);
    std::array<std::unique_ptr<DPModel>, 2> models;
    std::array<torch::Tensor, 2> localTypes;  // per model: model type index of each DP particle, on the device
    std::array<torch::Tensor, 2> fparam, aparam;  // per model, on the device; undefined if the model takes none
    std::array<Cache, 2> cache;
    std::array<long long, 2> evaluations = {0, 0};
    std::array<Timing, 2> timing;
    std::array<bool, 2> warnedSel = {false, false};
    std::vector<int> particles;
    bool periodic;
    torch::Device device;
    DPUnits units;
    std::unique_ptr<DPNeighborList> neighbors;
};

} // namespace SwitchingDPPlugin

#endif
