#include "SwitchingDPForce.h"
#include "internal/SwitchingDPForceImpl.h"
#include "DPModelInfo.h"
#include "DPModel.h"
#include "DPUnits.h"
#include "openmm/OpenMMException.h"
#include <cctype>
#include <cmath>
#include <set>

using namespace SwitchingDPPlugin;
using namespace OpenMM;

SwitchingDPForce::SwitchingDPForce(const std::string& accurateModelFile, const std::string& fastModelFile) :
        SwitchingDPForce({readModelFile(accurateModelFile), readModelFile(fastModelFile)}, {accurateModelFile, fastModelFile}) {
}

SwitchingDPForce::SwitchingDPForce(const std::string& modelFile) :
        SwitchingDPForce({readModelFile(modelFile), ""}, {modelFile, ""}) {
}

SwitchingDPForce::SwitchingDPForce(const std::array<std::string, 2>& contents, const std::array<std::string, 2>& labels) :
        contents(contents), labels(labels) {
    if (contents[Accurate].empty())
        throw OpenMMException("SwitchingDPForce: the " + std::string(contents[Fast].empty() ? "" : "accurate ") +
                "model '" + labels[Accurate] + "' is empty");
    numModels = contents[Fast].empty() ? 1 : 2;
    for (int m = 0; m < numModels; m++)
        infos[m] = inspectDPModel(contents[m], labels[m]);
    schedule.numModels = numModels;
}

SwitchingDPForce::Model SwitchingDPForce::checkModel(Model model) const {
    if (model != Accurate && model != Fast)
        throw OpenMMException("SwitchingDPForce: unknown model " + std::to_string((int) model));
    if (model >= numModels)
        throw OpenMMException("SwitchingDPForce: this force has one model (its model is Accurate); it has no fast model");
    return model;
}

void SwitchingDPForce::checkSwitching(const std::string& setting) const {
    if (numModels == 1)
        throw OpenMMException("SwitchingDPForce: " + setting + " needs two models, and this force has one "
                "(create it with an accurate and a fast model to switch between them)");
}

std::string SwitchingDPForce::getModelEngine(Model model) const {
    const DPModelInfo& info = infos[checkModel(model)];
    if (info.engine == ModelEngine::Native && !useNativePath)
        return ModelEngine::TorchScript;
    return info.engine;
}

SwitchingDPForce* SwitchingDPForce::fromModelContents(const std::string& accurateContents, const std::string& fastContents,
                                                      const std::string& accurateLabel, const std::string& fastLabel) {
    return new SwitchingDPForce({accurateContents, fastContents}, {accurateLabel, fastLabel});
}

double SwitchingDPForce::getModelCutoff(Model model) const {
    return DPUnits().toNm(infos[checkModel(model)].cutoff);
}

void SwitchingDPForce::checkTypesKnown(const std::vector<std::string>& names) const {
    std::set<std::string> unique(names.begin(), names.end());
    for (const std::string& name : unique)
        for (int m = 0; m < numModels; m++)
            if (infos[m].typeIndex(name) < 0) {
                std::string known;
                for (const std::string& t : infos[m].typeMap)
                    known += (known.empty() ? "" : " ") + t;
                throw OpenMMException("SwitchingDPForce: type '" + name + "' is not in the type_map of the " +
                        modelRole(m) + " model '" + labels[m] + "' (it knows: " + known + ")");
            }
}

void SwitchingDPForce::setTypes(const std::vector<std::string>& types) {
    checkTypesKnown(types);
    this->types = types;
}

void SwitchingDPForce::setParticles(const std::vector<int>& particles) {
    std::set<int> seen;
    for (int p : particles) {
        if (p < 0)
            throw OpenMMException("SwitchingDPForce: particle index " + std::to_string(p) + " is negative");
        if (!seen.insert(p).second)
            throw OpenMMException("SwitchingDPForce: particle " + std::to_string(p) + " is listed twice in setParticles()");
    }
    this->particles = particles;
}

void SwitchingDPForce::setFrameParameters(const std::vector<double>& values) {
    for (size_t i = 0; i < values.size(); i++)
        if (!std::isfinite(values[i]))
            throw OpenMMException("SwitchingDPForce: frame parameter " + std::to_string(i) + " is not finite");
    frameParameters = values;
}

void SwitchingDPForce::setAtomicParameters(const std::vector<double>& values) {
    for (size_t i = 0; i < values.size(); i++)
        if (!std::isfinite(values[i]))
            throw OpenMMException("SwitchingDPForce: atomic parameter " + std::to_string(i) + " is not finite");
    atomicParameters = values;
}

void SwitchingDPForce::setAccurateInterval(int interval) {
    checkSwitching("setAccurateInterval()");
    if (interval < 1)
        throw OpenMMException("SwitchingDPForce: the accurate interval must be at least 1 (got " + std::to_string(interval) + ")");
    schedule.accurateInterval = interval;
}

void SwitchingDPForce::setAccuratePhase(int phase) {
    checkSwitching("setAccuratePhase()");
    if (phase < 0)
        throw OpenMMException("SwitchingDPForce: the accurate phase must not be negative (got " + std::to_string(phase) + ")");
    schedule.accuratePhase = phase;
}

void SwitchingDPForce::setMode(Mode mode) {
    checkSwitching("setMode()");
    if (mode != Alternating && mode != MultipleTimeStep)
        throw OpenMMException("SwitchingDPForce: unknown mode " + std::to_string((int) mode));
    schedule.mode = mode;
}

void SwitchingDPForce::setSlowForceGroup(int group) {
    checkSwitching("setSlowForceGroup()");
    if (group < 0 || group > 31)
        throw OpenMMException("SwitchingDPForce: the slow force group must be between 0 and 31 (got " + std::to_string(group) + ")");
    schedule.slowForceGroup = group;
}

void SwitchingDPForce::setSlowTerm(SlowTerm term) {
    checkSwitching("setSlowTerm()");
    if (term != Difference && term != Residual)
        throw OpenMMException("SwitchingDPForce: unknown slow term " + std::to_string((int) term));
    schedule.slowTerm = term;
}

void SwitchingDPForce::setEnergyScaleParameter(const std::string& name) {
    for (char c : name)
        if (!(std::isalnum((unsigned char) c) || c == '_'))
            throw OpenMMException("SwitchingDPForce: the energy scale parameter '" + name +
                    "' is not a valid global parameter name (letters, digits and _ only)");
    energyScaleParameter = name;
}

void SwitchingDPForce::setDeviationCheckInterval(int accurateSteps) {
    checkSwitching("setDeviationCheckInterval()");
    if (accurateSteps < 0)
        throw OpenMMException("SwitchingDPForce: the deviation check interval must be 0 (off) or positive (got " +
                std::to_string(accurateSteps) + ")");
    schedule.deviationCheckInterval = accurateSteps;
}

static double checkedDeviation(const std::string& what, double value) {
    if (!std::isfinite(value) || value < 0)
        throw OpenMMException("SwitchingDPForce: the " + what + " must be a finite force deviation >= 0 eV/A "
                "(0 turns it off); got " + std::to_string(value));
    return value;
}

void SwitchingDPForce::setDeviationThreshold(double maxForceDeviation) {
    checkSwitching("setDeviationThreshold()");
    schedule.deviationThreshold = checkedDeviation("deviation threshold", maxForceDeviation);
}

void SwitchingDPForce::setFallbackSteps(int steps) {
    checkSwitching("setFallbackSteps()");
    if (steps < 0)
        throw OpenMMException("SwitchingDPForce: the fallback steps must be 0 (until clean for an interval) or positive (got " +
                std::to_string(steps) + ")");
    schedule.fallbackSteps = steps;
}

void SwitchingDPForce::setDeviationLimit(double maxForceDeviation) {
    checkSwitching("setDeviationLimit()");
    schedule.deviationLimit = checkedDeviation("deviation limit", maxForceDeviation);
}

ModelDeviation SwitchingDPForce::getLastDeviation(Context& context) const {
    return dynamic_cast<const SwitchingDPForceImpl&>(getImplInContext(context)).getLastDeviation();
}

void SwitchingDPForce::setNeighborListSkin(double skin) {
    if (!(skin >= 0) || !std::isfinite(skin))
        throw OpenMMException("SwitchingDPForce: the neighbour list skin must be a finite length >= 0 nm (got " + std::to_string(skin) + ")");
    this->skin = skin;
}

void SwitchingDPForce::setUsesPeriodicBoundaryConditions(bool periodic) {
    this->periodic = periodic;
    periodicExplicit = true;
}

std::vector<long long> SwitchingDPForce::getEvaluationCounts(Context& context) const {
    return dynamic_cast<const SwitchingDPForceImpl&>(getImplInContext(context)).getEvaluationCounts();
}

void SwitchingDPForce::updateParametersInContext(Context& context) {
    dynamic_cast<SwitchingDPForceImpl&>(getImplInContext(context)).updateParametersInContext(getContextImpl(context));
}

ForceImpl* SwitchingDPForce::createImpl() const {
    return new SwitchingDPForceImpl(*this);
}
