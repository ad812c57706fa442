#include "CudaSwitchingDPKernels.h"
#include "openmm/OpenMMException.h"
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <map>
#include <memory>
#include <cuda.h>
#include <cuda_runtime_api.h>
#include <string>

using namespace SwitchingDPPlugin;
using namespace OpenMM;

namespace {

void check(cudaError_t result, const char* what) {
    if (result != cudaSuccess)
        throw OpenMMException(std::string("SwitchingDPForce: ") + what + " failed: " + cudaGetErrorString(result));
}

void check(CUresult result, const char* what) {
    if (result != CUDA_SUCCESS)
        throw OpenMMException(std::string("SwitchingDPForce: ") + what + " failed (CUDA driver error " +
                std::to_string((int) result) + ")");
}

/**
 * The four driver calls that switch to PyTorch's primary context.  They are
 * looked up through the CUDA runtime rather than linked, so the library builds
 * where there is no driver (libcuda) to link against, as on machines without a GPU.
 */
struct Driver {
    decltype(&::cuDevicePrimaryCtxRetain) primaryCtxRetain;
    decltype(&::cuDevicePrimaryCtxRelease) primaryCtxRelease;
    decltype(&::cuCtxPushCurrent) pushCurrent;
    decltype(&::cuCtxPopCurrent) popCurrent;

    Driver() {
        primaryCtxRetain = lookup<decltype(primaryCtxRetain)>("cuDevicePrimaryCtxRetain");
        primaryCtxRelease = lookup<decltype(primaryCtxRelease)>("cuDevicePrimaryCtxRelease");
        pushCurrent = lookup<decltype(pushCurrent)>("cuCtxPushCurrent");
        popCurrent = lookup<decltype(popCurrent)>("cuCtxPopCurrent");
    }
    template <class Function>
    static Function lookup(const char* name) {
        void* function = nullptr;
        cudaDriverEntryPointQueryResult status;
        // 12000: the CUDA 12.0 signatures, which are those in cuda.h's default (_v2) names.
        cudaError_t result = cudaGetDriverEntryPointByVersion(name, &function, 12000, cudaEnableDefault, &status);
        if (result != cudaSuccess || status != cudaDriverEntryPointSuccess || function == nullptr)
            throw OpenMMException(std::string("SwitchingDPForce: cannot find the CUDA driver function ") + name);
        return reinterpret_cast<Function>(function);
    }
};

const Driver& driver() {
    static Driver instance;
    return instance;
}

/**
 * CUDA graphs for the engine's models: one per key (a model and a neighbour-list
 * capacity), captured the first time on a side stream, as CUDA requires, after one
 * eager run there (which does the lazy set-up, such as cuBLAS workspaces, that a
 * capture must not contain), then replayed on torch's current stream.  All graphs
 * share one memory pool: replays run one after another on one stream, and nothing a
 * replay allocates outlives it (outputs are the caller's, allocated beforehand), so
 * a new capacity costs one evaluation's work memory once, not once per graph.
 */
class CudaDeviceGraphs : public DeviceGraphs {
public:
    explicit CudaDeviceGraphs(c10::DeviceIndex device) :
            device(device), side(c10::cuda::getStreamFromPool(false, device)), pool(at::cuda::graph_pool_handle()) {
    }
    void run(const std::string& key, const std::function<void()>& body) override {
        auto found = graphs.find(key);
        if (found == graphs.end()) {
            c10::cuda::CUDAStream current = c10::cuda::getCurrentCUDAStream(device);
            current.synchronize();   // the inputs the caller just copied
            auto graph = std::make_unique<at::cuda::CUDAGraph>();
            {
                c10::cuda::CUDAStreamGuard onSide(side);
                body();
                side.synchronize();
                // What the warm-up cached on the side stream goes back to the device,
                // so that the capture's pool can have it.
                c10::cuda::CUDACachingAllocator::emptyCache();
                // Thread-local capture mode: OpenMM's own threads may call CUDA meanwhile.
                graph->capture_begin(pool, cudaStreamCaptureModeThreadLocal);
                try {
                    body();
                }
                catch (...) {
                    try {
                        graph->capture_end();
                    }
                    catch (...) {
                    }
                    throw;
                }
                graph->capture_end();
            }
            side.synchronize();
            found = graphs.emplace(key, std::move(graph)).first;
        }
        found->second->replay();
    }
    void release(const std::string& prefix) override {
        for (auto entry = graphs.begin(); entry != graphs.end();)
            entry = (entry->first.rfind(prefix, 0) == 0 ? graphs.erase(entry) : std::next(entry));
    }
private:
    c10::DeviceIndex device;
    c10::cuda::CUDAStream side;
    c10::MempoolId_t pool;
    std::map<std::string, std::unique_ptr<at::cuda::CUDAGraph>> graphs;
};

} // namespace

CudaCalcSwitchingDPForceKernel::CudaCalcSwitchingDPForceKernel(std::string name, const Platform& platform, CudaContext& cu) :
        CommonCalcSwitchingDPForceKernel(name, platform, cu), cu(cu) {
    check(driver().primaryCtxRetain(&primaryContext, cu.getDevice()), "retaining PyTorch's CUDA context");
}

CudaCalcSwitchingDPForceKernel::~CudaCalcSwitchingDPForceKernel() {
    // Free the tensors and models in their own context while these hooks exist,
    // then let the context go.
    releaseTorchState();
    driver().primaryCtxRelease(cu.getDevice());
}

std::shared_ptr<DeviceGraphs> CudaCalcSwitchingDPForceKernel::makeDeviceGraphs() {
    return std::make_shared<CudaDeviceGraphs>((c10::DeviceIndex) cu.getDeviceIndex());
}

torch::Device CudaCalcSwitchingDPForceKernel::getTorchDevice() {
    return torch::Device(torch::kCUDA, (c10::DeviceIndex) cu.getDeviceIndex());
}

torch::Tensor CudaCalcSwitchingDPForceKernel::wrapArray(ArrayInterface& array, int64_t rows, torch::ScalarType type) {
    // OpenMM owns the memory and outlives the view (the kernel is destroyed before the context's arrays).
    void* data = reinterpret_cast<void*>(cu.unwrap(array).getDevicePointer());
    return torch::from_blob(data, {rows, 3}, torch::TensorOptions().dtype(type).device(getTorchDevice()));
}

void CudaCalcSwitchingDPForceKernel::enterTorch() {
    check(driver().pushCurrent(primaryContext), "making PyTorch's CUDA context current");
    try {
        deviceGuard.emplace(getTorchDevice());
    }
    catch (...) {
        CUcontext popped;
        driver().popCurrent(&popped);
        throw;
    }
}

void CudaCalcSwitchingDPForceKernel::leaveTorch() {
    deviceGuard.reset();
    CUcontext popped;
    driver().popCurrent(&popped);
}

void CudaCalcSwitchingDPForceKernel::waitForOpenMM() {
    check(cudaStreamSynchronize(cu.getCurrentStream()), "waiting for OpenMM's stream");
}

void CudaCalcSwitchingDPForceKernel::waitForTorch() {
    c10::cuda::getCurrentCUDAStream(getTorchDevice().index()).synchronize();
}
