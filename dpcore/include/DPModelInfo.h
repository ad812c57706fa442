#ifndef OPENMM_SWITCHINGDP_MODELINFO_H_
#define OPENMM_SWITCHINGDP_MODELINFO_H_

#include "ModelPair.h"
#include <string>
#include <vector>

namespace SwitchingDPPlugin {

/** What a frozen DeePMD-kit model says about itself, in model units. */
struct DPModelInfo {
    double cutoff = 0;                   ///< get_rcut(), model length units (A)
    std::vector<std::string> typeMap;    ///< get_type_map()
    std::vector<int> sel;                ///< neighbours kept per type, get_sel()
    int dimFparam = 0, dimAparam = 0;
    bool messagePassing = false;
    bool mixedTypes = false;
    /** Which path evaluates it: "native", "torchscript" or "exported" (see ModelEngine in DPModel.h). */
    std::string engine;
    /** Why an se_e2_a model is not on the native path (empty when it is, or when it is not se_e2_a). */
    std::string engineNote;

    /** The model's index of a type name, or -1 if the model does not know it. */
    int typeIndex(const std::string& name) const;
    /**
     * The model's index of each type name; throws an OpenMMException naming the
     * model (`role`, e.g. "accurate", and `label`) if it does not know one.
     */
    std::vector<long long> typeIndices(const std::vector<std::string>& names, const std::string& role,
                                       const std::string& label) const;
};

/**
 * Two DP particles closer than this (nm; 0.1 A, far below any bond) make an
 * evaluation fail with their indices: DP models divide by pair distances, and two
 * atoms on top of each other give NaN energies and forces.
 */
constexpr double MINIMUM_DISTANCE_NM = 0.01;

/**
 * Load a frozen model from its file contents and read its metadata.  Throws an
 * OpenMMException naming `label` (usually the file name) if the contents are not a
 * DeePMD-kit PyTorch model that SwitchingDPForce can evaluate.
 */
DPModelInfo inspectDPModel(const std::string& contents, const std::string& label, bool allowNative = true);

/** Read a whole file, with a clear error if it cannot be read. */
std::string readModelFile(const std::string& path);

} // namespace SwitchingDPPlugin

#endif
