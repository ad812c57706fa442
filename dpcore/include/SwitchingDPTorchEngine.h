#ifndef OPENMM_SWITCHINGDP_TORCHENGINE_H_
#define OPENMM_SWITCHINGDP_TORCHENGINE_H_

#include "DPModelInfo.h"
#include "DPUnits.h"
#include "TorchNeighborList.h"
#include "openmm/Vec3.h"
#include <torch/script.h>
#include <array>
#include <memory>
#include <string>
#include <vector>

namespace SwitchingDPPlugin {

class DPModel;

/** One model's energy and forces on the DP particles, in OpenMM units. */
struct DPTensorResult {
    double energy = 0;     ///< kJ/mol
    torch::Tensor forces;  ///< [n, 3] float64, kJ/mol/nm, on the engine's device
};

/**
 * SwitchingDPEngine with positions and forces as tensors on one device (the GPU
 * for the CUDA kernel; the CPU works too and is what the tests compare with the
 * host engine).  Same semantics: both models, one shared neighbour list
 * (TorchNeighborList), unit conversion through DPUnits, a per-model cache keyed
 * by the exact positions and box, a check for non-finite positions, evaluation
 * counts, and a warning when a model's sel is exceeded.
 */
class SwitchingDPTorchEngine {
public:
    enum { Accurate = 0, Fast = 1 };
    /**
     * As SwitchingDPEngine: contents/labels of the two models (accurate first),
     * one DP type name per DP particle, the DP particles' indices in the System
     * (used in messages), periodicity and skin in nm; plus the device the models
     * and all tensors live on.
     */
    SwitchingDPTorchEngine(const std::array<std::string, 2>& contents, const std::array<std::string, 2>& labels,
                           const std::vector<std::string>& typeNames, const std::vector<int>& particles,
                           bool periodic, double skinNm, const torch::Device& device, const DPUnits& units = DPUnits());
    ~SwitchingDPTorchEngine();
    /**
     * Evaluate one model.  positions: the DP particles' positions, [n, 3] float64
     * in nm on the engine's device; box: the three box vectors in nm (ignored if
     * not periodic).  Returns the cached result if the model already ran at
     * exactly these coordinates.  The result stays valid until the next
     * evaluation of the same model.
     */
    const DPTensorResult& evaluate(int model, const torch::Tensor& positions, const OpenMM::Vec3* box);
    long long getEvaluationCount(int model) const { return evaluations[model]; }
    const std::vector<int>& getParticles() const { return particles; }
    const DPModelInfo& getInfo(int model) const;
    const torch::Device& getDevice() const { return device; }
    /** The shared neighbour list (model units); tests use it to see rebuilds. */
    const TorchNeighborList& getNeighborList() const { return neighbors; }
    /** How many times the neighbour list has been built. */
    long long getNumBuilds() const { return builds; }
private:
    struct Cache {
        bool valid = false;
        torch::Tensor positions;     // nm, a copy
        std::array<double, 9> box{}; // nm
        DPTensorResult result;
    };
    void checkFinite(const torch::Tensor& positions) const;
    void checkSelLimits(int model, const torch::Tensor& nlist, const torch::Tensor& extendedTypes);
    std::array<std::unique_ptr<DPModel>, 2> models;
    std::array<torch::Tensor, 2> localTypes;  // per model: model type index of each DP particle, on the device
    std::array<Cache, 2> cache;
    std::array<long long, 2> evaluations = {0, 0};
    std::array<bool, 2> warnedSel = {false, false};
    std::vector<int> particles;
    bool periodic;
    torch::Device device;
    DPUnits units;
    TorchNeighborList neighbors;
    long long builds = 0;
};

} // namespace SwitchingDPPlugin

#endif
