// The one engine with each of its neighbour lists, both on CPU tensors: the host
// cell list (Reference, CPU and OpenCL platforms) and the tensor list (CUDA) give
// the model the same input, so energies and forces agree bit for bit, for both
// bundled models, periodic (cubic and triclinic) and not, for the whole system and
// a subset, after moves that reuse the list and moves that force a rebuild; and
// caching, evaluation counts and errors.  No GPU needed.
#include "SwitchingDPEngine.h"
#include "DPModelInfo.h"
#include "openmm/OpenMMException.h"
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>
#include "TestHelpers.h"

using namespace SwitchingDPPlugin;
using namespace TestHelpers;
using OpenMM::Vec3;

/** The engine twice over the same particles: with the host list and with the tensor list. */
struct Engines {
    Engines(const std::vector<std::string>& types, const std::vector<int>& particles, bool periodic, double skin,
            const std::array<std::string, 2>& files = labels()) :
            host(read(files), files, types, particles, periodic, skin, torch::kCPU, SwitchingDPEngine::HostList),
            tensor(read(files), files, types, particles, periodic, skin, torch::kCPU, SwitchingDPEngine::TensorList) {
    }
    static std::array<std::string, 2> read(const std::array<std::string, 2>& files) {
        return {readModelFile(files[0]), readModelFile(files[1])};
    }
    static std::array<std::string, 2> contents() {
        return {readModelFile(ACCURATE_MODEL), readModelFile(FAST_MODEL)};
    }
    static std::array<std::string, 2> labels() {
        return {ACCURATE_MODEL, FAST_MODEL};
    }
    long long builds() const {
        check(host.getNeighborList().getNumBuilds() == tensor.getNeighborList().getNumBuilds(), "both lists rebuild together");
        return tensor.getNeighborList().getNumBuilds();
    }
    SwitchingDPEngine host, tensor;
};

static torch::Tensor subsetTensor(const std::vector<Vec3>& all, const std::vector<int>& particles) {
    std::vector<double> values;
    for (int p : particles)
        values.insert(values.end(), {all[p][0], all[p][1], all[p][2]});
    return torch::tensor(values, torch::kFloat64).view({-1, 3});
}

// Both models at one configuration: identical energies and forces from both lists.
static void compare(Engines& engines, const std::vector<Vec3>& all, const Vec3* box, const std::string& label) {
    const std::vector<int>& particles = engines.host.getParticles();
    torch::Tensor positions = subsetTensor(all, particles);
    for (Model model : {Accurate, Fast}) {
        const DPResult& h = engines.host.evaluate(model, positions, box);
        const DPResult& d = engines.tensor.evaluate(model, positions, box);
        double scale = h.forces.abs().max().item<double>();
        double forceError = (d.forces - h.forces).abs().max().item<double>();
        double energyError = std::fabs(d.energy - h.energy);
        std::printf("  %s, %s model: E = %.10f kJ/mol (|dE| %.2e), max|F| = %.3f, max|dF| = %.2e kJ/mol/nm\n",
                    label.c_str(), modelRole(model), h.energy, energyError, scale, forceError);
        // Identical input gives identical results; the tensor list hands the native path
        // its unpacked input (every ghost of its build), so ghost forces are folded onto
        // their owners in another order: equal to rounding.
        check(energyError <= 1e-13 * std::fabs(h.energy), label + ": energies differ");
        check(forceError <= 1e-13 * scale, label + ": forces differ");
        check(d.forces.sum(0).abs().max().item<double>() < 1e-8 * scale, label + ": forces sum to zero");
    }
}

static std::vector<Vec3> moved(const std::vector<Vec3>& positions, double size, std::mt19937& rng) {
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    std::vector<Vec3> out(positions);
    for (Vec3& r : out)
        r += Vec3(uniform(rng), uniform(rng), uniform(rng)) * (size / std::sqrt(3.0));
    return out;
}

/** Each water molecule (3 atoms) moved rigidly: large moves without atoms on top of each other, which the engine refuses. */
static std::vector<Vec3> movedMolecules(const std::vector<Vec3>& positions, double size, std::mt19937& rng) {
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    std::vector<Vec3> out(positions);
    for (size_t i = 0; i + 2 < out.size(); i += 3) {
        Vec3 shift = Vec3(uniform(rng), uniform(rng), uniform(rng)) * (size / std::sqrt(3.0));
        for (int k = 0; k < 3; k++)
            out[i + k] += shift;
    }
    return out;
}

int main() {
    try {
        Water water = readWater();
        check(water.positions.size() == 192, "water.pdb has 192 atoms");
        const double skin = 0.1;  // nm, the Force's default
        std::vector<int> all(water.positions.size());
        for (size_t i = 0; i < all.size(); i++)
            all[i] = (int) i;
        std::mt19937 rng(5);
        Vec3 cubic[3] = {Vec3(water.box, 0, 0), Vec3(0, water.box, 0), Vec3(0, 0, water.box)};

        // Periodic water (12.4 A box: the 7 A list reaches past half the box, so
        // atoms see several images of one neighbour).
        {
            Engines engines(water.elements, all, true, skin);
            compare(engines, water.positions, cubic, "water");
            check(engines.builds() == 1, "one build");
            // Moves below half the skin reuse the list.
            std::vector<Vec3> small = moved(water.positions, 0.4 * skin, rng);
            compare(engines, small, cubic, "water, small move");
            check(engines.builds() == 1, "a small move reuses the list");
            // Unwrapped coordinates: whole box shifts of some molecules change nothing.
            std::vector<Vec3> shifted(small);
            for (int i = 0; i < 30; i++)
                shifted[i] += Vec3(water.box, -2*water.box, 0);
            compare(engines, shifted, cubic, "water, molecules shifted by box vectors");
            check(engines.builds() == 2, "a jump by a box vector rebuilds");
            // Larger moves rebuild.
            std::vector<Vec3> large = movedMolecules(small, 1.5 * skin, rng);
            compare(engines, large, cubic, "water, large move");
            check(engines.builds() == 3, "a large move rebuilds");
            // The cache: the same coordinates again evaluate nothing.
            long long counts[2] = {engines.tensor.getEvaluationCount(Accurate), engines.tensor.getEvaluationCount(Fast)};
            compare(engines, large, cubic, "water, cached");
            check(engines.tensor.getEvaluationCount(Accurate) == counts[0] && engines.tensor.getEvaluationCount(Fast) == counts[1],
                  "identical coordinates are served from the cache");
            check(counts[0] == 4 && counts[1] == 4, "one evaluation per distinct configuration");
            // A triclinic box (OpenMM's reduced form) around the same atoms.
            Vec3 triclinic[3] = {Vec3(1.3, 0, 0), Vec3(0.35, 1.25, 0), Vec3(-0.3, 0.4, 1.2)};
            compare(engines, large, triclinic, "water, triclinic box");
        }
        // Message passing (DPA-2 and DPA-3 fixtures): the ghosts' features come from
        // their owners through the mapping, and both lists give the same mapping.
        {
            Engines engines(water.elements, all, true, skin, {MESSAGE_PASSING_MODELS});
            compare(engines, water.positions, cubic, "message passing");
            std::vector<Vec3> shifted(water.positions);
            for (int i = 0; i < 30; i++)
                shifted[i] += Vec3(0, water.box, -water.box);
            Vec3 triclinic[3] = {Vec3(1.3, 0, 0), Vec3(0.35, 1.25, 0), Vec3(-0.3, 0.4, 1.2)};
            compare(engines, moved(shifted, 0.5 * skin, rng), triclinic, "message passing, triclinic, shifted");
        }
        // A subset without periodicity: 20 molecules in vacuum, the rest are not DP particles.
        {
            std::vector<int> subset;
            std::vector<std::string> types;
            for (int i = 60; i < 120; i++) {
                subset.push_back(i);
                types.push_back(water.elements[i]);
            }
            Engines engines(types, subset, false, skin);
            compare(engines, water.positions, nullptr, "subset, vacuum");
            compare(engines, moved(water.positions, 0.3 * skin, rng), nullptr, "subset, vacuum, small move");
            check(engines.builds() == 1, "vacuum: a small move reuses the list");
            compare(engines, movedMolecules(water.positions, 2 * skin, rng), nullptr, "subset, vacuum, large move");
            check(engines.builds() == 2, "vacuum: a large move rebuilds");
        }
        // Errors name the particle and the type.
        {
            Engines engines(water.elements, all, true, skin);
            torch::Tensor bad = subsetTensor(water.positions, all);
            bad[7][1] = std::nan("");
            try {
                engines.host.evaluate(Accurate, bad, cubic);
                throw std::runtime_error("no error for a NaN position");
            }
            catch (const OpenMM::OpenMMException& e) {
                check(std::string(e.what()).find("particle 7 has a non-finite position") != std::string::npos,
                      std::string("NaN message: ") + e.what());
            }
            try {
                std::vector<std::string> types(water.elements);
                types[3] = "Xx";
                SwitchingDPEngine(Engines::contents(), Engines::labels(), types, all, true, skin);
                throw std::runtime_error("no error for an unknown type");
            }
            catch (const OpenMM::OpenMMException& e) {
                check(std::string(e.what()).find("type 'Xx' is not in the type_map") != std::string::npos,
                      std::string("type message: ") + e.what());
            }
        }
    }
    catch (const std::exception& e) {
        std::printf("FAIL: %s\n", e.what());
        return 1;
    }
    std::printf("Done\n");
    return 0;
}
