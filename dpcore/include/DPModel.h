#ifndef OPENMM_SWITCHINGDP_MODEL_H_
#define OPENMM_SWITCHINGDP_MODEL_H_

#include "DPModelInfo.h"
#include <torch/script.h>
#include <memory>
#include <string>

namespace SwitchingDPPlugin {

/**
 * The inputs of one call of a DeePMD-kit model's lower interface, batch dimension
 * first, all on the model's device.  We build the neighbour list ourselves (the
 * models' own forward() builds a dense O(N^2) one, not fit for MD).
 */
struct DPModelCall {
    torch::Tensor coord;    ///< [1, nall, 3] float64, model length units; local atoms first
    torch::Tensor atype;    ///< [1, nall] int64, model type indices
    torch::Tensor nlist;    ///< [1, nloc, nnei] int64, indices into the extended atoms, -1 padding
    torch::Tensor mapping;  ///< [1, nall] int64, the local atom each extended atom is an image of
    torch::Tensor fparam;   ///< [1, dim_fparam] float64, or undefined when the model takes none
    torch::Tensor aparam;   ///< [1, nloc, dim_aparam] float64, or undefined when the model takes none
};

/**
 * One frozen DeePMD-kit model: a TorchScript file from `dp --pt freeze` (.pth) or
 * an AOTInductor package from `dp --pt-expt freeze` (.pt2), told apart by contents.
 * Message-passing models (DPA-2, DPA-3) get the extended-to-local mapping and pass
 * their messages through the ghost atoms in this one process.
 */
class DPModel {
public:
    /** Load a model from a file's contents for a device; errors name `label` (usually the file name). */
    static std::unique_ptr<DPModel> load(const std::string& contents, const std::string& label,
                                         const torch::Device& device = torch::kCPU);
    virtual ~DPModel() {}
    const DPModelInfo& getInfo() const { return info; }
    const std::string& getLabel() const { return label; }
    /** Move the model to another device (load() already put it on its device). */
    virtual void to(const torch::Device& device) = 0;
    /**
     * Evaluate the model.  Returns the energy (a one-element tensor, model units)
     * and writes the forces on the extended atoms, [nall, 3] or [1, nall, 3]: the
     * caller folds ghost forces onto their owners.
     */
    virtual torch::Tensor compute(const DPModelCall& call, torch::Tensor& extendedForce) = 0;
protected:
    explicit DPModel(const std::string& label) : label(label) {}
    std::string label;
    DPModelInfo info;
};

} // namespace SwitchingDPPlugin

#endif
