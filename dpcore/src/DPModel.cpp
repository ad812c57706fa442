#include "DPModel.h"
#include "openmm/OpenMMException.h"
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <fstream>
#include <mutex>
#include <sstream>

using namespace SwitchingDPPlugin;
using OpenMM::OpenMMException;

int DPModelInfo::typeIndex(const std::string& name) const {
    for (size_t i = 0; i < typeMap.size(); i++)
        if (typeMap[i] == name)
            return (int) i;
    return -1;
}

std::string SwitchingDPPlugin::readModelFile(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file)
        throw OpenMMException("SwitchingDPForce: cannot open model file '" + path + "' (missing or unreadable)");
    std::stringstream contents;
    contents << file.rdbuf();
    if (contents.str().empty())
        throw OpenMMException("SwitchingDPForce: model file '" + path + "' is empty");
    return contents.str();
}

static void configureTorchScriptOnce() {
    // Shapes change whenever the neighbour list is rebuilt; let the fuser handle
    // dynamic shapes instead of re-specialising on every new shape.
    static std::once_flag flag;
    std::call_once(flag, [] {
        torch::jit::FusionStrategy strategy = {{torch::jit::FusionBehavior::DYNAMIC, 10}};
        torch::jit::setFusionStrategy(strategy);
    });
}

torch::jit::Module SwitchingDPPlugin::loadTorchScript(const std::string& contents, const std::string& label) {
    configureTorchScriptOnce();
    std::istringstream stream(contents);
    try {
        return torch::jit::load(stream, torch::kCPU);
    }
    catch (const std::exception& e) {
        std::string what = e.what();
        std::string firstLine = what.substr(0, what.find('\n'));
        if (what.find("deepmd::") != std::string::npos || what.find("tabulate_fusion") != std::string::npos)
            throw OpenMMException("SwitchingDPForce: model '" + label + "' uses deepmd-kit's custom operators "
                    "(a compressed model?); load deepmd-kit's op library first. Torch said: " + firstLine);
        throw OpenMMException("SwitchingDPForce: '" + label + "' is not a frozen PyTorch (TorchScript) model: " + firstLine);
    }
}

static c10::IValue callMethod(torch::jit::Module& module, const std::string& name, const std::string& label) {
    auto method = module.find_method(name);
    if (!method)
        throw OpenMMException("SwitchingDPForce: '" + label + "' is a TorchScript module but not a DeePMD-kit "
                "frozen model (it has no method " + name + "())");
    return (*method)(std::vector<c10::IValue>{});
}

static DPModelInfo readInfo(torch::jit::Module& module, const std::string& label) {
    DPModelInfo info;
    if (!module.find_method("forward_lower"))
        throw OpenMMException("SwitchingDPForce: '" + label + "' is a TorchScript module but not a DeePMD-kit "
                "frozen model (it has no method forward_lower())");
    info.cutoff = callMethod(module, "get_rcut", label).toDouble();
    for (const auto& name : callMethod(module, "get_type_map", label).toListRef())
        info.typeMap.push_back(name.toStringRef());
    for (const auto& n : callMethod(module, "get_sel", label).toListRef())
        info.sel.push_back((int) n.toInt());
    info.dimFparam = (int) callMethod(module, "get_dim_fparam", label).toInt();
    info.dimAparam = (int) callMethod(module, "get_dim_aparam", label).toInt();
    info.messagePassing = callMethod(module, "has_message_passing", label).toBool();
    info.mixedTypes = callMethod(module, "mixed_types", label).toBool();
    if (info.dimFparam > 0 || info.dimAparam > 0)
        throw OpenMMException("SwitchingDPForce: model '" + label + "' needs frame parameters (dim_fparam = " +
                std::to_string(info.dimFparam) + ") or atomic parameters (dim_aparam = " + std::to_string(info.dimAparam) +
                "), which SwitchingDPForce does not supply");
    if (info.messagePassing)
        throw OpenMMException("SwitchingDPForce: model '" + label + "' uses message passing (e.g. DPA-2/DPA-3), "
                "which needs communication SwitchingDPForce does not provide; use a model without message passing");
    if (!(info.cutoff > 0))
        throw OpenMMException("SwitchingDPForce: model '" + label + "' reports a cutoff of " + std::to_string(info.cutoff));
    if (info.typeMap.empty())
        throw OpenMMException("SwitchingDPForce: model '" + label + "' has an empty type_map");
    return info;
}

DPModelInfo SwitchingDPPlugin::inspectDPModel(const std::string& contents, const std::string& label) {
    torch::jit::Module module = loadTorchScript(contents, label);
    return readInfo(module, label);
}

DPModel::DPModel(const std::string& contents, const std::string& label) : label(label) {
    module = loadTorchScript(contents, label);
    info = readInfo(module, label);
    module.eval();
}

void DPModel::to(const torch::Device& device) {
    module.to(device);
}

torch::Tensor DPModel::compute(const torch::Tensor& extendedCoord, const torch::Tensor& extendedType,
                               const torch::Tensor& nlist, torch::Tensor& extendedForce) {
    // forward_lower(extended_coord, extended_atype, nlist, mapping, fparam, aparam, do_atomic_virial);
    // ghost forces are summed onto their owners by the caller.
    std::vector<c10::IValue> args = {extendedCoord, extendedType, nlist, c10::IValue(), c10::IValue(), c10::IValue(), false};
    c10::IValue result;
    try {
        result = module.get_method("forward_lower")(args);
    }
    catch (const std::exception& e) {
        std::string what = e.what();
        throw OpenMMException("SwitchingDPForce: evaluating model '" + label + "' failed: " + what.substr(0, 2000));
    }
    auto dict = result.toGenericDict();
    extendedForce = dict.at("extended_force").toTensor();
    return dict.at("energy").toTensor();
}
