#include "TensorNeighborList.h"
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

// How many elements the dense work tensors of one step of a build may hold; the
// work is split into chunks to stay below it.
const long long WORK_ELEMENTS = 1LL << 22;
// Marks an empty slot while rows are sorted; larger than any index, so it sorts last.
const int64_t NO_ENTRY = std::numeric_limits<int64_t>::max();
// Ghost keys pack (atom, shift a, b, c) into one int64 that sorts like the tuple:
// shifts (relative to unwrapped positions) must lie within +-SHIFT_OFFSET.
const int64_t SHIFT_BITS = 11, SHIFT_OFFSET = 1 << (SHIFT_BITS - 1);

Tensor table(const std::vector<double>& values, const torch::Device& device) {
    return torch::tensor(values, torch::kFloat64).to(device);
}

Tensor table(const std::vector<int64_t>& values, const torch::Device& device) {
    return torch::tensor(values, torch::kInt64).to(device);
}

/** Each row's entries where keep is true, ascending, packed to the front and padded with -1; width = longest row. */
Tensor packRows(const Tensor& entries, const Tensor& keep) {
    const int64_t width = (entries.size(0) == 0 || entries.size(1) == 0) ? 0 : keep.sum(1).max().item<int64_t>();
    Tensor sorted = std::get<0>(torch::where(keep, entries, NO_ENTRY).sort(1)).narrow(1, 0, width);
    return sorted.masked_fill(sorted == NO_ENTRY, -1).contiguous();
}

} // namespace

TensorNeighborList::TensorNeighborList(double listCutoff, double skin) : DPNeighborList(listCutoff, skin) {
}

bool TensorNeighborList::update(const Tensor& newPositions, const double* box) {
    if (newPositions.dim() != 2 || newPositions.size(1) != 3 || newPositions.scalar_type() != torch::kFloat64)
        throw OpenMMException("SwitchingDPForce: the neighbour list takes positions as an [n, 3] float64 tensor");
    positions = newPositions;
    const int n = (int) positions.size(0);
    bool needBuild = (n != numAtoms || (box != nullptr) != periodic || positions.device() != builtPositions.device());
    if (!needBuild && periodic)
        needBuild = !std::equal(builtBox.begin(), builtBox.end(), box);
    if (!needBuild && n > 0) {
        Tensor moved2 = (positions - builtPositions).square().sum(1).max();
        needBuild = (moved2 > 0.25*skin*skin).item<bool>();
    }
    if (needBuild)
        build(positions, box);
    return needBuild;
}

void TensorNeighborList::build(const Tensor& positions, const double* box) {
    builds++;
    numAtoms = (int) positions.size(0);
    periodic = (box != nullptr);
    builtPositions = positions.clone();
    const torch::Device device = positions.device();
    auto i64 = torch::TensorOptions().dtype(torch::kInt64).device(device);
    const int64_t n = numAtoms;
    Tensor local = torch::arange(n, i64);
    if (!periodic) {
        builtBox.fill(0.0);
        atoms = local;
        shifts = torch::zeros({0, 3}, positions.options());
        candidates = findCandidates(positions, n);
        return;
    }
    std::copy(box, box + 9, builtBox.begin());
    BoxGeometry geometry(box);
    // position = fractional . boxRows, so the inverse has the reciprocal vectors as columns.
    std::vector<double> inverse(9);
    double reach[3];  // cutoff + skin in units of the spacing of each pair of opposite faces
    for (int k = 0; k < 3; k++) {
        for (int d = 0; d < 3; d++)
            inverse[3*d + k] = geometry.reciprocal[3*k + d];
        reach[k] = (listCutoff + skin) / geometry.faceSpacing[k];
    }
    boxRows = table(std::vector<double>(box, box + 9), device).view({3, 3});
    Tensor fractional = positions.matmul(table(inverse, device).view({3, 3}));  // [n, 3]
    Tensor wrap = fractional.floor();
    Tensor wrapped = positions - wrap.matmul(boxRows);

    // Wrapped space: the wrapped atoms, then their images near the box.
    Tensor imageShifts;
    Tensor imageAtoms = findImages(fractional - wrap, reach, imageShifts);
    Tensor entries = torch::cat({wrapped, wrapped.index_select(0, imageAtoms) + imageShifts.matmul(boxRows)});
    Tensor entryAtom = torch::cat({local, imageAtoms});
    Tensor entryShift = torch::cat({torch::zeros({n, 3}, positions.options()), imageShifts});
    Tensor cand = findCandidates(entries, n);  // [n, Kc] wrapped-space entries, -1 padded
    const int64_t kc = cand.size(1);
    if (kc == 0) {
        atoms = local;
        shifts = torch::zeros({0, 3}, positions.options());
        candidates = cand;
        return;
    }

    // Relative to the unwrapped positions, entry e seen from atom i is atom a_e with
    // shift s_e - wrap_{a_e} + wrap_i.
    Tensor valid = cand >= 0;
    Tensor e = cand.clamp_min(0);
    Tensor a = entryAtom.index_select(0, e.view(-1)).view({n, kc});
    Tensor s = (entryShift.index_select(0, e.view(-1)).view({n, kc, 3}) - wrap.index_select(0, a.view(-1)).view({n, kc, 3}) +
                wrap.unsqueeze(1)).round().to(torch::kInt64);
    if (s.numel() > 0 && s.abs().max().item<int64_t>() >= SHIFT_OFFSET)
        throw OpenMMException("SwitchingDPForce: atoms are more than " + std::to_string(SHIFT_OFFSET) +
                " box lengths apart in unwrapped coordinates; wrap the positions into the box");
    Tensor isGhost = valid & (s != 0).any(2);
    const int64_t base = 1LL << SHIFT_BITS;
    Tensor key = a;
    for (int k = 0; k < 3; k++)
        key = key * base + (s.select(2, k) + SHIFT_OFFSET);
    Tensor ghostKeys = key.masked_select(isGhost);
    auto unique = torch::_unique2(ghostKeys, /*sorted=*/true, /*return_inverse=*/true);
    Tensor keys = std::get<0>(unique), inverseIndex = std::get<1>(unique);
    std::vector<Tensor> shiftColumns(3);
    Tensor rest = keys;
    for (int k = 2; k >= 0; k--) {
        shiftColumns[k] = torch::remainder(rest, base) - SHIFT_OFFSET;
        rest = torch::div(rest, base, "floor");
    }
    atoms = torch::cat({local, rest});
    shifts = torch::stack(shiftColumns, 1).to(torch::kFloat64);
    Tensor extendedIndex = a.clone();  // locals keep their atom index
    extendedIndex.masked_scatter_(isGhost, inverseIndex + n);
    candidates = packRows(extendedIndex, valid);
}

/**
 * The periodic images (atom, shift), shift != 0, of the wrapped atoms (fractional
 * coordinates in [0, 1)) that lie within `reach` face spacings of the box on every
 * axis: beyond that an image is farther than cutoff + skin from every point of it.
 */
Tensor TensorNeighborList::findImages(const Tensor& wrapped, const double* reach, Tensor& imageShifts) const {
    const torch::Device device = wrapped.device();
    const long long n = wrapped.size(0);
    int extent[3];
    long long count = 1;
    for (int k = 0; k < 3; k++) {
        extent[k] = (int) std::min<double>(std::ceil(reach[k]), (double) NeighborListLimits::MAX_IMAGE_SHIFTS);
        count *= 2*extent[k] + 1;
        if (count > NeighborListLimits::MAX_IMAGE_SHIFTS)
            throw OpenMMException("SwitchingDPForce: the periodic box is too small for the model cutoff (" +
                    std::to_string(listCutoff + skin) + " with skin, in model units): it would need more than " +
                    std::to_string(NeighborListLimits::MAX_IMAGE_SHIFTS) + " periodic images per atom. Use a larger box.");
    }
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
    std::vector<Tensor> imageAtoms, shiftsFound;
    const long long chunk = std::max(1LL, WORK_ELEMENTS / (3*n));
    for (long long first = 0; first < numShifts; first += chunk) {
        Tensor s = shiftTable.narrow(0, first, std::min(chunk, numShifts - first));
        Tensor image = wrapped.unsqueeze(0) + s.unsqueeze(1);       // [shifts, n, 3] fractional
        Tensor inside = ((image >= low) & (image <= high)).all(2);   // [shifts, n]
        Tensor found = inside.nonzero();                              // (shift, atom)
        imageAtoms.push_back(found.select(1, 1));
        shiftsFound.push_back(s.index_select(0, found.select(1, 0)));
    }
    imageShifts = torch::cat(shiftsFound);
    return torch::cat(imageAtoms);
}

/**
 * Every entry within cutoff + skin of each of the first numLocal entries (itself
 * excluded), as a dense [numLocal, Kc] tensor, ascending per row, -1 padded.  Cells
 * are Cartesian, at least cutoff + skin wide, over the bounding box of the entries,
 * so the 27 cells around an atom's cell hold all its candidates.
 */
Tensor TensorNeighborList::findCandidates(const Tensor& entries, int64_t numLocal) const {
    const torch::Device device = entries.device();
    auto i64 = torch::TensorOptions().dtype(torch::kInt64).device(device);
    const int64_t n = numLocal, numEntries = entries.size(0);
    const double range = listCutoff + skin;
    if (n == 0)
        return torch::zeros({0, 0}, i64);

    // The grid, decided on the host from the bounding box (one read back).
    Tensor bounds = torch::stack({std::get<0>(entries.min(0)), std::get<0>(entries.max(0))}).cpu();
    auto b = bounds.accessor<double, 2>();
    std::vector<int64_t> cells(3);
    std::vector<double> lower(3), size(3);
    for (int k = 0; k < 3; k++) {
        double width = b[1][k] - b[0][k];
        cells[k] = (range > 0 ? std::max<int64_t>(1, std::min<int64_t>(NeighborListLimits::MAX_CELLS_PER_AXIS,
                                                                       (int64_t) std::floor(width / range))) : 1);
        lower[k] = b[0][k];
        size[k] = (width > 0 ? width / cells[k] : 1.0);
    }
    const int64_t numCells = cells[0]*cells[1]*cells[2];
    Tensor cellCount = table(cells, device);
    Tensor cellCoord = ((entries - table(lower, device)) / table(size, device)).floor().to(torch::kInt64);
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
    Tensor rank = torch::arange(numEntries, i64) - start.index_select(0, sortedCell);
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
        Tensor delta = entries.index_select(0, cand.clamp_min(0).view(-1)).view({len, width, 3}) -
                       entries.narrow(0, first, len).unsqueeze(1);
        Tensor self = torch::arange(first, first + len, i64).unsqueeze(1);
        Tensor keep = (cand >= 0) & (cand != self) & (delta.square().sum(2) < range2);
        rows.push_back(packRows(cand, keep));
        kc = std::max(kc, rows.back().size(1));
    }
    for (Tensor& r : rows)
        if (r.size(1) < kc)
            r = torch::cat({r, torch::full({r.size(0), kc - r.size(1)}, -1, i64)}, 1);
    return torch::cat(rows);
}

Tensor TensorNeighborList::extendedCoordinates() const {
    const int64_t n = numAtoms, numGhosts = atoms.size(0) - n;
    // Ghost coordinates from the current positions, in the documented order of operations.
    Tensor extended = positions;
    if (numGhosts > 0) {
        Tensor ghosts = positions.index_select(0, atoms.narrow(0, n, numGhosts));
        for (int k = 0; k < 3; k++)
            ghosts = ghosts + shifts.narrow(1, k, 1) * boxRows.narrow(0, k, 1);
        extended = torch::cat({positions, ghosts});
    }
    return extended;
}

const DPModelInput& TensorNeighborList::unpackedModelInput(double cutoff) {
    const int64_t n = numAtoms;
    Tensor extended = extendedCoordinates();
    input.coord = extended;
    input.atoms = atoms;
    if (candidates.size(1) == 0) {
        input.nlist = candidates;
        return input;
    }
    Tensor delta = extended.index_select(0, candidates.clamp_min(0).view(-1)).view({n, candidates.size(1), 3}) -
            positions.unsqueeze(1);
    input.nlist = candidates.masked_fill((candidates < 0).logical_or(delta.square().sum(2) >= cutoff*cutoff), -1);
    return input;
}

const DPModelInput& TensorNeighborList::modelInput(double cutoff) {
    const int64_t n = numAtoms, numGhosts = atoms.size(0) - n;
    auto i64 = torch::TensorOptions().dtype(torch::kInt64).device(positions.device());
    Tensor extended = extendedCoordinates();
    const int64_t kc = candidates.size(1);
    if (kc == 0) {
        input.coord = positions;
        input.atoms = atoms.narrow(0, 0, n);
        input.nlist = torch::zeros({n, 0}, i64);
        return input;
    }
    Tensor e = candidates.clamp_min(0);
    Tensor delta = extended.index_select(0, e.view(-1)).view({n, kc, 3}) - positions.unsqueeze(1);
    Tensor keep = (candidates >= 0) & (delta.square().sum(2) < cutoff*cutoff);
    Tensor list = packRows(candidates, keep);
    // Only the ghosts this model uses, renumbered in order.
    Tensor used = torch::zeros({n + numGhosts}, i64);
    used.narrow(0, 0, n).fill_(1);
    used.index_fill_(0, list.masked_select(list >= n), 1);
    Tensor newIndex = used.cumsum(0) - 1;
    Tensor keepEntries = used.nonzero().view(-1);
    input.coord = extended.index_select(0, keepEntries);
    input.atoms = atoms.index_select(0, keepEntries);
    input.nlist = torch::where(list >= 0, newIndex.index_select(0, list.clamp_min(0).reshape(-1)).view_as(list), list);
    return input;
}
