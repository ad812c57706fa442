// The two device kernels of the SwitchingDPForce GPU kernel, in OpenMM's common
// kernel language (compiled at run time by OpenMM's CUDA or OpenCL platform).
//
// OpenMM keeps atoms in its own order (it sorts them for locality and reorders
// them during a run): slot s of posq and of the force buffer holds System particle
// atomIndex[s], which is DP particle dpIndex[atomIndex[s]], or none (-1).  One
// thread per slot, so each slot and each DP particle is touched by one thread.
//
// OpenMM also wraps atoms into the periodic box when it reorders them, keeping
// the true position as posq - offset.x*a - offset.y*b - offset.z*c with integer
// cell offsets per slot; the models see the true (System) positions, as on the
// Reference platform.
//
// Defines set by CommonCalcSwitchingDPForceKernel:
//   DP_REAL, DP_REAL4   double(4) where the device supports it, else float(4): the
//                       type of the dense position and force arrays
//   DP_FIXED_SCALE      2^32 as a DP_REAL literal: OpenMM's fixed-point force scale
//   DP_MIXED_PRECISION  defined in mixed precision, where posq holds float
//                       positions and posqCorrection the rest

KERNEL void copyPositions(GLOBAL const real4* RESTRICT posq,
#ifdef DP_MIXED_PRECISION
                          GLOBAL const real4* RESTRICT posqCorrection,
#endif
                          GLOBAL const int4* RESTRICT cellOffsets, DP_REAL4 boxA, DP_REAL4 boxB, DP_REAL4 boxC,
                          GLOBAL const int* RESTRICT atomIndex, GLOBAL const int* RESTRICT dpIndex, int numAtoms,
                          GLOBAL DP_REAL* RESTRICT positions) {
    for (int slot = GLOBAL_ID; slot < numAtoms; slot += GLOBAL_SIZE) {
        int k = dpIndex[atomIndex[slot]];
        if (k < 0)
            continue;
        real4 p = posq[slot];
        DP_REAL x = (DP_REAL) p.x, y = (DP_REAL) p.y, z = (DP_REAL) p.z;
#ifdef DP_MIXED_PRECISION
        // The exact double position is the sum of the two floats, as OpenMM's integrators form it.
        real4 c = posqCorrection[slot];
        x += (DP_REAL) c.x;
        y += (DP_REAL) c.y;
        z += (DP_REAL) c.z;
#endif
        // In the order OpenMM's getState() uses, so double precision gives the same numbers.
        int4 offset = cellOffsets[slot];
        positions[3*k] = x - boxA.x*offset.x - boxB.x*offset.y - boxC.x*offset.z;
        positions[3*k+1] = y - boxA.y*offset.x - boxB.y*offset.y - boxC.y*offset.z;
        positions[3*k+2] = z - boxA.z*offset.x - boxB.z*offset.y - boxC.z*offset.z;
    }
}

// forces: [n, 3] kJ/mol/nm, already scaled by the models' coefficients.  The force
// buffer is 64-bit fixed point with x, y and z of a slot paddedNumAtoms apart.
// Atomic adds because other forces may add into the same buffer from another
// queue (OpenMM's PME stream on CUDA); OpenMM's OpenCL header emulates them where
// the device lacks 64-bit atomics.
KERNEL void addForces(GLOBAL const DP_REAL* RESTRICT forces, GLOBAL mm_ulong* RESTRICT forceBuffer,
                      GLOBAL const int* RESTRICT atomIndex, GLOBAL const int* RESTRICT dpIndex, int numAtoms,
                      int paddedNumAtoms) {
    for (int slot = GLOBAL_ID; slot < numAtoms; slot += GLOBAL_SIZE) {
        int k = dpIndex[atomIndex[slot]];
        if (k < 0)
            continue;
        for (int d = 0; d < 3; d++)
            ATOMIC_ADD(&forceBuffer[slot + d*paddedNumAtoms], (mm_ulong) ((mm_long) (forces[3*k+d] * DP_FIXED_SCALE)));
    }
}
