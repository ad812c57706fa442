// Where an evaluation's time goes: the engine's time per evaluation, the part in
// the model call, and the rest (positions check, neighbour list, copies, types,
// widening, folding, units) as a share, for each bundled model at 192 and 1,536
// atoms, with the host cell list and with the tensor list on the CPU.
//
//   EngineTiming [rounds] [extra fast model...]
//
// Positions move a little between evaluations (less than half the skin, as in MD),
// so every call runs the model and the list is reused, with a rebuild now and then.
#include "SwitchingDPEngine.h"
#include "DPModelInfo.h"
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>
#include "../tests/cpp/TestHelpers.h"

using namespace SwitchingDPPlugin;
using namespace TestHelpers;

int main(int argc, char** argv) {
    const int rounds = argc > 1 ? std::atoi(argv[1]) : 30;
    std::vector<std::string> fastModels = {FAST_MODEL};
    for (int i = 2; i < argc; i++)
        fastModels.push_back(argv[i]);
    Water water = readWater();
    std::printf("| atoms | model | list | ms per evaluation | model call ms | outside the model |\n|---:|---|---|---:|---:|---:|\n");
    for (int copies : {1, 2}) {
        std::vector<double> base;
        std::vector<std::string> types;
        for (int a = 0; a < copies; a++)
            for (int b = 0; b < copies; b++)
                for (int c = 0; c < copies; c++)
                    for (size_t i = 0; i < water.positions.size(); i++) {
                        for (int k = 0; k < 3; k++)
                            base.push_back(water.positions[i][k] + water.box * (k == 0 ? a : k == 1 ? b : c));
                        types.push_back(water.elements[i]);
                    }
        const int n = (int) types.size();
        std::vector<int> particles(n);
        for (int i = 0; i < n; i++)
            particles[i] = i;
        const double edge = water.box * copies;
        OpenMM::Vec3 box[3] = {OpenMM::Vec3(edge, 0, 0), OpenMM::Vec3(0, edge, 0), OpenMM::Vec3(0, 0, edge)};
        for (const std::string& fast : fastModels)
            for (SwitchingDPEngine::NeighborListKind kind : {SwitchingDPEngine::HostList, SwitchingDPEngine::TensorList}) {
                SwitchingDPEngine engine({readModelFile(ACCURATE_MODEL), readModelFile(fast)}, {ACCURATE_MODEL, fast},
                                         types, particles, true, 0.1, torch::kCPU, kind);
                std::mt19937 rng(3);
                std::normal_distribution<double> step(0.0, 0.002);  // nm per round, about an MD step or two
                std::vector<double> positions = base;
                SwitchingDPEngine::Timing warm[2];
                for (int r = -2; r < rounds; r++) {  // two rounds of warm-up, not counted
                    if (r == 0)
                        for (Model m : {Accurate, Fast})
                            warm[m] = engine.getTiming(m);
                    for (double& x : positions)
                        x += step(rng);
                    torch::Tensor t = torch::from_blob(positions.data(), {n, 3}, torch::kFloat64);
                    for (Model m : {Accurate, Fast})
                        engine.evaluate(m, t, box);
                }
                for (Model m : {Accurate, Fast}) {
                    if (m == Accurate && fast != fastModels[0])
                        continue;
                    const SwitchingDPEngine::Timing& timing = engine.getTiming(m);
                    double perCall = 1e3 * (timing.evaluateSeconds - warm[m].evaluateSeconds) / rounds;
                    double model = 1e3 * (timing.modelSeconds - warm[m].modelSeconds) / rounds;
                    std::string name = (m == Accurate ? ACCURATE_MODEL : fast);
                    name = name.substr(name.find_last_of('/') + 1);
                    std::printf("| %d | %s | %s | %.2f | %.2f | %.1f%% |\n", n, name.c_str(),
                                kind == SwitchingDPEngine::HostList ? "host" : "tensor", perCall, model,
                                100.0 * (perCall - model) / perCall);
                }
            }
    }
    return 0;
}
