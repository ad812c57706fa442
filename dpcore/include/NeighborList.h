#ifndef OPENMM_SWITCHINGDP_NEIGHBORLIST_H_
#define OPENMM_SWITCHINGDP_NEIGHBORLIST_H_

#include <array>
#include <vector>

namespace SwitchingDPPlugin {

/**
 * A Verlet list with periodic images for DeePMD's forward_lower, built with cells
 * in O(N) and reused until some atom has moved more than half the skin.
 *
 * Atoms are "local"; a neighbour that is a periodic image (j, shift) is a "ghost"
 * placed after the local atoms in the extended arrays the model takes.  Boxes may
 * be triclinic (OpenMM's reduced form) and smaller than twice the cutoff: every
 * image within range is found, several images of one atom included.
 *
 * Candidate lists are sorted by (atom, shift) and ghosts likewise, so the list a
 * model receives depends only on the current positions, never on when the list
 * was built: results are bit-for-bit reproducible, e.g. after a checkpoint.
 *
 * Lengths are in whatever unit the caller uses (the engine passes model units).
 */
class NeighborList {
public:
    /** listCutoff: the largest model cutoff; skin: extra range that lets the list be reused. */
    NeighborList(double listCutoff, double skin);
    /**
     * Rebuild if needed.  positions: 3*n coordinates; box: 9 numbers (the three box
     * vectors) or nullptr for no periodicity.  Returns true if it rebuilt.
     */
    bool update(const std::vector<double>& positions, const double* box);
    /** Coordinates of local atoms then ghosts, 3*(n + numGhosts()), from the current positions. */
    void extendedPositions(const std::vector<double>& positions, const double* box, std::vector<double>& extended) const;
    /**
     * The neighbour list of one model: for each local atom, all atoms within
     * `cutoff` now, in canonical order, padded with -1 to a common width (at least
     * minWidth).  Returns the width.  Entries index the model's own extended array:
     * the local atoms, then only the ghosts this model needs (usedGhosts, ascending
     * indices into the ghost list), so a short-cutoff model does not carry the
     * long-cutoff model's outer shell of ghosts.
     */
    int modelList(const std::vector<double>& extended, double cutoff, int minWidth, std::vector<long long>& nlist,
                  std::vector<int>& usedGhosts) const;
    int numGhosts() const { return (int) ghostOwner.size(); }
    /** The local atom each ghost is an image of. */
    const std::vector<int>& getGhostOwners() const { return ghostOwner; }
private:
    void build(const std::vector<double>& positions, const double* box);
    double listCutoff, skin;
    int numAtoms = -1;
    bool periodic = false;
    std::array<double, 9> builtBox{};
    std::vector<double> builtPositions;
    std::vector<int> ghostOwner;
    std::vector<std::array<int, 3>> ghostShift;
    std::vector<std::vector<int>> candidates;  // per local atom: extended indices
};

} // namespace SwitchingDPPlugin

#endif
