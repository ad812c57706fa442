#include "HostNeighborList.h"
#include "BoxGeometry.h"
#include "openmm/OpenMMException.h"
#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>

using namespace SwitchingDPPlugin;
using OpenMM::OpenMMException;

namespace {

inline int floorDiv(int a, int n) {
    return (a >= 0 ? a / n : -((-a + n - 1) / n));
}

} // namespace

HostNeighborList::HostNeighborList(double listCutoff, double skin) : DPNeighborList(listCutoff, skin) {
}

bool HostNeighborList::update(const torch::Tensor& positionsTensor, const double* box) {
    if (positionsTensor.dim() != 2 || positionsTensor.size(1) != 3 || positionsTensor.scalar_type() != torch::kFloat64 ||
            !positionsTensor.device().is_cpu())
        throw OpenMMException("SwitchingDPForce: the host neighbour list takes positions as an [n, 3] float64 CPU tensor");
    torch::Tensor contiguous = positionsTensor.contiguous();
    const int n = (int) contiguous.size(0);
    const double* p = contiguous.data_ptr<double>();
    positions.assign(p, p + 3*n);
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
        build(box);
    // Ghost coordinates from the current positions, in the documented order of operations.
    const int nall = numAtoms + (int) ghostOwner.size();
    extended.resize(3*nall);
    std::copy(positions.begin(), positions.end(), extended.begin());
    for (size_t g = 0; g < ghostOwner.size(); g++) {
        const auto& s = ghostShift[g];
        const int owner = ghostOwner[g];
        for (int k = 0; k < 3; k++)
            extended[3*(numAtoms+g)+k] = ((positions[3*owner+k] + s[0]*builtBox[k]) + s[1]*builtBox[3+k]) + s[2]*builtBox[6+k];
    }
    return needBuild;
}

void HostNeighborList::build(const double* box) {
    builds++;
    numAtoms = (int) positions.size() / 3;
    periodic = (box != nullptr);
    builtPositions = positions;
    const double range = listCutoff + skin;
    const int n = numAtoms;
    const int maxCells = NeighborListLimits::MAX_CELLS_PER_AXIS;

    // Cell coordinates: fractional for periodic boxes (cells are sheared with a
    // triclinic box), Cartesian over the bounding box otherwise.
    int ncell[3], reach[3];
    std::vector<int> cellCoord(3*n);
    std::vector<std::array<int, 3>> wrap(n, {0, 0, 0});
    if (periodic) {
        std::copy(box, box + 9, builtBox.begin());
        BoxGeometry geometry(box);
        const double* recip = geometry.reciprocal;
        long long offsets = 1;
        for (int k = 0; k < 3; k++) {
            double width = geometry.faceSpacing[k];
            ncell[k] = std::max(1, std::min(maxCells, (int) std::floor(width / range)));
            double steps = std::ceil(range * ncell[k] / width);
            if (steps > NeighborListLimits::MAX_IMAGE_SHIFTS)
                steps = (double) NeighborListLimits::MAX_IMAGE_SHIFTS;
            reach[k] = (int) steps;
            offsets *= 2*reach[k] + 1;
        }
        if (offsets > NeighborListLimits::MAX_IMAGE_SHIFTS)
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
        builtBox.fill(0.0);
        double lo[3], hi[3];
        for (int k = 0; k < 3; k++) {
            lo[k] = hi[k] = (n > 0 ? positions[k] : 0.0);
            for (int i = 1; i < n; i++) {
                lo[k] = std::min(lo[k], positions[3*i+k]);
                hi[k] = std::max(hi[k], positions[3*i+k]);
            }
            ncell[k] = std::max(1, std::min(maxCells, (int) std::floor((hi[k] - lo[k]) / range)));
            reach[k] = 1;  // cells are at least `range` wide
            double width = (hi[k] - lo[k]) / ncell[k];
            for (int i = 0; i < n; i++)
                cellCoord[3*i+k] = (width > 0 ? std::min(ncell[k] - 1, (int) ((positions[3*i+k] - lo[k]) / width)) : 0);
        }
    }

    // Bin atoms into cells.
    int numCells = ncell[0]*ncell[1]*ncell[2];
    std::vector<int> cellStart(numCells + 1, 0), cellAtoms(n), atomCell(n);
    auto cellIndex = [&](int a, int b, int c) { return (a*ncell[1] + b)*ncell[2] + c; };
    for (int i = 0; i < n; i++) {
        atomCell[i] = cellIndex(cellCoord[3*i], cellCoord[3*i+1], cellCoord[3*i+2]);
        cellStart[atomCell[i] + 1]++;
    }
    for (int c = 0; c < numCells; c++)
        cellStart[c+1] += cellStart[c];
    {
        std::vector<int> fill(cellStart.begin(), cellStart.end() - 1);
        for (int i = 0; i < n; i++)
            cellAtoms[fill[atomCell[i]]++] = i;
    }

    // Every (j, shift) within range of each i, the shift relative to the given
    // (unwrapped) positions.  Each cell offset maps to one (cell, shift) pair, so no
    // image is visited twice, however small the box.
    typedef std::tuple<int, int, int, int> Key;  // (atom, shift a, shift b, shift c)
    std::vector<std::vector<Key>> found(n);
    const double range2 = range * range;
    for (int i = 0; i < n; i++) {
        int ci[3] = {cellCoord[3*i], cellCoord[3*i+1], cellCoord[3*i+2]};
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
            for (int q = cellStart[c]; q < cellStart[c+1]; q++) {
                int j = cellAtoms[q];
                int s[3] = {0, 0, 0};
                double delta[3];
                for (int k = 0; k < 3; k++)
                    delta[k] = positions[3*j+k] - positions[3*i+k];
                if (periodic) {
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

    // Ghosts in (atom, shift) order; candidates as ascending extended indices.
    std::vector<Key> ghosts;
    for (const auto& list : found)
        for (const Key& key : list)
            if (std::get<1>(key) != 0 || std::get<2>(key) != 0 || std::get<3>(key) != 0)
                ghosts.push_back(key);
    std::sort(ghosts.begin(), ghosts.end());
    ghosts.erase(std::unique(ghosts.begin(), ghosts.end()), ghosts.end());
    ghostOwner.resize(ghosts.size());
    ghostShift.resize(ghosts.size());
    for (size_t g = 0; g < ghosts.size(); g++) {
        ghostOwner[g] = std::get<0>(ghosts[g]);
        ghostShift[g] = {std::get<1>(ghosts[g]), std::get<2>(ghosts[g]), std::get<3>(ghosts[g])};
    }
    candidateStart.assign(n + 1, 0);
    candidates.clear();
    for (int i = 0; i < n; i++) {
        for (const Key& key : found[i]) {
            bool local = (std::get<1>(key) == 0 && std::get<2>(key) == 0 && std::get<3>(key) == 0);
            int index = std::get<0>(key);
            if (!local)
                index = n + (int) (std::lower_bound(ghosts.begin(), ghosts.end(), key) - ghosts.begin());
            candidates.push_back(index);
        }
        std::sort(candidates.begin() + candidateStart[i], candidates.end());
        candidateStart[i+1] = (int) candidates.size();
    }
}

const DPModelInput& HostNeighborList::modelInput(double cutoff) {
    const int n = numAtoms, numGhosts = (int) ghostOwner.size();
    const double cutoff2 = cutoff * cutoff;
    // The candidates within the cutoff, row by row, and which ghosts they use.
    within.resize(candidates.size());
    rowLength.assign(n, 0);
    ghostSlot.assign(numGhosts, -1);
    int width = 0;
    double closest2 = cutoff2;
    int closestI = -1, closestE = -1;
    for (int i = 0; i < n; i++) {
        const double* ri = &extended[3*i];
        int count = 0;
        for (int c = candidateStart[i]; c < candidateStart[i+1]; c++) {
            const int e = candidates[c];
            const double* re = &extended[3*e];
            double dx = re[0] - ri[0], dy = re[1] - ri[1], dz = re[2] - ri[2];
            double r2 = dx*dx + dy*dy + dz*dz;
            if (r2 < cutoff2) {
                if (r2 < closest2) {
                    closest2 = r2;
                    closestI = i;
                    closestE = e;
                }
                within[candidateStart[i] + count++] = e;
                if (e >= n)
                    ghostSlot[e - n] = 0;
            }
        }
        rowLength[i] = count;
        width = std::max(width, count);
    }
    // This model's extended atoms: the locals, then only the ghosts it uses.
    modelAtoms.resize(n);
    for (int i = 0; i < n; i++)
        modelAtoms[i] = i;
    for (int g = 0; g < numGhosts; g++)
        if (ghostSlot[g] == 0) {
            ghostSlot[g] = (int) modelAtoms.size();
            modelAtoms.push_back(ghostOwner[g]);
        }
    const int nall = (int) modelAtoms.size();
    modelCoord.resize(3*nall);
    std::copy(extended.begin(), extended.begin() + 3*n, modelCoord.begin());
    for (int g = 0; g < numGhosts; g++)
        if (ghostSlot[g] >= 0)
            std::copy(extended.begin() + 3*(n+g), extended.begin() + 3*(n+g+1), modelCoord.begin() + 3*ghostSlot[g]);
    modelList.assign((size_t) n * width, -1);
    for (int i = 0; i < n; i++)
        for (int c = 0; c < rowLength[i]; c++) {
            const int e = within[candidateStart[i] + c];
            modelList[(size_t) i*width + c] = (e < n ? e : ghostSlot[e - n]);
        }
    auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
    auto i64 = torch::TensorOptions().dtype(torch::kInt64);
    input.coord = torch::from_blob(modelCoord.data(), {nall, 3}, f64);
    input.atoms = torch::from_blob(modelAtoms.data(), {nall}, i64);
    input.nlist = torch::from_blob(modelList.data(), {n, width}, i64);
    // No pair within the cutoff: the closest is at least the cutoff away.
    input.closestDistance = (closestI < 0 ? cutoff : std::sqrt(closest2));
    input.closestI = closestI;
    input.closestJ = (closestE < 0 ? -1 : closestE < n ? closestE : ghostOwner[closestE - n]);
    return input;
}
