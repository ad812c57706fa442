// SwitchingDPForce on the Reference and CPU platforms: forces against finite
// differences of the energy, the alternation schedule, and XML round trips.
#include "SwitchingDPForce.h"
#include "openmm/Context.h"
#include "openmm/OpenMMException.h"
#include "openmm/Platform.h"
#include "openmm/State.h"
#include "openmm/System.h"
#include "openmm/VerletIntegrator.h"
#include "openmm/serialization/XmlSerializer.h"
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>
#include "TestHelpers.h"

using namespace OpenMM;
using namespace SwitchingDPPlugin;
using namespace TestHelpers;

extern "C" void registerKernelFactories();

static System makeSystem(const Water& water, SwitchingDPForce* force) {
    System system;
    for (const std::string& e : water.elements)
        system.addParticle(e == "O" ? 15.999 : 1.008);
    system.setDefaultPeriodicBoxVectors(Vec3(water.box, 0, 0), Vec3(0, water.box, 0), Vec3(0, 0, water.box));
    force->setTypes(water.elements);
    system.addForce(force);
    return system;
}

// Central differences of the energy along a random direction against the forces.
static void testFiniteDifferences(const Water& water, Platform& platform, int model) {
    SwitchingDPForce* force = new SwitchingDPForce(ACCURATE_MODEL, FAST_MODEL);
    force->setAccurateInterval(model == SwitchingDPForce::Accurate ? 1 : 2);
    force->setAccuratePhase(model == SwitchingDPForce::Accurate ? 0 : 1);  // step 0 is then fast
    System system = makeSystem(water, force);
    VerletIntegrator integrator(0.0005);
    Context context(system, integrator, platform);
    context.setPositions(water.positions);
    State state = context.getState(State::Forces | State::Energy);
    std::mt19937 rng(model + 11);
    std::normal_distribution<double> normal;
    std::vector<Vec3> direction(water.positions.size());
    double norm = 0;
    for (Vec3& d : direction) {
        d = Vec3(normal(rng), normal(rng), normal(rng));
        norm += d.dot(d);
    }
    double projected = 0;
    for (size_t i = 0; i < direction.size(); i++) {
        direction[i] /= std::sqrt(norm);
        projected += state.getForces()[i].dot(direction[i]);
    }
    const double h = 1e-4;  // nm
    std::vector<Vec3> moved(water.positions);
    double energy[2];
    for (int sign = 0; sign < 2; sign++) {
        for (size_t i = 0; i < moved.size(); i++)
            moved[i] = water.positions[i] + direction[i] * (sign == 0 ? h : -h);
        context.setPositions(moved);
        energy[sign] = context.getState(State::Energy).getPotentialEnergy();
    }
    double finiteDifference = -(energy[0] - energy[1]) / (2*h);
    std::printf("  %s %s: F.d = %.8f, -dE/dh = %.8f\n", platform.getName().c_str(), model == 0 ? "accurate" : "fast",
                projected, finiteDifference);
    check(std::fabs(finiteDifference - projected) < 1e-5 * std::fabs(projected) + 1e-6,
          "forces disagree with finite differences of the energy");
    std::vector<long long> counts = force->getEvaluationCounts(context);
    check(counts[1 - model] == 0, "only the scheduled model is evaluated");
    check(counts[model] == 3, "one evaluation per distinct position set");
}

// interval 4 over 40 steps: 10 accurate and 30 fast evaluations, getState calls included.
static void testSchedule(const Water& water, Platform& platform) {
    SwitchingDPForce* force = new SwitchingDPForce(ACCURATE_MODEL, FAST_MODEL);
    System system = makeSystem(water, force);
    VerletIntegrator integrator(0.0005);
    Context context(system, integrator, platform);
    context.setPositions(water.positions);
    for (int step = 0; step < 40; step++) {
        integrator.step(1);
        context.getState(State::Energy | State::Forces);
    }
    std::vector<long long> counts = force->getEvaluationCounts(context);
    // The last getState is at step 40 (accurate), one more than the 40 steps used.
    std::printf("  %s schedule: %lld accurate, %lld fast\n", platform.getName().c_str(), counts[0], counts[1]);
    check(counts[0] == 11 && counts[1] == 30, "evaluation counts follow the 1:3 schedule");
}

static void testSerialization(const Water& water, Platform& platform) {
    SwitchingDPForce* force = new SwitchingDPForce(ACCURATE_MODEL, FAST_MODEL);
    force->setAccurateInterval(3);
    force->setAccuratePhase(2);
    force->setNeighborListSkin(0.05);
    System system = makeSystem(water, force);
    std::stringstream buffer;
    XmlSerializer::serialize<System>(&system, "System", buffer);
    System* copy = XmlSerializer::deserialize<System>(buffer);
    const SwitchingDPForce& restored = dynamic_cast<const SwitchingDPForce&>(copy->getForce(0));
    check(restored.getAccurateInterval() == 3 && restored.getAccuratePhase() == 2, "schedule survives XML");
    check(restored.getNeighborListSkin() == 0.05 && restored.getTypes() == force->getTypes(), "settings survive XML");
    check(restored.getModelContents(SwitchingDPForce::Accurate) == force->getModelContents(SwitchingDPForce::Accurate),
          "embedded model bytes survive XML");
    double energies[2];
    for (int k = 0; k < 2; k++) {
        VerletIntegrator integrator(0.0005);
        Context context(k == 0 ? system : *copy, integrator, platform);
        context.setPositions(water.positions);
        energies[k] = context.getState(State::Energy).getPotentialEnergy();
    }
    delete copy;
    check(energies[0] == energies[1], "a deserialized System gives the same energy");
}

static void expectError(const std::string& what, const std::string& fragment, void (*action)()) {
    try {
        action();
    }
    catch (const OpenMMException& e) {
        check(std::string(e.what()).find(fragment) != std::string::npos,
              what + ": message '" + e.what() + "' lacks '" + fragment + "'");
        return;
    }
    throw std::runtime_error(what + ": no error");
}

int main() {
    try {
        Platform::loadPluginsFromDirectory(OPENMM_PLUGIN_DIR);
        registerKernelFactories();
        Water water = readWater();
        check(water.positions.size() == 192, "water.pdb has 192 atoms");
        for (const char* name : {"Reference", "CPU"}) {
            Platform& platform = Platform::getPlatformByName(name);
            testFiniteDifferences(water, platform, SwitchingDPForce::Accurate);
            testFiniteDifferences(water, platform, SwitchingDPForce::Fast);
            testSchedule(water, platform);
            testSerialization(water, platform);
        }
        expectError("missing file", "cannot open model file", [] { SwitchingDPForce("no/such/model.pth", FAST_MODEL); });
        expectError("not a model", "is neither a frozen PyTorch (TorchScript) model nor an exported .pt2 model", [] { SwitchingDPForce(WATER_PDB, FAST_MODEL); });
        expectError("unknown type", "'Xx' is not in the type_map", [] {
            SwitchingDPForce(ACCURATE_MODEL, FAST_MODEL).setTypes({"O", "Xx"});
        });
        expectError("interval", "at least 1", [] { SwitchingDPForce(ACCURATE_MODEL, FAST_MODEL).setAccurateInterval(0); });
    }
    catch (const std::exception& e) {
        std::printf("FAIL: %s\n", e.what());
        return 1;
    }
    std::printf("Done\n");
    return 0;
}
