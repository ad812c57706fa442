#include "SwitchingDPEngine.h"
#include "DPModel.h"
#include "EngineChecks.h"
#include "openmm/OpenMMException.h"
#include <algorithm>
#include <cmath>
#include <numeric>

using namespace SwitchingDPPlugin;
using OpenMM::OpenMMException;
using OpenMM::Vec3;

SwitchingDPEngine::SwitchingDPEngine(const std::array<std::string, 2>& contents, const std::array<std::string, 2>& labels,
        const std::vector<std::string>& typeNames, const std::vector<int>& particles, bool periodic, double skinNm,
        const DPUnits& units) :
        models{std::make_unique<DPModel>(contents[0], labels[0]), std::make_unique<DPModel>(contents[1], labels[1])},
        particles(particles), periodic(periodic), units(units),
        neighbors(largestCutoff(models), units.toModelLength(skinNm)) {
    checkOneTypePerParticle(typeNames.size(), particles.size());
    for (int m = 0; m < 2; m++)
        localTypes[m] = models[m]->getInfo().typeIndices(typeNames, modelRole(m), labels[m]);
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
            throwNonFinitePosition(particles[i]);
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
    const int selSum = std::accumulate(info.sel.begin(), info.sel.end(), 0);
    int width = neighbors.modelList(extended, info.cutoff, selSum, nlist, usedGhosts);
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
    if (selExceeded(model, nlist, width, extendedTypes) && width == selSum) {
        // deepmd-kit sorts a row by distance only when the list is wider than sum(sel);
        // one empty column more makes it keep the nearest neighbours of the crowded
        // type, as DeepPot does.  (Our rows are in canonical, not distance, order.)
        std::vector<long long> wider((size_t) n * (width + 1), -1);
        for (int i = 0; i < n; i++)
            std::copy(nlist.begin() + (size_t) i*width, nlist.begin() + (size_t) (i+1)*width,
                      wider.begin() + (size_t) i*(width+1));
        nlist.swap(wider);
        width++;
    }

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

bool SwitchingDPEngine::selExceeded(int model, const std::vector<long long>& nlist, int width,
                                    const std::vector<long long>& types) {
    const DPModelInfo& info = models[model]->getInfo();
    if (info.mixedTypes)
        return false;   // one sel for all types: the list width already takes care of it
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
                if (!warnedSel[model])
                    warnSelExceeded(info, model, particles[i], count[t], (int) t);
                warnedSel[model] = true;
                return true;
            }
    }
    return false;
}
