// Small helpers shared by the C++ tests: assertions, the bundled water, and the
// brute-force neighbour search the neighbour lists are checked against.
#ifndef SWITCHINGDP_TEST_HELPERS_H_
#define SWITCHINGDP_TEST_HELPERS_H_

#include "openmm/Vec3.h"
#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace TestHelpers {

inline void check(bool condition, const std::string& what) {
    if (!condition)
        throw std::runtime_error(what);
}

struct Water {
    std::vector<OpenMM::Vec3> positions;  // nm
    std::vector<std::string> elements;
    double box = 0;                       // nm, cubic
};

// Just enough PDB reading for the bundled water.pdb (WATER_PDB, set by CMake).
inline Water readWater() {
    std::ifstream in(WATER_PDB);
    check(in.good(), "cannot open " WATER_PDB);
    Water water;
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("CRYST1", 0) == 0)
            water.box = std::stod(line.substr(6, 9)) / 10;
        if (line.rfind("ATOM", 0) == 0 || line.rfind("HETATM", 0) == 0) {
            water.positions.push_back(OpenMM::Vec3(std::stod(line.substr(30, 8)), std::stod(line.substr(38, 8)),
                                                   std::stod(line.substr(46, 8))) / 10);
            std::istringstream element(line.substr(76, 2));
            std::string symbol;
            element >> symbol;
            water.elements.push_back(symbol);
        }
    }
    return water;
}

/**
 * (atom, distance) of every image of every atom within `cutoff` of atom i, sorted,
 * found by trying all images in a generous range.  pos: 3n coordinates; box: 9
 * numbers (rows = vectors) or nullptr.
 */
inline std::vector<std::pair<int, double>> bruteForceNeighbors(const std::vector<double>& pos, const double* box,
                                                               double cutoff, int i) {
    std::vector<std::pair<int, double>> out;
    int n = (int) pos.size() / 3, range = 0;
    if (box) {
        // Enough images to cover the coordinate span (+-15) plus the cutoff across the thinnest box width.
        double thinnest = std::min(box[0], std::min(box[4], box[8])) * 0.8;
        range = (int) std::ceil((30.0 + cutoff) / thinnest) + 1;
    }
    for (int j = 0; j < n; j++)
        for (int a = -range; a <= range; a++)
            for (int b = -range; b <= range; b++)
                for (int c = -range; c <= range; c++) {
                    if (j == i && a == 0 && b == 0 && c == 0)
                        continue;
                    double d2 = 0;
                    for (int k = 0; k < 3; k++) {
                        double d = pos[3*j+k] - pos[3*i+k] + (box ? a*box[k] + b*box[3+k] + c*box[6+k] : 0.0);
                        d2 += d*d;
                    }
                    if (d2 < cutoff*cutoff)
                        out.push_back({j, std::sqrt(d2)});
                }
    std::sort(out.begin(), out.end());
    return out;
}

/** A box (9 numbers, rows = vectors; empty: not periodic), a cutoff and an atom count. */
struct NeighborListCase {
    const char* label;
    std::vector<double> box;
    double cutoff;
    int numAtoms;
};

/** The boxes both neighbour lists are checked on (lengths in A). */
inline std::vector<NeighborListCase> neighborListCases() {
    return {
        {"cubic", {12.4, 0, 0, 0, 12.4, 0, 0, 0, 12.4}, 6.0, 120},
        {"triclinic", {12.0, 0, 0, 3.0, 11.0, 0, -2.5, 4.0, 10.0}, 5.0, 120},
        {"smaller than the cutoff", {4.0, 0, 0, 1.0, 4.5, 0, 0.5, -1.5, 5.0}, 6.0, 10},
        {"non-periodic", {}, 6.0, 80},
    };
}

} // namespace TestHelpers

#endif
