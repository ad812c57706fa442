#include "TorchNeighborList.h"
#include "BoxGeometry.h"
#include "openmm/OpenMMException.h"
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

using namespace SwitchingDPPlugin;
using OpenMM::OpenMMException;
using torch::Tensor;

namespace {

// Upper bounds that keep a pathological input from exhausting memory.
const int MAX_CELLS_PER_AXIS = 128;
const long long MAX_IMAGE_SHIFTS = 20000;
// How many elements the dense work tensors of one step of a build may hold
// ([atoms, 27 cells, atoms per cell] candidates, [shifts, atoms, 3] images); the
// work is split into chunks to stay below it.
const long long WORK_ELEMENTS = 1LL << 22;
// Marks an empty slot while rows are sorted; larger than any index, so it sorts last.
const int64_t NO_ENTRY = std::numeric_limits<int64_t>::max();

/** A small host table as a tensor on a device. */
Tensor table(const std::vector<double>& values, const torch::Device& device) {
    return torch::tensor(values, torch::kFloat64).to(device);
}

Tensor table(const std::vector<int64_t>& values, const torch::Device& device) {
    return torch::tensor(values, torch::kInt64).to(device);
}

} // namespace

TorchNeighborList::TorchNeighborList(double cutoff, double skin) : cutoff(cutoff), skin(skin), range(cutoff + skin) {
}

bool TorchNeighborList::update(const Tensor& positions, const double* box) {
    if (positions.dim() != 2 || positions.size(1) != 3 || positions.scalar_type() != torch::kFloat64)
        throw OpenMMException("SwitchingDPForce: the neighbour list takes positions as an [n, 3] float64 tensor");
    const int n = (int) positions.size(0);
    bool needBuild = (n != numAtoms || (box != nullptr) != periodic || positions.device() != builtPositions.device());
    if (!needBuild && periodic)
        needBuild = !std::equal(builtBox.begin(), builtBox.end(), box);
    if (!needBuild && n > 0) {
        // One reduction and one read back: has any atom moved more than half the skin?
        Tensor moved2 = (positions - builtPositions).square().sum(1).max();
        needBuild = (moved2 > 0.25*skin*skin).item<bool>();
    }
    if (needBuild)
        build(positions, box);
    return needBuild;
}

void TorchNeighborList::build(const Tensor& positions, const double* box) {
    numAtoms = (int) positions.size(0);
    periodic = (box != nullptr);
    builtPositions = positions.clone();
    const torch::Device device = positions.device();
    Tensor local = torch::arange((int64_t) numAtoms, torch::TensorOptions().dtype(torch::kInt64).device(device));
    if (!periodic) {
        atoms = local;
        shifts = boxMatrix = Tensor();
    }
    else {
        std::copy(box, box + 9, builtBox.begin());
        BoxGeometry geometry(box);
        // Rows of boxMatrix are the box vectors, so position = fractional . boxMatrix and the
        // inverse has the reciprocal vectors as its columns.
        std::vector<double> inverse(9);
        double reach[3];  // cutoff + skin in units of the spacing of each pair of opposite faces
        for (int k = 0; k < 3; k++) {
            for (int d = 0; d < 3; d++)
                inverse[3*d + k] = geometry.reciprocal[3*k + d];
            reach[k] = range / geometry.faceSpacing[k];
        }
        boxMatrix = table(std::vector<double>(box, box + 9), device).view({3, 3});
        Tensor fractional = positions.matmul(table(inverse, device).view({3, 3}));
        Tensor wrap = fractional.floor();
        Tensor imageShifts;
        Tensor ghostAtoms = findGhosts(fractional - wrap, reach, imageShifts);
        // Locals are wrapped into the box (shift -wrap); a ghost is the image `shift` of a wrapped atom.
        atoms = torch::cat({local, ghostAtoms});
        shifts = torch::cat({-wrap, imageShifts - wrap.index_select(0, ghostAtoms)});
    }
    numEntries = (int) atoms.size(0);
    candidates = findCandidates(extendedPositions(positions));
}

/**
 * The periodic images (atom, shift), shift != 0, of the wrapped atoms that lie
 * within `reach` face spacings of the box on every axis: beyond that an image is
 * farther than cutoff + skin from every point of the box.  Ordered by (shift,
 * atom), shifts in lexicographic order.
 */
Tensor TorchNeighborList::findGhosts(const Tensor& wrapped, const double* reach, Tensor& imageShifts) const {
    const torch::Device device = wrapped.device();
    const long long n = wrapped.size(0);
    int extent[3];
    long long count = 1;
    for (int k = 0; k < 3; k++) {
        extent[k] = (int) std::ceil(reach[k]);
        count *= 2*extent[k] + 1;
        if (count > MAX_IMAGE_SHIFTS)
            break;
    }
    if (count > MAX_IMAGE_SHIFTS)
        throw OpenMMException("SwitchingDPForce: the periodic box is too small for the model cutoff (" +
                std::to_string(range) + " with skin, in model units): it would need more than " +
                std::to_string(MAX_IMAGE_SHIFTS) + " periodic images per atom. Use a larger box.");
    std::vector<double> values;
    for (int a = -extent[0]; a <= extent[0]; a++)
        for (int b = -extent[1]; b <= extent[1]; b++)
            for (int c = -extent[2]; c <= extent[2]; c++)
                if (a != 0 || b != 0 || c != 0)
                    values.insert(values.end(), {(double) a, (double) b, (double) c});
    const long long numShifts = (long long) values.size() / 3;
    auto i64 = torch::TensorOptions().dtype(torch::kInt64).device(device);
    if (numShifts == 0 || n == 0) {
        imageShifts = torch::zeros({0, 3}, wrapped.options());
        return torch::zeros({0}, i64);
    }
    Tensor shiftTable = table(values, device).view({numShifts, 3});
    Tensor low = table(std::vector<double>{-reach[0], -reach[1], -reach[2]}, device);
    Tensor high = table(std::vector<double>{1 + reach[0], 1 + reach[1], 1 + reach[2]}, device);
    std::vector<Tensor> ghostAtoms, ghostShifts;
    const long long chunk = std::max(1LL, WORK_ELEMENTS / (3*n));
    for (long long first = 0; first < numShifts; first += chunk) {
        Tensor s = shiftTable.narrow(0, first, std::min(chunk, numShifts - first));
        Tensor image = wrapped.unsqueeze(0) + s.unsqueeze(1);           // [shifts, n, 3] fractional
        Tensor inside = ((image >= low) & (image <= high)).all(2);       // [shifts, n]
        Tensor found = inside.nonzero();                                  // (shift, atom), row-major order
        ghostAtoms.push_back(found.select(1, 1));
        ghostShifts.push_back(s.index_select(0, found.select(1, 0)));
    }
    imageShifts = torch::cat(ghostShifts);
    return torch::cat(ghostAtoms);
}

/**
 * Every extended entry within cutoff + skin of each local atom (itself excluded),
 * as a dense [n, Kc] tensor, ascending per row, -1 padded.  Cells are Cartesian,
 * at least cutoff + skin wide, over the bounding box of the extended entries, so
 * the 27 cells around an atom's cell hold all its candidates.
 */
Tensor TorchNeighborList::findCandidates(const Tensor& extended) const {
    const torch::Device device = extended.device();
    auto i64 = torch::TensorOptions().dtype(torch::kInt64).device(device);
    const int64_t n = numAtoms, numExtended = extended.size(0);
    if (n == 0)
        return torch::zeros({0, 0}, i64);

    // The grid, decided on the host from the bounding box (one read back).
    Tensor bounds = torch::stack({std::get<0>(extended.min(0)), std::get<0>(extended.max(0))}).cpu();
    auto b = bounds.accessor<double, 2>();
    std::vector<int64_t> cells(3);
    std::vector<double> lower(3), size(3);
    for (int k = 0; k < 3; k++) {
        double width = b[1][k] - b[0][k];
        cells[k] = (range > 0 ? std::max<int64_t>(1, std::min<int64_t>(MAX_CELLS_PER_AXIS, (int64_t) std::floor(width / range))) : 1);
        lower[k] = b[0][k];
        size[k] = (width > 0 ? width / cells[k] : 1.0);
    }
    const int64_t numCells = cells[0]*cells[1]*cells[2];
    Tensor cellCount = table(cells, device);
    Tensor cellCoord = ((extended - table(lower, device)) / table(size, device)).floor().to(torch::kInt64);
    cellCoord = torch::minimum(cellCoord.clamp_min(0), cellCount - 1);
    auto cellIndex = [&](const Tensor& coord) {  // coord [..., 3] -> flat cell index
        return (coord.select(-1, 0)*cells[1] + coord.select(-1, 1))*cells[2] + coord.select(-1, 2);
    };
    Tensor cell = cellIndex(cellCoord);

    // A dense [cells, cmax] table of the entries in each cell, in index order (stable sort), -1 padded.
    auto sorted = torch::sort(cell, /*stable=*/true, /*dim=*/0, /*descending=*/false);
    Tensor sortedCell = std::get<0>(sorted), order = std::get<1>(sorted);
    Tensor count = torch::bincount(cell, {}, numCells);
    const int64_t cmax = count.max().item<int64_t>();
    Tensor start = count.cumsum(0) - count;
    Tensor rank = torch::arange(numExtended, i64) - start.index_select(0, sortedCell);
    Tensor contents = torch::full({numCells*cmax}, -1, i64);
    contents.index_put_({sortedCell*cmax + rank}, order);
    contents = contents.view({numCells, cmax});

    // The 27 cells around each local atom's cell; those outside the grid are masked.
    std::vector<int64_t> offsets;
    for (int a = -1; a <= 1; a++)
        for (int b2 = -1; b2 <= 1; b2++)
            for (int c = -1; c <= 1; c++)
                offsets.insert(offsets.end(), {a, b2, c});
    Tensor around = cellCoord.narrow(0, 0, n).unsqueeze(1) + table(offsets, device).view({27, 3});  // [n, 27, 3]
    Tensor inGrid = ((around >= 0) & (around < cellCount)).all(2);                                  // [n, 27]
    Tensor aroundCell = torch::where(inGrid, cellIndex(around), 0);

    // Locals in chunks so that the dense [chunk, 27*cmax] candidate tensors stay bounded.
    const int64_t width = 27*cmax, chunk = std::max<int64_t>(1, WORK_ELEMENTS / width);
    const double range2 = range*range;
    std::vector<Tensor> rows;
    int64_t kc = 0;
    for (int64_t first = 0; first < n; first += chunk) {
        const int64_t len = std::min(chunk, n - first);
        Tensor cand = contents.index_select(0, aroundCell.narrow(0, first, len).reshape(-1)).view({len, 27, cmax});
        cand = cand.masked_fill(inGrid.narrow(0, first, len).logical_not().unsqueeze(2), -1).view({len, width});
        Tensor delta = extended.index_select(0, cand.clamp_min(0).view(-1)).view({len, width, 3}) -
                       extended.narrow(0, first, len).unsqueeze(1);
        Tensor self = torch::arange(first, first + len, i64).unsqueeze(1);
        Tensor keep = (cand >= 0) & (cand != self) & (delta.square().sum(2) < range2);
        // Move each row's kept entries to its front (a scatter to their running count), then sort them.
        const int64_t w = keep.sum(1).max().item<int64_t>();
        Tensor column = torch::where(keep, keep.cumsum(1) - 1, w);
        Tensor packed = torch::full({len, w + 1}, NO_ENTRY, i64);
        packed.scatter_(1, column, torch::where(keep, cand, NO_ENTRY));
        rows.push_back(std::get<0>(packed.narrow(1, 0, w).sort(1)));
        kc = std::max(kc, w);
    }
    for (Tensor& r : rows)
        if (r.size(1) < kc)
            r = torch::cat({r, torch::full({r.size(0), kc - r.size(1)}, NO_ENTRY, i64)}, 1);
    Tensor all = torch::cat(rows);
    return all.masked_fill(all == NO_ENTRY, -1);
}

Tensor TorchNeighborList::extendedPositions(const Tensor& positions) const {
    Tensor extended = positions.index_select(0, atoms);
    if (periodic)
        extended = extended + shifts.matmul(boxMatrix);
    return extended;
}

Tensor TorchNeighborList::modelList(const Tensor& extended, double modelCutoff, int minWidth) const {
    const int64_t n = numAtoms, kc = candidates.size(1);
    Tensor list = candidates;
    if (kc > 0) {
        Tensor delta = extended.index_select(0, candidates.clamp_min(0).view(-1)).view({n, kc, 3}) -
                       extended.narrow(0, 0, n).unsqueeze(1);
        list = candidates.masked_fill(delta.square().sum(2) >= modelCutoff*modelCutoff, -1);
    }
    if (minWidth > kc)
        list = torch::cat({list, torch::full({n, minWidth - kc}, -1, list.options())}, 1);
    return list;
}
