#ifndef OPENMM_SWITCHINGDP_EXPORTEDMODEL_H_
#define OPENMM_SWITCHINGDP_EXPORTEDMODEL_H_

#include "DPModel.h"

namespace SwitchingDPPlugin {

/** Whether a model file's contents are an AOTInductor package (.pt2) rather than TorchScript. */
bool isExportedModel(const std::string& contents);
/** A .pt2 model's metadata, read without loading its compiled library. */
DPModelInfo inspectExportedModel(const std::string& contents, const std::string& label);
/**
 * Load a .pt2 model for a device.  A package runs only on the device it was
 * compiled for: a mismatch is an error that says so.
 */
std::unique_ptr<DPModel> loadExportedModel(const std::string& contents, const std::string& label,
                                           const torch::Device& device);

} // namespace SwitchingDPPlugin

#endif
