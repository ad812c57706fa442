#include "SwitchingDPCudaKernels.h"

namespace SwitchingDPPlugin {

namespace {

const int BLOCK_SIZE = 128;

int numBlocks(int numAtoms) {
    return (numAtoms + BLOCK_SIZE - 1) / BLOCK_SIZE;
}

// One thread per OpenMM slot: the DP particle (index into our tensors) that OpenMM's
// reordering put in this thread's slot, or -1 for a slot past the atoms or holding
// a particle that is not a DP particle.
__device__ int dpParticleInSlot(int slot, const int* atomIndex, const int* dpIndex, int numAtoms) {
    return slot < numAtoms ? dpIndex[atomIndex[slot]] : -1;
}

template <class Real4>
__global__ void copyPositionsKernel(const Real4* __restrict__ posq, const Real4* __restrict__ correction,
                                    const int* __restrict__ atomIndex, const int* __restrict__ dpIndex,
                                    int numAtoms, double* __restrict__ positions) {
    int slot = blockIdx.x*blockDim.x + threadIdx.x;
    int k = dpParticleInSlot(slot, atomIndex, dpIndex, numAtoms);
    if (k < 0)
        return;
    Real4 p = posq[slot];
    double x = p.x, y = p.y, z = p.z;
    if (correction != nullptr) {
        Real4 c = correction[slot];
        x += c.x;
        y += c.y;
        z += c.z;
    }
    positions[3*k] = x;
    positions[3*k+1] = y;
    positions[3*k+2] = z;
}

// Fixed point as OpenMM accumulates forces.  atomicAdd rather than +=, so the
// result does not depend on what other streams do to the buffer; integer sums
// are exact, so the order does not matter.
__global__ void addForcesKernel(const double* __restrict__ forces, double scale, const int* __restrict__ atomIndex,
                                const int* __restrict__ dpIndex, int numAtoms, int paddedNumAtoms,
                                unsigned long long* __restrict__ forceBuffer) {
    int slot = blockIdx.x*blockDim.x + threadIdx.x;
    int k = dpParticleInSlot(slot, atomIndex, dpIndex, numAtoms);
    if (k < 0)
        return;
    for (int d = 0; d < 3; d++) {
        long long value = __double2ll_rn(scale * forces[3*k+d]);
        atomicAdd(&forceBuffer[slot + d*paddedNumAtoms], (unsigned long long) value);
    }
}

} // namespace

cudaError_t copyDPPositions(const void* posq, const void* posqCorrection, bool doublePrecision, const int* atomIndex,
                            const int* dpIndex, int numAtoms, double* positions, cudaStream_t stream) {
    if (numAtoms == 0)
        return cudaSuccess;
    if (doublePrecision)
        copyPositionsKernel<double4><<<numBlocks(numAtoms), BLOCK_SIZE, 0, stream>>>(
                (const double4*) posq, nullptr, atomIndex, dpIndex, numAtoms, positions);
    else
        copyPositionsKernel<float4><<<numBlocks(numAtoms), BLOCK_SIZE, 0, stream>>>(
                (const float4*) posq, (const float4*) posqCorrection, atomIndex, dpIndex, numAtoms, positions);
    return cudaGetLastError();
}

cudaError_t addDPForces(const double* forces, double coefficient, const int* atomIndex, const int* dpIndex,
                        int numAtoms, int paddedNumAtoms, long long* forceBuffer, cudaStream_t stream) {
    if (numAtoms == 0)
        return cudaSuccess;
    const double fixedPointScale = 4294967296.0;  // 2^32, OpenMM's force buffer scale
    addForcesKernel<<<numBlocks(numAtoms), BLOCK_SIZE, 0, stream>>>(forces, coefficient * fixedPointScale, atomIndex,
            dpIndex, numAtoms, paddedNumAtoms, (unsigned long long*) forceBuffer);
    return cudaGetLastError();
}

} // namespace SwitchingDPPlugin
