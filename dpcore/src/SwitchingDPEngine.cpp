#include "SwitchingDPEngine.h"
#include "DPModel.h"
#include "openmm/OpenMMException.h"
#include <algorithm>
#include <cmath>
#include <iostream>
#include <numeric>

using namespace SwitchingDPPlugin;
using OpenMM::OpenMMException;
using OpenMM::Vec3;

static const char* MODEL_NAMES[2] = {"accurate", "fast"};

static double largestCutoff(const std::array<std::unique_ptr<DPModel>, 2>& models) {
    return std::max(models[0]->getInfo().cutoff, models[1]->getInfo().cutoff);
}

SwitchingDPEngine::SwitchingDPEngine(const std::array<std::string, 2>& contents, const std::array<std::string, 2>& labels,
        const std::vector<std::string>& typeNames, const std::vector<int>& particles, bool periodic, double skinNm,
        const DPUnits& units) :
        models{std::make_unique<DPModel>(contents[0], labels[0]), std::make_unique<DPModel>(contents[1], labels[1])},
        particles(particles), periodic(periodic), units(units),
        neighbors(largestCutoff(models), units.toModelLength(skinNm)) {
    if (typeNames.size() != particles.size())
        throw OpenMMException("SwitchingDPForce: " + std::to_string(typeNames.size()) + " type names for " +
                std::to_string(particles.size()) + " DP particles");
    for (int m = 0; m < 2; m++) {
        const DPModelInfo& info = models[m]->getInfo();
        for (const std::string& name : typeNames) {
            int index = info.typeIndex(name);
            if (index < 0)
                throw OpenMMException("SwitchingDPForce: type '" + name + "' is not in the type_map of the " +
                        MODEL_NAMES[m] + " model '" + labels[m] + "'");
            localTypes[m].push_back(index);
        }
    }
}

SwitchingDPEngine::~SwitchingDPEngine() {
}

const DPModelInfo& SwitchingDPEngine::getInfo(int model) const {
    return models[model]->getInfo();
}

const DPResult& SwitchingDPEngine::evaluate(int model, const std::vector<Vec3>& allPositions, const Vec3* box) {
    const int n = (int) particles.size();
    key.resize(3*n + (periodic ? 9 : 0));
    for (int i = 0; i < n; i++) {
        const Vec3& r = allPositions[particles[i]];
        if (!std::isfinite(r[0]) || !std::isfinite(r[1]) || !std::isfinite(r[2]))
            throw OpenMMException("SwitchingDPForce: particle " + std::to_string(particles[i]) +
                    " has a non-finite position (NaN or infinity); the simulation has probably blown up");
        for (int k = 0; k < 3; k++)
            key[3*i+k] = r[k];
    }
    if (periodic)
        for (int v = 0; v < 3; v++)
            for (int k = 0; k < 3; k++)
                key[3*n + 3*v + k] = box[v][k];

    Cache& entry = cache[model];
    if (entry.valid && entry.key == key)
        return entry.result;

    // Model units from here on.
    positionsModel.resize(3*n);
    for (int i = 0; i < 3*n; i++)
        positionsModel[i] = units.toModelLength(key[i]);
    double boxModel[9];
    if (periodic)
        for (int i = 0; i < 9; i++)
            boxModel[i] = units.toModelLength(key[3*n+i]);
    const double* boxArg = (periodic ? boxModel : nullptr);
    neighbors.update(positionsModel, boxArg);
    neighbors.extendedPositions(positionsModel, boxArg, extended);
    const DPModelInfo& info = models[model]->getInfo();
    // One column more than sum(sel): deepmd-kit then always sorts each row by distance,
    // so a type with more neighbours than its sel keeps its nearest ones, as in DeepPot.
    int minWidth = std::accumulate(info.sel.begin(), info.sel.end(), 0) + 1;
    int width = neighbors.modelList(extended, info.cutoff, minWidth, nlist, usedGhosts);
    // This model's extended atoms: the local atoms, then only the ghosts it uses.
    const std::vector<int>& owners = neighbors.getGhostOwners();
    const int nall = n + (int) usedGhosts.size();
    modelExtended.resize(3*nall);
    extendedTypes.resize(nall);
    std::copy(extended.begin(), extended.begin() + 3*n, modelExtended.begin());
    std::copy(localTypes[model].begin(), localTypes[model].end(), extendedTypes.begin());
    for (int k = 0; k < (int) usedGhosts.size(); k++) {
        int g = usedGhosts[k];
        std::copy(extended.begin() + 3*(n+g), extended.begin() + 3*(n+g+1), modelExtended.begin() + 3*(n+k));
        extendedTypes[n+k] = localTypes[model][owners[g]];
    }
    checkSelLimits(model, nlist, width, extendedTypes);

    auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
    auto i64 = torch::TensorOptions().dtype(torch::kInt64);
    torch::Tensor coord = torch::from_blob(modelExtended.data(), {1, nall, 3}, f64);
    torch::Tensor atype = torch::from_blob(extendedTypes.data(), {1, nall}, i64);
    torch::Tensor list = torch::from_blob(nlist.data(), {1, n, width}, i64);
    torch::Tensor extendedForce;
    torch::Tensor energy = models[model]->compute(coord, atype, list, extendedForce);
    extendedForce = extendedForce.to(torch::kFloat64).contiguous();
    const double* f = extendedForce.data_ptr<double>();

    // Ghost forces go back to their owners, in ghost order (deterministic).
    DPResult& result = entry.result;
    result.energy = units.toKJPerMol(energy.item<double>());
    result.forces.assign(f, f + 3*n);
    for (int k = 0; k < (int) usedGhosts.size(); k++)
        for (int d = 0; d < 3; d++)
            result.forces[3*owners[usedGhosts[k]]+d] += f[3*(n+k)+d];
    for (double& x : result.forces)
        x = units.forceToKJPerMolNm(x);
    entry.key = key;
    entry.valid = true;
    evaluations[model]++;
    return result;
}

void SwitchingDPEngine::checkSelLimits(int model, const std::vector<long long>& nlist, int width,
                                       const std::vector<long long>& types) {
    const DPModelInfo& info = models[model]->getInfo();
    if (warnedSel[model] || info.mixedTypes)
        return;
    const int n = (int) particles.size();
    std::vector<int> count(info.sel.size());
    for (int i = 0; i < n; i++) {
        std::fill(count.begin(), count.end(), 0);
        for (int c = 0; c < width; c++) {
            long long e = nlist[(size_t) i*width + c];
            if (e >= 0 && types[e] < (long long) count.size())
                count[types[e]]++;
        }
        for (size_t t = 0; t < count.size(); t++)
            if (count[t] > info.sel[t]) {
                std::cerr << "SwitchingDPForce warning: particle " << particles[i] << " has " << count[t]
                          << " neighbours of type '" << info.typeMap[t] << "' within the " << MODEL_NAMES[model]
                          << " model's cutoff, more than its sel (" << info.sel[t]
                          << "); the model keeps only the nearest. Retrain with a larger sel if this persists."
                          << std::endl;
                warnedSel[model] = true;
                return;
            }
    }
}
