#ifndef SWITCHINGDP_CUDA_DEVICE_KERNELS_H_
#define SWITCHINGDP_CUDA_DEVICE_KERNELS_H_

// The two small device kernels of the CUDA platform kernel, compiled by nvcc
// (SwitchingDPCudaKernels.cu) and launched from CudaSwitchingDPKernels.cpp through
// these plain functions, so the host code needs no CUDA compiler.

#include <cuda_runtime_api.h>

namespace SwitchingDPPlugin {

/**
 * Copy the DP particles' positions out of OpenMM's posq into positions [n, 3]
 * (float64, nm).  OpenMM stores atoms in its own order: slot i holds System
 * particle atomIndex[i], which is DP particle dpIndex[atomIndex[i]] (or none, -1).
 * posq is float4 (single and mixed precision) or double4 (doublePrecision);
 * posqCorrection (mixed precision only, else null) holds the float4 remainders
 * that make the positions exact doubles.  numAtoms: OpenMM's (unpadded) atom count.
 */
cudaError_t copyDPPositions(const void* posq, const void* posqCorrection, bool doublePrecision, const int* atomIndex,
                            const int* dpIndex, int numAtoms, double* positions, cudaStream_t stream);

/**
 * Add coefficient * forces [n, 3] (float64, kJ/mol/nm) to OpenMM's force buffer:
 * 64-bit fixed point (scale 2^32), x of slot i at i, y at i + paddedNumAtoms,
 * z at i + 2*paddedNumAtoms.
 */
cudaError_t addDPForces(const double* forces, double coefficient, const int* atomIndex, const int* dpIndex,
                        int numAtoms, int paddedNumAtoms, long long* forceBuffer, cudaStream_t stream);

} // namespace SwitchingDPPlugin

#endif
