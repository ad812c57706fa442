#ifndef COMMON_SWITCHINGDP_KERNELS_H_
#define COMMON_SWITCHINGDP_KERNELS_H_

#include "SwitchingDPKernels.h"
#include "SwitchingDPEngine.h"
#include "DPModel.h"
#include "openmm/common/ComputeArray.h"
#include "openmm/common/ComputeContext.h"
#include "openmm/common/ComputeKernel.h"
#include <torch/script.h>
#include <memory>

namespace SwitchingDPPlugin {

/**
 * The kernel of the GPU platforms (CUDA and OpenCL), written once on OpenMM's
 * common compute API and compiled into both thin platform libraries.
 *
 * Each execute(): a device kernel copies the DP particles' positions out of
 * OpenMM's posq into a dense [n, 3] array (undoing OpenMM's atom order); the
 * engine evaluates the models with a non-zero coefficient on those positions and
 * sums them by coefficient (SwitchingDPEngine::evaluateSum); the summed forces go
 * into a dense force array, which a second device kernel adds into OpenMM's
 * fixed-point force buffer.
 *
 * Where torch's tensors live is the only thing that differs between platforms,
 * and it is behind the protected hooks below.  The defaults run torch on the CPU
 * and move the dense arrays through host memory (download/upload): that is the
 * OpenCL platform.  The CUDA platform overrides them to view OpenMM's device
 * arrays as CUDA tensors in torch's own CUDA context.
 */
class CommonCalcSwitchingDPForceKernel : public CalcSwitchingDPForceKernel {
public:
    CommonCalcSwitchingDPForceKernel(std::string name, const OpenMM::Platform& platform, OpenMM::ComputeContext& cc);
    ~CommonCalcSwitchingDPForceKernel();
    void initialize(const OpenMM::System& system, const SwitchingDPForce& force, const std::vector<int>& particles) override;
    double execute(OpenMM::ContextImpl& context, bool includeForces, bool includeEnergy,
                   const ModelCoefficients& coefficients, ModelDeviation* deviation, bool residual) override;
    void copyParametersToContext(OpenMM::ContextImpl& context, const SwitchingDPForce& force) override;
    std::vector<long long> getEvaluationCounts() const override;

protected:
    /** The device torch works on: the models and every tensor the engine makes. */
    virtual torch::Device getTorchDevice() {
        return torch::kCPU;
    }
    /**
     * A tensor of `rows` x 3 elements of `type` on the torch device that views
     * `array`'s memory without copying, or an undefined tensor (the default),
     * which means: go through host memory with download() and upload().
     */
    virtual torch::Tensor wrapArray(OpenMM::ArrayInterface& array, int64_t rows, torch::ScalarType type) {
        return torch::Tensor();
    }
    /** Make torch's device state current (entered around all torch work) and undo it. */
    virtual void enterTorch() {
    }
    virtual void leaveTorch() {
    }
    /** Block until OpenMM's queued work is done: torch is about to read an array OpenMM wrote. */
    virtual void waitForOpenMM() {
    }
    /** Block until torch's queued work is done: OpenMM is about to read a tensor torch wrote. */
    virtual void waitForTorch() {
    }
    /** Captured replays for the engine's models (CUDA graphs), or null where the platform has none. */
    virtual std::shared_ptr<DeviceGraphs> makeDeviceGraphs() {
        return nullptr;
    }
    /**
     * Free the engine and every tensor, inside enterTorch()/leaveTorch().  A
     * subclass whose leaveTorch() releases something calls this in its destructor,
     * while its hooks still exist; later calls do nothing.
     */
    void releaseTorchState();

    OpenMM::ComputeContext& cc;

private:
    /** enterTorch() for the life of a scope, leaveTorch() on every way out. */
    class TorchScope {
    public:
        explicit TorchScope(CommonCalcSwitchingDPForceKernel& owner) : owner(owner) {
            owner.enterTorch();
        }
        ~TorchScope() {
            owner.leaveTorch();
        }
    private:
        CommonCalcSwitchingDPForceKernel& owner;
    };

    std::unique_ptr<SwitchingDPEngine> engine;
    int numParticles = 0;
    torch::ScalarType arrayType = torch::kFloat64;  // DP_REAL of the device kernels
    OpenMM::ComputeArray positionsArray, forcesArray;  // [n, 3] DP_REAL, dense, DP order
    OpenMM::ComputeArray dpIndex;                      // System particle -> DP index, or -1
    OpenMM::ComputeArray cellOffsets;                  // OpenMM's periodic cell offset of each slot
    std::vector<OpenMM::mm_int4> lastCellOffsets;      // what cellOffsets holds
    int boxArgument = 0;                               // the copy kernel's first box-vector argument
    OpenMM::ComputeKernel copyPositionsKernel, addForcesKernel;
    // Views of the two arrays on the torch device (no copies), or undefined where
    // the platform goes through host memory.
    torch::Tensor positionsView, forcesView;
};

} // namespace SwitchingDPPlugin

#endif
