// Both DPNeighborList implementations (the host cell list and the tensor list, on
// CPU tensors) against a brute-force search over periodic images, for cubic,
// triclinic, small and non-periodic boxes, with unwrapped coordinates; reuse and
// rebuild rules; the documented canonical order; and the two give identical model
// input (coordinates, atoms, neighbour lists) element by element.
#include "HostNeighborList.h"
#include "TensorNeighborList.h"
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>
#include "TestHelpers.h"

using namespace SwitchingDPPlugin;
using namespace TestHelpers;

static std::unique_ptr<DPNeighborList> makeList(bool tensor, double cutoff, double skin) {
    if (tensor)
        return std::make_unique<TensorNeighborList>(cutoff, skin);
    return std::make_unique<HostNeighborList>(cutoff, skin);
}

static torch::Tensor asTensor(const std::vector<double>& pos) {
    return torch::tensor(pos, torch::kFloat64).view({-1, 3});
}

/** A model input against brute force: each atom's neighbours (owner, distance) within the cutoff. */
static void checkAgainstBruteForce(const DPModelInput& input, const std::vector<double>& pos, const double* box,
                                   double cutoff, const std::string& label) {
    const int n = (int) pos.size() / 3;
    torch::Tensor coord = input.coord.contiguous(), atoms = input.atoms.contiguous(), nlist = input.nlist.contiguous();
    const double* x = coord.data_ptr<double>();
    const int64_t* owner = atoms.data_ptr<int64_t>();
    const int64_t* list = nlist.data_ptr<int64_t>();
    const int width = (int) nlist.size(1);
    check(nlist.size(0) == n, label + ": one row per atom");
    for (int i = 0; i < n; i++) {
        check(owner[i] == i, label + ": locals come first, in order");
        for (int k = 0; k < 3; k++)
            check(x[3*i+k] == pos[3*i+k], label + ": locals at their given positions");
        std::multiset<std::pair<int, long long>> found;
        long long previous = -1;
        bool padding = false;
        for (int c = 0; c < width; c++) {
            long long e = list[i*width + c];
            if (e < 0) {
                padding = true;
                continue;
            }
            check(!padding && e > previous, label + ": rows ascending, padding last");
            previous = e;
            double d2 = 0;
            for (int k = 0; k < 3; k++)
                d2 += (x[3*e+k] - x[3*i+k]) * (x[3*e+k] - x[3*i+k]);
            found.insert({(int) owner[e], std::llround(std::sqrt(d2) * 1e9)});
        }
        std::multiset<std::pair<int, long long>> expected;
        for (const auto& neighbor : bruteForceNeighbors(pos, box, cutoff, i))
            expected.insert({neighbor.first, std::llround(neighbor.second * 1e9)});
        if (found != expected) {
            std::printf("%s: atom %d has %zu neighbours, brute force %zu\n", label.c_str(), i, found.size(), expected.size());
            throw std::runtime_error(label + ": neighbour list differs from brute force");
        }
    }
    // Every ghost is used by some row (a model carries only the ghosts it needs).
    std::vector<bool> used(coord.size(0), false);
    for (int c = 0; c < n*width; c++)
        if (list[c] >= 0)
            used[list[c]] = true;
    for (int64_t e = n; e < coord.size(0); e++)
        check(used[e], label + ": every ghost is used");
}

static void checkIdentical(const DPModelInput& a, const DPModelInput& b, const std::string& label) {
    check(a.coord.sizes() == b.coord.sizes() && torch::equal(a.coord, b.coord), label + ": same extended coordinates");
    check(torch::equal(a.atoms, b.atoms), label + ": same extended atoms");
    check(a.nlist.sizes() == b.nlist.sizes() && torch::equal(a.nlist, b.nlist), label + ": same neighbour lists");
}

int main() {
    try {
        std::mt19937 rng(7);
        std::uniform_real_distribution<double> uniform(-1.0, 1.0);
        const double skin = 1.0;
        for (const NeighborListCase& c : neighborListCases()) {
            std::vector<double> pos(3*c.numAtoms);
            for (int i = 0; i < c.numAtoms; i++)
                for (int k = 0; k < 3; k++)
                    pos[3*i+k] = 15.0 * uniform(rng);  // outside the box too: unwrapped coordinates
            const double* box = c.box.empty() ? nullptr : c.box.data();
            std::unique_ptr<DPNeighborList> lists[2] = {makeList(false, c.cutoff, skin), makeList(true, c.cutoff, skin)};
            for (int t = 0; t < 2; t++)
                check(lists[t]->update(asTensor(pos), box), "first update builds");
            // The list's own cutoff and a shorter one (the fast model's).
            for (double cutoff : {c.cutoff, 0.6 * c.cutoff}) {
                std::string label = std::string(c.label) + ", cutoff " + std::to_string(cutoff);
                for (int t = 0; t < 2; t++)
                    checkAgainstBruteForce(lists[t]->modelInput(cutoff), pos, box, cutoff, label + (t ? ", tensor" : ", host"));
                checkIdentical(lists[0]->modelInput(cutoff), lists[1]->modelInput(cutoff), label);
            }
            // Small moves (below half the skin) reuse the list, which stays exact.
            for (double& x : pos)
                x += 0.2 * uniform(rng);
            for (int t = 0; t < 2; t++) {
                check(!lists[t]->update(asTensor(pos), box), "small moves reuse the list");
                checkAgainstBruteForce(lists[t]->modelInput(c.cutoff), pos, box, c.cutoff, std::string(c.label) + ", moved");
            }
            checkIdentical(lists[0]->modelInput(c.cutoff), lists[1]->modelInput(c.cutoff), std::string(c.label) + ", moved");
            // Canonical order: a list built now gives the same input as the reused one.
            std::unique_ptr<DPNeighborList> fresh = makeList(false, c.cutoff, skin);
            fresh->update(asTensor(pos), box);
            checkIdentical(fresh->modelInput(c.cutoff), lists[1]->modelInput(c.cutoff), std::string(c.label) + ", fresh vs reused");
            pos[0] += 0.8;
            for (int t = 0; t < 2; t++) {
                check(lists[t]->update(asTensor(pos), box), "a move beyond half the skin rebuilds");
                check(lists[t]->getNumBuilds() == 2, "two builds");
            }
            checkIdentical(lists[0]->modelInput(c.cutoff), lists[1]->modelInput(c.cutoff), std::string(c.label) + ", rebuilt");
            std::printf("  %s: both lists match brute force and each other\n", c.label);
        }
    }
    catch (const std::exception& e) {
        std::printf("FAIL: %s\n", e.what());
        return 1;
    }
    std::printf("Done\n");
    return 0;
}
