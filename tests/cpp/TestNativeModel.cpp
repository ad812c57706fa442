// The native se_e2_a path inside the engine, on the CPU: against each model's own
// TorchScript, and through the static buffers of the device-graph path (what CUDA
// captures and replays), driven here by a stand-in that runs the captured body
// eagerly, so the padding to capacities and the reuse of one capture per capacity are
// checked without a GPU.
#include "DPModel.h"
#include "SwitchingDPEngine.h"
#include "TestHelpers.h"
#include <cstdio>
#include <iostream>
#include <map>
#include <random>

using namespace SwitchingDPPlugin;
using namespace TestHelpers;
using OpenMM::Vec3;

namespace {

/** DeviceGraphs on the CPU: counts the runs of each key and runs the body every time. */
class RunEveryTime : public DeviceGraphs {
public:
    void run(const std::string& key, const std::function<void()>& body) override {
        runs[key]++;
        body();
    }
    std::map<std::string, int> runs;
};

torch::Tensor positionsTensor(const std::vector<Vec3>& positions) {
    std::vector<double> values;
    for (const Vec3& p : positions)
        values.insert(values.end(), {p[0], p[1], p[2]});
    return torch::tensor(values, torch::kFloat64).view({-1, 3});
}

/** Largest relative difference: energy, and max |dF| / max |F|. */
void compareResults(const DPResult& a, const DPResult& b, double tolerance, const std::string& what) {
    double energy = std::abs(a.energy - b.energy) / std::max(1.0, std::abs(b.energy));
    double forces = (a.forces - b.forces).abs().max().item<double>() / b.forces.abs().max().item<double>();
    if (!(energy <= tolerance && forces <= tolerance)) {
        char text[256];
        std::snprintf(text, sizeof(text), "%s: relative differences energy %.2e, forces %.2e (tolerance %.0e)",
                      what.c_str(), energy, forces, tolerance);
        throw std::runtime_error(text);
    }
}

std::vector<Vec3> moved(const std::vector<Vec3>& positions, double step, std::mt19937& rng) {
    std::normal_distribution<double> normal(0.0, step);
    std::vector<Vec3> result(positions);
    for (Vec3& p : result)
        p += Vec3(normal(rng), normal(rng), normal(rng));
    return result;
}

} // namespace

int main() {
    try {
        Water water = readWater();
        std::vector<int> all(water.positions.size());
        for (size_t i = 0; i < all.size(); i++)
            all[i] = (int) i;
        Vec3 box[3] = {Vec3(water.box, 0, 0), Vec3(0, water.box, 0), Vec3(0, 0, water.box)};
        const double skin = 0.1;

        // The bundled float64 pair with both neighbour lists, and a float32 compressed
        // fast model, whose tables the graph path evaluates as tensors (outside a
        // capture the CPU uses deepmd-kit's own kernel): float32 sums in another order.
        struct Case {
            std::string fast;
            SwitchingDPEngine::NeighborListKind kind;
            double tolerance;
        };
        for (const Case& test : {Case{FAST_MODEL, SwitchingDPEngine::HostList, 1e-12},
                                 Case{FAST_MODEL, SwitchingDPEngine::TensorList, 1e-12},
                                 Case{COMPRESSED_MODEL, SwitchingDPEngine::HostList, 2e-5}}) {
            const auto kind = test.kind;
            const std::array<std::string, 2> labels = {ACCURATE_MODEL, test.fast};
            const std::array<std::string, 2> contents = {readModelFile(ACCURATE_MODEL), readModelFile(test.fast)};
            const std::string list = std::string(kind == SwitchingDPEngine::HostList ? "host list" : "tensor list") +
                    (test.fast == FAST_MODEL ? "" : ", compressed fast model");
            SwitchingDPEngine native(contents, labels, water.elements, all, true, skin, torch::kCPU, kind);
            SwitchingDPEngine torchScript(contents, labels, water.elements, all, true, skin, torch::kCPU, kind,
                                          DPUnits(), {}, {}, /*nativePath=*/false);
            SwitchingDPEngine replayed(contents, labels, water.elements, all, true, skin, torch::kCPU, kind);
            auto graphs = std::make_shared<RunEveryTime>();
            replayed.setDeviceGraphs(graphs);
            for (Model model : {Accurate, Fast}) {
                check(native.getInfo(model).engine == ModelEngine::Native, list + ": the bundled models run natively");
                check(torchScript.getInfo(model).engine == ModelEngine::TorchScript, list + ": nativePath=false runs TorchScript");
            }
            std::mt19937 rng(3);
            // Small moves keep the list (and the capacities); a large one rebuilds it,
            // and a dilated configuration needs more room than the first capacities.
            std::vector<std::vector<Vec3>> configurations = {water.positions};
            configurations.push_back(moved(configurations.back(), 0.01, rng));
            configurations.push_back(moved(configurations.back(), 0.01, rng));
            configurations.push_back(moved(configurations.back(), 0.03, rng));
            std::vector<Vec3> dense(water.positions);
            for (Vec3& p : dense)
                p *= 0.93;
            configurations.push_back(dense);
            for (size_t c = 0; c < configurations.size(); c++) {
                torch::Tensor positions = positionsTensor(configurations[c]);
                for (Model model : {Accurate, Fast}) {
                    std::string what = list + ", configuration " + std::to_string(c) + ", " + modelRole(model) + " model";
                    const DPResult& reference = torchScript.evaluate(model, positions, box);
                    const double tolerance = (model == Fast ? test.tolerance : 1e-12);
                    compareResults(native.evaluate(model, positions, box), reference, tolerance, what + ": native vs TorchScript");
                    compareResults(replayed.evaluate(model, positions, box), reference, tolerance, what + ": replayed vs TorchScript");
                    check(replayed.usesDeviceGraphs(model), what + ": the replayed engine went through its graphs");
                }
            }
            if (test.fast != FAST_MODEL)
                continue;
            // One capture per model and capacity, reused: the small moves keep their
            // capacities, a rebuild may need more room, and a smaller input replays the
            // smallest capture it fits in.
            int runs = 0, reused = 0;
            for (const auto& entry : graphs->runs) {
                runs += entry.second;
                reused += entry.second - 1;
                std::cout << list << ": capture " << entry.first.substr(entry.first.find(':') + 1) << " ran "
                          << entry.second << " times" << std::endl;
            }
            check(runs == 10, list + ": one run per evaluation (" + std::to_string(runs) + ")");
            check(reused >= 4, list + ": the small moves replay the first captures");
            // The host list's input shrinks to each model's own ghosts and widest row;
            // the tensor list gives native models every ghost of its build and its
            // candidate width (fixed between builds), so one capture per model can do.
            check(graphs->runs.size() >= 2 && graphs->runs.size() <= 6,
                  list + ": " + std::to_string(graphs->runs.size()) + " captures, expected 2 to 6");
        }
        std::cout << "Done" << std::endl;
        return 0;
    }
    catch (const std::exception& e) {
        std::cerr << "FAILED: " << e.what() << std::endl;
        return 1;
    }
}
