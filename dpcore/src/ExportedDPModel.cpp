/*
 * Models exported by deepmd-kit's PyTorch-exportable backend (`dp --pt-expt freeze
 * -o model.pt2`): AOTInductor packages, i.e. zip archives holding a compiled shared
 * library for one device plus deepmd-kit's metadata (extra/metadata.json), which
 * says what the model needs.  Loaded with torch's AOTIModelPackageLoader.
 */
#include "ExportedDPModel.h"
#include "openmm/OpenMMException.h"
#include <torch/csrc/inductor/aoti_package/model_package_loader.h>
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <stdexcept>
#include <unistd.h>

using namespace SwitchingDPPlugin;
using OpenMM::OpenMMException;

namespace {

// ---- The few zip and JSON facts the metadata needs -------------------------------

/** The uncompressed bytes of each entry of a zip archive (torch writes archives uncompressed). */
class ZipEntries {
public:
    explicit ZipEntries(const std::string& zip) : zip(zip) {
        if (zip.size() < 22)
            return;
        size_t end = std::string::npos;
        for (size_t i = zip.size() - 22 + 1; i-- > 0 && zip.size() - i < 22 + 65536;)
            if (u32(i) == 0x06054b50) {
                end = i;
                break;
            }
        if (end == std::string::npos)
            return;
        uint64_t count = u16(end + 10), directory = u32(end + 16);
        if ((count == 0xFFFF || directory == 0xFFFFFFFF) && end >= 20 && u32(end - 20) == 0x07064b50) {
            size_t zip64 = (size_t) u64(end - 20 + 8);
            if (zip64 + 56 > zip.size())
                return;
            count = u64(zip64 + 32);
            directory = u64(zip64 + 48);
        }
        size_t p = (size_t) directory;
        for (uint64_t i = 0; i < count && p + 46 <= zip.size() && u32(p) == 0x02014b50; i++) {
            Entry entry;
            entry.method = u16(p + 10);
            entry.size = u32(p + 24);
            uint64_t compressed = u32(p + 20);
            entry.offset = u32(p + 42);
            size_t nameLength = u16(p + 28), extraLength = u16(p + 30), commentLength = u16(p + 32);
            if (p + 46 + nameLength > zip.size())
                return;
            std::string name = zip.substr(p + 46, nameLength);
            // Zip64 sizes and offsets live in the extra field.
            for (size_t x = p + 46 + nameLength, xEnd = x + extraLength; x + 4 <= xEnd && xEnd <= zip.size();) {
                size_t id = u16(x), length = u16(x + 2), q = x + 4;
                if (id == 1) {
                    if (entry.size == 0xFFFFFFFF) { entry.size = u64(q); q += 8; }
                    if (compressed == 0xFFFFFFFF) { compressed = u64(q); q += 8; }
                    if (entry.offset == 0xFFFFFFFF) entry.offset = u64(q);
                    break;
                }
                x += 4 + length;
            }
            entries[name] = entry;
            p += 46 + nameLength + extraLength + commentLength;
        }
    }
    /** The name of the entry named `path` or ending in "/" + path, or "". */
    std::string find(const std::string& path) const {
        return entries.count(path) ? path : findEnding("/" + path);
    }
    /** The name of the first entry whose name ends in `ending`, or "". */
    std::string findEnding(const std::string& ending) const {
        for (const auto& entry : entries) {
            const std::string& name = entry.first;
            if (name.size() >= ending.size() && name.compare(name.size() - ending.size(), ending.size(), ending) == 0)
                return name;
        }
        return "";
    }
    bool containsPath(const std::string& part) const {
        for (const auto& entry : entries)
            if (entry.first.find(part) != std::string::npos)
                return true;
        return false;
    }
    /** An entry's bytes, or throws. */
    std::string read(const std::string& name, const std::string& label) const {
        auto it = entries.find(name);
        if (it == entries.end())
            throw OpenMMException("SwitchingDPForce: the .pt2 model '" + label + "' has no " + name);
        const Entry& e = it->second;
        if (e.method != 0 || e.offset + 30 > zip.size())
            throw OpenMMException("SwitchingDPForce: the .pt2 model '" + label + "' is damaged (cannot read " + name + ")");
        size_t data = (size_t) e.offset + 30 + u16(e.offset + 26) + u16(e.offset + 28);
        if (data + e.size > zip.size())
            throw OpenMMException("SwitchingDPForce: the .pt2 model '" + label + "' is truncated (in " + name + ")");
        return zip.substr(data, (size_t) e.size);
    }
private:
    struct Entry {
        uint64_t size = 0, offset = 0;
        unsigned method = 0;
    };
    size_t u16(size_t o) const { return o + 2 <= zip.size() ? (uint8_t) zip[o] | ((size_t) (uint8_t) zip[o+1] << 8) : 0; }
    uint64_t u32(size_t o) const { return u16(o) | ((uint64_t) u16(o + 2) << 16); }
    uint64_t u64(size_t o) const { return u32(o) | (u32(o + 4) << 32); }
    const std::string& zip;
    std::map<std::string, Entry> entries;
};

/** A JSON value: enough of JSON for deepmd-kit's and torch's metadata files. */
struct Json {
    enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
    bool boolean = false;
    double number = 0;
    std::string string;
    std::vector<Json> array;
    std::map<std::string, Json> object;
    const Json* get(const std::string& key) const {
        auto it = object.find(key);
        return it == object.end() ? nullptr : &it->second;
    }
};

class JsonReader {
public:
    explicit JsonReader(const std::string& text) : text(text) {}
    Json parse() {
        Json value = parseValue();
        skipSpace();
        if (pos != text.size())
            fail();
        return value;
    }
private:
    [[noreturn]] void fail() { throw std::runtime_error("invalid JSON at character " + std::to_string(pos)); }
    void skipSpace() {
        while (pos < text.size() && std::isspace((unsigned char) text[pos]))
            pos++;
    }
    bool consume(const char* word) {
        size_t n = std::strlen(word);
        if (text.compare(pos, n, word) != 0)
            return false;
        pos += n;
        return true;
    }
    std::string parseString() {
        if (text[pos] != '"')
            fail();
        std::string out;
        for (pos++; pos < text.size() && text[pos] != '"'; pos++) {
            if (text[pos] != '\\') {
                out += text[pos];
                continue;
            }
            if (++pos >= text.size())
                fail();
            char c = text[pos];
            if (c == 'u') {
                out += '?';   // metadata names are ASCII; other characters are not needed
                pos += 4;
            }
            else
                out += (c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c == 'b' ? '\b' : c == 'f' ? '\f' : c);
        }
        if (pos >= text.size())
            fail();
        pos++;
        return out;
    }
    Json parseValue() {
        skipSpace();
        if (pos >= text.size())
            fail();
        Json value;
        char c = text[pos];
        if (c == '{' || c == '[') {
            bool isObject = (c == '{');
            value.kind = isObject ? Json::Object : Json::Array;
            pos++;
            skipSpace();
            if (pos < text.size() && text[pos] == (isObject ? '}' : ']')) {
                pos++;
                return value;
            }
            while (true) {
                skipSpace();
                if (isObject) {
                    std::string key = parseString();
                    skipSpace();
                    if (!consume(":"))
                        fail();
                    value.object[key] = parseValue();
                }
                else
                    value.array.push_back(parseValue());
                skipSpace();
                if (consume(","))
                    continue;
                if (!consume(isObject ? "}" : "]"))
                    fail();
                return value;
            }
        }
        if (c == '"') {
            value.kind = Json::String;
            value.string = parseString();
        }
        else if (consume("true") || consume("false")) {
            value.kind = Json::Bool;
            value.boolean = (text[pos - 1] == 'e' && text[pos - 2] == 'u');
        }
        else if (consume("null")) {
        }
        else if (consume("NaN") || consume("Infinity") || consume("-Infinity")) {
            value.kind = Json::Number;
            value.number = NAN;
        }
        else {
            const char* start = text.c_str() + pos;
            char* end = nullptr;
            value.number = std::strtod(start, &end);
            if (end == start)
                fail();
            value.kind = Json::Number;
            pos += end - start;
        }
        return value;
    }
    const std::string& text;
    size_t pos = 0;
};

/** deepmd-kit's metadata of a .pt2 package, and the device torch compiled it for. */
struct ExportedMetadata {
    DPModelInfo info;
    std::string lowerInputKind, device, cpuIsa;
    std::vector<std::string> outputKeys;
};

ExportedMetadata readMetadata(const std::string& contents, const std::string& label) {
    ZipEntries zip(contents);
    std::string name = zip.find("extra/metadata.json");
    if (name.empty())
        throw OpenMMException("SwitchingDPForce: '" + label + "' is an AOTInductor package without deepmd-kit's "
                "extra/metadata.json; export DeePMD-kit models with `dp --pt-expt freeze -o model.pt2`");
    Json json;
    try {
        json = JsonReader(zip.read(name, label)).parse();
    }
    catch (const std::runtime_error& e) {
        throw OpenMMException("SwitchingDPForce: the metadata of the .pt2 model '" + label + "' is damaged: " + e.what());
    }
    auto field = [&](const std::string& key, Json::Kind kind) -> const Json& {
        const Json* value = json.get(key);
        if (value == nullptr || value->kind != kind)
            throw OpenMMException("SwitchingDPForce: the metadata of the .pt2 model '" + label + "' lacks '" + key +
                    "' (is it a DeePMD-kit energy model exported by deepmd-kit 3.2 or later?)");
        return *value;
    };
    auto optionalNumber = [&](const std::string& key) {
        const Json* value = json.get(key);
        return value != nullptr && value->kind == Json::Number ? value->number : 0.0;
    };
    auto optionalBool = [&](const std::string& key) {
        const Json* value = json.get(key);
        return value != nullptr && value->kind == Json::Bool && value->boolean;
    };
    ExportedMetadata meta;
    DPModelInfo& info = meta.info;
    info.cutoff = field("rcut", Json::Number).number;
    for (const Json& type : field("type_map", Json::Array).array)
        info.typeMap.push_back(type.string);
    for (const Json& n : field("sel", Json::Array).array)
        info.sel.push_back((int) n.number);
    info.dimFparam = (int) optionalNumber("dim_fparam");
    info.dimAparam = (int) optionalNumber("dim_aparam");
    info.messagePassing = optionalBool("has_message_passing");
    info.mixedTypes = optionalBool("mixed_types");
    info.engine = ModelEngine::Exported;
    const Json* kind = json.get("lower_input_kind");
    meta.lowerInputKind = (kind != nullptr && kind->kind == Json::String ? kind->string : "nlist");
    for (const Json& key : field("output_keys", Json::Array).array)
        meta.outputKeys.push_back(key.string);
    // What this plugin does not feed: refuse rather than compute something else.
    std::string unsupported;
    if (meta.lowerInputKind != "nlist")
        unsupported = "takes its input as '" + meta.lowerInputKind + "' (export it with the neighbour-list lower "
                "interface, `dp --pt-expt freeze --lower-kind nlist`)";
    else if (optionalNumber("dim_chg_spin") > 0)
        unsupported = "takes charge and spin inputs";
    else if (optionalBool("is_spin"))
        unsupported = "is a spin model";
    else if (json.get("pair_exclude_types") != nullptr && !json.get("pair_exclude_types")->array.empty())
        unsupported = "excludes pairs of types (pair_exclude_types), which the caller would have to apply";
    if (!unsupported.empty())
        throw OpenMMException("SwitchingDPForce: the .pt2 model '" + label + "' " + unsupported +
                ", which SwitchingDPForce does not support");
    for (const char* key : {"energy_redu", "energy_derv_r"})
        if (std::find(meta.outputKeys.begin(), meta.outputKeys.end(), key) == meta.outputKeys.end())
            throw OpenMMException("SwitchingDPForce: the .pt2 model '" + label + "' has no output '" + key +
                    "': it is not an energy model");
    // torch's own metadata says which device the library was compiled for.
    std::string torchMetadata = zip.findEnding(".wrapper_metadata.json");
    meta.device = "cpu";
    if (!torchMetadata.empty()) {
        try {
            Json aoti = JsonReader(zip.read(torchMetadata, label)).parse();
            const Json* device = aoti.get("AOTI_DEVICE_KEY");
            if (device != nullptr && device->kind == Json::String)
                meta.device = device->string;
            const Json* isa = aoti.get("AOTI_CPU_ISA");
            if (isa != nullptr && isa->kind == Json::String)
                meta.cpuIsa = isa->string;
        }
        catch (const std::runtime_error&) {
        }
    }
    return meta;
}

/** A temporary copy of the package: torch's loader reads a file, and we keep only bytes. */
class TemporaryFile {
public:
    explicit TemporaryFile(const std::string& contents) {
        const char* dir = std::getenv("TMPDIR");
        path = std::string(dir != nullptr && *dir != 0 ? dir : "/tmp") + "/switchingdp-XXXXXX.pt2";
        int fd = mkstemps(&path[0], 4);
        if (fd < 0)
            throw OpenMMException("SwitchingDPForce: cannot create a temporary file for a .pt2 model in " + path);
        size_t written = 0;
        while (written < contents.size()) {
            ssize_t n = write(fd, contents.data() + written, contents.size() - written);
            if (n <= 0)
                break;
            written += (size_t) n;
        }
        close(fd);
        if (written != contents.size()) {
            unlink(path.c_str());
            throw OpenMMException("SwitchingDPForce: cannot write a temporary copy of a .pt2 model to " + path);
        }
    }
    ~TemporaryFile() {
        unlink(path.c_str());
    }
    std::string path;
};

class ExportedModel : public DPModel {
public:
    ExportedModel(const std::string& contents, const std::string& label, const torch::Device& device) :
            DPModel(label), device(device) {
        meta = readMetadata(contents, label);
        info = meta.info;
        const bool cudaPackage = (meta.device == "cuda");
        if (meta.device != "cpu" && !cudaPackage)
            throw OpenMMException("SwitchingDPForce: the .pt2 model '" + label + "' was compiled for device '" +
                    meta.device + "', which SwitchingDPForce cannot run");
        if (cudaPackage != device.is_cuda())
            throw OpenMMException("SwitchingDPForce: the .pt2 model '" + label + "' was exported for " +
                    (cudaPackage ? "CUDA" : "the CPU") + " but this platform runs models on " +
                    (device.is_cuda() ? "a CUDA GPU" : "the CPU") + "; a .pt2 runs only on the device it was exported "
                    "on: export it again with `dp --pt-expt freeze` on " + (device.is_cuda() ? "a machine with a GPU" :
                    "the CPU (CUDA_VISIBLE_DEVICES= hides the GPU)") + ", or use the " +
                    (cudaPackage ? "CUDA" : "Reference, CPU or OpenCL") + " platform");
        // CPU code is compiled for the exporting machine's instruction set: running
        // AVX-512 code on a CPU without it would die of an illegal instruction.
        if (!cudaPackage && meta.cpuIsa.find("AVX512") != std::string::npos && !__builtin_cpu_supports("avx512f"))
            throw OpenMMException("SwitchingDPForce: the .pt2 model '" + label + "' was compiled for CPUs with AVX-512, "
                    "which this CPU lacks; export it again on this machine");
        if (!cudaPackage && meta.cpuIsa.find("AVX2") != std::string::npos && !__builtin_cpu_supports("avx2"))
            throw OpenMMException("SwitchingDPForce: the .pt2 model '" + label + "' was compiled for CPUs with AVX2, "
                    "which this CPU lacks; export it again on this machine");
        TemporaryFile copy(contents);
        try {
            loader = std::make_unique<torch::inductor::AOTIModelPackageLoader>(copy.path, "model", false, 1,
                    (c10::DeviceIndex) (cudaPackage ? device.index() : -1));
        }
        catch (const std::exception& e) {
            std::string what = e.what();
            throw OpenMMException("SwitchingDPForce: cannot load the .pt2 model '" + label + "': " + what.substr(0, 1000));
        }
        energyOutput = outputIndex("energy_redu");
        forceOutput = outputIndex("energy_derv_r");
        for (int s : info.sel)
            selSum += s;
    }
    void to(const torch::Device& target) override {
        if (target != device)
            throw OpenMMException("SwitchingDPForce: the .pt2 model '" + label + "' cannot move from " + device.str() +
                    " to " + target.str() + "; export it on the device it should run on");
    }
    torch::Tensor compute(const DPModelCall& call, torch::Tensor& extendedForce) override {
        // The compiled code checks nothing: a wrong dtype computes garbage and a narrow
        // nlist reads out of bounds.  The engine gives float64 coordinates, int64
        // indices and at least sum(sel) columns; check the rest here.
        if (call.coord.scalar_type() != torch::kFloat64 || call.nlist.scalar_type() != torch::kInt64 ||
                call.atype.scalar_type() != torch::kInt64 || call.mapping.scalar_type() != torch::kInt64)
            throw OpenMMException("SwitchingDPForce: internal error: wrong input types for the .pt2 model '" + label + "'");
        if (call.nlist.size(2) < selSum)
            throw OpenMMException("SwitchingDPForce: internal error: neighbour list narrower than sum(sel) for '" + label + "'");
        std::vector<torch::Tensor> inputs = {call.coord.contiguous(), call.atype.contiguous(), call.nlist.contiguous(),
                                             call.mapping.contiguous()};
        if (info.dimFparam > 0)
            inputs.push_back(call.fparam.contiguous());
        if (info.dimAparam > 0)
            inputs.push_back(call.aparam.contiguous());
        std::vector<torch::Tensor> outputs;
        try {
            outputs = loader->run(inputs);
        }
        catch (const std::exception& e) {
            std::string what = e.what();
            throw OpenMMException("SwitchingDPForce: evaluating model '" + label + "' failed: " + what.substr(0, 2000));
        }
        if (outputs.size() != meta.outputKeys.size())
            throw OpenMMException("SwitchingDPForce: the .pt2 model '" + label + "' returned " +
                    std::to_string(outputs.size()) + " outputs but its metadata lists " +
                    std::to_string(meta.outputKeys.size()));
        extendedForce = outputs[forceOutput];
        return outputs[energyOutput];
    }
private:
    size_t outputIndex(const std::string& key) const {
        return std::find(meta.outputKeys.begin(), meta.outputKeys.end(), key) - meta.outputKeys.begin();
    }
    ExportedMetadata meta;
    torch::Device device;
    std::unique_ptr<torch::inductor::AOTIModelPackageLoader> loader;
    size_t energyOutput = 0, forceOutput = 0;
    int64_t selSum = 0;   // the narrowest nlist the compiled code may read
};

} // namespace

bool SwitchingDPPlugin::isExportedModel(const std::string& contents) {
    if (contents.compare(0, 2, "PK") != 0)
        return false;
    return ZipEntries(contents).containsPath("/aotinductor/");
}

DPModelInfo SwitchingDPPlugin::inspectExportedModel(const std::string& contents, const std::string& label) {
    return readMetadata(contents, label).info;
}

std::unique_ptr<DPModel> SwitchingDPPlugin::loadExportedModel(const std::string& contents, const std::string& label,
                                                              const torch::Device& device) {
    return std::make_unique<ExportedModel>(contents, label, device);
}
