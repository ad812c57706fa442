#include "CommonSwitchingDPKernels.h"
#include "CommonSwitchingDPKernelSources.h"
#include "internal/SwitchingDPEngineFromForce.h"
#include "openmm/OpenMMException.h"
#include "openmm/common/ContextSelector.h"
#include <cstring>
#include <map>
#include <string>

using namespace SwitchingDPPlugin;
using namespace OpenMM;

CommonCalcSwitchingDPForceKernel::CommonCalcSwitchingDPForceKernel(std::string name, const Platform& platform,
                                                                   ComputeContext& cc) :
        CalcSwitchingDPForceKernel(name, platform), cc(cc) {
}

CommonCalcSwitchingDPForceKernel::~CommonCalcSwitchingDPForceKernel() {
    // Only the default (CPU) hooks exist by now; a subclass with its own hooks has
    // already released everything in its destructor.
    releaseTorchState();
}

void CommonCalcSwitchingDPForceKernel::releaseTorchState() {
    if (!engine && !positionsView.defined() && !forcesView.defined())
        return;
    try {
        TorchScope scope(*this);
        engine.reset();
        positionsView = forcesView = torch::Tensor();
    }
    catch (...) {
        // A destructor must not throw: if torch's context cannot be entered, free
        // what is left as it is.
        engine.reset();
        positionsView = forcesView = torch::Tensor();
    }
}

void CommonCalcSwitchingDPForceKernel::initialize(const System& system, const SwitchingDPForce& force,
                                                  const std::vector<int>& particles) {
    numParticles = (int) particles.size();
    {
        // OpenMM's side: the dense arrays, the index map and the two device kernels.
        ContextSelector selector(cc);
        // The dense arrays are double wherever the device has doubles, so positions
        // reach the models exactly in every precision mode (posq is float in single
        // and mixed precision; mixed adds posqCorrection).
        bool useDouble = cc.getSupportsDoublePrecision();
        arrayType = useDouble ? torch::kFloat64 : torch::kFloat32;
        int elementSize = useDouble ? sizeof(double) : sizeof(float);
        positionsArray.initialize(cc, 3 * numParticles, elementSize, "switchingDPPositions");
        forcesArray.initialize(cc, 3 * numParticles, elementSize, "switchingDPForces");
        std::vector<int> index(system.getNumParticles(), -1);
        for (int k = 0; k < numParticles; k++)
            index[particles[k]] = k;
        dpIndex.initialize<int>(cc, index.size(), "switchingDPIndex");
        dpIndex.upload(index);

        // OpenMM's cell offsets of the wrapped positions (see the device kernel),
        // uploaded again whenever OpenMM changes them.
        lastCellOffsets = cc.getPosCellOffsets();
        cellOffsets.initialize<mm_int4>(cc, lastCellOffsets.size(), "switchingDPCellOffsets");
        cellOffsets.upload(lastCellOffsets);

        std::map<std::string, std::string> defines;
        defines["DP_REAL"] = useDouble ? "double" : "float";
        defines["DP_REAL4"] = useDouble ? "double4" : "float4";
        defines["DP_FIXED_SCALE"] = useDouble ? "4294967296.0" : "4294967296.0f";
        if (cc.getUseMixedPrecision())
            defines["DP_MIXED_PRECISION"] = "1";
        ComputeProgram program = cc.compileProgram(CommonSwitchingDPKernelSources::switchingDP, defines);
        copyPositionsKernel = program->createKernel("copyPositions");
        copyPositionsKernel->addArg(cc.getPosq());
        if (cc.getUseMixedPrecision())
            copyPositionsKernel->addArg(cc.getPosqCorrection());
        copyPositionsKernel->addArg(cellOffsets);
        boxArgument = (cc.getUseMixedPrecision() ? 3 : 2);
        for (int v = 0; v < 3; v++)
            copyPositionsKernel->addArg();  // the box vectors, set by execute()
        copyPositionsKernel->addArg(cc.getAtomIndexArray());
        copyPositionsKernel->addArg(dpIndex);
        copyPositionsKernel->addArg(cc.getNumAtoms());
        copyPositionsKernel->addArg(positionsArray);
        addForcesKernel = program->createKernel("addForces");
        addForcesKernel->addArg(forcesArray);
        addForcesKernel->addArg(cc.getLongForceBuffer());
        addForcesKernel->addArg(cc.getAtomIndexArray());
        addForcesKernel->addArg(dpIndex);
        addForcesKernel->addArg(cc.getNumAtoms());
        addForcesKernel->addArg(cc.getPaddedNumAtoms());
    }
    // torch's side: the engine on the platform's device, and views of the dense
    // arrays where the platform can give them.
    TorchScope scope(*this);
    engine = createEngine(force, particles, getTorchDevice());
    if (force.getUseCUDAGraphs())
        engine->setDeviceGraphs(makeDeviceGraphs());
    positionsView = wrapArray(positionsArray, numParticles, arrayType);
    forcesView = wrapArray(forcesArray, numParticles, arrayType);
    if (positionsView.defined() != forcesView.defined())
        throw OpenMMException("SwitchingDPForce: internal error: the platform wraps only one of its two arrays");
}

double CommonCalcSwitchingDPForceKernel::execute(ContextImpl& context, bool includeForces, bool includeEnergy,
                                                 const ModelCoefficients& coefficients, ModelDeviation* deviation,
                                                 bool residual) {
    ContextSelector selector(cc);
    Vec3 box[3];
    cc.getPeriodicBoxVectors(box[0], box[1], box[2]);
    // OpenMM changes the offsets when it reorders or wraps atoms, and resets them in
    // setPositions() and after barostat moves, not always telling listeners:
    // compare instead (a few kB on the host).
    const std::vector<mm_int4>& offsets = cc.getPosCellOffsets();
    if (offsets.size() != lastCellOffsets.size() ||
            std::memcmp(offsets.data(), lastCellOffsets.data(), offsets.size() * sizeof(mm_int4)) != 0) {
        lastCellOffsets = offsets;
        cellOffsets.upload(lastCellOffsets);
    }
    for (int v = 0; v < 3; v++) {
        if (arrayType == torch::kFloat64)
            copyPositionsKernel->setArg(boxArgument + v, mm_double4(box[v][0], box[v][1], box[v][2], 0));
        else
            copyPositionsKernel->setArg(boxArgument + v, mm_float4((float) box[v][0], (float) box[v][1], (float) box[v][2], 0));
    }
    copyPositionsKernel->execute(cc.getNumAtoms());
    const bool onDevice = positionsView.defined();
    torch::Tensor hostPositions;
    if (onDevice)
        waitForOpenMM();
    else {
        hostPositions = torch::empty({numParticles, 3}, torch::TensorOptions().dtype(arrayType));
        positionsArray.download(hostPositions.data_ptr());
    }
    double energy = 0.0;
    torch::Tensor hostForces;
    {
        TorchScope scope(*this);
        torch::Tensor positions = (onDevice ? positionsView : hostPositions).to(torch::kFloat64);
        DPResult sum = engine->evaluateSum(coefficients, positions, box, includeForces, deviation, residual);
        energy = sum.energy;
        if (includeForces) {
            if (onDevice)
                forcesView.copy_(sum.forces);
            else
                hostForces = sum.forces.to(arrayType).contiguous();
        }
        // Always: torch may still be reading the positions array, which the next
        // call's copy kernel overwrites, and OpenMM reads the forces array next.
        waitForTorch();
    }
    if (includeForces) {
        if (!onDevice)
            forcesArray.upload(hostForces.data_ptr());
        addForcesKernel->execute(cc.getNumAtoms());
    }
    return energy;
}

void CommonCalcSwitchingDPForceKernel::copyParametersToContext(ContextImpl& context, const SwitchingDPForce& force) {
    ContextSelector selector(cc);
    TorchScope scope(*this);
    engine->setParameters(force.getFrameParameters(), force.getAtomicParameters());
}

std::vector<long long> CommonCalcSwitchingDPForceKernel::getEvaluationCounts() const {
    if (!engine)
        return {0, 0};
    return {engine->getEvaluationCount(Accurate), engine->getEvaluationCount(Fast)};
}
