// The cell-list neighbour list against a brute-force search over periodic images,
// for cubic, triclinic, small and non-periodic boxes.
#include "NeighborList.h"
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <set>
#include <stdexcept>
#include <tuple>
#include <vector>
#include "TestHelpers.h"

using namespace SwitchingDPPlugin;
using namespace TestHelpers;
typedef std::set<std::tuple<int, int, long long>> PairSet;  // (i, j, rounded distance)

static void compare(const std::vector<double>& pos, const double* box, double cutoff, double skin, const char* label) {
    NeighborList list(cutoff, skin);
    list.update(pos, box);
    std::vector<double> ext;
    list.extendedPositions(pos, box, ext);
    std::vector<long long> nlist;
    std::vector<int> used;
    int width = list.modelList(ext, cutoff, 0, nlist, used);
    // Index the model's compact extended array like the engine does.
    std::vector<double> compact(ext.begin(), ext.begin() + pos.size());
    for (int g : used)
        compact.insert(compact.end(), ext.begin() + pos.size() + 3*g, ext.begin() + pos.size() + 3*g + 3);
    std::vector<int> compactOwner;
    for (int g : used)
        compactOwner.push_back(list.getGhostOwners()[g]);
    ext = compact;
    int n = pos.size() / 3;
    for (int i = 0; i < n; i++) {
        std::multiset<std::pair<int, long long>> found;
        for (int c = 0; c < width; c++) {
            long long e = nlist[i*width + c];
            if (e < 0)
                continue;
            double d2 = 0;
            for (int k = 0; k < 3; k++)
                d2 += (ext[3*e+k] - ext[3*i+k]) * (ext[3*e+k] - ext[3*i+k]);
            int owner = e < n ? (int) e : compactOwner[e - n];
            found.insert({owner, std::llround(std::sqrt(d2) * 1e9)});
        }
        std::multiset<std::pair<int, long long>> expected;
        for (const auto& neighbor : bruteForceNeighbors(pos, box, cutoff, i))
            expected.insert({neighbor.first, std::llround(neighbor.second * 1e9)});
        if (found != expected) {
            std::printf("%s: atom %d has %zu neighbours, brute force %zu\n", label, i, found.size(), expected.size());
            throw std::runtime_error("neighbour list differs from brute force");
        }
    }
}

int main() {
    try {
        std::mt19937 rng(7);
        std::uniform_real_distribution<double> uniform(-1.0, 1.0);
        for (const NeighborListCase& c : neighborListCases()) {
            std::vector<double> pos(3*c.numAtoms);
            for (int i = 0; i < c.numAtoms; i++)
                for (int k = 0; k < 3; k++)
                    pos[3*i+k] = 15.0 * uniform(rng);  // outside the box too: unwrapped coordinates
            const double* box = c.box.empty() ? nullptr : c.box.data();
            compare(pos, box, c.cutoff, 1.0, c.label);
            // Move atoms a little (less than half the skin): the list is reused and must stay exact.
            NeighborList list(c.cutoff, 1.0);
            check(list.update(pos, box), "first update builds");
            for (double& x : pos)
                x += 0.2 * uniform(rng);
            check(!list.update(pos, box), "small moves reuse the list");
            compare(pos, box, c.cutoff, 1.0, c.label);
            pos[0] += 0.8;
            check(list.update(pos, box), "a move beyond half the skin rebuilds");
        }
        // Canonical order: two lists built at different times give identical model lists.
        std::vector<double> box = {10.0, 0, 0, 0, 10.0, 0, 0, 0, 10.0}, pos(150);
        for (double& x : pos)
            x = 5.0 * uniform(rng);
        NeighborList early(4.0, 1.0), late(4.0, 1.0);
        early.update(pos, box.data());
        for (double& x : pos)
            x += 0.2 * uniform(rng);
        late.update(pos, box.data());
        std::vector<double> extEarly, extLate;
        early.extendedPositions(pos, box.data(), extEarly);
        late.extendedPositions(pos, box.data(), extLate);
        std::vector<long long> listEarly, listLate;
        std::vector<int> usedEarly, usedLate;
        early.modelList(extEarly, 4.0, 0, listEarly, usedEarly);
        late.modelList(extLate, 4.0, 0, listLate, usedLate);
        auto resolve = [&](const std::vector<long long>& nl, const std::vector<int>& used, const std::vector<double>& ext) {
            std::vector<double> out;  // neighbour coordinates, in list order
            int n = pos.size() / 3;
            for (long long e : nl)
                for (int k = 0; k < 3; k++)
                    out.push_back(e < 0 ? 0.0 : e < n ? ext[3*e+k] : ext[3*(n + used[e-n])+k]);
            return out;
        };
        check(resolve(listEarly, usedEarly, extEarly) == resolve(listLate, usedLate, extLate),
              "lists built at different times agree bit for bit");
        check(listEarly == listLate, "compact indices agree too");
    }
    catch (const std::exception& e) {
        std::printf("FAIL: %s\n", e.what());
        return 1;
    }
    std::printf("Done\n");
    return 0;
}
