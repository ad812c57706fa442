#ifndef OPENMM_SWITCHINGDP_TENSORNEIGHBORLIST_H_
#define OPENMM_SWITCHINGDP_TENSORNEIGHBORLIST_H_

#include "DPNeighborList.h"
#include <array>

namespace SwitchingDPPlugin {

/**
 * DPNeighborList built with tensor operations only, so it runs wherever the
 * positions are: on the GPU for the CUDA platform, with no copy to the host and
 * back (a rebuild check costs one reduction and one read back).
 *
 * A build finds candidates in wrapped space: the atoms wrapped into the box plus
 * their images within reach of it, binned in a Cartesian cell grid.  Each
 * candidate pair is then expressed relative to the given (unwrapped) positions,
 * (atom, shift), which is what makes its output identical to HostNeighborList's.
 */
class TensorNeighborList : public DPNeighborList {
public:
    TensorNeighborList(double listCutoff, double skin);
    bool update(const torch::Tensor& positions, const double* box) override;
    const DPModelInput& modelInput(double cutoff) override;
    /** Every extended entry of the build and the candidate list with entries beyond `cutoff` set to -1: no read back. */
    const DPModelInput& unpackedModelInput(double cutoff) override;
private:
    /** The extended coordinates at the current positions. */
    torch::Tensor extendedCoordinates() const;
    void build(const torch::Tensor& positions, const double* box);
    torch::Tensor findImages(const torch::Tensor& wrapped, const double* reach, torch::Tensor& imageShifts) const;
    torch::Tensor findCandidates(const torch::Tensor& entries, int64_t numLocal) const;
    int numAtoms = -1;
    bool periodic = false;
    std::array<double, 9> builtBox{};
    torch::Tensor positions, builtPositions;
    torch::Tensor atoms;       // [nall] int64: the atom of each extended entry (locals, then ghosts)
    torch::Tensor shifts;      // [ghosts, 3] float64: each ghost's shift in box vectors
    torch::Tensor boxRows;     // [3, 3] float64: the box vectors
    torch::Tensor candidates;  // [n, Kc] int64: ascending extended indices, -1 padded
    DPModelInput input;
};

} // namespace SwitchingDPPlugin

#endif
