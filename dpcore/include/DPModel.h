#ifndef OPENMM_SWITCHINGDP_MODEL_H_
#define OPENMM_SWITCHINGDP_MODEL_H_

#include "DPModelInfo.h"
#include <torch/script.h>
#include <functional>
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
 * Captured replays of fixed-shape work on a device (CUDA graphs), provided by a
 * platform that has them.  run(key, body): the first call for a key captures
 * body(), which must read and write only tensors that outlive the capture; every
 * call then replays it.  Throws if the capture fails.
 */
class DeviceGraphs {
public:
    virtual ~DeviceGraphs() {}
    virtual void run(const std::string& key, const std::function<void()>& body) = 0;
    /** Drop the captures whose keys start with `prefix` (their buffers are about to go). */
    virtual void release(const std::string& prefix) {}
};

/** Which path evaluates a model (DPModelInfo::engine). */
namespace ModelEngine {
    const char* const Native = "native";            ///< NativeSeAModel: se_e2_a written with fixed-shape tensor ops
    const char* const TorchScript = "torchscript";  ///< the frozen module's own forward_lower
    const char* const Exported = "exported";        ///< an AOTInductor package (.pt2)
}

/**
 * One frozen DeePMD-kit model: a TorchScript file from `dp --pt freeze` (.pth) or
 * an AOTInductor package from `dp --pt-expt freeze` (.pt2), told apart by contents.
 * Message-passing models (DPA-2, DPA-3) get the extended-to-local mapping and pass
 * their messages through the ghost atoms in this one process.
 */
class DPModel {
public:
    /**
     * Load a model from a file's contents for a device; errors name `label` (usually
     * the file name).  allowNative: an se_e2_a model runs the native path
     * (NativeSeAModel) unless this is false or the model uses a setting that path
     * does not implement (then one line on stderr says which).
     */
    static std::unique_ptr<DPModel> load(const std::string& contents, const std::string& label,
                                         const torch::Device& device = torch::kCPU, bool allowNative = true);
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
    /**
     * The model type of each local atom, [nloc] int64 on the CPU, fixed for the
     * caller's lifetime; given once before the first compute().
     */
    virtual void prepare(const torch::Tensor& localTypes) {}
    /**
     * True if compute() takes a neighbour list of any width and itself keeps the
     * nearest sel neighbours of each type (no padding or widening by the caller).
     */
    virtual bool formatsNeighborList() const { return false; }
    /** After compute(), where formatsNeighborList(): a one-element bool tensor on the device, true if a type overflowed its sel. */
    virtual torch::Tensor selOverflow() const { return torch::Tensor(); }
    /** Let the model replay its evaluation through `graphs` (null: run eagerly).  Models that cannot be captured ignore it. */
    virtual void setDeviceGraphs(std::shared_ptr<DeviceGraphs> graphs) {}
    /** Whether the last compute() was a replay of a captured graph. */
    virtual bool usesDeviceGraphs() const { return false; }
protected:
    explicit DPModel(const std::string& label) : label(label) {}
    std::string label;
    DPModelInfo info;
};

} // namespace SwitchingDPPlugin

#endif
