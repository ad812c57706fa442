#include "NeighborList.h"
#include "BoxGeometry.h"
#include "openmm/OpenMMException.h"
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <tuple>

using namespace SwitchingDPPlugin;
using OpenMM::OpenMMException;

namespace {

// Upper bounds that keep a pathological input from exhausting memory.
const int MAX_CELLS_PER_AXIS = 64;
const long long MAX_IMAGE_OFFSETS = 20000;

inline int floorDiv(int a, int n) {
    return (a >= 0 ? a / n : -((-a + n - 1) / n));
}

} // namespace

NeighborList::NeighborList(double listCutoff, double skin) : listCutoff(listCutoff), skin(skin) {
}

bool NeighborList::update(const std::vector<double>& positions, const double* box) {
    int n = (int) positions.size() / 3;
    bool needBuild = (n != numAtoms || (box != nullptr) != periodic);
    if (!needBuild && periodic)
        needBuild = !std::equal(builtBox.begin(), builtBox.end(), box);
    if (!needBuild) {
        double limit = 0.25 * skin * skin;
        for (int i = 0; i < 3*n && !needBuild; i += 3) {
            double dx = positions[i] - builtPositions[i];
            double dy = positions[i+1] - builtPositions[i+1];
            double dz = positions[i+2] - builtPositions[i+2];
            needBuild = (dx*dx + dy*dy + dz*dz > limit);
        }
    }
    if (needBuild)
        build(positions, box);
    return needBuild;
}

void NeighborList::build(const std::vector<double>& positions, const double* box) {
    numAtoms = (int) positions.size() / 3;
    periodic = (box != nullptr);
    builtPositions = positions;
    const double range = listCutoff + skin;
    const int n = numAtoms;

    // Cell coordinates: fractional for periodic boxes (cells are sheared with a
    // triclinic box), Cartesian over the bounding box otherwise.
    int ncell[3], reach[3];
    std::vector<double> cellCoord(3*n);
    std::vector<std::array<int, 3>> wrap(n, {0, 0, 0});
    if (periodic) {
        std::copy(box, box + 9, builtBox.begin());
        BoxGeometry geometry(box);
        const double* recip = geometry.reciprocal;
        long long offsets = 1;
        for (int k = 0; k < 3; k++) {
            double width = geometry.faceSpacing[k];
            ncell[k] = std::max(1, std::min(MAX_CELLS_PER_AXIS, (int) std::floor(width / range)));
            double steps = std::ceil(range * ncell[k] / width);
            if (steps > MAX_IMAGE_OFFSETS)
                steps = MAX_IMAGE_OFFSETS;
            reach[k] = (int) steps;
            offsets *= 2*reach[k] + 1;
        }
        if (offsets > MAX_IMAGE_OFFSETS)
            throw OpenMMException("SwitchingDPForce: the periodic box is too small for the model cutoff (" +
                    std::to_string(range) + " with skin, in model units): it would need " + std::to_string(offsets) +
                    " cell images per atom. Use a larger box.");
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < 3; k++) {
                double f = positions[3*i]*recip[3*k] + positions[3*i+1]*recip[3*k+1] + positions[3*i+2]*recip[3*k+2];
                double w = std::floor(f);
                wrap[i][k] = (int) w;
                cellCoord[3*i+k] = std::min(ncell[k] - 1, std::max(0, (int) ((f - w) * ncell[k])));
            }
        }
    }
    else {
        double lo[3], hi[3];
        for (int k = 0; k < 3; k++) {
            lo[k] = hi[k] = (n > 0 ? positions[k] : 0.0);
            for (int i = 1; i < n; i++) {
                lo[k] = std::min(lo[k], positions[3*i+k]);
                hi[k] = std::max(hi[k], positions[3*i+k]);
            }
            ncell[k] = std::max(1, std::min(MAX_CELLS_PER_AXIS, (int) std::floor((hi[k] - lo[k]) / range)));
            reach[k] = 1;  // cells are at least `range` wide
            double width = (hi[k] - lo[k]) / ncell[k];
            for (int i = 0; i < n; i++)
                cellCoord[3*i+k] = (width > 0 ? std::min(ncell[k] - 1, (int) ((positions[3*i+k] - lo[k]) / width)) : 0);
        }
    }

    // Bin atoms into cells.
    int numCells = ncell[0]*ncell[1]*ncell[2];
    std::vector<int> cellStart(numCells + 1, 0), cellAtoms(n);
    auto cellIndex = [&](int a, int b, int c) { return (a*ncell[1] + b)*ncell[2] + c; };
    std::vector<int> atomCell(n);
    for (int i = 0; i < n; i++) {
        atomCell[i] = cellIndex((int) cellCoord[3*i], (int) cellCoord[3*i+1], (int) cellCoord[3*i+2]);
        cellStart[atomCell[i] + 1]++;
    }
    for (int c = 0; c < numCells; c++)
        cellStart[c+1] += cellStart[c];
    {
        std::vector<int> fill(cellStart.begin(), cellStart.end() - 1);
        for (int i = 0; i < n; i++)
            cellAtoms[fill[atomCell[i]]++] = i;
    }

    // Find every (j, shift) within range of each i.  Each cell offset maps to one
    // (cell, shift) pair, so no image is visited twice, however small the box.
    typedef std::tuple<int, int, int, int> Key;  // (atom, shift a, shift b, shift c)
    std::vector<std::vector<Key>> found(n);
    const double range2 = range * range;
    for (int i = 0; i < n; i++) {
        int ci[3] = {(int) cellCoord[3*i], (int) cellCoord[3*i+1], (int) cellCoord[3*i+2]};
        for (int da = -reach[0]; da <= reach[0]; da++)
        for (int db = -reach[1]; db <= reach[1]; db++)
        for (int dc = -reach[2]; dc <= reach[2]; dc++) {
            int d[3] = {da, db, dc}, cell[3], shift[3] = {0, 0, 0};
            bool inside = true;
            for (int k = 0; k < 3; k++) {
                int t = ci[k] + d[k];
                if (periodic) {
                    shift[k] = floorDiv(t, ncell[k]);
                    cell[k] = t - shift[k]*ncell[k];
                }
                else {
                    inside = inside && (t >= 0 && t < ncell[k]);
                    cell[k] = t;
                }
            }
            if (!inside)
                continue;
            int c = cellIndex(cell[0], cell[1], cell[2]);
            for (int p = cellStart[c]; p < cellStart[c+1]; p++) {
                int j = cellAtoms[p];
                int s[3] = {0, 0, 0};
                double delta[3];
                for (int k = 0; k < 3; k++)
                    delta[k] = positions[3*j+k] - positions[3*i+k];
                if (periodic) {
                    // Shift relative to the raw (unwrapped) positions.
                    for (int k = 0; k < 3; k++)
                        s[k] = shift[k] - wrap[j][k] + wrap[i][k];
                    for (int k = 0; k < 3; k++)
                        delta[k] += s[0]*box[k] + s[1]*box[3+k] + s[2]*box[6+k];
                }
                if (j == i && s[0] == 0 && s[1] == 0 && s[2] == 0)
                    continue;
                if (delta[0]*delta[0] + delta[1]*delta[1] + delta[2]*delta[2] < range2)
                    found[i].emplace_back(j, s[0], s[1], s[2]);
            }
        }
    }

    // Canonical order: ghosts and each atom's candidates sorted by (atom, shift).
    std::map<Key, int> ghostIndex;
    for (auto& list : found) {
        std::sort(list.begin(), list.end());
        for (const Key& key : list)
            if (std::get<1>(key) != 0 || std::get<2>(key) != 0 || std::get<3>(key) != 0)
                ghostIndex.emplace(key, 0);
    }
    ghostOwner.clear();
    ghostShift.clear();
    for (auto& entry : ghostIndex) {
        entry.second = n + (int) ghostOwner.size();
        ghostOwner.push_back(std::get<0>(entry.first));
        ghostShift.push_back({std::get<1>(entry.first), std::get<2>(entry.first), std::get<3>(entry.first)});
    }
    candidates.assign(n, std::vector<int>());
    for (int i = 0; i < n; i++) {
        candidates[i].reserve(found[i].size());
        for (const Key& key : found[i]) {
            bool local = (std::get<1>(key) == 0 && std::get<2>(key) == 0 && std::get<3>(key) == 0);
            candidates[i].push_back(local ? std::get<0>(key) : ghostIndex[key]);
        }
    }
}

void NeighborList::extendedPositions(const std::vector<double>& positions, const double* box, std::vector<double>& extended) const {
    int nall = numAtoms + numGhosts();
    extended.resize(3*nall);
    std::copy(positions.begin(), positions.begin() + 3*numAtoms, extended.begin());
    for (int g = 0; g < numGhosts(); g++) {
        const auto& s = ghostShift[g];
        int owner = ghostOwner[g];
        for (int k = 0; k < 3; k++)
            extended[3*(numAtoms+g)+k] = positions[3*owner+k] + s[0]*box[k] + s[1]*box[3+k] + s[2]*box[6+k];
    }
}

int NeighborList::modelList(const std::vector<double>& extended, double cutoff, int minWidth, std::vector<long long>& nlist,
                            std::vector<int>& usedGhosts) const {
    const double cutoff2 = cutoff * cutoff;
    std::vector<std::vector<int>> within(numAtoms);
    std::vector<int> compact(numGhosts(), -1);  // ghost -> position in usedGhosts
    int width = minWidth;
    for (int i = 0; i < numAtoms; i++) {
        for (int e : candidates[i]) {
            double dx = extended[3*e] - extended[3*i];
            double dy = extended[3*e+1] - extended[3*i+1];
            double dz = extended[3*e+2] - extended[3*i+2];
            if (dx*dx + dy*dy + dz*dz < cutoff2) {
                within[i].push_back(e);
                if (e >= numAtoms)
                    compact[e - numAtoms] = 0;
            }
        }
        width = std::max(width, (int) within[i].size());
    }
    usedGhosts.clear();
    for (int g = 0; g < numGhosts(); g++)
        if (compact[g] == 0) {
            compact[g] = numAtoms + (int) usedGhosts.size();
            usedGhosts.push_back(g);
        }
    nlist.assign((size_t) numAtoms * width, -1);
    for (int i = 0; i < numAtoms; i++)
        for (size_t c = 0; c < within[i].size(); c++) {
            int e = within[i][c];
            nlist[(size_t) i * width + c] = (e < numAtoms ? e : compact[e - numAtoms]);
        }
    return width;
}
