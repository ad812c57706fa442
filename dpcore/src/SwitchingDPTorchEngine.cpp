#include "SwitchingDPTorchEngine.h"
#include "DPModel.h"
#include "EngineChecks.h"
#include "openmm/OpenMMException.h"
#include <algorithm>
#include <numeric>

using namespace SwitchingDPPlugin;
using OpenMM::OpenMMException;
using OpenMM::Vec3;
using torch::Tensor;

SwitchingDPTorchEngine::SwitchingDPTorchEngine(const std::array<std::string, 2>& contents,
        const std::array<std::string, 2>& labels, const std::vector<std::string>& typeNames,
        const std::vector<int>& particles, bool periodic, double skinNm, const torch::Device& device,
        const DPUnits& units) :
        models{std::make_unique<DPModel>(contents[0], labels[0]), std::make_unique<DPModel>(contents[1], labels[1])},
        particles(particles), periodic(periodic), device(device), units(units),
        neighbors(largestCutoff(models), units.toModelLength(skinNm)) {
    checkOneTypePerParticle(typeNames.size(), particles.size());
    for (int m = 0; m < 2; m++) {
        std::vector<long long> indices = models[m]->getInfo().typeIndices(typeNames, modelRole(m), labels[m]);
        localTypes[m] = torch::tensor(std::vector<int64_t>(indices.begin(), indices.end()), torch::kInt64).to(device);
        models[m]->to(device);
    }
}

SwitchingDPTorchEngine::~SwitchingDPTorchEngine() {
}

const DPModelInfo& SwitchingDPTorchEngine::getInfo(int model) const {
    return models[model]->getInfo();
}

const DPTensorResult& SwitchingDPTorchEngine::evaluate(int model, const Tensor& positions, const Vec3* box) {
    const int64_t n = (int64_t) particles.size();
    if (positions.dim() != 2 || positions.size(0) != n || positions.size(1) != 3 ||
            positions.scalar_type() != torch::kFloat64 || positions.device() != device)
        throw OpenMMException("SwitchingDPForce: the engine takes the " + std::to_string(n) +
                " DP particles' positions as an [n, 3] float64 tensor on " + device.str());
    std::array<double, 9> boxNm{};
    if (periodic)
        for (int v = 0; v < 3; v++)
            for (int k = 0; k < 3; k++)
                boxNm[3*v + k] = box[v][k];
    Cache& entry = cache[model];
    // A NaN never compares equal, so non-finite positions always reach the check below.
    if (entry.valid && entry.box == boxNm && torch::equal(entry.positions, positions))
        return entry.result;
    checkFinite(positions);

    // Model units from here on.
    Tensor positionsModel = positions * units.lengthPerNm;
    std::array<double, 9> boxModel;
    for (int i = 0; i < 9; i++)
        boxModel[i] = units.toModelLength(boxNm[i]);
    if (neighbors.update(positionsModel, periodic ? boxModel.data() : nullptr))
        builds++;
    Tensor extended = neighbors.extendedPositions(positionsModel);
    const Tensor& atoms = neighbors.getExtendedAtoms();
    const DPModelInfo& info = models[model]->getInfo();
    // One column more than sum(sel): deepmd-kit's format_nlist then always sorts by
    // distance, keeps the nearest sum(sel) and masks what lies beyond its rcut.
    int selSum = std::accumulate(info.sel.begin(), info.sel.end(), 0);
    Tensor nlist = neighbors.modelList(extended, info.cutoff, selSum + 1);
    Tensor types = localTypes[model].index_select(0, atoms);
    checkSelLimits(model, nlist, types);

    Tensor extendedForce;
    Tensor energy = models[model]->compute(extended.unsqueeze(0), types.unsqueeze(0), nlist.unsqueeze(0), extendedForce);
    // Ghost forces go back to their owners.
    Tensor forces = torch::zeros({n, 3}, positions.options())
            .index_add_(0, atoms, extendedForce.reshape({-1, 3}).to(torch::kFloat64));
    DPTensorResult& result = entry.result;
    result.energy = units.toKJPerMol(energy.item<double>());
    result.forces = forces * units.forceToKJPerMolNm(1.0);
    entry.positions = positions.clone();
    entry.box = boxNm;
    entry.valid = true;
    evaluations[model]++;
    return result;
}

void SwitchingDPTorchEngine::checkFinite(const Tensor& positions) const {
    Tensor bad = positions.isfinite().all(1).logical_not();
    if (!bad.any().item<bool>())
        return;
    int64_t i = bad.nonzero()[0][0].item<int64_t>();
    throwNonFinitePosition(particles[i]);
}

void SwitchingDPTorchEngine::checkSelLimits(int model, const Tensor& nlist, const Tensor& extendedTypes) {
    const DPModelInfo& info = models[model]->getInfo();
    if (warnedSel[model] || info.mixedTypes || info.sel.empty())
        return;
    // Neighbours of each type per atom; empty slots count as an extra type.
    const int64_t numTypes = (int64_t) info.sel.size();
    Tensor neighborTypes = extendedTypes.index_select(0, nlist.clamp_min(0).reshape(-1)).view_as(nlist)
            .clamp_max(numTypes).masked_fill(nlist < 0, numTypes);
    Tensor counts = torch::zeros({nlist.size(0), numTypes + 1}, nlist.options())
            .scatter_add_(1, neighborTypes, torch::ones_like(neighborTypes)).narrow(1, 0, numTypes);
    std::vector<int64_t> sel(info.sel.begin(), info.sel.end());
    Tensor over = counts > torch::tensor(sel, torch::kInt64).to(counts.device());
    if (!over.any().item<bool>())
        return;
    Tensor first = over.nonzero()[0].cpu();
    int64_t i = first[0].item<int64_t>(), t = first[1].item<int64_t>();
    warnSelExceeded(info, model, particles[i], counts[i][t].item<int64_t>(), (int) t);
    warnedSel[model] = true;
}
