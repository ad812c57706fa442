#include "DPModel.h"
#include "ExportedDPModel.h"
#include "NativeSeAModel.h"
#include "OpenMPRuntimes.h"
#include "openmm/OpenMMException.h"
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
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

std::vector<long long> DPModelInfo::typeIndices(const std::vector<std::string>& names, const std::string& role,
                                               const std::string& label) const {
    std::vector<long long> indices;
    for (const std::string& name : names) {
        int index = typeIndex(name);
        if (index < 0)
            throw OpenMMException("SwitchingDPForce: type '" + name + "' is not in the type_map of the " + role +
                    " model '" + label + "'");
        indices.push_back(index);
    }
    return indices;
}

std::string SwitchingDPPlugin::readModelFile(const std::string& path) {
    struct stat status;
    if (stat(path.c_str(), &status) == 0 && S_ISDIR(status.st_mode))
        throw OpenMMException("SwitchingDPForce: model file '" + path + "' is a directory, not a frozen model "
                "(give the .pth or .pt2 file inside it)");
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
    // TorchScript's profiling executor re-specialises the graph for new input
    // shapes, and ours change whenever the neighbour list is rebuilt: each new
    // shape costs seconds of compilation.  The unoptimised executor measured
    // as fast per call on DP models and has no warm-up, so it is the default;
    // SWITCHINGDP_JIT_OPTIMIZE=1 turns the optimiser back on.
    static std::once_flag flag;
    std::call_once(flag, [] {
        const char* optimize = std::getenv("SWITCHINGDP_JIT_OPTIMIZE");
        torch::jit::setGraphExecutorOptimize(optimize != nullptr && std::string(optimize) == "1");
    });
}

/**
 * Models frozen by deepmd-kit reference its custom operators (deepmd::tabulate_fusion_*,
 * used by compressed models) even when uncompressed, so TorchScript can load them
 * only after deepmd-kit's op library has registered those operators.  The library
 * is named by SWITCHINGDP_DEEPMD_OP_LIBRARY (and the MPI library it needs by
 * SWITCHINGDP_MPI_LIBRARY); `import openmmswitchingdp` sets both when deepmd-kit
 * is installed.  Returns an empty string on success, else why it failed.
 */
static void silenceStderr() {
    std::fflush(stderr);
    int devNull = open("/dev/null", O_WRONLY);
    if (devNull >= 0) {
        dup2(devNull, 2);
        close(devNull);
    }
}

static std::string loadDeepmdOps() {
    static std::mutex mutex;
    static bool tried = false;
    static std::string failure;
    std::lock_guard<std::mutex> lock(mutex);
    if (tried)
        return failure;
    tried = true;
    const char* mpi = std::getenv("SWITCHINGDP_MPI_LIBRARY");
    if (mpi != nullptr && *mpi != 0 && dlopen(mpi, RTLD_NOW | RTLD_GLOBAL) == nullptr)
        failure = std::string("cannot load the MPI library: ") + dlerror() + ". ";
    const char* ops = std::getenv("SWITCHINGDP_DEEPMD_OP_LIBRARY");
    if (ops == nullptr || *ops == 0)
        failure += "SWITCHINGDP_DEEPMD_OP_LIBRARY is not set (import openmmswitchingdp sets it when deepmd-kit is installed)";
    else {
        // RTLD_LOCAL: the library carries stand-ins for CUDA runtime symbols that must
        // not take the place of the real ones torch uses.  On machines without CUDA 12
        // those stand-ins complain on stderr while loading; the complaint is harmless
        // (the CPU operators work), so it is silenced.
        std::fflush(stderr);
        int savedStderr = dup(2), devNull = open("/dev/null", O_WRONLY);
        if (devNull >= 0)
            dup2(devNull, 2);
        void* handle = dlopen(ops, RTLD_NOW | RTLD_LOCAL);
        std::fflush(stderr);
        if (savedStderr >= 0) {
            dup2(savedStderr, 2);
            close(savedStderr);
        }
        if (devNull >= 0)
            close(devNull);
        if (handle == nullptr)
            failure += std::string("cannot load deepmd-kit's op library: ") + dlerror();
        else {
            failure.clear();
            // The same stand-ins complain again when the library's CUDA registrations are
            // undone at process exit.  Handlers registered now run before that clean-up
            // (exit() runs them in reverse order), and after Python has finalized, so
            // silencing stderr here hides only those lines.
            std::atexit(silenceStderr);
        }
    }
    return failure;
}

/** Load a TorchScript module with errors that name the file. */
static torch::jit::Module loadTorchScript(const std::string& contents, const std::string& label) {
    configureTorchScriptOnce();
    for (int attempt = 0; ; attempt++) {
        std::istringstream stream(contents);
        try {
            return torch::jit::load(stream, torch::kCPU);
        }
        catch (const std::exception& e) {
            std::string what = e.what();
            size_t start = what.find_first_not_of("\n ");
            std::string firstLine = what.substr(start == std::string::npos ? 0 : start);
            firstLine = firstLine.substr(0, firstLine.find('\n'));
            bool needsOps = what.find("deepmd::") != std::string::npos;
            if (!needsOps)
                throw OpenMMException("SwitchingDPForce: '" + label + "' is neither a frozen PyTorch (TorchScript) model "
                        "nor an exported .pt2 model: " + firstLine);
            std::string failure = (attempt == 0 ? loadDeepmdOps() : "the operators are still missing after loading it");
            if (!failure.empty())
                throw OpenMMException("SwitchingDPForce: model '" + label + "' needs deepmd-kit's custom operators (" +
                        firstLine + "), and " + failure);
        }
    }
}

static c10::IValue callMethod(torch::jit::Module& module, const std::string& name, const std::string& label) {
    auto method = module.find_method(name);
    if (!method)
        throw OpenMMException("SwitchingDPForce: '" + label + "' is a TorchScript module but not a DeePMD-kit "
                "frozen model (it has no method " + name + "())");
    return (*method)(std::vector<c10::IValue>{});
}

/** The checks every model's metadata passes, whatever its format. */
static void checkInfo(const DPModelInfo& info, const std::string& label) {
    if (!(info.cutoff > 0) || !std::isfinite(info.cutoff))
        throw OpenMMException("SwitchingDPForce: model '" + label + "' reports a cutoff of " + std::to_string(info.cutoff));
    if (info.typeMap.empty())
        throw OpenMMException("SwitchingDPForce: model '" + label + "' has an empty type_map");
    if (info.dimFparam < 0 || info.dimAparam < 0)
        throw OpenMMException("SwitchingDPForce: model '" + label + "' reports a negative number of frame or atomic parameters");
}

namespace {

/** A TorchScript model frozen by `dp --pt freeze`. */
class TorchScriptModel : public DPModel {
public:
    TorchScriptModel(const std::string& contents, const std::string& label) : DPModel(label) {
        module = loadTorchScript(contents, label);
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
        info.engine = ModelEngine::TorchScript;
        module.eval();
    }
    torch::jit::Module& getModule() { return module; }
    void to(const torch::Device& device) override {
        // Besides parameters and buffers, which module.to() moves, any plain tensor
        // attribute is moved too, so nothing the model reads is left on the CPU.
        module.to(device);
        for (torch::jit::Module submodule : module.modules())
            for (const auto& attribute : submodule.named_attributes(/*recurse=*/false))
                if (attribute.value.isTensor() && attribute.value.toTensor().device() != device)
                    submodule.setattr(attribute.name, attribute.value.toTensor().to(device));
    }
    torch::Tensor compute(const DPModelCall& call, torch::Tensor& extendedForce) override {
        // forward_lower(extended_coord, extended_atype, nlist, mapping, fparam, aparam, do_atomic_virial).
        // The mapping is what message-passing descriptors use to copy each layer's
        // features from local atoms to their ghost images; other models never read it,
        // so they get None, as before message passing was supported.
        auto optional = [](const torch::Tensor& t) { return t.defined() ? c10::IValue(t) : c10::IValue(); };
        std::vector<c10::IValue> args = {call.coord, call.atype, call.nlist,
                                         info.messagePassing ? c10::IValue(call.mapping) : c10::IValue(),
                                         optional(call.fparam), optional(call.aparam), false};
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
private:
    torch::jit::Module module;
};

} // namespace

/**
 * The path for a loaded TorchScript model: the native one where it applies (an
 * se_e2_a model whose settings it covers), else the module itself.  `note` receives
 * why an se_e2_a model stays on TorchScript.
 */
static std::unique_ptr<DPModel> choosePath(std::unique_ptr<TorchScriptModel> model, const std::string& label,
                                           bool allowNative, std::string& note) {
    note.clear();
    if (!allowNative)
        return model;
    std::string whyNot;
    std::unique_ptr<DPModel> native = makeNativeSeAModel(model->getModule(), model->getInfo(), label, whyNot);
    if (native)
        return native;
    if (whyNot.rfind("not se_e2_a", 0) != 0)
        note = "SwitchingDPForce: se_e2_a model '" + label + "' runs on its TorchScript, not the native path: " + whyNot;
    return model;
}

std::unique_ptr<DPModel> DPModel::load(const std::string& contents, const std::string& label, const torch::Device& device,
                                       bool allowNative) {
    std::unique_ptr<DPModel> model;
    if (isExportedModel(contents))
        model = loadExportedModel(contents, label, device);
    else {
        std::string note;
        model = choosePath(std::make_unique<TorchScriptModel>(contents, label), label, allowNative, note);
        if (!note.empty())
            std::cerr << note << std::endl;
        if (!device.is_cpu())
            model->to(device);
    }
    checkInfo(model->getInfo(), label);
    // deepmd-kit's op library (loaded for this model, or before by deepmd-kit itself)
    // brings an OpenMP runtime of its own: see OpenMPRuntimes.
    OpenMPRuntimes::discover();
    return model;
}

DPModelInfo SwitchingDPPlugin::inspectDPModel(const std::string& contents, const std::string& label, bool allowNative) {
    DPModelInfo info;
    if (isExportedModel(contents)) {
        info = inspectExportedModel(contents, label);
        info.engine = ModelEngine::Exported;
    }
    else {
        std::string note;
        std::unique_ptr<DPModel> model = choosePath(std::make_unique<TorchScriptModel>(contents, label), label, allowNative, note);
        info = model->getInfo();
        info.engineNote = note;
    }
    checkInfo(info, label);
    return info;
}
