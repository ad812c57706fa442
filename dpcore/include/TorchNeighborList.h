#ifndef OPENMM_SWITCHINGDP_TORCHNEIGHBORLIST_H_
#define OPENMM_SWITCHINGDP_TORCHNEIGHBORLIST_H_

#include <torch/script.h>
#include <array>

namespace SwitchingDPPlugin {

/**
 * The neighbour list of NeighborList, built with tensor operations only, so it
 * runs wherever the positions are: on the GPU for the CUDA kernel (no copy to the
 * host and back), and on the CPU in tests.
 *
 * Extended entries.  Entry e of the extended array is atom a_e moved by the
 * integer box shift t_e: its position is pos[a_e] + t_e . box, computed from the
 * current (unwrapped) positions with one gather and one small matmul.  Local atoms
 * come first, in atom order, wrapped into the box at build time (t = -floor of
 * their fractional coordinates); then the ghosts, the periodic images within
 * reach of the box, ordered by (shift, atom).  Boxes may be triclinic (OpenMM's
 * reduced form) and smaller than twice the cutoff: every image within range is
 * present, several images of one atom included.  Without periodicity there are
 * no ghosts.
 *
 * Candidates.  At build time, every extended entry within cutoff + skin of each
 * local atom, found with a Cartesian cell grid over the extended atoms, stored as
 * a dense [n, Kc] tensor of extended indices, ascending per row, padded with -1.
 * The list is reused until some atom has moved more than half the skin since the
 * build (one reduction and one device-to-host read per update) or the box changed.
 *
 * Lengths are in whatever unit the caller uses (the engines pass model units).
 */
class TorchNeighborList {
public:
    /** cutoff: the largest model cutoff; skin: extra range that lets the list be reused. */
    TorchNeighborList(double cutoff, double skin);
    /**
     * Rebuild if needed.  positions: [n, 3] float64 on any device; box: 9 numbers
     * on the host (the three box vectors, one after the other) or nullptr for no
     * periodicity.  Returns true if it rebuilt.
     */
    bool update(const torch::Tensor& positions, const double* box);
    /** Positions of the extended entries, [numExtended(), 3], from the current positions. */
    torch::Tensor extendedPositions(const torch::Tensor& positions) const;
    /**
     * One model's neighbour list, [n, width] int64 with -1 padding: the candidates
     * now within `cutoff` (from positions given by extendedPositions()), other
     * entries -1; width = max(Kc, minWidth).
     */
    torch::Tensor modelList(const torch::Tensor& extended, double cutoff, int minWidth) const;
    /** a_e: the atom of each extended entry, [numExtended()] int64 (ghost forces go back with index_add_). */
    const torch::Tensor& getExtendedAtoms() const { return atoms; }
    /** t_e: the box shift of each extended entry, [numExtended(), 3] float64 (undefined if not periodic). */
    const torch::Tensor& getExtendedShifts() const { return shifts; }
    /** The candidates, [n, Kc] int64, ascending per row, -1 padded. */
    const torch::Tensor& getCandidates() const { return candidates; }
    int numExtended() const { return numEntries; }
private:
    void build(const torch::Tensor& positions, const double* box);
    torch::Tensor findGhosts(const torch::Tensor& wrappedFractional, const double* reach, torch::Tensor& imageShifts) const;
    torch::Tensor findCandidates(const torch::Tensor& extended) const;
    double cutoff, skin, range;
    int numAtoms = -1, numEntries = 0;
    bool periodic = false;
    std::array<double, 9> builtBox{};
    torch::Tensor builtPositions, boxMatrix, atoms, shifts, candidates;
};

} // namespace SwitchingDPPlugin

#endif
