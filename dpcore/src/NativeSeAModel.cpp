/*
 * The native path for se_e2_a energy models.  What deepmd-kit's frozen module
 * computes (deepmd/pt, 3.x: DescrptBlockSeA, GeneralFitting, DPAtomicModel,
 * make_model), restated with fixed shapes:
 *
 * - The neighbour list of any width is formatted as deepmd-kit formats it: per
 *   neighbour type t, the nearest sel[t] neighbours of that type in a section of
 *   sel[t] columns, padded with -1.  Done with a sort and a scatter, so nothing
 *   depends on a count read back from the device.
 * - Local atoms are grouped by type once (prepare()); types do not change during a
 *   run, so each group's size is known on the host and every network runs on exactly
 *   its atoms (deepmd-kit's boolean masks make data-dependent shapes instead).
 * - Padding entries are not zero: like deepmd-kit, their environment row is
 *   (0 - mean) / stddev and passes through the embedding net.
 * - Precision follows the frozen module: the descriptor in its precision (the
 *   coordinates are cast), the fitting net in its own, atomic energies then shifted
 *   by out_bias in float64, the total summed in float64, forces from autograd with
 *   respect to the float64 extended coordinates.
 */
#include "NativeSeAModel.h"
#include "openmm/OpenMMException.h"
#include <ATen/record_function.h>
#include <torch/csrc/autograd/autograd.h>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <limits>
#include <map>
#include <numeric>

using namespace SwitchingDPPlugin;
using OpenMM::OpenMMException;
using torch::Tensor;

namespace {

/** Thrown while reading a module whose settings the native path does not cover. */
struct Unsupported {
    std::string why;
};

std::string className(const torch::jit::Module& module) {
    std::string name = module.type()->name()->qualifiedName();
    return name.substr(name.rfind('.') + 1);
}

c10::IValue attribute(const torch::jit::Module& module, const std::string& name) {
    if (!module.hasattr(name))
        throw Unsupported{className(module) + " has no attribute " + name};
    return module.attr(name);
}

torch::jit::Module child(const torch::jit::Module& module, const std::string& name) {
    c10::IValue value = attribute(module, name);
    if (!value.isModule())
        throw Unsupported{className(module) + "." + name + " is not a module"};
    return value.toModule();
}

/** A weight or statistic, cut loose from autograd (the frozen module's parameters require grad). */
Tensor tensorAttribute(const torch::jit::Module& module, const std::string& name) {
    c10::IValue value = attribute(module, name);
    if (!value.isTensor())
        throw Unsupported{className(module) + "." + name + " is not a tensor"};
    return value.toTensor().detach();
}

std::vector<int64_t> intList(const c10::IValue& value) {
    std::vector<int64_t> result;
    for (const auto& v : value.toListRef())
        result.push_back(v.toInt());
    return result;
}

/** The type mask of an exclusion module (None: nothing excluded). */
Tensor typeMask(const torch::jit::Module& owner, const std::string& name) {
    c10::IValue value = attribute(owner, name);
    if (value.isNone())
        return Tensor();
    return tensorAttribute(value.toModule(), "type_mask").to(torch::kCPU, torch::kInt64);
}

enum class Activation { Tanh, Gelu, Relu, Relu6, Softplus, Sigmoid, Silu, Linear };

Activation parseActivation(std::string name) {
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    if (name == "tanh") return Activation::Tanh;
    if (name == "gelu" || name == "gelu_tf") return Activation::Gelu;
    if (name == "relu") return Activation::Relu;
    if (name == "relu6") return Activation::Relu6;
    if (name == "softplus") return Activation::Softplus;
    if (name == "sigmoid") return Activation::Sigmoid;
    if (name == "silu") return Activation::Silu;
    if (name == "linear" || name == "none") return Activation::Linear;
    throw Unsupported{"activation function '" + name + "'"};
}

Tensor activate(Activation activation, const Tensor& x) {
    switch (activation) {
        case Activation::Tanh: return torch::tanh(x);
        case Activation::Gelu: return torch::gelu(x, "tanh");
        case Activation::Relu: return torch::relu(x);
        case Activation::Relu6: return torch::hardtanh(x, 0.0, 6.0);
        case Activation::Softplus: return torch::softplus(x, 1.0, 20.0);
        case Activation::Sigmoid: return torch::sigmoid(x);
        case Activation::Silu: return torch::silu(x);
        case Activation::Linear: return x;
    }
    return x;
}

/** t in another precision; no operation at all when it already is (every call counts on a GPU). */
Tensor cast(const Tensor& t, torch::ScalarType type) {
    return t.scalar_type() == type ? t : t.to(type);
}

/** gradient * act'(z), from z = x W + b and y = act(z): ATen's own backward kernels, as autograd would call. */
Tensor activationSlope(Activation activation, const Tensor& z, const Tensor& y, const Tensor& gradient) {
    switch (activation) {
        case Activation::Tanh: return torch::tanh_backward(gradient, y);
        case Activation::Gelu: return torch::gelu_backward(gradient, z, "tanh");
        case Activation::Relu: return torch::threshold_backward(gradient, y, 0);
        case Activation::Relu6: return torch::hardtanh_backward(gradient, z, 0.0, 6.0);
        case Activation::Softplus: return torch::softplus_backward(gradient, z, 1.0, 20.0);
        case Activation::Sigmoid: return torch::sigmoid_backward(gradient, y);
        case Activation::Silu: return torch::silu_backward(gradient, z);
        case Activation::Linear: return gradient;
    }
    return gradient;
}

/** One MLPLayer: y = act(x W + b) [* idt] [+ x or + (x, x)], in the layer's precision. */
struct Layer {
    Tensor matrix, bias, idt;  // bias and idt may be undefined
    Tensor matrixT;            // matrix.t(), contiguous: the backward pass's
    Tensor doubling, doublingT;  // [I I] and its transpose, for a resnet layer of twice the width
    bool resnet = false;
    Activation activation = Activation::Linear;
};

struct Network {
    std::vector<Layer> layers;

    void to(const torch::Device& device) {
        for (Layer& layer : layers) {
            layer.matrix = layer.matrix.to(device);
            layer.matrixT = layer.matrix.t().contiguous();
            const int64_t in = layer.matrix.size(0), out = layer.matrix.size(1);
            if (layer.resnet && 2 * in == out) {
                // x [I I] = (x, x) exactly (products with 1 and sums with 0): the
                // widening skip connection as one matrix product, forward and backward.
                Tensor eye = torch::eye(in, layer.matrix.options());
                layer.doubling = torch::cat({eye, eye}, 1);
                layer.doublingT = layer.doubling.t().contiguous();
            }
            if (layer.bias.defined())
                layer.bias = layer.bias.to(device);
            if (layer.idt.defined())
                layer.idt = layer.idt.to(device);
        }
    }

    /** What backward() needs from a forward pass: per layer, its input, x W + b and the activation. */
    struct Record {
        std::vector<Tensor> input, linear, activated;
    };

    /** x: [M, in] -> [M, out], as deepmd-kit's MLPLayer chain (each layer in its own precision). */
    Tensor forward(Tensor x, Record& record) const {
        record = Record();
        for (const Layer& layer : layers) {
            const auto original = x.scalar_type();
            Tensor xx = cast(x, layer.matrix.scalar_type());
            Tensor z = layer.bias.defined() ? torch::addmm(layer.bias, xx, layer.matrix) : torch::mm(xx, layer.matrix);
            Tensor y = activate(layer.activation, z);
            Tensor out = layer.idt.defined() ? y * layer.idt : y;
            if (layer.resnet) {
                if (xx.size(1) == out.size(1))
                    out = out + xx;
                else if (layer.doubling.defined())
                    out = torch::addmm(out, xx, layer.doubling);
            }
            record.input.push_back(xx);
            record.linear.push_back(z);
            record.activated.push_back(y);
            x = cast(out, original);
        }
        return x;
    }

    /** The gradient with respect to the input of the forward pass recorded, given that of its output. */
    Tensor backward(Tensor gradient, const Record& record) const {
        for (int i = (int) layers.size() - 1; i >= 0; i--) {
            const Layer& layer = layers[i];
            const Tensor& xx = record.input[i];
            const auto original = gradient.scalar_type();
            Tensor d = cast(gradient, layer.matrix.scalar_type());
            Tensor dy = layer.idt.defined() ? d * layer.idt : d;
            Tensor dz = activationSlope(layer.activation, record.linear[i], record.activated[i], dy);
            Tensor dx;
            if (layer.resnet && xx.size(1) == d.size(1))
                dx = torch::addmm(d, dz, layer.matrixT);
            else if (layer.resnet && layer.doubling.defined())
                dx = torch::addmm(torch::mm(d, layer.doublingT), dz, layer.matrixT);
            else
                dx = torch::mm(dz, layer.matrixT);
            gradient = cast(dx, original);
        }
        return gradient;
    }
};

Network readNetwork(const torch::jit::Module& network) {
    Network result;
    for (const torch::jit::Module& layer : child(network, "layers").children()) {
        if (className(layer) != "MLPLayer")
            throw Unsupported{"a network layer of class " + className(layer)};
        Layer l;
        l.matrix = tensorAttribute(layer, "matrix");
        c10::IValue bias = attribute(layer, "bias"), idt = attribute(layer, "idt");
        if (!bias.isNone())
            l.bias = bias.toTensor().detach();
        if (!idt.isNone())
            l.idt = idt.toTensor().detach();
        l.resnet = attribute(layer, "resnet").toBool();
        l.activation = parseActivation(attribute(child(layer, "activate"), "activation").toStringRef());
        if (l.matrix.dim() != 2)
            throw Unsupported{"a network layer whose matrix is not two-dimensional"};
        result.layers.push_back(l);
    }
    if (result.layers.empty())
        throw Unsupported{"an empty network"};
    return result;
}

std::vector<Network> readNetworks(const torch::jit::Module& collection) {
    std::vector<Network> networks;
    for (const torch::jit::Module& network : child(collection, "networks").children())
        networks.push_back(readNetwork(network));
    return networks;
}

/** A compressed embedding net: deepmd-kit's tabulated fifth-order polynomials (tabulate_fusion_se_a). */
struct Table {
    Tensor data;  // [rows, ng * 6]: for each row and output, the six coefficients
    Tensor settings;  // compress_info as stored (on the CPU): what deepmd-kit's operator reads
    std::vector<Tensor> powers;  // 6 x [rows, ng]: coefficient of x^p
    std::vector<Tensor> slopes;  // 5 x [rows, ng]: (p + 1) x coefficient of x^(p+1), the derivative's
    void split() {
        powers.clear();
        slopes.clear();
        Tensor perPower = data.view({data.size(0), -1, 6});
        for (int p = 0; p < 6; p++)
            powers.push_back(perPower.select(2, p).contiguous());
        for (int p = 0; p < 5; p++)
            slopes.push_back((powers[p + 1] * (double) (p + 1)).contiguous());
    }
    double lower = 0, upper = 0, max = 0, stride0 = 0, stride1 = 0;
    int64_t firstRows = 0, lastRow = 0;
};

/**
 * deepmd-kit's fused CPU kernel for compressed tables, if its op library is loaded
 * (a compressed model cannot be loaded without it).  On the CPU it evaluates only
 * the real neighbours and one padding entry per section, several times faster than
 * tensor operations over every entry; on a GPU the tensor form is used, since it
 * runs on torch's stream and can be captured.
 */
typedef std::vector<Tensor>(TabulateSignature)(const Tensor&, const Tensor&, const Tensor&, const Tensor&, int64_t);
c10::optional<c10::TypedOperatorHandle<TabulateSignature>> deepmdTabulation() {
    auto handle = c10::Dispatcher::singleton().findSchema({"deepmd::tabulate_fusion_se_a", ""});
    if (!handle)
        return c10::nullopt;
    try {
        return handle->typed<TabulateSignature>();
    }
    catch (const c10::Error&) {
        return c10::nullopt;
    }
}

class NativeSeAModel : public DPModel {
public:
    NativeSeAModel(const std::string& label, const DPModelInfo& modelInfo) : DPModel(label) {
        info = modelInfo;
        info.engine = ModelEngine::Native;
    }

    void read(const torch::jit::Module& model) {
        if (className(model) != "EnergyModel")
            throw Unsupported{"not se_e2_a: a " + className(model)};
        torch::jit::Module atomic = child(model, "atomic_model");
        if (className(atomic) != "DPEnergyAtomicModel")
            throw Unsupported{"not se_e2_a: atomic model " + className(atomic)};
        torch::jit::Module descriptor = child(atomic, "descriptor");
        if (className(descriptor) != "DescrptSeA")
            throw Unsupported{"not se_e2_a: descriptor " + className(descriptor)};
        torch::jit::Module fitting = child(atomic, "fitting_net");
        if (className(fitting) != "EnergyFittingNet")
            throw Unsupported{"a fitting net of class " + className(fitting)};
        torch::jit::Module sea = child(descriptor, "sea");

        // The descriptor.
        rcut = attribute(sea, "rcut").toDouble();
        rcutSmooth = attribute(sea, "rcut_smth").toDouble();
        protection = attribute(sea, "env_protection").toDouble();
        sel = intList(attribute(sea, "sel"));
        ntypes = attribute(sea, "ntypes").toInt();
        axisNeuron = attribute(sea, "axis_neuron").toInt();
        typeOneSide = attribute(sea, "type_one_side").toBool();
        compressed = attribute(sea, "compress").toBool();
        nnei = std::accumulate(sel.begin(), sel.end(), (int64_t) 0);
        for (size_t t = 0; t < sel.size(); t++)
            sectionStart.push_back(t == 0 ? 0 : sectionStart[t - 1] + sel[t - 1]);
        mean = tensorAttribute(sea, "mean");
        stddev = tensorAttribute(sea, "stddev");
        descriptorType = mean.scalar_type();
        if (descriptorType != torch::kFloat32 && descriptorType != torch::kFloat64)
            throw Unsupported{"descriptor precision " + std::string(c10::toString(descriptorType))};
        if ((int64_t) sel.size() != ntypes || mean.sizes() != torch::IntArrayRef({ntypes, nnei, 4}) ||
                stddev.sizes() != mean.sizes())
            throw Unsupported{"descriptor statistics of an unexpected shape"};
        if (!(rcutSmooth < rcut))
            throw Unsupported{"rcut_smth not below rcut"};
        embedding = readNetworks(child(sea, "filter_layers"));
        if ((int64_t) embedding.size() != (typeOneSide ? ntypes : ntypes * ntypes))
            throw Unsupported{"an unexpected number of embedding nets"};
        neuron = embedding[0].layers.back().matrix.size(1);
        descriptorMask = typeMask(sea, "emask");
        if (compressed) {
            tabulation = deepmdTabulation();
            torch::jit::Module data = child(sea, "compress_data"), table = child(sea, "compress_info");
            for (size_t i = 0; i < embedding.size(); i++) {
                Table t;
                t.data = tensorAttribute(data, std::to_string(i));
                t.settings = tensorAttribute(table, std::to_string(i)).to(torch::kCPU).contiguous();
                Tensor settings = t.settings.to(torch::kFloat64);
                if (settings.numel() < 5 || t.data.dim() != 2 || t.data.size(1) != 6 * neuron)
                    throw Unsupported{"compression tables of an unexpected shape"};
                t.data = t.data.contiguous();
                // The same arithmetic as deepmd-kit's locate_xx_se_a, in the table's precision.
                if (t.data.scalar_type() == torch::kFloat32) {
                    float lower = (float) settings[0].item<double>(), upper = (float) settings[1].item<double>(),
                          max = (float) settings[2].item<double>(), s0 = (float) settings[3].item<double>(),
                          s1 = (float) settings[4].item<double>();
                    t.lower = lower; t.upper = upper; t.max = max; t.stride0 = s0; t.stride1 = s1;
                    t.firstRows = (int64_t) ((upper - lower) / s0);
                    t.lastRow = t.firstRows + (int64_t) ((max - upper) / s1) - 1;
                }
                else {
                    t.lower = settings[0].item<double>(); t.upper = settings[1].item<double>();
                    t.max = settings[2].item<double>(); t.stride0 = settings[3].item<double>();
                    t.stride1 = settings[4].item<double>();
                    t.firstRows = (int64_t) ((t.upper - t.lower) / t.stride0);
                    t.lastRow = t.firstRows + (int64_t) ((t.max - t.upper) / t.stride1) - 1;
                }
                if (t.lastRow < 0 || t.lastRow >= t.data.size(0))
                    throw Unsupported{"compression tables that do not match their settings"};
                tables.push_back(t);
            }
        }

        // The fitting net.
        if (attribute(fitting, "mixed_types").toBool())
            throw Unsupported{"a type-mixed fitting net"};
        if (attribute(fitting, "dim_case_embd").toInt() != 0)
            throw Unsupported{"a case embedding (multi-task model)"};
        if (!attribute(fitting, "remove_vaccum_contribution").isNone())
            throw Unsupported{"remove_vaccum_contribution"};
        if (attribute(fitting, "use_aparam_as_mask").toBool())
            throw Unsupported{"use_aparam_as_mask"};
        numFparam = attribute(fitting, "numb_fparam").toInt();
        numAparam = attribute(fitting, "numb_aparam").toInt();
        if (numFparam > 0) {
            fparamMean = tensorAttribute(fitting, "fparam_avg");
            fparamInvStd = tensorAttribute(fitting, "fparam_inv_std");
        }
        if (numAparam > 0) {
            aparamMean = tensorAttribute(fitting, "aparam_avg");
            aparamInvStd = tensorAttribute(fitting, "aparam_inv_std");
        }
        fittingNets = readNetworks(child(fitting, "filter_layers"));
        if ((int64_t) fittingNets.size() != ntypes)
            throw Unsupported{"an unexpected number of fitting nets"};
        if (fittingNets[0].layers.back().matrix.size(1) != 1)
            throw Unsupported{"a fitting net with more than one output"};
        fittingType = fittingNets[0].layers[0].matrix.scalar_type();
        biasAtomE = tensorAttribute(fitting, "bias_atom_e");
        Tensor fittingMask = tensorAttribute(child(fitting, "emask"), "type_mask").to(torch::kCPU, torch::kInt64);
        if (biasAtomE.size(0) != ntypes || fittingNets[0].layers[0].matrix.size(0) != neuron * axisNeuron + numFparam + numAparam)
            throw Unsupported{"a fitting net whose input does not match the descriptor"};

        // The atomic model: output bias and exclusions.
        std::vector<std::string> keys;
        for (const auto& key : attribute(atomic, "bias_keys").toListRef())
            keys.push_back(key.toStringRef());
        if (keys.size() != 1 || keys[0] != "energy")
            throw Unsupported{"output keys other than energy"};
        outBias = tensorAttribute(atomic, "out_bias");
        if (outBias.dim() != 3 || outBias.size(1) != ntypes || outBias.size(2) != 1)
            throw Unsupported{"an output bias of an unexpected shape"};
        pairMask = typeMask(atomic, "pair_excl");
        Tensor atomMask = typeMask(atomic, "atom_excl");
        for (int64_t t = 0; t < ntypes; t++)
            energyTypes.push_back(fittingMask[t].item<int64_t>() != 0 &&
                                  (!atomMask.defined() || atomMask[t].item<int64_t>() != 0));
    }

    void to(const torch::Device& device) override {
        this->device = device;
        mean = mean.to(device);
        stddev = stddev.to(device);
        for (Network& network : embedding)
            network.to(device);
        for (Network& network : fittingNets)
            network.to(device);
        for (Table& table : tables) {
            table.data = table.data.to(device);
            table.split();
        }
        biasAtomE = biasAtomE.to(device);
        outBias = outBias.to(device);
        if (fparamMean.defined()) {
            fparamMean = fparamMean.to(device);
            fparamInvStd = fparamInvStd.to(device);
        }
        if (aparamMean.defined()) {
            aparamMean = aparamMean.to(device);
            aparamInvStd = aparamInvStd.to(device);
        }
        selTensor = torch::tensor(std::vector<int64_t>(sel.begin(), sel.end()), torch::kInt64).to(device);
        sectionTensor = torch::tensor(sectionStart, torch::kInt64).to(device);
        typeRange = torch::arange(ntypes + 1, torch::TensorOptions().dtype(torch::kInt64).device(device));
        dropCaptures();
        for (Group& group : groups) {
            group.atoms = group.atoms.to(device);
            if (group.excludes) {
                group.zeroAlways = group.zeroAlways.to(device);
                group.zeroWhenReal = group.zeroWhenReal.to(device);
                group.constantRows = group.constantRows.to(device);
            }
        }
    }

    void prepare(const torch::Tensor& localTypes) override {
        Tensor types = localTypes.to(torch::kCPU, torch::kInt64).contiguous();
        const int64_t* t = types.data_ptr<int64_t>();
        groups.clear();
        for (int64_t type = 0; type < ntypes; type++) {
            std::vector<int64_t> atoms;
            for (int64_t i = 0; i < types.numel(); i++)
                if (t[i] == type)
                    atoms.push_back(i);
            if (atoms.empty())
                continue;
            Group group;
            group.type = type;
            group.atoms = torch::tensor(atoms, torch::kInt64).to(device);
            // Per neighbour section: excluded by the model's pair_exclude_types (the
            // entries become padding) or by the descriptor's exclude_types (the
            // entries are zeroed, padding kept), as deepmd-kit applies them.
            std::vector<double> whenReal(nnei, 0), always(nnei, 0);
            for (int64_t neighbor = 0; neighbor < ntypes; neighbor++) {
                int64_t index = type * (ntypes + 1) + neighbor;
                bool pair = pairMask.defined() && pairMask[index].item<int64_t>() == 0;
                bool descriptor = descriptorMask.defined() && descriptorMask[index].item<int64_t>() == 0;
                for (int64_t j = sectionStart[neighbor]; j < sectionStart[neighbor] + sel[neighbor]; j++) {
                    always[j] = pair ? 1 : 0;
                    whenReal[j] = (descriptor && !pair) ? 1 : 0;
                }
                group.excludes = group.excludes || pair || descriptor;
            }
            if (group.excludes) {
                Tensor a = torch::tensor(always, torch::kFloat64);
                group.zeroAlways = a.to(device, descriptorType);
                group.zeroWhenReal = torch::tensor(whenReal, torch::kFloat64).to(device, descriptorType);
                Tensor padding = (-mean[type] / stddev[type]);   // [K, 4]: a padding entry's normalised row
                group.constantRows = (padding * a.to(padding.device(), padding.scalar_type()).unsqueeze(1)).to(device);
            }
            groups.push_back(group);
        }
        numLocal = types.numel();
        dropCaptures();
    }

    bool formatsNeighborList() const override { return true; }
    torch::Tensor selOverflow() const override { return overflow; }
    void setDeviceGraphs(std::shared_ptr<DeviceGraphs> graphs) override {
        dropCaptures();
        deviceGraphs = graphs;
    }
    bool usesDeviceGraphs() const override { return replayed; }

    Tensor compute(const DPModelCall& call, Tensor& extendedForce) override {
        Tensor coord = call.coord.reshape({-1, 3}), atype = call.atype.reshape({-1}), nlist = call.nlist.reshape({numLocal, -1});
        Tensor aparam = call.aparam.defined() ? call.aparam.reshape({numLocal, -1}) : Tensor();
        Tensor fparam = call.fparam.defined() ? call.fparam.reshape({1, -1}) : Tensor();
        if (coord.size(0) < numLocal || nlist.size(0) != numLocal)
            throw OpenMMException("SwitchingDPForce: internal error: the native model '" + label + "' was prepared for " +
                    std::to_string(numLocal) + " atoms");
        replayed = false;
        if (deviceGraphs && !captureFailed) {
            try {
                Tensor energy = computeCaptured(coord, atype, nlist, fparam, aparam, extendedForce);
                replayed = true;
                return energy;
            }
            catch (const std::exception& e) {
                std::string what = e.what();
                std::cerr << "SwitchingDPForce: capturing the " << label << " model's evaluation as a device graph failed, "
                          "so it runs eagerly: " << what.substr(0, what.find('\n')) << std::endl;
                captureFailed = true;
                dropCaptures();
            }
        }
        Tensor energy;
        evaluate(coord, atype, nlist, fparam, aparam, energy, extendedForce, overflow);
        return energy;
    }

private:
    struct Group {
        int64_t type = 0;
        Tensor atoms;  // local indices of this type, on the device
        // Exclusions, per column of the formatted list: rows = rows * (1 - zeroWhenReal *
        // mask - zeroAlways) + constantRows.  The model's pair_exclude_types make the
        // entries padding (zeroAlways, constantRows = the normalised padding row); the
        // descriptor's exclude_types zero the real entries and keep the padding (zeroWhenReal).
        bool excludes = false;
        Tensor zeroWhenReal, zeroAlways, constantRows;  // [K], [K], [K, 4]
    };

    /** Static buffers and outputs of one captured evaluation (one per capacity). */
    struct Capture {
        Tensor coord, atype, nlist, fparam, aparam;  // inputs
        Tensor energy, force, overflow;              // outputs
    };

    static int64_t capacity(int64_t n) {
        // Geometric steps of 1/8: a rebuilt list that grows a little replays the same graph.
        int64_t c = 16;
        while (c < n)
            c = std::max(c + 1, (c * 9) / 8);
        return c;
    }

    Tensor computeCaptured(const Tensor& coord, const Tensor& atype, const Tensor& nlist, const Tensor& fparam,
                           const Tensor& aparam, Tensor& extendedForce) {
        const int64_t nall = coord.size(0), width = nlist.size(1);
        // The smallest capture with room for this input (so a shrinking list replays
        // what it has), else a new one with room to grow.
        auto found = captures.end();
        for (auto c = captures.begin(); c != captures.end(); ++c)
            if (c->first.first >= nall && c->first.second >= width &&
                    (found == captures.end() || c->first.first * c->first.second < found->first.first * found->first.second))
                found = c;
        if (found == captures.end()) {
            const int64_t nallCapacity = capacity(nall), widthCapacity = capacity(std::max<int64_t>(width, 1));
            Capture c;
            c.coord = torch::zeros({nallCapacity, 3}, coord.options());
            c.atype = torch::zeros({nallCapacity}, atype.options());
            c.nlist = torch::full({numLocal, widthCapacity}, -1, nlist.options());
            if (fparam.defined())
                c.fparam = torch::zeros_like(fparam);
            if (aparam.defined())
                c.aparam = torch::zeros_like(aparam);
            // Outputs allocated here, on the caller's stream, not inside the capture.
            c.energy = torch::zeros({1}, coord.options());
            c.force = torch::zeros({nallCapacity, 3}, coord.options());
            c.overflow = torch::zeros({1}, coord.options().dtype(torch::kBool));
            found = captures.emplace(std::make_pair(nallCapacity, widthCapacity), c).first;
        }
        Capture& c = found->second;
        const int64_t widthCapacity = found->first.second;
        c.coord.narrow(0, 0, nall).copy_(coord);
        c.atype.narrow(0, 0, nall).copy_(atype);
        c.nlist.narrow(1, 0, width).copy_(nlist);
        if (width < widthCapacity)
            c.nlist.narrow(1, width, widthCapacity - width).fill_(-1);
        if (fparam.defined())
            c.fparam.copy_(fparam);
        if (aparam.defined())
            c.aparam.copy_(aparam);
        // Ghost rows past nall keep stale values: no list entry points at them.
        deviceGraphs->run(graphPrefix() + std::to_string(found->first.first) + "x" + std::to_string(widthCapacity), [this, &c]() {
            Tensor energy, force, flag;
            evaluate(c.coord, c.atype, c.nlist, c.fparam, c.aparam, energy, force, flag, /*capturable=*/true);
            c.energy.copy_(energy);
            c.force.copy_(force);
            c.overflow.copy_(flag);
        });
        overflow = c.overflow;
        extendedForce = c.force.narrow(0, 0, nall);
        return c.energy;
    }

    /** This model's graph keys: its address and how many times its captures were dropped. */
    std::string graphPrefix() const {
        return std::to_string(reinterpret_cast<std::uintptr_t>(this)) + "/" + std::to_string(generation) + ":";
    }

    /** Drop every capture (the buffers and weights a graph reads are about to change). */
    void dropCaptures() {
        if (deviceGraphs)
            deviceGraphs->release(std::to_string(reinterpret_cast<std::uintptr_t>(this)) + "/");
        captures.clear();
        generation++;
    }

    /**
     * deepmd-kit's format_nlist for se_e2_a: each row sorted by distance, cut to the
     * nearest sum(sel), then the nearest sel[t] neighbours of each type t in section t.  Returns [nloc, nnei]
     * and whether some type had more neighbours than its sel.
     */
    Tensor formatNeighborList(const Tensor& coord, const Tensor& atype, const Tensor& nlist, Tensor& overflowed) const {
        torch::NoGradGuard noGrad;
        const int64_t n = nlist.size(0), width = nlist.size(1);
        if (width == 0) {
            overflowed = torch::zeros({1}, torch::TensorOptions().dtype(torch::kBool).device(coord.device()));
            return torch::full({n, nnei}, -1, nlist.options());
        }
        Tensor valid = nlist >= 0;
        Tensor index = nlist.clamp_min(0);
        Tensor neighbors = coord.index_select(0, index.reshape(-1)).view({n, width, 3});
        Tensor distance2 = (neighbors - coord.narrow(0, 0, n).unsqueeze(1)).square().sum(2)
                .masked_fill(valid.logical_not(), std::numeric_limits<double>::infinity());
        Tensor order = std::get<1>(distance2.sort(1, /*descending=*/false));
        Tensor sorted = nlist.gather(1, order);
        Tensor sortedValid = sorted >= 0;
        // Neighbour types, padding as type ntypes.
        Tensor types = atype.index_select(0, sorted.clamp_min(0).reshape(-1)).view({n, width}).masked_fill(sortedValid.logical_not(), ntypes);
        // Rank of each entry among the row's entries of its type.
        // (A comparison rather than one_hot, which checks its input with a host synchronisation.)
        Tensor oneHot = types.unsqueeze(2).eq(typeRange).to(torch::kInt64);            // [n, width, ntypes+1]
        Tensor rank = oneHot.cumsum(1).gather(2, types.unsqueeze(2)).squeeze(2) - 1;    // [n, width]
        Tensor typeClamped = types.clamp_max(ntypes - 1);
        Tensor limit = selTensor.index_select(0, typeClamped.reshape(-1)).view({n, width});
        Tensor start = sectionTensor.index_select(0, typeClamped.reshape(-1)).view({n, width});
        // As deepmd-kit's format_nlist and DeepPot: only the nearest sum(sel) neighbours
        // overall, and of those the nearest sel[t] of each type.
        Tensor overall = torch::arange(width, nlist.options()).lt(nnei).unsqueeze(0);
        Tensor kept = sortedValid.logical_and(rank < limit).logical_and(overall);
        overflowed = sortedValid.logical_and(rank >= limit).any().reshape({1});
        // Entries that are kept go to their section; the rest to a spare column, dropped.
        Tensor column = torch::where(kept, start + rank, torch::full_like(rank, nnei));
        return torch::full({n, nnei + 1}, -1, nlist.options()).scatter_(1, column, sorted).narrow(1, 0, nnei);
    }

    /**
     * A compressed embedding as tensors (tabulate_fusion_se_a): for x [m, k] in the
     * table's precision, g(x) [m, k, ng] and dg/dx, from contiguous per-power tables
     * (one gather each).  Outside the tables' range, as deepmd-kit, the value is the
     * first or last row's constant term.
     */
    void tabulate(const Table& table, const Tensor& x, Tensor& value, Tensor& slope) const {
        const int64_t m = x.size(0), k = x.size(1);
        Tensor inFirst = x < table.upper, inSecond = x < table.max, below = x < table.lower;
        Tensor first = ((x - table.lower) / table.stride0).floor();
        Tensor second = ((x - table.upper) / table.stride1).floor() + (double) table.firstRows;
        Tensor row = torch::where(inFirst, first, torch::where(inSecond, second, torch::full_like(x, (double) table.lastRow)));
        row = torch::where(below, torch::zeros_like(x), row);
        Tensor origin = torch::where(inFirst, row * table.stride0 + table.lower,
                                     (row - (double) table.firstRows) * table.stride1 + table.upper);
        Tensor t = torch::where(below.logical_or(inSecond.logical_not()), torch::zeros_like(x), x - origin).reshape({-1, 1});
        Tensor rows = row.to(torch::kInt64).reshape(-1);
        value = table.powers[5].index_select(0, rows);
        slope = table.slopes[4].index_select(0, rows);
        for (int p = 4; p >= 0; p--)
            value = torch::addcmul(table.powers[p].index_select(0, rows), value, t);
        for (int p = 3; p >= 0; p--)
            slope = torch::addcmul(table.slopes[p].index_select(0, rows), slope, t);
        value = value.view({m, k, neuron});
        slope = slope.view({m, k, neuron});
    }

    /**
     * deepmd-kit's kernels take the first entry of a section equal to its last one as
     * the start of the padding and count it once per remaining entry.  A neighbour at
     * the cutoff edge can equal the padding exactly (its switch rounds to 0); it then
     * carries the padding's multiplicity in the gradient.  Done here too, so that
     * forces match deepmd-kit's: `after` marks the entries replaced by entry `first`.
     */
    struct Unloop {
        Tensor after, first;   // [m, k] bool, [m, 1] int64
    };
    static Unloop unloop(const Tensor& x) {
        Unloop u;
        Tensor same = x.eq(x.narrow(1, x.size(1) - 1, 1)).to(torch::kInt32);
        u.after = same.cumsum(1) > 0;
        u.first = same.argmax(1, true);   // the first maximum
        return u;
    }
    /** A [m, k, c] tensor with the entries after the first padding-like one replaced by it. */
    static Tensor unloopEntries(const Unloop& u, const Tensor& entries) {
        Tensor first = u.first.unsqueeze(2).expand({entries.size(0), 1, entries.size(2)});
        return torch::where(u.after.unsqueeze(2), entries.gather(1, first), entries);
    }
    /** The gradient of unloopEntries(): the replaced entries' gradients go to the first one. */
    static Tensor foldUnloop(const Unloop& u, const Tensor& gradient) {
        Tensor after = u.after.unsqueeze(2);
        Tensor folded = (gradient * after).sum(1, true);
        Tensor first = u.first.unsqueeze(2).expand({gradient.size(0), 1, gradient.size(2)});
        return torch::where(after, torch::zeros_like(gradient), gradient).scatter_add(1, first, folded);
    }

    /**
     * One evaluation: the energy (one element, float64) and the forces on the
     * extended atoms [nall, 3].  The forces are written out as the chain rule rather
     * than left to autograd: about a third of the tensor operations, none of
     * autograd's bookkeeping, and the same arithmetic (tests compare with deepmd-kit).
     */
    void evaluate(const Tensor& coordIn, const Tensor& atype, const Tensor& nlist, const Tensor& fparam,
                  const Tensor& aparam, Tensor& energy, Tensor& extendedForce, Tensor& overflowed,
                  bool capturable = false) const {
        // A named scope, so that a profile can tell the model's own operations from the engine's.
        RECORD_USER_SCOPE("SwitchingDP::native_se_e2_a");
        torch::NoGradGuard noGrad;
        Tensor formatted = formatNeighborList(coordIn, atype, nlist, overflowed);
        const int64_t nall = coordIn.size(0), n = numLocal, K = nnei;
        const auto P = descriptorType;

        // The smooth environment matrix, as deepmd-kit's _make_env_mat.
        Tensor c = cast(coordIn, P);
        Tensor mask = formatted >= 0;
        Tensor maskP = mask.to(P);
        Tensor index = formatted.clamp_min(0);
        Tensor diff = c.index_select(0, index.reshape(-1)).view({n, K, 3}) - c.narrow(0, 0, n).unsqueeze(1);
        Tensor r = torch::linalg_vector_norm(diff, 2, torch::IntArrayRef{-1}, false) + mask.logical_not();
        Tensor rp = (protection != 0 ? r + protection : r);
        Tensor inv = 1 / rp;
        Tensor inv2 = inv * inv;
        Tensor u = (r.clamp(rcutSmooth, rcut) - rcutSmooth) / (rcut - rcutSmooth);
        Tensor u2 = u * u;
        Tensor w = (u2 * u * (-6 * u2 + 15 * u - 10) + 1) * maskP;
        Tensor environment = torch::cat({inv.unsqueeze(2), diff / rp.pow(2).unsqueeze(2)}, 2) * w.unsqueeze(2);   // [n, K, 4]

        Tensor fparamNormalized;
        if (numFparam > 0)
            fparamNormalized = (cast(cast(fparam, torch::kFloat64), fittingType) - fparamMean) * fparamInvStd;
        Tensor total;
        Tensor environmentGradient = torch::zeros({n, K, 4}, environment.options());   // dE/d environment
        for (const Group& group : groups) {
            const int64_t ti = group.type, m = group.atoms.size(0);
            if (!energyTypes[ti])
                continue;   // no energy: nothing depends on this group's descriptor
            Tensor rows = (environment.index_select(0, group.atoms) - mean[ti]) / stddev[ti];   // [m, K, 4]
            // Exclusions as a multiplier and an offset on the rows (see prepare()).
            Tensor scale;
            if (group.excludes) {
                scale = 1 - group.zeroWhenReal * mask.index_select(0, group.atoms).to(P) - group.zeroAlways;   // [m, K]
                rows = rows * scale.unsqueeze(2) + group.constantRows;
            }
            Tensor xyz, rowsLeaf;   // [m, 4, ng]; the operator path's autograd leaf
            std::vector<Network::Record> records(ntypes);
            std::vector<Tensor> slopes(ntypes), embeddedParts(ntypes), sectionRows(ntypes);
            std::vector<Unloop> unloops(ntypes);
            // deepmd-kit's kernel where it may run (the CPU, outside a capture, which
            // its kernels do not support); the tensor form everywhere else.
            const bool useOperator = compressed && tabulation && rows.device().is_cpu() && !capturable;
            if (useOperator) {
                // deepmd-kit's fused kernel, and its own backward through a local autograd graph.
                torch::AutoGradMode gradMode(true);
                rowsLeaf = rows.detach().requires_grad_(true);
                for (int64_t tj = 0; tj < ntypes; tj++) {
                    if (sel[tj] == 0)
                        continue;
                    Tensor section = rowsLeaf.narrow(1, sectionStart[tj], sel[tj]);
                    Tensor part = tabulation->call(tables[net(ti, tj)].data, tables[net(ti, tj)].settings,
                                                   section.select(2, 0).reshape({-1, 1}).contiguous(),
                                                   section.contiguous(), neuron)[0];
                    xyz = xyz.defined() ? xyz + part : part;
                }
            }
            else {
                // Section by section, as deepmd-kit: each section's rows and embedding stay contiguous.
                for (int64_t tj = 0; tj < ntypes; tj++) {
                    if (sel[tj] == 0)
                        continue;
                    Tensor section = rows.narrow(1, sectionStart[tj], sel[tj]);
                    if (compressed) {
                        unloops[tj] = unloop(section.select(2, 0));
                        section = unloopEntries(unloops[tj], section);
                        tabulate(tables[net(ti, tj)], section.select(2, 0), embeddedParts[tj], slopes[tj]);
                    }
                    else {
                        section = section.contiguous();
                        embeddedParts[tj] = embedding[net(ti, tj)].forward(section.select(2, 0).reshape({-1, 1}), records[tj])
                                .view({m, sel[tj], neuron});
                    }
                    sectionRows[tj] = section;
                    Tensor part = torch::bmm(section.transpose(1, 2), embeddedParts[tj]);
                    xyz = xyz.defined() ? xyz + part : part;
                }
            }
            Tensor xyzRaw = xyz;
            xyz = xyz.detach() / (double) K;
            Tensor axis = xyz.narrow(2, 0, axisNeuron);                                   // [m, 4, axis]
            Tensor descriptor = torch::bmm(xyz.transpose(1, 2), axis).reshape({m, neuron * axisNeuron});
            Tensor input = cast(cast(descriptor, torch::kFloat64), fittingType);
            if (numFparam > 0)
                input = torch::cat({input, fparamNormalized.expand({m, numFparam})}, 1);
            if (numAparam > 0) {
                Tensor a = cast(cast(aparam.index_select(0, group.atoms), torch::kFloat64), fittingType);
                input = torch::cat({input, (a - aparamMean) * aparamInvStd}, 1);
            }
            Network::Record fitted;
            Tensor out = fittingNets[ti].forward(input, fitted);                             // [m, 1]
            Tensor sum = ((out + cast(biasAtomE[ti], fittingType)) + outBias[0][ti]).sum();  // float64, as apply_out_stat
            total = total.defined() ? total + sum : sum;

            // Backward: fitting net, descriptor products, embedding, rows.
            Tensor inputGradient = fittingNets[ti].backward(torch::ones_like(out), fitted);
            Tensor descriptorGradient = cast(inputGradient.narrow(1, 0, neuron * axisNeuron), P).reshape({m, neuron, axisNeuron});
            Tensor xyzGradient = torch::bmm(axis, descriptorGradient.transpose(1, 2));     // [m, 4, ng]
            xyzGradient.narrow(2, 0, axisNeuron).add_(torch::bmm(xyz, descriptorGradient));
            xyzGradient = xyzGradient / (double) K;
            Tensor rowsGradient;
            if (useOperator)
                rowsGradient = torch::autograd::grad({xyzRaw}, {rowsLeaf}, {xyzGradient})[0];
            else {
                std::vector<Tensor> sectionGradients;
                Tensor xyzGradientT = xyzGradient.transpose(1, 2);
                for (int64_t tj = 0; tj < ntypes; tj++) {
                    if (sel[tj] == 0)
                        continue;
                    Tensor sectionGradient = torch::bmm(embeddedParts[tj], xyzGradientT);          // [m, sel, 4]
                    Tensor embeddedGradient = torch::bmm(sectionRows[tj], xyzGradient);           // [m, sel, ng]
                    Tensor inputGradient = compressed ? (embeddedGradient * slopes[tj]).sum(2)
                            : embedding[net(ti, tj)].backward(embeddedGradient.view({-1, neuron}), records[tj]).view({m, sel[tj]});
                    sectionGradient.select(2, 0).add_(inputGradient);
                    if (compressed)
                        sectionGradient = foldUnloop(unloops[tj], sectionGradient);
                    sectionGradients.push_back(sectionGradient);
                }
                rowsGradient = (sectionGradients.size() == 1 ? sectionGradients[0] : torch::cat(sectionGradients, 1));
            }
            if (group.excludes)
                rowsGradient = rowsGradient * scale.unsqueeze(2);
            environmentGradient.index_copy_(0, group.atoms, rowsGradient / stddev[ti]);
        }
        if (!total.defined())
            total = torch::zeros({}, coordIn.options());

        // The chain rule from the environment matrix to the pair vectors, then to atoms.
        Tensor a = environmentGradient.select(2, 0), b = environmentGradient.narrow(2, 1, 3);
        Tensor um1 = u - 1;
        Tensor slopeW = (-30.0 / (rcut - rcutSmooth)) * u2 * um1 * um1 * maskP;   // dw/dr (zero outside the switch)
        Tensor q = (b * diff).sum(2);
        Tensor radial = (a * (slopeW * inv - w * inv2) + q * (slopeW * inv2 - 2 * w * inv2 * inv)) / r;
        Tensor pairGradient = radial.unsqueeze(2) * diff + (w * inv2).unsqueeze(2) * b;   // dE/d(r_j - r_i), [n, K, 3]
        Tensor gradient = torch::zeros({nall, 3}, c.options()).index_add_(0, index.reshape(-1), pairGradient.reshape({-1, 3}));
        gradient.narrow(0, 0, n).sub_(pairGradient.sum(1));
        extendedForce = cast(gradient, torch::kFloat64).neg();
        energy = total.reshape({1});
    }

    /** The embedding net (and table) of centre type ti and neighbour type tj. */
    int64_t net(int64_t ti, int64_t tj) const {
        return typeOneSide ? tj : tj * ntypes + ti;
    }

    // Settings.
    double rcut = 0, rcutSmooth = 0, protection = 0;
    std::vector<int64_t> sel, sectionStart;
    int64_t ntypes = 0, nnei = 0, axisNeuron = 0, neuron = 0, numFparam = 0, numAparam = 0, numLocal = 0;
    bool typeOneSide = false, compressed = false;
    torch::ScalarType descriptorType = torch::kFloat64, fittingType = torch::kFloat64;
    // Weights and statistics.
    Tensor mean, stddev, biasAtomE, outBias, fparamMean, fparamInvStd, aparamMean, aparamInvStd;
    Tensor descriptorMask, pairMask;   // CPU, (ntypes+1)^2; undefined: none
    std::vector<bool> energyTypes;     // false: atom_exclude_types (or the fitting's exclude_types) drops the type's energy
    std::vector<Network> embedding, fittingNets;
    std::vector<Table> tables;
    c10::optional<c10::TypedOperatorHandle<TabulateSignature>> tabulation;
    // Per engine.
    torch::Device device = torch::kCPU;
    Tensor selTensor, sectionTensor, typeRange, overflow;
    std::vector<Group> groups;
    std::shared_ptr<DeviceGraphs> deviceGraphs;
    std::map<std::pair<int64_t, int64_t>, Capture> captures;   // by (ghost capacity, width capacity)
    int64_t generation = 0;
    bool captureFailed = false, replayed = false;
};

} // namespace

std::unique_ptr<DPModel> SwitchingDPPlugin::makeNativeSeAModel(torch::jit::Module& module, const DPModelInfo& info,
                                                               const std::string& label, std::string& whyNot) {
    try {
        auto model = std::make_unique<NativeSeAModel>(label, info);
        model->read(module);
        model->to(torch::kCPU);
        whyNot.clear();
        return model;
    }
    catch (const Unsupported& e) {
        whyNot = e.why;
    }
    catch (const c10::Error& e) {
        std::string what = e.what();
        whyNot = "its module could not be read: " + what.substr(0, what.find('\n'));
    }
    return nullptr;
}
