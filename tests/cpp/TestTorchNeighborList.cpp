// The tensor neighbour list (TorchNeighborList, on CPU tensors here) against a
// brute-force search over periodic images, for cubic, triclinic, small and
// non-periodic boxes, with reuse inside half the skin and rebuilds beyond it.
#include "TorchNeighborList.h"
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>
#include "TestHelpers.h"

using namespace SwitchingDPPlugin;
using namespace TestHelpers;
typedef std::vector<std::pair<int, double>> Neighbors;  // (atom, distance), sorted

static torch::Tensor toTensor(const std::vector<double>& pos) {
    return torch::tensor(pos, torch::kFloat64).view({-1, 3});
}

// The list's structure: candidates ascending per row with -1 only at the end, and
// extended positions equal to pos[a] + t . box with the local atoms wrapped into the box.
static void checkStructure(const TorchNeighborList& list, const std::vector<double>& pos, const double* box,
                           const std::string& label) {
    int n = (int) pos.size() / 3;
    torch::Tensor cand = list.getCandidates();
    check(cand.size(0) == n, label + ": one candidate row per atom");
    auto c = cand.accessor<int64_t, 2>();
    for (int i = 0; i < n; i++)
        for (int k = 1; k < cand.size(1); k++)
            check(c[i][k] == -1 ? true : (c[i][k-1] >= 0 && c[i][k-1] < c[i][k]), label + ": rows ascending, -1 padded at the end");
    torch::Tensor ext = list.extendedPositions(toTensor(pos));
    torch::Tensor atoms = list.getExtendedAtoms();
    check(ext.size(0) == list.numExtended() && atoms.size(0) == list.numExtended(), label + ": extended sizes");
    check(torch::equal(atoms.narrow(0, 0, n), torch::arange(n, torch::kInt64)), label + ": locals first, in atom order");
    if (box) {
        torch::Tensor b = torch::tensor(std::vector<double>(box, box + 9), torch::kFloat64).view({3, 3});
        torch::Tensor expected = toTensor(pos).index_select(0, atoms) + list.getExtendedShifts().matmul(b);
        check(torch::allclose(ext, expected, 0, 1e-12), label + ": extended = pos[a] + t . box");
        torch::Tensor fractional = ext.narrow(0, 0, n).matmul(b.inverse());
        check((fractional > -1e-9).all().item<bool>() && (fractional < 1 + 1e-9).all().item<bool>(),
              label + ": local atoms wrapped into the box at build time");
    }
    else
        check(list.numExtended() == n, label + ": no ghosts without periodicity");
}

// The model list of `cutoff` resolved to (owner atom, distance) per atom, against brute force.
static void compare(const TorchNeighborList& list, const std::vector<double>& pos, const double* box, double cutoff,
                    int minWidth, const std::string& label, int stride = 1) {
    int n = (int) pos.size() / 3;
    torch::Tensor ext = list.extendedPositions(toTensor(pos));
    torch::Tensor nlist = list.modelList(ext, cutoff, minWidth);
    check(nlist.size(0) == n && nlist.size(1) >= minWidth && nlist.size(1) >= list.getCandidates().size(1),
          label + ": width = max(Kc, minWidth)");
    auto e = ext.accessor<double, 2>();
    auto l = nlist.accessor<int64_t, 2>();
    auto owner = list.getExtendedAtoms().accessor<int64_t, 1>();
    for (int i = 0; i < n; i += stride) {
        Neighbors found;
        for (int k = 0; k < nlist.size(1); k++) {
            int64_t j = l[i][k];
            if (j < 0)
                continue;
            double d2 = 0;
            for (int d = 0; d < 3; d++)
                d2 += (e[j][d] - e[i][d]) * (e[j][d] - e[i][d]);
            found.push_back({(int) owner[j], std::sqrt(d2)});
        }
        std::sort(found.begin(), found.end());
        Neighbors expected = bruteForceNeighbors(pos, box, cutoff, i);
        bool same = (found.size() == expected.size());
        for (size_t k = 0; same && k < found.size(); k++)
            same = (found[k].first == expected[k].first && std::fabs(found[k].second - expected[k].second) < 1e-9);
        if (!same) {
            std::printf("%s: atom %d has %zu neighbours, brute force %zu\n", label.c_str(), i, found.size(), expected.size());
            throw std::runtime_error(label + ": neighbour list differs from brute force");
        }
    }
}

int main() {
    try {
        torch::manual_seed(3);
        std::mt19937 rng(7);
        std::uniform_real_distribution<double> uniform(-1.0, 1.0);
        const double skin = 1.0;
        for (const NeighborListCase& c : neighborListCases()) {
            std::vector<double> pos(3*c.numAtoms);
            for (double& x : pos)
                x = 15.0 * uniform(rng);  // outside the box too: unwrapped coordinates
            const double* box = c.box.empty() ? nullptr : c.box.data();
            TorchNeighborList list(c.cutoff, skin);
            check(list.update(toTensor(pos), box), std::string(c.label) + ": first update builds");
            checkStructure(list, pos, box, c.label);
            // The full list range (cutoff + skin) and each model's cutoff, with and without extra width.
            compare(list, pos, box, c.cutoff + skin, 0, c.label);
            compare(list, pos, box, c.cutoff, 0, c.label);
            compare(list, pos, box, c.cutoff - 2.0, 0, std::string(c.label) + " (shorter model cutoff)");
            compare(list, pos, box, c.cutoff, 400, std::string(c.label) + " (padded)");
            // Moves below half the skin: the list is reused and must stay exact.
            for (double& x : pos)
                x += 0.28 * uniform(rng);
            check(!list.update(toTensor(pos), box), std::string(c.label) + ": small moves reuse the list");
            compare(list, pos, box, c.cutoff, 0, std::string(c.label) + " (reused)");
            // The same positions again give the same list whenever it was built.
            TorchNeighborList fresh(c.cutoff, skin);
            fresh.update(toTensor(pos), box);
            compare(fresh, pos, box, c.cutoff, 0, std::string(c.label) + " (rebuilt)");
            TorchNeighborList again(c.cutoff, skin);
            again.update(toTensor(pos), box);
            check(torch::equal(fresh.getCandidates(), again.getCandidates()) &&
                  torch::equal(fresh.getExtendedAtoms(), again.getExtendedAtoms()), std::string(c.label) + ": deterministic");
            // One atom beyond half the skin: rebuild.
            pos[0] += 1.2;
            check(list.update(toTensor(pos), box), std::string(c.label) + ": a move beyond half the skin rebuilds");
            compare(list, pos, box, c.cutoff, 0, std::string(c.label) + " (after rebuild)");
            if (box) {
                std::vector<double> bigger(c.box);
                bigger[0] += 0.01;
                check(list.update(toTensor(pos), bigger.data()), std::string(c.label) + ": a new box rebuilds");
                compare(list, pos, bigger.data(), c.cutoff, 0, std::string(c.label) + " (new box)");
            }
        }
        // Enough atoms that the candidate search runs in several chunks (checked on a sample of atoms).
        {
            std::vector<double> box = {30.0, 0, 0, 5.0, 28.0, 0, -4.0, 6.0, 29.0}, pos(3*3000);
            for (double& x : pos)
                x = 16.0 + 18.0 * uniform(rng);
            TorchNeighborList list(6.0, 1.0);
            list.update(toTensor(pos), box.data());
            checkStructure(list, pos, box.data(), "large");
            compare(list, pos, box.data(), 6.0, 0, "large", 37);
        }
        // A single atom in a tiny box sees only its own images.
        {
            std::vector<double> box = {2.0, 0, 0, 0, 2.0, 0, 0, 0, 2.0}, pos = {0.3, -0.4, 5.1};
            TorchNeighborList list(3.0, 0.5);
            list.update(toTensor(pos), box.data());
            compare(list, pos, box.data(), 3.0, 0, "single atom");
        }
    }
    catch (const std::exception& e) {
        std::printf("FAIL: %s\n", e.what());
        return 1;
    }
    std::printf("Done\n");
    return 0;
}
