#ifndef OPENMM_SWITCHINGDP_MODEL_H_
#define OPENMM_SWITCHINGDP_MODEL_H_

#include "DPModelInfo.h"
#include <torch/script.h>
#include <algorithm>
#include <array>
#include <memory>
#include <string>

namespace SwitchingDPPlugin {

/**
 * One frozen DeePMD-kit PyTorch model, called through forward_lower with a
 * neighbour list we build ourselves (the model's own forward() builds a dense
 * O(N^2) list and is not fit for MD).
 */
class DPModel {
public:
    DPModel(const std::string& contents, const std::string& label);
    const DPModelInfo& getInfo() const { return info; }
    const std::string& getLabel() const { return label; }
    /**
     * Move the model to a device (models load on the CPU).  Besides parameters
     * and buffers, which module.to() moves, any plain tensor attribute is moved
     * too, so nothing the model reads is left behind on the CPU.
     */
    void to(const torch::Device& device);
    /**
     * Evaluate the model.  All tensors on the same device, batch dimension first:
     * extendedCoord [1, nall, 3] (float64, model length units), extendedType
     * [1, nall] int64, nlist [1, nloc, nnei] int64 with -1 padding.  Returns the
     * energy [1, 1] and writes the forces on the extended atoms [1, nall, 3].
     */
    torch::Tensor compute(const torch::Tensor& extendedCoord, const torch::Tensor& extendedType,
                          const torch::Tensor& nlist, torch::Tensor& extendedForce);
private:
    std::string label;
    torch::jit::Module module;
    DPModelInfo info;
};

/** The larger of the two models' cutoffs (model length units): the neighbour list's range. */
inline double largestCutoff(const std::array<std::unique_ptr<DPModel>, 2>& models) {
    return std::max(models[0]->getInfo().cutoff, models[1]->getInfo().cutoff);
}

/** Load the TorchScript module with errors that name the file. */
torch::jit::Module loadTorchScript(const std::string& contents, const std::string& label);

} // namespace SwitchingDPPlugin

#endif
