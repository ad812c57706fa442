// SwitchingDPForce on a GPU platform (OpenCL or CUDA: the common kernel) against
// the Reference platform.  Usage: TestComputeSwitchingDPForce OpenCL|CUDA
//
//   - energies and forces of both models in single, mixed and double precision,
//     periodic (cubic and triclinic) and not, and a DP subset inside a larger System
//     (particles outside it get exactly zero force); a NonbondedForce without
//     energy makes OpenMM reorder atoms and wrap them into the box, which the
//     kernel undoes (checked again after 1000 steps, several reorders later)
//   - the schedule: evaluation counts over 40 steps of 1:3 alternation equal to the
//     Reference and CPU platforms', and the trajectory follows Reference
//   - MultipleTimeStep groups, Difference and Residual (a co-trained residual model)
//   - an XML round trip, and a checkpoint resumed bit-identically in a new Context
//   - 1000 steps without memory growth (host RSS; on CUDA also GPU memory)
//
// pocl (OpenCL on the CPU) compiles every kernel of every Context, so cases share
// Contexts: one per precision holds three forces in three force groups (periodic,
// non-periodic, subset) and is reused by changing positions, the box and the
// schedule; the XML copy of the double-precision System is also where its
// checkpoint is resumed.
//
// Without the platform (OpenMM's plugin did not load, or no device) it prints
// "skipped: ..." and exits with 77, which ctest reports as skipped.
#include "SwitchingDPForce.h"
#include "openmm/Context.h"
#include "openmm/NonbondedForce.h"
#include "openmm/OpenMMException.h"
#include "openmm/Platform.h"
#include "openmm/State.h"
#include "openmm/System.h"
#include "openmm/VerletIntegrator.h"
#include "openmm/serialization/XmlSerializer.h"
#ifdef SWITCHINGDP_TEST_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <cuda_runtime_api.h>
#endif
#include <malloc.h>
#include <unistd.h>
#include <algorithm>
#include <chrono>
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
static std::string platformName;

static Platform& gpu() {
    return Platform::getPlatformByName(platformName);
}

static double seconds(std::chrono::steady_clock::time_point since) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
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

/**
 * Relative tolerances (energy: of |E|; forces: of max |F|) per precision.  Reference
 * gets the positions the platform reports, so what remains is the force buffer
 * (returned as float in single and mixed precision; 2^-32 fixed point) and, on
 * CUDA, the GPU's arithmetic inside the models.
 */
struct Tolerance {
    double energy, force;
};
static Tolerance tolerance(const std::string& precision) {
    if (precision == "double")
        return {1e-9, 1e-8};
    return {1e-9, 1e-6};
}

static Vec3 triclinicBox[3] = {Vec3(1.24, 0, 0), Vec3(0.25, 1.24, 0), Vec3(-0.2, 0.3, 1.24)};

/** The water's positions as fractions of its cubic box, put into the triclinic box. */
static std::vector<Vec3> toTriclinic(const Water& water) {
    std::vector<Vec3> out;
    for (const Vec3& r : water.positions)
        out.push_back(triclinicBox[0] * (r[0] / water.box) + triclinicBox[1] * (r[1] / water.box) +
                      triclinicBox[2] * (r[2] / water.box));
    return out;
}

/** The water as a System; with a triclinic default box, Contexts accept both boxes. */
static System* waterSystem(const Water& water, bool triclinic) {
    System* system = new System();
    for (const std::string& e : water.elements)
        system->addParticle(e == "O" ? 15.999 : 1.008);
    if (triclinic)
        system->setDefaultPeriodicBoxVectors(triclinicBox[0], triclinicBox[1], triclinicBox[2]);
    else
        system->setDefaultPeriodicBoxVectors(Vec3(water.box, 0, 0), Vec3(0, water.box, 0), Vec3(0, 0, water.box));
    return system;
}

/** The subset: every second water molecule, in reverse order (so DP order differs from System order). */
static std::vector<int> subsetParticles(const Water& water) {
    std::vector<int> particles;
    for (int w = (int) water.positions.size() / 3 - 1; w >= 0; w -= 2)
        for (int k = 0; k < 3; k++)
            particles.push_back(3*w + k);
    return particles;
}

/**
 * The System the precision cases share: the water with three SwitchingDPForces,
 * periodic (group 0), non-periodic (group 1), and periodic on a subset (group 2).
 * All alternate with interval 2, so the phase picks the model at step 0.  Group 3
 * holds a NonbondedForce without energy, only so that atoms get reordered.
 */
struct SharedSystem {
    std::unique_ptr<System> system;
    SwitchingDPForce* forces[3];
    std::vector<int> subset;
};

static SharedSystem makeSharedSystem(const Water& water) {
    SharedSystem s;
    s.system.reset(waterSystem(water, true));
    s.subset = subsetParticles(water);
    for (int g = 0; g < 3; g++) {
        SwitchingDPForce* force = new SwitchingDPForce(ACCURATE_MODEL, FAST_MODEL);
        force->setForceGroup(g);
        force->setAccurateInterval(2);
        force->setUsesPeriodicBoundaryConditions(g != 1);
        if (g == 2) {
            std::vector<std::string> types;
            for (int i : s.subset)
                types.push_back(water.elements[i]);
            force->setParticles(s.subset);
            force->setTypes(types);
        }
        else
            force->setTypes(water.elements);
        s.system->addForce(force);
        s.forces[g] = force;
    }
    // No energy, in a group never asked for: a cutoff makes OpenMM's GPU platforms
    // reorder atoms (every 250 steps), which the kernel must undo.
    NonbondedForce* nonbonded = new NonbondedForce();
    nonbonded->setNonbondedMethod(NonbondedForce::CutoffPeriodic);
    nonbonded->setCutoffDistance(0.5);
    for (size_t i = 0; i < water.positions.size(); i++)
        nonbonded->addParticle(0.0, 0.1, 0.0);
    nonbonded->setForceGroup(3);
    s.system->addForce(nonbonded);
    return s;
}

static const char* groupLabel(int g) {
    return g == 0 ? "periodic" : g == 1 ? "non-periodic" : "subset";
}

/** Worst relative errors seen per precision, for the summary. */
static std::map<std::string, std::pair<double, double>> worstErrors;

/** Compare one force group of two Contexts at their current state. */
static void compareGroup(Context& test, Context& ref, int group, const std::string& label, const Tolerance& tol,
                         const std::string& precision, const std::vector<int>* onlyParticles = nullptr) {
    State a = ref.getState(State::Energy | State::Forces, false, 1 << group);
    State b = test.getState(State::Energy | State::Forces, false, 1 << group);
    auto f = forceDifference(b.getForces(), a.getForces());
    double energy = a.getPotentialEnergy();
    double dE = std::fabs(b.getPotentialEnergy() - energy);
    double relE = dE / std::max(std::fabs(energy), 1e-300), relF = f.first / std::max(f.second, 1e-300);
    std::printf("  %-46s E = %14.6f  |dE|/|E| = %8.1e  max|F| = %8.1f  max|dF|/max|F| = %8.1e\n", label.c_str(),
                energy, relE, f.second, relF);
    check(relE <= tol.energy, label + ": energies differ");
    check(relF <= tol.force, label + ": forces differ");
    auto& worst = worstErrors[precision];
    worst.first = std::max(worst.first, relE);
    worst.second = std::max(worst.second, relF);
    if (onlyParticles != nullptr) {
        std::vector<bool> inside(b.getForces().size(), false);
        for (int i : *onlyParticles)
            inside[i] = true;
        for (size_t i = 0; i < inside.size(); i++)
            if (!inside[i])
                check(b.getForces()[i] == Vec3(), label + ": a particle outside the subset has a force");
    }
}

/** Switch every force of the shared System to `model` at step 0, in both Contexts. */
static void selectModel(SharedSystem& s, Model model, Context& a, Context& b) {
    for (SwitchingDPForce* force : s.forces) {
        force->setAccuratePhase(model == Accurate ? 0 : 1);
        force->updateParametersInContext(a);
        force->updateParametersInContext(b);
    }
}

// Both models, three geometries, two configurations each, three force groups.
static void testAgainstReference(const Water& water, SharedSystem& s, Context& test, Context& ref,
                                 const std::string& precision) {
    Tolerance tol = tolerance(precision);
    std::mt19937 rng(11);
    std::normal_distribution<double> normal(0.0, 0.003);
    Vec3 cubic[3] = {Vec3(water.box, 0, 0), Vec3(0, water.box, 0), Vec3(0, 0, water.box)};
    std::vector<long long> before[3], refBefore[3];
    for (int g = 0; g < 3; g++) {
        before[g] = s.forces[g]->getEvaluationCounts(test);
        refBefore[g] = s.forces[g]->getEvaluationCounts(ref);
    }
    int evaluations[2] = {0, 0};
    for (bool triclinic : {false, true}) {
        std::vector<Vec3> positions = triclinic ? toTriclinic(water) : water.positions;
        Vec3* box = triclinic ? triclinicBox : cubic;
        for (int configuration = 0; configuration < 2; configuration++) {
            // Reference gets the positions the platform reports: OpenMM rounds them
            // (to float in single precision, and in mixed precision when it wraps
            // atoms into the box at a reorder); the kernel must see the same ones.
            test.setPeriodicBoxVectors(box[0], box[1], box[2]);
            test.setPositions(positions);
            ref.setPeriodicBoxVectors(box[0], box[1], box[2]);
            ref.setPositions(test.getState(State::Positions).getPositions());
            for (Model model : {Accurate, Fast}) {
                selectModel(s, model, test, ref);
                for (int g = 0; g < 3; g++) {
                    std::string label = precision + ", " + (triclinic ? "triclinic" : "cubic") + " box, " +
                            groupLabel(g) + ", " + modelRole(model) + " #" + std::to_string(configuration);
                    compareGroup(test, ref, g, label, tol, precision, g == 2 ? &s.subset : nullptr);
                }
                evaluations[model]++;
            }
            for (Vec3& r : positions)
                r += Vec3(normal(rng), normal(rng), normal(rng));
        }
    }
    for (int g = 0; g < 3; g++) {
        std::vector<long long> after = s.forces[g]->getEvaluationCounts(test);
        check(after[0] - before[g][0] == evaluations[0] && after[1] - before[g][1] == evaluations[1],
              std::string(groupLabel(g)) + ": one evaluation per configuration, of the scheduled model only");
        std::vector<long long> refAfter = s.forces[g]->getEvaluationCounts(ref);
        check(refAfter[0] - refBefore[g][0] == evaluations[0] && refAfter[1] - refBefore[g][1] == evaluations[1],
              std::string(groupLabel(g)) + ": the same counts as Reference");
    }
}

// The deserialized System gives the same energies and forces on the same platform
// (up to rounding: the two Contexts' atom orders and cell offsets differ).
static void testSerialization(const Water& water, SharedSystem& s, Context& original, Context& copy) {
    for (Context* c : {&original, &copy}) {
        c->setPeriodicBoxVectors(Vec3(water.box, 0, 0), Vec3(0, water.box, 0), Vec3(0, 0, water.box));
        c->setPositions(water.positions);
    }
    for (int g = 0; g < 3; g++) {
        State a = original.getState(State::Energy | State::Forces, false, 1 << g);
        State b = copy.getState(State::Energy | State::Forces, false, 1 << g);
        auto f = forceDifference(b.getForces(), a.getForces());
        std::printf("  XML round trip, %s: E %.10f vs %.10f, max|dF| = %.1e\n", groupLabel(g), a.getPotentialEnergy(),
                    b.getPotentialEnergy(), f.first);
        check(std::fabs(a.getPotentialEnergy() - b.getPotentialEnergy()) <= 1e-12 * std::fabs(a.getPotentialEnergy()) &&
              f.first <= 1e-12 * f.second, "a deserialized System gives the same energy and forces");
    }
}

// Alternating 1:3 over 40 steps with getState after each: the counts of the GPU
// platform, Reference and CPU agree, and the trajectory follows Reference.
static void testSchedule(const Water& water, SharedSystem& s, Context& test, Context& ref,
                         VerletIntegrator& testIntegrator, VerletIntegrator& refIntegrator) {
    // Integrate with the periodic force (group 0) only.
    s.forces[0]->setAccurateInterval(4);
    s.forces[0]->setAccuratePhase(0);
    VerletIntegrator cpuIntegrator(0.0005);
    Context cpu(*s.system, cpuIntegrator, Platform::getPlatformByName("CPU"));
    std::vector<Context*> contexts = {&test, &ref, &cpu};
    std::vector<VerletIntegrator*> integrators = {&testIntegrator, &refIntegrator, &cpuIntegrator};
    // The water moved as a whole: positions no model of these Contexts has seen (no cache hits).
    std::vector<Vec3> start;
    for (const Vec3& r : water.positions)
        start.push_back(r + Vec3(0.01, 0.02, 0.03));
    std::vector<std::vector<long long>> before;
    for (size_t k = 0; k < contexts.size(); k++) {
        integrators[k]->setIntegrationForceGroups(1 << 0);
        s.forces[0]->updateParametersInContext(*contexts[k]);
        contexts[k]->setPeriodicBoxVectors(Vec3(water.box, 0, 0), Vec3(0, water.box, 0), Vec3(0, 0, water.box));
        contexts[k]->setPositions(start);
        check(contexts[k]->getStepCount() == 0, "the schedule test starts at step 0");
        // Counted from here: setting velocities may evaluate the forces of step 0 (it
        // does in OpenMM 8.6), which the first step then takes from the cache.
        before.push_back(s.forces[0]->getEvaluationCounts(*contexts[k]));
        contexts[k]->setVelocitiesToTemperature(300.0, 5);
        // The same velocities everywhere (the generator's output depends on the platform's precision).
        if (k > 0)
            contexts[k]->setVelocities(contexts[0]->getState(State::Velocities).getVelocities());
    }
    for (int step = 0; step < 40; step++)
        for (size_t k = 0; k < contexts.size(); k++) {
            integrators[k]->step(1);
            contexts[k]->getState(State::Energy | State::Forces, false, 1 << 0);
        }
    std::vector<std::vector<long long>> counts;
    for (size_t k = 0; k < contexts.size(); k++) {
        std::vector<long long> after = s.forces[0]->getEvaluationCounts(*contexts[k]);
        counts.push_back({after[0] - before[k][0], after[1] - before[k][1]});
    }
    std::printf("  schedule over 40 steps: %s %lld accurate + %lld fast, Reference %lld + %lld, CPU %lld + %lld\n",
                platformName.c_str(), counts[0][0], counts[0][1], counts[1][0], counts[1][1], counts[2][0], counts[2][1]);
    check(counts[0][0] == 11 && counts[0][1] == 30, "evaluation counts follow the 1:3 schedule");
    check(counts[0] == counts[1] && counts[0] == counts[2], "the same counts as the Reference and CPU platforms");
    std::vector<Vec3> a = ref.getState(State::Positions).getPositions(), b = test.getState(State::Positions).getPositions();
    double worst = 0;
    for (size_t i = 0; i < a.size(); i++)
        worst = std::max(worst, std::sqrt((a[i] - b[i]).dot(a[i] - b[i])));
    std::printf("  %s vs Reference after 40 steps: max |dr| = %.2e nm\n", platformName.c_str(), worst);
    check(worst < 1e-6, "the trajectory follows the Reference platform");
}

// A checkpoint of `source` resumed in `target` (a Context of an equal System with an
// equal integrator) continues bit for bit, schedule included.
static void testCheckpoint(SharedSystem& s, Context& source, VerletIntegrator& sourceIntegrator, Context& target,
                           VerletIntegrator& targetIntegrator, SwitchingDPForce& targetForce) {
    // A checkpoint holds state, not parameters: give the target the source's schedule.
    targetForce.setAccurateInterval(s.forces[0]->getAccurateInterval());
    targetForce.setAccuratePhase(s.forces[0]->getAccuratePhase());
    targetForce.updateParametersInContext(target);
    sourceIntegrator.step(2);  // off the schedule's period, so the phase must come from the step count
    std::stringstream checkpoint;
    source.createCheckpoint(checkpoint);
    long long step = source.getStepCount();
    std::vector<long long> sourceBefore = s.forces[0]->getEvaluationCounts(source);
    sourceIntegrator.step(10);
    State a = source.getState(State::Positions | State::Velocities | State::Energy, false, 1 << 0);
    targetIntegrator.setIntegrationForceGroups(1 << 0);
    target.loadCheckpoint(checkpoint);
    check(target.getStepCount() == step, "the checkpoint restores the step count");
    std::vector<long long> targetBefore = targetForce.getEvaluationCounts(target);
    targetIntegrator.step(10);
    State b = target.getState(State::Positions | State::Velocities | State::Energy, false, 1 << 0);
    std::vector<long long> sourceAfter = s.forces[0]->getEvaluationCounts(source);
    std::vector<long long> targetAfter = targetForce.getEvaluationCounts(target);
    bool identical = (a.getPotentialEnergy() == b.getPotentialEnergy());
    for (size_t i = 0; i < a.getPositions().size(); i++)
        identical = identical && a.getPositions()[i] == b.getPositions()[i] && a.getVelocities()[i] == b.getVelocities()[i];
    long long sourceAccurate = sourceAfter[0] - sourceBefore[0], targetAccurate = targetAfter[0] - targetBefore[0];
    std::printf("  checkpoint at step %lld resumed in a new Context: 10 steps %s, accurate evaluations %lld vs %lld\n",
                step, identical ? "bit-identical" : "DIFFERENT", sourceAccurate, targetAccurate);
    check(identical, "a resumed checkpoint continues bit-identically");
    check(sourceAccurate == targetAccurate && sourceAfter[1] - sourceBefore[1] == targetAfter[1] - targetBefore[1],
          "a resumed checkpoint follows the same schedule");
}

// MultipleTimeStep: each force group against Reference, and each model evaluated
// once per configuration whatever groups are asked for.
static void testMultipleTimeStep(const Water& water) {
    std::unique_ptr<System> system(waterSystem(water, false));
    SwitchingDPForce* forces[2] = {new SwitchingDPForce(ACCURATE_MODEL, FAST_MODEL),
                                   new SwitchingDPForce(RESIDUAL_MODEL, FAST_MODEL)};
    for (int k = 0; k < 2; k++) {
        forces[k]->setMode(SwitchingDPForce::MultipleTimeStep);
        forces[k]->setSlowTerm(k == 0 ? SwitchingDPForce::Difference : SwitchingDPForce::Residual);
        forces[k]->setForceGroup(2*k);
        forces[k]->setSlowForceGroup(2*k + 1);
        forces[k]->setTypes(water.elements);
        system->addForce(forces[k]);
    }
    VerletIntegrator integratorRef(0.0005), integratorTest(0.0005);
    Context ref(*system, integratorRef, Platform::getPlatformByName("Reference"));
    Context test(*system, integratorTest, gpu(), {{"Precision", "mixed"}});
    ref.setPositions(water.positions);
    test.setPositions(water.positions);
    Tolerance tol = tolerance("mixed");
    for (int k = 0; k < 2; k++) {
        const char* term = (k == 0 ? "difference" : "residual");
        for (int groups : {1, 2, 3}) {
            int mask = groups << (2*k);
            State a = ref.getState(State::Energy | State::Forces, false, mask);
            State b = test.getState(State::Energy | State::Forces, false, mask);
            auto f = forceDifference(b.getForces(), a.getForces());
            double dE = std::fabs(b.getPotentialEnergy() - a.getPotentialEnergy());
            std::printf("  MTS (%s) %-9s E = %14.6f  |dE| = %8.1e  max|F| = %8.1f  max|dF| = %8.1e\n", term,
                        groups == 1 ? "fast:" : groups == 2 ? "slow:" : "both:", a.getPotentialEnergy(), dE, f.second, f.first);
            // The slow term of a difference is small: compare against the full energy's scale.
            double scaleE = std::fabs(ref.getState(State::Energy, false, 1 << (2*k)).getPotentialEnergy());
            check(dE <= tol.energy * scaleE, std::string("MTS (") + term + ") energies differ");
            check(f.first <= tol.force * std::max(f.second, 1.0) + 1e-6, std::string("MTS (") + term + ") forces differ");
        }
        std::vector<long long> counts = forces[k]->getEvaluationCounts(test);
        check(counts[0] == 1 && counts[1] == 1, std::string("MTS (") + term + "): each model once at one configuration");
    }
}

static double residentMegabytes() {
    // Freed heap memory goes back to the system first, so that what is counted is what
    // is in use: a leak stays, the allocator's retained free blocks do not.
    malloc_trim(0);
    std::ifstream statm("/proc/self/statm");
    long pages = 0, resident = 0;
    statm >> pages >> resident;
    return resident * (double) sysconf(_SC_PAGESIZE) / 1e6;
}

#ifdef SWITCHINGDP_TEST_CUDA
static double deviceMegabytesUsed() {
    size_t freeBytes = 0, totalBytes = 0;
    check(cudaMemGetInfo(&freeBytes, &totalBytes) == cudaSuccess, "cudaMemGetInfo");
    return (double) (totalBytes - freeBytes) / 1e6;
}

static double torchMegabytes(int device) {
    auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device);
    return (double) stats.allocated_bytes[(size_t) c10::CachingAllocator::StatType::AGGREGATE].current / 1e6;
}
#endif

// Memory after warm-up stays flat over 1000 steps.
static void testMemory(const Water& water, SharedSystem& s, Context& context, VerletIntegrator& integrator,
                       Context& ref, const std::string& precision) {
    integrator.setIntegrationForceGroups(1 << 0);
    context.setPeriodicBoxVectors(Vec3(water.box, 0, 0), Vec3(0, water.box, 0), Vec3(0, 0, water.box));
    context.setPositions(water.positions);
    context.setVelocitiesToTemperature(300.0, 1);
    integrator.step(100);
    context.getState(State::Energy, false, 1 << 0);
    std::vector<long long> countsBefore = s.forces[0]->getEvaluationCounts(context);
    double hostBefore = residentMegabytes();
#ifdef SWITCHINGDP_TEST_CUDA
    int device = -1;
    if (platformName == "CUDA")
        device = std::stoi(gpu().getPropertyValue(context, "DeviceIndex"));
    double torchBefore = (device >= 0 ? torchMegabytes(device) : 0), usedBefore = (device >= 0 ? deviceMegabytesUsed() : 0);
#endif
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 10; i++) {
        integrator.step(100);
        context.getState(State::Energy, false, 1 << 0);
    }
    double elapsed = seconds(start);
    double hostAfter = residentMegabytes();
    std::vector<long long> countsAfter = s.forces[0]->getEvaluationCounts(context);
    std::printf("  1000 steps (%.1f ms/step): host RSS %.1f -> %.1f MB\n", elapsed * 1000 / 1000, hostBefore, hostAfter);
    // Neighbour-list sizes change with rebuilds and allocators keep pools, so allow
    // a little; a leak of even one positions array per step (4.6 kB) would show.
    check(hostAfter - hostBefore < 4.0, "host memory grows");
#ifdef SWITCHINGDP_TEST_CUDA
    if (device >= 0) {
        double torchAfter = torchMegabytes(device), usedAfter = deviceMegabytesUsed();
        std::printf("  GPU memory over 1000 steps: PyTorch allocated %.1f -> %.1f MB, device used %.1f -> %.1f MB\n",
                    torchBefore, torchAfter, usedBefore, usedAfter);
        check(torchAfter - torchBefore < 4.0, "PyTorch GPU memory grows");
        check(usedAfter - usedBefore < 64.0, "GPU memory grows");
    }
#endif
    check(countsAfter[0] + countsAfter[1] - countsBefore[0] - countsBefore[1] >= 1000, "every step evaluated a model");

    // OpenMM has reordered the atoms (every 250 steps, the NonbondedForce's cutoff
    // asks for it): the forces must still land on the right particles.
    s.forces[0]->setAccurateInterval(1);
    s.forces[0]->updateParametersInContext(context);
    s.forces[0]->updateParametersInContext(ref);
    State state = context.getState(State::Positions);
    Vec3 box[3];
    state.getPeriodicBoxVectors(box[0], box[1], box[2]);
    ref.setPeriodicBoxVectors(box[0], box[1], box[2]);
    ref.setPositions(state.getPositions());
    compareGroup(context, ref, 0, precision + ", after 1000 steps (atoms reordered)", tolerance(precision), precision);
}

/** Whether the platform can run here; if not, why (printed with the skip). */
static std::string unavailableReason() {
    bool loaded = false;
    for (int i = 0; i < Platform::getNumPlatforms(); i++)
        loaded = loaded || Platform::getPlatform(i).getName() == platformName;
    if (!loaded) {
        std::string reason = "OpenMM's " + platformName + " platform did not load";
        bool explained = false;
        for (const std::string& failure : Platform::getPluginLoadFailures())
            if (failure.find(platformName == "CUDA" ? "OpenMMCUDA" : "OpenMMOpenCL") != std::string::npos) {
                reason += "\n    " + failure;
                explained = true;
            }
        if (!explained)
            reason += (platformName == "CUDA" ? " (no CUDA device)" :
                       " (no OpenCL device; scripts/setup.sh installs pocl's CPU device)");
        return reason;
    }
    try {
        System system;
        system.addParticle(1.0);
        VerletIntegrator integrator(0.001);
        Context context(system, integrator, gpu());
    }
    catch (const std::exception& e) {
        return std::string("no ") + platformName + " device (" + e.what() + ")";
    }
    return "";
}

int main(int argc, char** argv) {
    setvbuf(stdout, nullptr, _IOLBF, 0);
    // A fixed mmap threshold: glibc's adaptive one lets the resident size of a process
    // that allocates large, short-lived tensors (the native path's per-evaluation work
    // arrays) swing by tens of MB with no leak, which the memory check would misread.
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    auto start = std::chrono::steady_clock::now();
    if (argc != 2 || (std::string(argv[1]) != "OpenCL" && std::string(argv[1]) != "CUDA")) {
        std::printf("usage: %s OpenCL|CUDA\n", argv[0]);
        return 1;
    }
    platformName = argv[1];
    try {
        std::string plugin = (platformName == "CUDA" ? CUDA_PLUGIN : OPENCL_PLUGIN);
        if (plugin.empty()) {
            std::printf("skipped: the %s platform kernel was not built (see CMake's output)\n", platformName.c_str());
            return SKIPPED;
        }
        Platform::loadPluginsFromDirectory(OPENMM_PLUGIN_DIR);
        registerKernelFactories();
        std::string reason = unavailableReason();
        if (!reason.empty()) {
            std::printf("skipped: %s\n", reason.c_str());
            return SKIPPED;
        }
        // Loaded at run time like Python does, not linked: every plugin defines registerKernelFactories().
        Platform::loadPluginLibrary(plugin);
        Water water = readWater();
        check(water.positions.size() == 192, "water.pdb has 192 atoms");

        SharedSystem shared = makeSharedSystem(water);
        VerletIntegrator refIntegrator(0.0005);
        Context ref(*shared.system, refIntegrator, Platform::getPlatformByName("Reference"));
        std::unique_ptr<Context> contexts[3];
        std::unique_ptr<VerletIntegrator> integrators[3];
        const char* precisions[3] = {"single", "mixed", "double"};
        for (int p = 0; p < 3; p++) {
            integrators[p].reset(new VerletIntegrator(0.0005));
            auto created = std::chrono::steady_clock::now();
            try {
                contexts[p].reset(new Context(*shared.system, *integrators[p], gpu(), {{"Precision", precisions[p]}}));
            }
            catch (const OpenMMException& e) {
                // OpenMM refuses mixed and double precision on a device without doubles.
                std::printf("%s precision not available on this device: %s\n", precisions[p], e.what());
                continue;
            }
            if (p == 0)
                std::printf("%s platform, device: %s\n", platformName.c_str(), gpu().getPropertyValue(*contexts[p],
                            platformName == "CUDA" ? "DeviceName" : "OpenCLDeviceName").c_str());
            std::printf("%s precision: Context with three forces created in %.1f s\n", precisions[p], seconds(created));
            auto section = std::chrono::steady_clock::now();
            testAgainstReference(water, shared, *contexts[p], ref, precisions[p]);
            std::printf("%s precision against Reference: %.1f s\n", precisions[p], seconds(section));
        }
        check(contexts[0] != nullptr, "single precision is always available");

        // The remaining cases run in double precision where the device has it.
        int p = (contexts[2] ? 2 : contexts[1] ? 1 : 0);
        Context& main = *contexts[p];
        std::stringstream buffer;
        XmlSerializer::serialize<System>(shared.system.get(), "System", buffer);
        std::unique_ptr<System> copy(XmlSerializer::deserialize<System>(buffer));
        VerletIntegrator copyIntegrator(0.0005);
        Context copyContext(*copy, copyIntegrator, gpu(), {{"Precision", precisions[p]}});
        auto section = std::chrono::steady_clock::now();
        testSerialization(water, shared, main, copyContext);
        testSchedule(water, shared, main, ref, *integrators[p], refIntegrator);
        testCheckpoint(shared, main, *integrators[p], copyContext, copyIntegrator,
                       dynamic_cast<SwitchingDPForce&>(copy->getForce(0)));
        std::printf("XML, schedule and checkpoint: %.1f s\n", seconds(section));
        section = std::chrono::steady_clock::now();
        testMultipleTimeStep(water);
        std::printf("MultipleTimeStep: %.1f s\n", seconds(section));
        int m = (contexts[1] ? 1 : 0);
        testMemory(water, shared, *contexts[m], *integrators[m], ref, precisions[m]);
        for (auto& worst : worstErrors)
            std::printf("worst relative errors against Reference, %s precision: energy %.1e, forces %.1e\n",
                        worst.first.c_str(), worst.second.first, worst.second.second);
    }
    catch (const std::exception& e) {
        std::printf("FAIL: %s\n", e.what());
        return 1;
    }
    std::printf("Done in %.1f s\n", seconds(start));
    return 0;
}
