// SwitchingDPSchedule on its own: each row gives the settings, a step, the groups
// an evaluation asks for and the guard's history, and the decision the rules in
// SwitchingDPSchedule.h and SwitchingDPForce.h give, worked out by hand.  Nothing
// here is computed with the schedule's own functions.
#include "SwitchingDPSchedule.h"
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

using namespace SwitchingDPPlugin;

namespace {

constexpr long long Open = GuardState::OpenFallback, None = GuardState::NoFallback;

SwitchingDPSchedule alternating(int interval, int phase, int checkInterval = 0, double threshold = 0, int fallbackSteps = 0) {
    SwitchingDPSchedule s;
    s.mode = SwitchingDPSchedule::Alternating;
    s.accurateInterval = interval;
    s.accuratePhase = phase;
    s.deviationCheckInterval = checkInterval;
    s.deviationThreshold = threshold;
    s.fallbackSteps = fallbackSteps;
    return s;
}

SwitchingDPSchedule oneModel(int mode = SwitchingDPSchedule::Alternating) {
    SwitchingDPSchedule s = alternating(4, 0, 1);
    s.numModels = 1;
    s.mode = mode;
    return s;
}

/** The force in group 0, the slow term in group 1. */
SwitchingDPSchedule multipleTimeStep(int slowTerm, int checkInterval = 0) {
    SwitchingDPSchedule s;
    s.mode = SwitchingDPSchedule::MultipleTimeStep;
    s.slowForceGroup = 1;
    s.slowTerm = slowTerm;
    s.deviationCheckInterval = checkInterval;
    return s;
}

const int OwnGroup = 1 << 0, SlowGroup = 1 << 1, OtherGroup = 1 << 5;

struct PlanRow {
    const char* what;
    SwitchingDPSchedule schedule;
    long long step;
    int groups;  // the force's own group is group 0
    GuardState guard;
    ModelCoefficients coefficients;
    bool checkDeviation, residual;
    Model model;
};

struct GuardRow {
    const char* what;
    SwitchingDPSchedule schedule;
    long long step;
    double maxForceDeviation;
    GuardState before, after;
    bool fallbackNextStep;  // inFallback(step + 1, after): what a recorded deviation reports
};

GuardState guard(long long fallbackUntil, long long lastDirtyStep) {
    GuardState g;
    g.fallbackUntil = fallbackUntil;
    g.lastDirtyStep = lastDirtyStep;
    return g;
}

std::string show(const GuardState& g) {
    std::ostringstream text;
    text << "{fallbackUntil " << g.fallbackUntil << ", lastDirtyStep " << g.lastDirtyStep << "}";
    return text.str();
}

} // namespace

int main() {
    const SwitchingDPSchedule::SlowTerm Difference = SwitchingDPSchedule::Difference, Residual = SwitchingDPSchedule::Residual;
    const GuardState clean;
    const std::vector<PlanRow> plans = {
        // Alternating, interval 4, phase 1: accurate where (step - 1) % 4 == 0.
        {"alternating, before the phase", alternating(4, 1), 0, OwnGroup, clean, {0, 1}, false, false, Fast},
        {"alternating, the phase step", alternating(4, 1), 1, OwnGroup, clean, {1, 0}, false, false, Accurate},
        {"alternating, a fast step", alternating(4, 1), 2, OwnGroup, clean, {0, 1}, false, false, Fast},
        {"alternating, a fast step", alternating(4, 1), 4, OwnGroup, clean, {0, 1}, false, false, Fast},
        {"alternating, next interval", alternating(4, 1), 5, OwnGroup, clean, {1, 0}, false, false, Accurate},
        {"alternating, own group not asked", alternating(4, 1), 5, OtherGroup, clean, {0, 0}, false, false, Accurate},
        {"alternating, interval 3 phase 0", alternating(3, 0), 6, OwnGroup, clean, {1, 0}, false, false, Accurate},
        {"alternating, interval 3 phase 0", alternating(3, 0), 7, OwnGroup | OtherGroup, clean, {0, 1}, false, false, Fast},
        // Deviation checks on every 2nd accurate step: accurate steps 1, 5, 9, 13 -> 1 and 9.
        {"check, 1st accurate step", alternating(4, 1, 2), 1, OwnGroup, clean, {1, 0}, true, false, Accurate},
        {"check, 2nd accurate step skipped", alternating(4, 1, 2), 5, OwnGroup, clean, {1, 0}, false, false, Accurate},
        {"check, 3rd accurate step", alternating(4, 1, 2), 9, OwnGroup, clean, {1, 0}, true, false, Accurate},
        {"check, never on a fast step", alternating(4, 1, 2), 3, OwnGroup, clean, {0, 1}, false, false, Fast},
        {"check, not without the own group", alternating(4, 1, 2), 9, SlowGroup, clean, {0, 0}, false, false, Accurate},
        {"check every accurate step", alternating(4, 1, 1), 5, OwnGroup, clean, {1, 0}, true, false, Accurate},
        // One-model forces: the accurate model at every step, never a check.
        {"one model", oneModel(), 3, OwnGroup, clean, {1, 0}, false, false, Accurate},
        {"one model, step 0", oneModel(), 0, OwnGroup, clean, {1, 0}, false, false, Accurate},
        {"one model, own group not asked", oneModel(), 3, OtherGroup, clean, {0, 0}, false, false, Accurate},
        {"one model in MTS mode, slow group only", oneModel(SwitchingDPSchedule::MultipleTimeStep), 3, SlowGroup, clean,
                {0, 0}, false, false, Accurate},
        {"one model ignores a guard", oneModel(), 3, OwnGroup, guard(Open, 2), {1, 0}, false, false, Accurate},
        // Multiple time steps: the fast model on the inner steps (own group), the
        // slow term A - F (Difference) or R (Residual) in the slow group.
        {"MTS difference, own group", multipleTimeStep(Difference), 7, OwnGroup, clean, {0, 1}, false, false, Fast},
        {"MTS difference, slow group", multipleTimeStep(Difference), 7, SlowGroup, clean, {1, -1}, false, false, Fast},
        {"MTS difference, both groups", multipleTimeStep(Difference), 8, OwnGroup | SlowGroup, clean, {1, 0}, false, false, Fast},
        {"MTS difference, neither", multipleTimeStep(Difference), 8, OtherGroup, clean, {0, 0}, false, false, Fast},
        {"MTS residual, own group", multipleTimeStep(Residual), 7, OwnGroup, clean, {0, 1}, false, true, Fast},
        {"MTS residual, slow group", multipleTimeStep(Residual), 7, SlowGroup, clean, {1, 0}, false, true, Fast},
        {"MTS residual, both groups", multipleTimeStep(Residual), 8, OwnGroup | SlowGroup, clean, {1, 1}, false, true, Fast},
        // In MTS mode every evaluation of the slow term checks (any k > 0), and nothing else does.
        {"MTS check with the slow term", multipleTimeStep(Difference, 3), 5, SlowGroup, clean, {1, -1}, true, false, Fast},
        {"MTS check with both groups", multipleTimeStep(Residual, 3), 6, OwnGroup | SlowGroup, clean, {1, 1}, true, true, Fast},
        {"MTS no check on inner steps", multipleTimeStep(Difference, 3), 5, OwnGroup, clean, {0, 1}, false, false, Fast},
        {"MTS no check when k = 0", multipleTimeStep(Difference, 0), 5, SlowGroup, clean, {1, -1}, false, false, Fast},
        // The guard (interval 4, phase 0, checks on every accurate step).  A
        // fixed-length fallback until step 7: accurate, unchecked.
        {"fixed fallback", alternating(4, 0, 1, 0.5, 3), 5, OwnGroup, guard(7, 3), {1, 0}, false, false, Accurate},
        {"fixed fallback, last step", alternating(4, 0, 1, 0.5, 3), 6, OwnGroup, guard(7, 3), {1, 0}, false, false, Accurate},
        {"fixed fallback over", alternating(4, 0, 1, 0.5, 3), 7, OwnGroup, guard(7, 3), {0, 1}, false, false, Fast},
        {"fixed fallback over, accurate step", alternating(4, 0, 1, 0.5, 3), 8, OwnGroup, guard(7, 3), {1, 0}, true, false, Accurate},
        // An open-ended fallback: accurate and checked on every step.
        {"open fallback", alternating(4, 0, 1, 0.5, 0), 9, OwnGroup, guard(Open, 8), {1, 0}, true, false, Accurate},
        {"open fallback", alternating(4, 0, 1, 0.5, 0), 10, OwnGroup, guard(Open, 8), {1, 0}, true, false, Accurate},
        {"open fallback, own group not asked", alternating(4, 0, 1, 0.5, 0), 10, OtherGroup, guard(Open, 8), {0, 0}, false,
                false, Accurate},
        {"after recovery at step 12, fallback until 13", alternating(4, 0, 1, 0.5, 0), 12, OwnGroup, guard(13, 8), {1, 0},
                false, false, Accurate},
        {"after recovery, alternating again", alternating(4, 0, 1, 0.5, 0), 13, OwnGroup, guard(13, 8), {0, 1}, false, false, Fast},
        {"no fallback", alternating(4, 0, 1, 0.5, 0), 13, OwnGroup, guard(None, 8), {0, 1}, false, false, Fast},
    };
    const std::vector<GuardRow> guards = {
        // Fixed length (3 steps): a bad check at step s falls back until s + 1 + 3.
        {"fixed: bad check", alternating(4, 0, 1, 0.5, 3), 8, 0.7, clean, guard(12, 8), true},
        {"fixed: the same check again", alternating(4, 0, 1, 0.5, 3), 8, 0.7, guard(12, 8), guard(12, 8), true},
        {"fixed: clean check", alternating(4, 0, 1, 0.5, 3), 8, 0.3, clean, clean, false},
        {"fixed: at the threshold is clean", alternating(4, 0, 1, 0.5, 3), 8, 0.5, clean, clean, false},
        {"fixed: clean while falling back", alternating(4, 0, 1, 0.5, 3), 10, 0.3, guard(12, 8), guard(12, 8), true},
        {"fixed: last fallback step", alternating(4, 0, 1, 0.5, 3), 11, 0.3, guard(12, 8), guard(12, 8), false},
        {"fixed: bad again extends", alternating(4, 0, 1, 0.5, 3), 10, 0.9, guard(12, 8), guard(14, 10), true},
        // Open-ended: until every step of a whole interval (4) since the last bad one was clean.
        {"open: bad check", alternating(4, 0, 1, 0.5, 0), 8, 0.7, clean, guard(Open, 8), true},
        {"open: the same check again", alternating(4, 0, 1, 0.5, 0), 8, 0.7, guard(Open, 8), guard(Open, 8), true},
        {"open: clean, interval not over", alternating(4, 0, 1, 0.5, 0), 10, 0.3, guard(Open, 8), guard(Open, 8), true},
        {"open: clean, 3 steps on", alternating(4, 0, 1, 0.5, 0), 11, 0.3, guard(Open, 8), guard(Open, 8), true},
        {"open: clean for an interval", alternating(4, 0, 1, 0.5, 0), 12, 0.3, guard(Open, 8), guard(13, 8), false},
        {"open: recovery applied again", alternating(4, 0, 1, 0.5, 0), 12, 0.3, guard(13, 8), guard(13, 8), false},
        {"open: bad again restarts", alternating(4, 0, 1, 0.5, 0), 11, 0.9, guard(Open, 8), guard(Open, 11), true},
        // Without a guard the history never changes.
        {"unguarded", alternating(4, 0, 1, 0, 0), 8, 100, clean, clean, false},
        {"one model", oneModel(), 8, 100, clean, clean, false},
    };

    int failures = 0;
    for (const PlanRow& row : plans) {
        const bool ownGroup = (row.groups & OwnGroup) != 0;
        EvaluationPlan plan = row.schedule.plan(row.step, ownGroup, row.groups, row.guard);
        if (plan.coefficients != row.coefficients || plan.checkDeviation != row.checkDeviation ||
                plan.residual != row.residual || plan.model != row.model) {
            failures++;
            std::cerr << "FAIL plan: " << row.what << " (step " << row.step << ", groups " << row.groups << ", guard "
                      << show(row.guard) << "): got coefficients {" << plan.coefficients[0] << ", " << plan.coefficients[1]
                      << "}, check " << plan.checkDeviation << ", residual " << plan.residual << ", model " << plan.model
                      << "; expected {" << row.coefficients[0] << ", " << row.coefficients[1] << "}, check "
                      << row.checkDeviation << ", residual " << row.residual << ", model " << row.model << std::endl;
        }
    }
    for (const GuardRow& row : guards) {
        GuardState after = row.schedule.afterCheck(row.step, row.maxForceDeviation, row.before);
        bool fallback = row.schedule.inFallback(row.step + 1, after);
        if (!(after == row.after) || fallback != row.fallbackNextStep) {
            failures++;
            std::cerr << "FAIL afterCheck: " << row.what << " (step " << row.step << ", deviation " << row.maxForceDeviation
                      << ", before " << show(row.before) << "): got " << show(after) << ", fallback " << fallback
                      << "; expected " << show(row.after) << ", fallback " << row.fallbackNextStep << std::endl;
        }
    }
    std::cout << plans.size() << " plan rows, " << guards.size() << " guard rows, " << failures << " failed" << std::endl;
    return failures == 0 ? 0 : 1;
}
