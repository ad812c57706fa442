#include "SwitchingDPForce.h"
#include "internal/SwitchingDPForceImpl.h"
#include "DPModelInfo.h"
#include "DPUnits.h"
#include "openmm/OpenMMException.h"
#include <cmath>
#include <set>

using namespace SwitchingDPPlugin;
using namespace OpenMM;

SwitchingDPForce::SwitchingDPForce(const std::string& accurateModelFile, const std::string& fastModelFile) :
        SwitchingDPForce({readModelFile(accurateModelFile), readModelFile(fastModelFile)}, {accurateModelFile, fastModelFile}) {
}

SwitchingDPForce::SwitchingDPForce(const std::array<std::string, 2>& contents, const std::array<std::string, 2>& labels) :
        contents(contents), labels(labels) {
    for (int m = 0; m < 2; m++)
        infos[m] = inspectDPModel(contents[m], labels[m]);
}

SwitchingDPForce* SwitchingDPForce::fromModelContents(const std::string& accurateContents, const std::string& fastContents,
                                                      const std::string& accurateLabel, const std::string& fastLabel) {
    return new SwitchingDPForce({accurateContents, fastContents}, {accurateLabel, fastLabel});
}

double SwitchingDPForce::getModelCutoff(Model model) const {
    return DPUnits().toNm(infos[model].cutoff);
}

void SwitchingDPForce::checkTypesKnown(const std::vector<std::string>& names) const {
    std::set<std::string> unique(names.begin(), names.end());
    for (const std::string& name : unique)
        for (int m = 0; m < 2; m++)
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

void SwitchingDPForce::setAccurateInterval(int interval) {
    if (interval < 1)
        throw OpenMMException("SwitchingDPForce: the accurate interval must be at least 1 (got " + std::to_string(interval) + ")");
    schedule.accurateInterval = interval;
}

void SwitchingDPForce::setAccuratePhase(int phase) {
    if (phase < 0)
        throw OpenMMException("SwitchingDPForce: the accurate phase must not be negative (got " + std::to_string(phase) + ")");
    schedule.accuratePhase = phase;
}

void SwitchingDPForce::setMode(Mode mode) {
    if (mode != Alternating && mode != MultipleTimeStep)
        throw OpenMMException("SwitchingDPForce: unknown mode " + std::to_string((int) mode));
    schedule.mode = mode;
}

void SwitchingDPForce::setSlowForceGroup(int group) {
    if (group < 0 || group > 31)
        throw OpenMMException("SwitchingDPForce: the slow force group must be between 0 and 31 (got " + std::to_string(group) + ")");
    schedule.slowForceGroup = group;
}

void SwitchingDPForce::setSlowTerm(SlowTerm term) {
    if (term != Difference && term != Residual)
        throw OpenMMException("SwitchingDPForce: unknown slow term " + std::to_string((int) term));
    schedule.slowTerm = term;
}

void SwitchingDPForce::setNeighborListSkin(double skin) {
    if (!(skin >= 0) || !std::isfinite(skin))
        throw OpenMMException("SwitchingDPForce: the neighbour list skin must be a finite length >= 0 nm (got " + std::to_string(skin) + ")");
    this->skin = skin;
}

void SwitchingDPForce::setUsesPeriodicBoundaryConditions(bool periodic) {
    this->periodic = periodic;
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
