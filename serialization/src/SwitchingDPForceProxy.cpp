#include "SwitchingDPForceProxy.h"
#include "SwitchingDPForce.h"
#include "openmm/OpenMMException.h"
#include "openmm/serialization/SerializationNode.h"
#include <memory>

using namespace SwitchingDPPlugin;
using namespace OpenMM;

namespace {

const char* BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string encodeBase64(const std::string& bytes) {
    std::string out;
    out.reserve(4 * ((bytes.size() + 2) / 3));
    for (size_t i = 0; i < bytes.size(); i += 3) {
        unsigned int chunk = (unsigned char) bytes[i] << 16;
        if (i + 1 < bytes.size())
            chunk |= (unsigned char) bytes[i+1] << 8;
        if (i + 2 < bytes.size())
            chunk |= (unsigned char) bytes[i+2];
        out += BASE64[(chunk >> 18) & 63];
        out += BASE64[(chunk >> 12) & 63];
        out += (i + 1 < bytes.size() ? BASE64[(chunk >> 6) & 63] : '=');
        out += (i + 2 < bytes.size() ? BASE64[chunk & 63] : '=');
    }
    return out;
}

std::string decodeBase64(const std::string& text) {
    int value[256];
    std::fill(value, value + 256, -1);
    for (int i = 0; i < 64; i++)
        value[(unsigned char) BASE64[i]] = i;
    std::string out;
    unsigned int chunk = 0;
    int bits = 0;
    for (unsigned char c : text) {
        if (c == '=' || c == '\n' || c == '\r' || c == ' ')
            continue;
        if (value[c] < 0)
            throw OpenMMException("SwitchingDPForce: the embedded model in the XML is not valid base64");
        chunk = (chunk << 6) | value[c];
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += (char) ((chunk >> bits) & 0xFF);
        }
    }
    return out;
}

const char* MODEL_TAGS[2] = {"AccurateModel", "FastModel"};

} // namespace

SwitchingDPForceProxy::SwitchingDPForceProxy() : SerializationProxy("SwitchingDPForce") {
}

void SwitchingDPForceProxy::serialize(const void* object, SerializationNode& node) const {
    // Version 2 added one-model forces (no FastModel node) and the frame and atomic
    // parameters; version 3 the energy scale parameter; version 4 the deviation checks and guard;
    // version 5 whether periodicity was set explicitly; version 6 the native path and CUDA graph switches.
    node.setIntProperty("version", 6);
    const SwitchingDPForce& force = *reinterpret_cast<const SwitchingDPForce*>(object);
    node.setIntProperty("forceGroup", force.getForceGroup());
    node.setStringProperty("name", force.getName());
    node.setBoolProperty("usesPeriodic", force.usesPeriodicBoundaryConditions());
    node.setBoolProperty("periodicSetExplicitly", force.periodicitySetExplicitly());
    node.setIntProperty("accurateInterval", force.getAccurateInterval());
    node.setIntProperty("accuratePhase", force.getAccuratePhase());
    node.setIntProperty("mode", force.getMode());
    node.setIntProperty("slowForceGroup", force.getSlowForceGroup());
    node.setIntProperty("slowTerm", force.getSlowTerm());
    node.setDoubleProperty("skin", force.getNeighborListSkin());
    node.setBoolProperty("useNativePath", force.getUseNativePath());
    node.setBoolProperty("useCUDAGraphs", force.getUseCUDAGraphs());
    node.setStringProperty("energyScaleParameter", force.getEnergyScaleParameter());
    if (force.getNumModels() == 2) {
        node.setIntProperty("deviationCheckInterval", force.getDeviationCheckInterval());
        node.setDoubleProperty("deviationThreshold", force.getDeviationThreshold());
        node.setIntProperty("fallbackSteps", force.getFallbackSteps());
        node.setDoubleProperty("deviationLimit", force.getDeviationLimit());
    }
    for (int m = 0; m < force.getNumModels(); m++) {
        SerializationNode& model = node.createChildNode(MODEL_TAGS[m]);
        model.setStringProperty("file", force.getModelFile((SwitchingDPForce::Model) m));
        model.setStringProperty("base64", encodeBase64(force.getModelContents((SwitchingDPForce::Model) m)));
    }
    SerializationNode& types = node.createChildNode("Types");
    for (const std::string& name : force.getTypes())
        types.createChildNode("Type").setStringProperty("name", name);
    SerializationNode& particles = node.createChildNode("Particles");
    for (int p : force.getParticles())
        particles.createChildNode("Particle").setIntProperty("index", p);
    SerializationNode& frame = node.createChildNode("FrameParameters");
    for (double value : force.getFrameParameters())
        frame.createChildNode("Value").setDoubleProperty("v", value);
    SerializationNode& atomic = node.createChildNode("AtomicParameters");
    for (double value : force.getAtomicParameters())
        atomic.createChildNode("Value").setDoubleProperty("v", value);
}

static std::vector<double> readValues(const SerializationNode& node, const std::string& name) {
    std::vector<double> values;
    for (const SerializationNode& child : node.getChildren())
        if (child.getName() == name)
            for (const SerializationNode& value : child.getChildren())
                values.push_back(value.getDoubleProperty("v"));
    return values;
}

static bool hasChild(const SerializationNode& node, const std::string& name) {
    for (const SerializationNode& child : node.getChildren())
        if (child.getName() == name)
            return true;
    return false;
}

void* SwitchingDPForceProxy::deserialize(const SerializationNode& node) const {
    int version = node.getIntProperty("version");
    if (version < 1 || version > 6)
        throw OpenMMException("SwitchingDPForce: unsupported XML version " + std::to_string(version));
    const SerializationNode& accurate = node.getChildNode(MODEL_TAGS[0]);
    bool twoModels = hasChild(node, MODEL_TAGS[1]);
    std::string fastContents, fastFile;
    if (twoModels) {
        const SerializationNode& fast = node.getChildNode(MODEL_TAGS[1]);
        fastContents = decodeBase64(fast.getStringProperty("base64"));
        fastFile = fast.getStringProperty("file");
        if (fastContents.empty())
            throw OpenMMException("SwitchingDPForce: the XML's fast model is empty");
    }
    std::unique_ptr<SwitchingDPForce> force;
    try {
        force.reset(SwitchingDPForce::fromModelContents(decodeBase64(accurate.getStringProperty("base64")), fastContents,
                                                        accurate.getStringProperty("file"), fastFile));
    }
    catch (const std::exception& e) {
        // The file names are where the models came from when the System was saved; what
        // failed is the copy embedded in this XML.
        throw OpenMMException("SwitchingDPForce: a model embedded in the XML cannot be loaded (the XML may be truncated "
                "or corrupted; the file names below are those the models were read from when it was saved): " +
                std::string(e.what()));
    }
    force->setForceGroup(node.getIntProperty("forceGroup", 0));
    force->setName(node.getStringProperty("name", force->getName()));
    // A force left periodic by default stays so (its box check still applies); version 4
    // files and older did not record it, and are taken as set explicitly.
    if (node.getBoolProperty("periodicSetExplicitly", true))
        force->setUsesPeriodicBoundaryConditions(node.getBoolProperty("usesPeriodic"));
    if (twoModels) {
        force->setAccurateInterval(node.getIntProperty("accurateInterval"));
        force->setAccuratePhase(node.getIntProperty("accuratePhase"));
        force->setMode((SwitchingDPForce::Mode) node.getIntProperty("mode"));
        force->setSlowForceGroup(node.getIntProperty("slowForceGroup"));
        force->setSlowTerm((SwitchingDPForce::SlowTerm) node.getIntProperty("slowTerm"));
        force->setDeviationCheckInterval(node.getIntProperty("deviationCheckInterval", 0));
        force->setDeviationThreshold(node.getDoubleProperty("deviationThreshold", 0.0));
        force->setFallbackSteps(node.getIntProperty("fallbackSteps", 0));
        force->setDeviationLimit(node.getDoubleProperty("deviationLimit", 0.0));
    }
    force->setNeighborListSkin(node.getDoubleProperty("skin"));
    force->setUseNativePath(node.getBoolProperty("useNativePath", true));
    force->setUseCUDAGraphs(node.getBoolProperty("useCUDAGraphs", true));
    force->setEnergyScaleParameter(node.getStringProperty("energyScaleParameter", ""));
    std::vector<std::string> types;
    for (const SerializationNode& type : node.getChildNode("Types").getChildren())
        types.push_back(type.getStringProperty("name"));
    force->setTypes(types);
    std::vector<int> particles;
    for (const SerializationNode& particle : node.getChildNode("Particles").getChildren())
        particles.push_back(particle.getIntProperty("index"));
    force->setParticles(particles);
    force->setFrameParameters(readValues(node, "FrameParameters"));
    force->setAtomicParameters(readValues(node, "AtomicParameters"));
    return force.release();
}
