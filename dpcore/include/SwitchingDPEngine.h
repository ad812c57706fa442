#ifndef OPENMM_SWITCHINGDP_ENGINE_H_
#define OPENMM_SWITCHINGDP_ENGINE_H_

#include "DPModelInfo.h"
#include "DPUnits.h"
#include "NeighborList.h"
#include "openmm/Vec3.h"
#include <array>
#include <memory>
#include <string>
#include <vector>

namespace SwitchingDPPlugin {

class DPModel;

/** One model's energy and forces on the DP particles, in OpenMM units. */
struct DPResult {
    double energy = 0;            ///< kJ/mol
    std::vector<double> forces;   ///< kJ/mol/nm, 3 per DP particle
};

/**
 * The platform-independent engine behind every kernel: both models, one shared
 * neighbour list, unit conversion and a per-model cache keyed by the exact
 * positions and box.  Positions and forces live on the host (the CUDA kernel
 * uses the same models and schedule with device-side buffers).
 */
class SwitchingDPEngine {
public:
    enum { Accurate = 0, Fast = 1 };
    /**
     * contents/labels: the two frozen models (accurate first) and names for errors;
     * typeNames: one DP type name per DP particle; particles: the DP particles'
     * indices in the System; skin in nm.
     */
    SwitchingDPEngine(const std::array<std::string, 2>& contents, const std::array<std::string, 2>& labels,
                      const std::vector<std::string>& typeNames, const std::vector<int>& particles,
                      bool periodic, double skinNm, const DPUnits& units = DPUnits());
    ~SwitchingDPEngine();
    /**
     * Evaluate one model at the given positions (all System particles, nm) and box
     * (three vectors, nm; ignored if not periodic).  Returns the cached result if
     * the model already ran at exactly these coordinates.
     */
    const DPResult& evaluate(int model, const std::vector<OpenMM::Vec3>& allPositions, const OpenMM::Vec3* box);
    long long getEvaluationCount(int model) const { return evaluations[model]; }
    const std::vector<int>& getParticles() const { return particles; }
    const DPModelInfo& getInfo(int model) const;
private:
    struct Cache {
        bool valid = false;
        std::vector<double> key;  // DP positions then box, nm
        DPResult result;
    };
    /** Whether some particle has more neighbours of one type than the model's sel (warns once). */
    bool selExceeded(int model, const std::vector<long long>& nlist, int width, const std::vector<long long>& extendedTypes);
    std::array<std::unique_ptr<DPModel>, 2> models;
    std::array<std::vector<long long>, 2> localTypes;  // per model: model type index of each DP particle
    std::array<Cache, 2> cache;
    std::array<long long, 2> evaluations = {0, 0};
    std::array<bool, 2> warnedSel = {false, false};
    std::vector<int> particles;
    bool periodic;
    DPUnits units;
    NeighborList neighbors;
    // Work buffers reused between calls.
    std::vector<double> key, positionsModel, extended, modelExtended;
    std::vector<long long> nlist, extendedTypes;
    std::vector<int> usedGhosts;
};

} // namespace SwitchingDPPlugin

#endif
