#include "SwitchingDPEngine.h"
#include "DPModel.h"
#include "HostNeighborList.h"
#include "OpenMPRuntimes.h"
#include "TensorNeighborList.h"
#include "openmm/OpenMMException.h"
#include <ATen/record_function.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <numeric>

using namespace SwitchingDPPlugin;
using OpenMM::OpenMMException;
using OpenMM::Vec3;
using torch::Tensor;

namespace {

void checkOneTypePerParticle(std::size_t numTypeNames, std::size_t numParticles) {
    if (numTypeNames != numParticles)
        throw OpenMMException("SwitchingDPForce: " + std::to_string(numTypeNames) + " type names for " +
                std::to_string(numParticles) + " DP particles");
}

[[noreturn]] void throwNonFinitePosition(int particle) {
    throw OpenMMException("SwitchingDPForce: particle " + std::to_string(particle) +
            " has a non-finite position (NaN or infinity); the simulation has probably blown up");
}

/** A length in nm for messages, "%.3g". */
std::string formatNm(double nm) {
    char text[32];
    std::snprintf(text, sizeof(text), "%.3g", nm);
    return text;
}

[[noreturn]] void throwOverlap(int particleI, int particleJ, double distanceNm) {
    throw OpenMMException("SwitchingDPForce: particles " + std::to_string(particleI) + " and " + std::to_string(particleJ) +
            " are " + formatNm(distanceNm) + " nm apart, closer than the " + formatNm(MINIMUM_DISTANCE_NM) +
            " nm any two DP particles may be (the models would give non-finite or meaningless forces); check the "
            "positions (duplicated atoms, or a structure that has blown up)");
}

/** A DP particle (System index) has `count` neighbours of model type `type` within a model's cutoff, more than sel. */
void warnSelExceeded(const DPModelInfo& info, int model, int particle, long long count, int type) {
    std::cerr << "SwitchingDPForce warning: particle " << particle << " has " << count << " neighbours of type '"
              << info.typeMap[type] << "' within the " << modelRole(model) << " model's cutoff, more than its sel ("
              << info.sel[type] << "); the model keeps only the nearest. Retrain with a larger sel if this persists."
              << std::endl;
}

} // namespace

/** The host cell list where tensors live on the CPU, the tensor list on devices. */
static std::unique_ptr<DPNeighborList> makeNeighborList(SwitchingDPEngine::NeighborListKind kind, const torch::Device& device,
                                                        double cutoff, double skin) {
    if (kind == SwitchingDPEngine::ListForDevice)
        kind = (device.is_cpu() ? SwitchingDPEngine::HostList : SwitchingDPEngine::TensorList);
    if (kind == SwitchingDPEngine::HostList && !device.is_cpu())
        throw OpenMMException("SwitchingDPForce: the host neighbour list needs the engine on the CPU, not " + device.str());
    if (kind == SwitchingDPEngine::HostList)
        return std::make_unique<HostNeighborList>(cutoff, skin);
    return std::make_unique<TensorNeighborList>(cutoff, skin);
}

/** The models of an engine: the fast one is absent when its contents are empty (a one-model force). */
static std::array<std::unique_ptr<DPModel>, 2> loadModels(const std::array<std::string, 2>& contents,
                                                          const std::array<std::string, 2>& labels,
                                                          const torch::Device& device, bool nativePath) {
    std::array<std::unique_ptr<DPModel>, 2> models;
    models[Accurate] = DPModel::load(contents[Accurate], labels[Accurate], device, nativePath);
    if (!contents[Fast].empty())
        models[Fast] = DPModel::load(contents[Fast], labels[Fast], device, nativePath);
    return models;
}

/** The neighbour list's range: the largest cutoff of the models present (model length units). */
static double largestCutoff(const std::array<std::unique_ptr<DPModel>, 2>& models) {
    double cutoff = 0;
    for (const auto& model : models)
        if (model)
            cutoff = std::max(cutoff, model->getInfo().cutoff);
    return cutoff;
}

SwitchingDPEngine::SwitchingDPEngine(const std::array<std::string, 2>& contents, const std::array<std::string, 2>& labels,
        const std::vector<std::string>& typeNames, const std::vector<int>& particles, bool periodic, double skinNm,
        const torch::Device& device, NeighborListKind listKind, const DPUnits& units,
        const std::vector<double>& frameParameters, const std::vector<double>& atomicParameters, bool nativePath) :
        models(loadModels(contents, labels, device, nativePath)), particles(particles), periodic(periodic), device(device), units(units),
        neighbors(makeNeighborList(listKind, device, largestCutoff(models), units.toModelLength(skinNm))) {
    checkOneTypePerParticle(typeNames.size(), particles.size());
    for (int m = 0; m < 2; m++) {
        if (!models[m])
            continue;
        std::vector<long long> indices = models[m]->getInfo().typeIndices(typeNames, modelRole(m), labels[m]);
        Tensor types = torch::tensor(std::vector<int64_t>(indices.begin(), indices.end()), torch::kInt64);
        models[m]->prepare(types);
        localTypes[m] = types.to(device);
    }
    setParameters(frameParameters, atomicParameters);
}

void SwitchingDPEngine::setParameters(const std::vector<double>& frame, const std::vector<double>& atomic) {
    const int64_t n = (int64_t) particles.size();
    bool frameUsed = false, atomicUsed = false;
    std::array<Tensor, 2> newFrame, newAtomic;
    for (int m = 0; m < 2; m++) {
        if (!models[m])
            continue;
        const DPModelInfo& info = models[m]->getInfo();
        const std::string model = std::string("the ") + modelRole(m) + " model '" + models[m]->getLabel() + "'";
        if (info.dimFparam > 0) {
            if ((int64_t) frame.size() != info.dimFparam)
                throw OpenMMException("SwitchingDPForce: " + model + " takes " + std::to_string(info.dimFparam) +
                        " frame parameters (dim_fparam) but " + std::to_string(frame.size()) +
                        " were given; call setFrameParameters() with " + std::to_string(info.dimFparam) + " values");
            newFrame[m] = torch::tensor(frame, torch::kFloat64).view({1, info.dimFparam}).to(device);
            frameUsed = true;
        }
        if (info.dimAparam > 0) {
            if ((int64_t) atomic.size() != n * info.dimAparam)
                throw OpenMMException("SwitchingDPForce: " + model + " takes " + std::to_string(info.dimAparam) +
                        " atomic parameters (dim_aparam) per DP particle, " + std::to_string(n * info.dimAparam) +
                        " for the " + std::to_string(n) + " DP particles, but " + std::to_string(atomic.size()) +
                        " were given; call setAtomicParameters() with them particle by particle");
            newAtomic[m] = torch::tensor(atomic, torch::kFloat64).view({1, n, info.dimAparam}).to(device);
            atomicUsed = true;
        }
    }
    if (!frame.empty() && !frameUsed)
        throw OpenMMException("SwitchingDPForce: " + std::to_string(frame.size()) + " frame parameters were given "
                "but no model takes any (dim_fparam = 0)");
    if (!atomic.empty() && !atomicUsed)
        throw OpenMMException("SwitchingDPForce: " + std::to_string(atomic.size()) + " atomic parameters were given "
                "but no model takes any (dim_aparam = 0)");
    fparam = newFrame;
    aparam = newAtomic;
    for (Cache& entry : cache)
        entry.valid = false;
}
SwitchingDPEngine::~SwitchingDPEngine() {
}

void SwitchingDPEngine::setDeviceGraphs(std::shared_ptr<DeviceGraphs> graphs) {
    for (auto& model : models)
        if (model)
            model->setDeviceGraphs(graphs);
}

bool SwitchingDPEngine::usesDeviceGraphs(Model model) const {
    return models[model] && models[model]->usesDeviceGraphs();
}

const DPModelInfo& SwitchingDPEngine::getInfo(Model model) const {
    if (!models[model])
        throw OpenMMException(std::string("SwitchingDPForce: this force has no ") + modelRole(model) + " model");
    return models[model]->getInfo();
}

DPResult SwitchingDPEngine::evaluateSum(const ModelCoefficients& coefficients, const Tensor& positions, const Vec3* box,
                                        bool includeForces, ModelDeviation* deviation, bool residual) {
    DPResult sum;
    for (Model model : {Accurate, Fast}) {
        if (coefficients[model] == 0.0)
            continue;
        const DPResult& result = evaluate(model, positions, box);
        sum.energy += coefficients[model] * result.energy;
        if (includeForces) {
            Tensor weighted = coefficients[model] * result.forces;
            sum.forces = (sum.forces.defined() ? sum.forces + weighted : weighted);
        }
    }
    if (deviation != nullptr)
        this->deviation(positions, box, residual, *deviation);
    return sum;
}

void SwitchingDPEngine::deviation(const Tensor& positions, const Vec3* box, bool residual, ModelDeviation& deviation) {
    if (!models[Fast])
        throw OpenMMException("SwitchingDPForce: internal error: a deviation needs two models");
    // The accurate result stays valid while the fast model runs: each model has its own cache.
    const DPResult& accurate = evaluate(Accurate, positions, box);
    Tensor difference = accurate.forces;
    double energyDifference = accurate.energy;
    if (!residual) {
        const DPResult& fast = evaluate(Fast, positions, box);
        difference = accurate.forces - fast.forces;
        energyDifference -= fast.energy;
    }
    Tensor norms = difference.norm(2, 1).to(torch::kCPU);   // kJ/mol/nm, one per DP particle
    double perEvPerA = 1.0 / units.forceToKJPerMolNm(1.0);
    int64_t worst = norms.argmax().item<int64_t>();
    deviation.maxForceDeviation = norms[worst].item<double>() * perEvPerA;
    deviation.rmsForceDeviation = std::sqrt(norms.square().mean().item<double>()) * perEvPerA;
    deviation.energyDeviationPerAtom = energyDifference / units.kjPerMolPerEnergy / particles.size();
    deviation.worstParticle = particles[worst];
}

const DPResult& SwitchingDPEngine::evaluate(Model model, const Tensor& positions, const Vec3* box) {
    const int64_t n = (int64_t) particles.size();
    if (positions.dim() != 2 || positions.size(0) != n || positions.size(1) != 3 ||
            positions.scalar_type() != torch::kFloat64 || positions.device() != device)
        throw OpenMMException("SwitchingDPForce: the engine takes the " + std::to_string(n) +
                " DP particles' positions as an [n, 3] float64 tensor on " + device.str());
    if (!models[model])
        throw OpenMMException(std::string("SwitchingDPForce: this force has no ") + modelRole(model) + " model");
    std::array<double, 9> boxNm{};
    if (periodic)
        for (int v = 0; v < 3; v++)
            for (int k = 0; k < 3; k++)
                boxNm[3*v + k] = box[v][k];
    Cache& entry = cache[model];
    // A NaN never compares equal, so non-finite positions always reach the check below.
    if (entry.valid && entry.box == boxNm && torch::equal(entry.positions, positions))
        return entry.result;
    typedef std::chrono::steady_clock Clock;
    Clock::time_point start = Clock::now();
    checkFinite(positions);

    // Model units from here on.
    Tensor positionsModel = positions * units.lengthPerNm;
    std::array<double, 9> boxModel;
    for (int i = 0; i < 9; i++)
        boxModel[i] = units.toModelLength(boxNm[i]);
    neighbors->update(positionsModel, periodic ? boxModel.data() : nullptr);
    // The native path formats any list itself: it takes the list's unpacked form.
    const bool formats = models[model]->formatsNeighborList();
    const DPModelInput& input = formats ? neighbors->unpackedModelInput(models[model]->getInfo().cutoff)
                                        : neighbors->modelInput(models[model]->getInfo().cutoff);
    if (input.closestDistance >= 0 && input.closestDistance < units.toModelLength(MINIMUM_DISTANCE_NM))
        throwOverlap(particles[input.closestI], particles[input.closestJ], units.toNm(input.closestDistance));
    Tensor types = localTypes[model].index_select(0, input.atoms);
    // (It also reports a sel overflow after the call.)
    Tensor nlist = formats ? input.nlist : widenForModel(model, input.nlist, types);

    DPModelCall call;
    call.coord = input.coord.unsqueeze(0);
    call.atype = types.unsqueeze(0);
    call.nlist = nlist.unsqueeze(0);
    call.mapping = input.atoms.unsqueeze(0);
    call.fparam = fparam[model];
    call.aparam = aparam[model];
    Tensor extendedForce;
    if (device.is_cpu())
        OpenMPRuntimes::serializeOnThisThread();
    Clock::time_point modelStart = Clock::now();
    Tensor energy;
    {
        // A named profiler scope: what the model itself runs, apart from the engine's work.
        RECORD_USER_SCOPE("SwitchingDP::model");
        energy = models[model]->compute(call, extendedForce);
    }
    // Reading the energy waits for a device's queued work: the model's time ends here.
    const double energyModel = energy.item<double>();
    Clock::time_point modelEnd = Clock::now();
    // Forces are checked where it costs nothing noticeable (on the CPU); a non-finite
    // force with a finite energy does not happen with DP models' smooth switching.
    if (!std::isfinite(energyModel) || (device.is_cpu() && !extendedForce.isfinite().all().item<bool>()))
        throwNonFiniteResult(model, input);
    if (formats && !warnedSel[model]) {
        Tensor overflow = models[model]->selOverflow();
        if (overflow.defined() && overflow.item<bool>())
            checkSelOverflow(model, input.nlist, types);
    }
    // Ghost forces go back to their owners (in entry order: deterministic on the CPU).
    Tensor forces = torch::zeros({n, 3}, positions.options())
            .index_add_(0, input.atoms, extendedForce.reshape({-1, 3}).to(torch::kFloat64));
    DPResult& result = entry.result;
    result.energy = units.toKJPerMol(energyModel);
    result.forces = forces.mul_(units.forceToKJPerMolNm(1.0));
    entry.positions = positions.clone();
    entry.box = boxNm;
    entry.valid = true;
    evaluations[model]++;
    timing[model].modelSeconds += std::chrono::duration<double>(modelEnd - modelStart).count();
    timing[model].evaluateSeconds += std::chrono::duration<double>(Clock::now() - start).count();
    return result;
}

void SwitchingDPEngine::throwNonFiniteResult(Model model, const DPModelInput& input) const {
    // The usual cause is two atoms (nearly) on top of each other: find the closest pair
    // in this model's list (this is the error path, so its cost does not matter).
    const int64_t n = input.nlist.size(0), width = input.nlist.size(1);
    if (n > 0 && width > 0) {
        Tensor coord = input.coord.to(torch::kCPU), nlist = input.nlist.to(torch::kCPU), atoms = input.atoms.to(torch::kCPU);
        Tensor neighbours = coord.index_select(0, nlist.clamp_min(0).reshape(-1)).view({n, width, 3});
        Tensor distance = (neighbours - coord.narrow(0, 0, n).unsqueeze(1)).norm(2, 2)
                .masked_fill(nlist < 0, std::numeric_limits<double>::infinity());
        int64_t flat = distance.argmin().item<int64_t>(), i = flat / width;
        double closest = distance.view(-1)[flat].item<double>();
        // (Every entry padding, the minimum is infinite: no pair to blame.)
        if (closest < units.toModelLength(MINIMUM_DISTANCE_NM))
            throwOverlap(particles[i], particles[atoms[nlist[i][flat % width].item<int64_t>()].item<int64_t>()],
                         units.toNm(closest));
    }
    throw OpenMMException(std::string("SwitchingDPForce: the ") + modelRole(model) + " model '" + models[model]->getLabel() +
            "' returned a non-finite energy or forces at these positions, with no two DP particles closer than " +
            formatNm(MINIMUM_DISTANCE_NM) + " nm; the structure may have blown up, or the model "
            "may be broken");
}

void SwitchingDPEngine::checkFinite(const Tensor& positions) const {
    int64_t bad = -1;
    if (positions.device().is_cpu()) {
        // A plain loop: on the CPU, the tensor version's few small ops cost more than the check.
        Tensor contiguous = positions.contiguous();
        const double* p = contiguous.data_ptr<double>();
        for (int64_t i = 0, n = contiguous.size(0); i < n && bad < 0; i++)
            if (!std::isfinite(p[3*i]) || !std::isfinite(p[3*i+1]) || !std::isfinite(p[3*i+2]))
                bad = i;
    }
    else {
        Tensor nonFinite = positions.isfinite().all(1).logical_not();
        if (nonFinite.any().item<bool>())
            bad = nonFinite.nonzero()[0][0].item<int64_t>();
    }
    if (bad >= 0)
        throwNonFinitePosition(particles[bad]);
}

bool SwitchingDPEngine::checkSelOverflow(Model model, const Tensor& nlist, const Tensor& types) {
    const DPModelInfo& info = models[model]->getInfo();
    const int64_t n = nlist.size(0), width = nlist.size(1);
    if (info.mixedTypes || info.sel.empty() || n == 0 || width == 0)
        return false;
    const int64_t numTypes = (int64_t) info.sel.size();
    Tensor neighborTypes = types.index_select(0, nlist.clamp_min(0).reshape(-1)).view({n, width})
            .clamp_max(numTypes).masked_fill(nlist < 0, numTypes);
    Tensor counts = torch::zeros({n, numTypes + 1}, nlist.options())
            .scatter_add_(1, neighborTypes, torch::ones_like(neighborTypes)).narrow(1, 0, numTypes);
    std::vector<int64_t> sel(info.sel.begin(), info.sel.end());
    Tensor over = counts > torch::tensor(sel, torch::kInt64).to(counts.device());
    bool overflow = over.any().item<bool>();
    if (overflow && !warnedSel[model]) {
        Tensor first = over.nonzero()[0].cpu();
        int64_t i = first[0].item<int64_t>(), t = first[1].item<int64_t>();
        warnSelExceeded(info, model, particles[i], counts[i][t].item<int64_t>(), (int) t);
        warnedSel[model] = true;
    }
    return overflow;
}

Tensor SwitchingDPEngine::widenForModel(Model model, const Tensor& nlist, const Tensor& types) {
    const DPModelInfo& info = models[model]->getInfo();
    const int64_t n = nlist.size(0), width = nlist.size(1);
    const int64_t selSum = std::accumulate(info.sel.begin(), info.sel.end(), (int64_t) 0);
    // deepmd-kit sorts a row by distance, keeping the nearest sum(sel), only when the
    // list is wider than sum(sel); its per-type selection then keeps the nearest of
    // each type, as DeepPot does.  Our rows are in index order, so a type with more
    // neighbours than its sel needs that sort: one empty column more forces it.
    bool overflow = false;
    if (width <= selSum || !warnedSel[model])
        overflow = checkSelOverflow(model, nlist, types);
    int64_t target = std::max(width, selSum);
    if (overflow && target == selSum)
        target++;
    if (target == width)
        return nlist;
    return torch::cat({nlist, torch::full({n, target - width}, -1, nlist.options())}, 1);
}
