#ifndef OPENMM_SWITCHINGDP_HOSTNEIGHBORLIST_H_
#define OPENMM_SWITCHINGDP_HOSTNEIGHBORLIST_H_

#include "DPNeighborList.h"
#include <array>
#include <vector>

namespace SwitchingDPPlugin {

/**
 * DPNeighborList on the host, for CPU tensors: a cell list in fractional
 * coordinates (sheared with a triclinic box) built in O(N), with plain loops.
 * Measured faster than TensorNeighborList on the CPU, where per-call tensor
 * overheads dominate for small systems.
 */
class HostNeighborList : public DPNeighborList {
public:
    HostNeighborList(double listCutoff, double skin);
    bool update(const torch::Tensor& positions, const double* box) override;
    const DPModelInput& modelInput(double cutoff) override;
private:
    void build(const double* box);
    int numAtoms = -1;
    bool periodic = false;
    std::array<double, 9> builtBox{};
    std::vector<double> positions, builtPositions;  // the current and the last build's, 3 per atom
    std::vector<double> extended;                   // locals then every ghost, from the current positions
    std::vector<int> ghostOwner;
    std::vector<std::array<int, 3>> ghostShift;
    std::vector<int> candidateStart, candidates;    // per local atom, ascending extended indices (CSR)
    // One model's input, reused between calls (the tensors view these buffers).
    std::vector<double> modelCoord;
    std::vector<int64_t> modelAtoms, modelList;
    std::vector<int> within, rowLength, ghostSlot;
    DPModelInput input;
};

} // namespace SwitchingDPPlugin

#endif
