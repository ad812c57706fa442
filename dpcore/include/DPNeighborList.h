#ifndef OPENMM_SWITCHINGDP_DPNEIGHBORLIST_H_
#define OPENMM_SWITCHINGDP_DPNEIGHBORLIST_H_

#include <torch/script.h>

namespace SwitchingDPPlugin {

/**
 * What one model's forward_lower takes, apart from types: its extended atoms and
 * its neighbour list.  Every DPNeighborList implementation produces exactly the
 * same input for the same positions (tests compare them element by element):
 *
 * - Extended entries: the n local atoms in order, at their given (unwrapped)
 *   positions; then the ghosts this model uses (periodic images within its cutoff
 *   of some local atom), ordered by (atom, shift a, shift b, shift c), where the
 *   shift is in box vectors relative to the atom's given position.  A ghost's
 *   coordinates are ((r + a*A) + b*B) + c*C, evaluated in that order.
 * - nlist [n, width] int64: row i holds the entries within the model cutoff of
 *   atom i (itself excluded), ascending, padded with -1; width is the longest row.
 *
 * The tensors are on the list's device and stay valid until the next call.
 */
struct DPModelInput {
    torch::Tensor coord;  ///< [nall, 3] float64, the caller's length unit
    torch::Tensor atoms;  ///< [nall] int64: the local atom each entry is (a ghost's owner)
    torch::Tensor nlist;  ///< [n, width] int64
    /**
     * The closest pair in nlist, where the list finds it at no cost (the host list;
     * the caller's length unit): local atom i, the local atom j whose image is the
     * neighbour, and their distance; distance < 0 where not known.
     */
    double closestDistance = -1;
    int64_t closestI = -1, closestJ = -1;
};

/**
 * A Verlet list shared by both models: built for the larger cutoff plus a skin,
 * rebuilt only when some atom has moved more than half the skin since the last
 * build or the box changed, and cut down to each model's own cutoff on every call.
 * Lengths are in whatever unit the caller uses (the engine passes model units).
 * Boxes may be triclinic (OpenMM's reduced form) and smaller than twice the
 * cutoff: every image within range is found, several images of one atom included.
 */
class DPNeighborList {
public:
    /** listCutoff: the largest model cutoff; skin: extra range that lets the list be reused. */
    DPNeighborList(double listCutoff, double skin) : listCutoff(listCutoff), skin(skin) {
    }
    virtual ~DPNeighborList() {
    }
    /**
     * Rebuild if needed.  positions: [n, 3] float64 on the list's device; box: 9
     * numbers on the host (the three box vectors) or nullptr for no periodicity.
     * Returns true if it rebuilt.
     */
    virtual bool update(const torch::Tensor& positions, const double* box) = 0;
    /** One model's input at the positions given to the last update(). */
    virtual const DPModelInput& modelInput(double cutoff) = 0;
    /**
     * The same neighbours for a model that formats its list itself (the native path):
     * rows need not be packed or ascending, and ghosts beyond its cutoff may stay, so
     * a list may return shapes fixed between builds, found without reading anything
     * back from its device.  By default, modelInput().
     */
    virtual const DPModelInput& unpackedModelInput(double cutoff) {
        return modelInput(cutoff);
    }
    /** How many times the list has been built. */
    long long getNumBuilds() const { return builds; }
protected:
    double listCutoff, skin;
    long long builds = 0;
};

/** Upper bounds that keep a pathological input from exhausting memory; the same for every list. */
namespace NeighborListLimits {
    const int MAX_CELLS_PER_AXIS = 64;
    const long long MAX_IMAGE_SHIFTS = 20000;
}

} // namespace SwitchingDPPlugin

#endif
