#include "CudaSwitchingDPKernels.h"
#include "SwitchingDPCudaKernels.h"
#include "openmm/OpenMMException.h"
#include "openmm/common/ContextSelector.h"
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
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

/** Makes PyTorch's (primary) context current for a block of code, like OpenMM's ContextSelector. */
class PrimaryContextSelector {
public:
    explicit PrimaryContextSelector(CUcontext context) {
        check(driver().pushCurrent(context), "making PyTorch's CUDA context current");
    }
    ~PrimaryContextSelector() {
        CUcontext popped;
        driver().popCurrent(&popped);
    }
};

} // namespace

CudaCalcSwitchingDPForceKernel::CudaCalcSwitchingDPForceKernel(std::string name, const Platform& platform, CudaContext& cu) :
        CalcSwitchingDPForceKernel(name, platform), cu(cu) {
}

CudaCalcSwitchingDPForceKernel::~CudaCalcSwitchingDPForceKernel() {
    if (primaryContext == nullptr)
        return;
    // Free the tensors and models in their own context, then let the context go.  No
    // exceptions here: a destructor must not throw.
    bool pushed = (driver().pushCurrent(primaryContext) == CUDA_SUCCESS);
    engine.reset();
    positions = dpIndex = torch::Tensor();
    if (pushed) {
        CUcontext popped;
        driver().popCurrent(&popped);
    }
    driver().primaryCtxRelease(device);
}

void CudaCalcSwitchingDPForceKernel::initialize(const System& system, const SwitchingDPForce& force,
                                                const std::vector<int>& particles) {
    periodic = force.usesPeriodicBoundaryConditions();
    schedule = force.getSchedule();
    device = cu.getDevice();
    check(driver().primaryCtxRetain(&primaryContext, device), "retaining PyTorch's CUDA context");
    PrimaryContextSelector selector(primaryContext);
    torch::Device torchDevice(torch::kCUDA, (c10::DeviceIndex) cu.getDeviceIndex());
    c10::cuda::CUDAGuard guard(torchDevice);
    std::array<std::string, 2> contents = {force.getModelContents(SwitchingDPForce::Accurate),
                                           force.getModelContents(SwitchingDPForce::Fast)};
    std::array<std::string, 2> labels = {force.getModelFile(SwitchingDPForce::Accurate),
                                         force.getModelFile(SwitchingDPForce::Fast)};
    engine = std::make_unique<SwitchingDPTorchEngine>(contents, labels, force.getTypes(), particles, periodic,
            force.getNeighborListSkin(), torchDevice);
    positions = torch::zeros({(int64_t) particles.size(), 3}, torch::TensorOptions().dtype(torch::kFloat64).device(torchDevice));
    std::vector<int> index(system.getNumParticles(), -1);
    for (size_t k = 0; k < particles.size(); k++)
        index[particles[k]] = (int) k;
    dpIndex = torch::tensor(index, torch::kInt32).to(torchDevice);
}

double CudaCalcSwitchingDPForceKernel::execute(ContextImpl& context, bool includeForces, bool includeEnergy,
                                               bool ownGroup, int groups) {
    std::array<double, 2> coefficients = schedule.coefficients(context.getStepCount(), ownGroup, groups);
    if (coefficients[0] == 0.0 && coefficients[1] == 0.0)
        return 0.0;
    const int numAtoms = cu.getNumAtoms();
    const int* atomIndex = reinterpret_cast<const int*>(cu.getAtomIndexArray().getDevicePointer());
    const int* dpIndexData = dpIndex.data_ptr<int>();

    // 1. OpenMM's positions into the positions tensor, on OpenMM's stream; wait for
    // them, since PyTorch reads them in another context on its own stream.  The
    // wait also guarantees that the previous call's force kernels, which read the
    // engine's cached force tensors, have finished before those can be replaced.
    {
        ContextSelector selector(cu);
        CUstream stream = cu.getCurrentStream();
        const void* correction = (cu.getUseMixedPrecision() ?
                reinterpret_cast<const void*>(cu.getPosqCorrection().getDevicePointer()) : nullptr);
        check(copyDPPositions(reinterpret_cast<const void*>(cu.getPosq().getDevicePointer()), correction,
                cu.getUseDoublePrecision(), atomIndex, dpIndexData, numAtoms, positions.data_ptr<double>(), stream),
                "copying positions");
        check(cudaStreamSynchronize(stream), "waiting for the positions");
    }

    // 2. The models, in PyTorch's context on its current stream; wait for them to finish.
    std::array<const torch::Tensor*, 2> forces = {nullptr, nullptr};
    double energy = 0.0;
    {
        PrimaryContextSelector selector(primaryContext);
        c10::cuda::CUDAGuard guard(engine->getDevice());
        Vec3 box[3];
        cu.getPeriodicBoxVectors(box[0], box[1], box[2]);
        for (int model = 0; model < 2; model++) {
            if (coefficients[model] == 0.0)
                continue;
            const DPTensorResult& result = engine->evaluate(model, positions, periodic ? box : nullptr);
            energy += coefficients[model] * result.energy;
            forces[model] = &result.forces;
        }
        c10::cuda::getCurrentCUDAStream(engine->getDevice().index()).synchronize();
    }

    // 3. coefficient * forces into OpenMM's force buffer, on OpenMM's stream.
    if (includeForces) {
        ContextSelector selector(cu);
        for (int model = 0; model < 2; model++)
            if (forces[model] != nullptr)
                check(addDPForces(forces[model]->data_ptr<double>(), coefficients[model], atomIndex, dpIndexData, numAtoms,
                        cu.getPaddedNumAtoms(), reinterpret_cast<long long*>(cu.getLongForceBuffer().getDevicePointer()),
                        cu.getCurrentStream()), "adding forces");
    }
    return energy;
}

void CudaCalcSwitchingDPForceKernel::copyParametersToContext(ContextImpl& context, const SwitchingDPForce& force) {
    schedule = force.getSchedule();
}

std::vector<long long> CudaCalcSwitchingDPForceKernel::getEvaluationCounts() const {
    return {engine->getEvaluationCount(SwitchingDPTorchEngine::Accurate),
            engine->getEvaluationCount(SwitchingDPTorchEngine::Fast)};
}
