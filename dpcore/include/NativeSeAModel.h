#ifndef OPENMM_SWITCHINGDP_NATIVESEAMODEL_H_
#define OPENMM_SWITCHINGDP_NATIVESEAMODEL_H_

#include "DPModel.h"

namespace SwitchingDPPlugin {

/**
 * The native path for se_e2_a energy models (the family of both papers' models and
 * of every bundled model): the descriptor and fitting net written once with
 * fixed-shape tensor operations, from the weights, statistics and compression
 * tables of a model frozen by `dp --pt freeze` (and `dp --pt compress`).  Compared
 * with the model's own TorchScript it runs about a tenth of the tensor operations,
 * none with a data-dependent shape or a host synchronisation, so on a GPU one
 * evaluation can be captured once and replayed (DeviceGraphs).
 *
 * Returns null, with `whyNot` saying why, if the frozen module is not an se_e2_a
 * energy model or uses a setting this path does not implement; the caller then runs
 * the TorchScript.  whyNot starts with "not se_e2_a" when the model is of another
 * family (nothing to report to the user).
 */
std::unique_ptr<DPModel> makeNativeSeAModel(torch::jit::Module& module, const DPModelInfo& info,
                                            const std::string& label, std::string& whyNot);

} // namespace SwitchingDPPlugin

#endif
