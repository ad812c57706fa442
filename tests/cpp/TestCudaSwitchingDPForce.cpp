// SwitchingDPForce on the CUDA platform against the Reference platform: both
// models, single/mixed/double precision, periodic and not, a DP subset, the
// schedule and evaluation counts (alternating and MultipleTimeStep), a short
// trajectory, XML round trips, and GPU memory over 1000 steps.
//
// Needs a GPU.  Without OpenMM's CUDA platform or a device it prints
// "skipped: no CUDA device" and exits with 77, which ctest reports as skipped.
#include "SwitchingDPForce.h"
#include "openmm/Context.h"
#include "openmm/OpenMMException.h"
#include "openmm/Platform.h"
#include "openmm/State.h"
#include "openmm/System.h"
#include "openmm/VerletIntegrator.h"
#include "openmm/serialization/XmlSerializer.h"
#include <c10/cuda/CUDACachingAllocator.h>
#include <cuda_runtime_api.h>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>
#include "TestHelpers.h"

using namespace OpenMM;
using namespace SwitchingDPPlugin;
using namespace TestHelpers;

extern "C" void registerKernelFactories();  // the Reference plugin, linked in

static const int SKIPPED = 77;

/** The bundled water with a SwitchingDPForce (all particles, or the first `subset`). */
static System* makeSystem(const Water& water, SwitchingDPForce* force, int subset = 0) {
    System* system = new System();
    for (const std::string& e : water.elements)
        system->addParticle(e == "O" ? 15.999 : 1.008);
    system->setDefaultPeriodicBoxVectors(Vec3(water.box, 0, 0), Vec3(0, water.box, 0), Vec3(0, 0, water.box));
    if (subset > 0) {
        std::vector<int> particles;
        for (int i = 0; i < subset; i++)
            particles.push_back(i);
        force->setParticles(particles);
        force->setTypes(std::vector<std::string>(water.elements.begin(), water.elements.begin() + subset));
    }
    else
        force->setTypes(water.elements);
    system->addForce(force);
    return system;
}

static Platform& cuda() {
    return Platform::getPlatformByName("CUDA");
}

static Platform& reference() {
    return Platform::getPlatformByName("Reference");
}

/** max |a - b| over all components, and max |b|. */
static std::pair<double, double> forceDifference(const std::vector<Vec3>& a, const std::vector<Vec3>& b) {
    double error = 0, scale = 0;
    for (size_t i = 0; i < a.size(); i++)
        for (int k = 0; k < 3; k++) {
            error = std::max(error, std::fabs(a[i][k] - b[i][k]));
            scale = std::max(scale, std::fabs(b[i][k]));
        }
    return {error, scale};
}

/** Relative tolerance for a precision: positions in float limit single precision. */
static double tolerance(const std::string& precision) {
    return precision == "single" ? 2e-4 : 1e-8;
}

// One model at two configurations, CUDA against Reference.
static void testAgainstReference(const Water& water, const std::string& precision, bool periodic, int subset, int model) {
    SwitchingDPForce* force = new SwitchingDPForce(ACCURATE_MODEL, FAST_MODEL);
    force->setAccurateInterval(model == SwitchingDPForce::Accurate ? 1 : 2);
    force->setAccuratePhase(model == SwitchingDPForce::Accurate ? 0 : 1);  // step 0 is then fast
    force->setUsesPeriodicBoundaryConditions(periodic);
    std::unique_ptr<System> system(makeSystem(water, force, subset));
    VerletIntegrator integratorRef(0.0005), integratorCuda(0.0005);
    Context ref(*system, integratorRef, reference());
    Context gpu(*system, integratorCuda, cuda(), {{"Precision", precision}});
    std::mt19937 rng(11);
    std::normal_distribution<double> normal(0.0, 0.003);
    std::vector<Vec3> positions = water.positions;
    std::string label = precision + (periodic ? ", periodic" : ", non-periodic") +
            (subset > 0 ? ", subset" : "") + (model == 0 ? ", accurate" : ", fast");
    for (int configuration = 0; configuration < 2; configuration++) {
        ref.setPositions(positions);
        gpu.setPositions(positions);
        State a = ref.getState(State::Energy | State::Forces);
        State b = gpu.getState(State::Energy | State::Forces);
        auto f = forceDifference(b.getForces(), a.getForces());
        double dE = std::fabs(b.getPotentialEnergy() - a.getPotentialEnergy());
        std::printf("  %s: E = %.6f, |dE| = %.2e kJ/mol; max|F| = %.1f, max|dF| = %.2e kJ/mol/nm\n", label.c_str(),
                    a.getPotentialEnergy(), dE, f.second, f.first);
        check(dE <= tolerance(precision) * std::fabs(a.getPotentialEnergy()), label + ": energies differ");
        check(f.first <= tolerance(precision) * f.second, label + ": forces differ");
        if (subset > 0)
            for (size_t i = subset; i < positions.size(); i++)
                check(b.getForces()[i] == Vec3(), label + ": no force on particles outside the subset");
        for (Vec3& r : positions)
            r += Vec3(normal(rng), normal(rng), normal(rng));
    }
    std::vector<long long> counts = force->getEvaluationCounts(gpu);
    check(counts[model] == 2 && counts[1 - model] == 0, label + ": one evaluation per configuration, scheduled model only");
}

// Alternating: 1:3 over 40 steps with getState on each, as on the Reference platform;
// and the trajectory follows the Reference one.
static void testSchedule(const Water& water) {
    SwitchingDPForce* force = new SwitchingDPForce(ACCURATE_MODEL, FAST_MODEL);
    std::unique_ptr<System> system(makeSystem(water, force));
    VerletIntegrator integratorRef(0.0005), integratorCuda(0.0005);
    Context ref(*system, integratorRef, reference());
    Context gpu(*system, integratorCuda, cuda(), {{"Precision", "double"}});
    ref.setPositions(water.positions);
    gpu.setPositions(water.positions);
    for (int step = 0; step < 40; step++) {
        integratorRef.step(1);
        integratorCuda.step(1);
        ref.getState(State::Energy | State::Forces);
        gpu.getState(State::Energy | State::Forces);
    }
    std::vector<long long> counts = force->getEvaluationCounts(gpu);
    std::printf("  CUDA schedule: %lld accurate, %lld fast\n", counts[0], counts[1]);
    check(counts[0] == 11 && counts[1] == 30, "evaluation counts follow the 1:3 schedule");
    check(force->getEvaluationCounts(ref) == counts, "the same counts as the Reference platform");
    std::vector<Vec3> a = ref.getState(State::Positions).getPositions(), b = gpu.getState(State::Positions).getPositions();
    double worst = 0;
    for (size_t i = 0; i < a.size(); i++)
        worst = std::max(worst, std::sqrt((a[i] - b[i]).dot(a[i] - b[i])));
    std::printf("  CUDA vs Reference after 40 steps: max |dr| = %.2e nm\n", worst);
    check(worst < 1e-6, "the trajectory follows the Reference platform");
}

// MultipleTimeStep: each force group against Reference, and one evaluation per model per configuration.
static void testMultipleTimeStep(const Water& water, SwitchingDPForce::SlowTerm term) {
    SwitchingDPForce* force = new SwitchingDPForce(ACCURATE_MODEL, FAST_MODEL);
    force->setMode(SwitchingDPForce::MultipleTimeStep);
    force->setSlowForceGroup(1);
    force->setSlowTerm(term);
    std::unique_ptr<System> system(makeSystem(water, force));
    VerletIntegrator integratorRef(0.0005), integratorCuda(0.0005);
    Context ref(*system, integratorRef, reference());
    Context gpu(*system, integratorCuda, cuda(), {{"Precision", "mixed"}});
    ref.setPositions(water.positions);
    gpu.setPositions(water.positions);
    for (int groups : {1, 2, 3}) {
        State a = ref.getState(State::Energy | State::Forces, false, groups);
        State b = gpu.getState(State::Energy | State::Forces, false, groups);
        auto f = forceDifference(b.getForces(), a.getForces());
        double dE = std::fabs(b.getPotentialEnergy() - a.getPotentialEnergy());
        std::printf("  MTS (%s) groups %d: E = %.6f, |dE| = %.2e, max|dF| = %.2e\n", term == SwitchingDPForce::Difference ?
                    "difference" : "residual", groups, a.getPotentialEnergy(), dE, f.first);
        check(dE <= 1e-8 * std::fabs(a.getPotentialEnergy()) + 1e-8, "MTS energies differ");
        check(f.first <= 1e-8 * f.second + 1e-8, "MTS forces differ");
    }
    std::vector<long long> counts = force->getEvaluationCounts(gpu);
    check(counts[0] == 1 && counts[1] == 1, "MTS: each model once at one configuration");
}

static void testSerialization(const Water& water) {
    SwitchingDPForce* force = new SwitchingDPForce(ACCURATE_MODEL, FAST_MODEL);
    force->setAccurateInterval(3);
    force->setAccuratePhase(1);
    std::unique_ptr<System> system(makeSystem(water, force));
    std::stringstream buffer;
    XmlSerializer::serialize<System>(system.get(), "System", buffer);
    std::unique_ptr<System> copy(XmlSerializer::deserialize<System>(buffer));
    double energies[2];
    for (int k = 0; k < 2; k++) {
        VerletIntegrator integrator(0.0005);
        Context context(k == 0 ? *system : *copy, integrator, cuda(), {{"Precision", "double"}});
        context.setPositions(water.positions);
        energies[k] = context.getState(State::Energy).getPotentialEnergy();
    }
    std::printf("  XML round trip: %.10f vs %.10f\n", energies[0], energies[1]);
    check(std::fabs(energies[0] - energies[1]) <= 1e-10 * std::fabs(energies[0]), "a deserialized System gives the same energy");
}

static double deviceMemoryUsed() {
    size_t freeBytes = 0, totalBytes = 0;
    check(cudaMemGetInfo(&freeBytes, &totalBytes) == cudaSuccess, "cudaMemGetInfo");
    return (double) (totalBytes - freeBytes);
}

// GPU memory after warm-up stays flat over 1000 steps.
static void testMemory(const Water& water) {
    SwitchingDPForce* force = new SwitchingDPForce(ACCURATE_MODEL, FAST_MODEL);
    std::unique_ptr<System> system(makeSystem(water, force));
    VerletIntegrator integrator(0.0005);
    Context context(*system, integrator, cuda(), {{"Precision", "mixed"}});
    context.setPositions(water.positions);
    context.setVelocitiesToTemperature(300.0, 1);
    integrator.step(100);
    context.getState(State::Energy);
    int device = std::stoi(cuda().getPropertyValue(context, "DeviceIndex"));
    auto torchBytes = [&]() {
        auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device);
        return (double) stats.allocated_bytes[(size_t) c10::CachingAllocator::StatType::AGGREGATE].current;
    };
    double torchBefore = torchBytes(), usedBefore = deviceMemoryUsed();
    for (int i = 0; i < 10; i++) {
        integrator.step(100);
        context.getState(State::Energy);
    }
    double torchAfter = torchBytes(), usedAfter = deviceMemoryUsed();
    std::printf("  memory over 1000 steps: PyTorch allocated %.1f -> %.1f MB, device used %.1f -> %.1f MB\n",
                torchBefore / 1e6, torchAfter / 1e6, usedBefore / 1e6, usedAfter / 1e6);
    // Neighbour list sizes change with rebuilds, so allow a little; a leak grows with every step.
    check(torchAfter - torchBefore < 4e6, "PyTorch memory grows");
    check(usedAfter - usedBefore < 64e6, "device memory grows");
    std::vector<long long> counts = force->getEvaluationCounts(context);
    check(counts[0] + counts[1] >= 1100, "every step evaluated a model");
}

int main() {
    try {
        Platform::loadPluginsFromDirectory(OPENMM_PLUGIN_DIR);
        registerKernelFactories();
        bool hasCuda = false;
        for (int i = 0; i < Platform::getNumPlatforms(); i++)
            hasCuda = hasCuda || Platform::getPlatform(i).getName() == "CUDA";
        if (!hasCuda) {
            std::printf("skipped: no CUDA device (OpenMM's CUDA platform did not load)\n");
            for (const std::string& failure : Platform::getPluginLoadFailures())
                if (failure.find("CUDA") != std::string::npos)
                    std::printf("  %s\n", failure.c_str());
            return SKIPPED;
        }
        Platform::loadPluginLibrary(CUDA_PLUGIN);
        try {
            System system;
            system.addParticle(1.0);
            VerletIntegrator integrator(0.001);
            Context context(system, integrator, cuda());
        }
        catch (const std::exception& e) {
            std::printf("skipped: no CUDA device (%s)\n", e.what());
            return SKIPPED;
        }
        Water water = readWater();
        check(water.positions.size() == 192, "water.pdb has 192 atoms");
        for (const char* precision : {"single", "mixed", "double"})
            for (bool periodic : {true, false})
                for (int model : {0, 1})
                    testAgainstReference(water, precision, periodic, 0, model);
        for (bool periodic : {true, false})
            testAgainstReference(water, "mixed", periodic, 96, SwitchingDPForce::Accurate);
        testSchedule(water);
        testMultipleTimeStep(water, SwitchingDPForce::Difference);
        testMultipleTimeStep(water, SwitchingDPForce::Residual);
        testSerialization(water);
        testMemory(water);
    }
    catch (const std::exception& e) {
        std::printf("FAIL: %s\n", e.what());
        return 1;
    }
    std::printf("Done\n");
    return 0;
}
