"""OpenMM reporters for SwitchingDPForce."""
import openmm.unit as unit

from . import SwitchingDPForce

__all__ = ["DeviationReporter", "findForce", "COLUMNS"]

COLUMNS = ["step", "time (ps)", "max force deviation (eV/A)", "RMS force deviation (eV/A)",
           "energy deviation (eV/atom)", "worst particle", "model", "guard"]


def findForce(system):
    """The System's SwitchingDPForce (an error if it has none or several)."""
    forces = [f for f in system.getForces() if SwitchingDPForce.isinstance(f)]
    if len(forces) != 1:
        raise ValueError(f"the System has {len(forces)} SwitchingDPForces; pass the one to report on")
    return SwitchingDPForce.cast(forces[0])


class DeviationReporter:
    """Writes each new deviation check of a SwitchingDPForce (getLastDeviation) to a
    CSV file: the step it belongs to, its time, the maximum and RMS atomic force
    deviation, the energy deviation per atom, the worst particle, the model the
    schedule used at that step and whether the guard is falling back after it.

    Checks happen on the accurate steps chosen by setDeviationCheckInterval(); the
    reporter looks every ``reportInterval`` steps and writes the checks it has not
    written yet (the latest one only, so use reportInterval = 1 to get every check).
    """

    def __init__(self, file, reportInterval, force=None, append=False):
        if int(reportInterval) != reportInterval or reportInterval < 1:
            raise ValueError(f"reportInterval must be a positive integer, got {reportInterval}")
        self._reportInterval = int(reportInterval)
        self._force = force
        self._ownFile = isinstance(file, str)
        self._out = open(file, "a" if append else "w") if self._ownFile else file
        self._lastStep = -1
        if not append:
            self._out.write(",".join(f'"{c}"' for c in COLUMNS) + "\n")

    def describeNextReport(self, simulation):
        """OpenMM's reporter protocol: the steps until the next report, no State data needed."""
        steps = self._reportInterval - simulation.currentStep % self._reportInterval
        return {"steps": steps, "periodic": None, "include": []}

    def report(self, simulation, state):
        """OpenMM's reporter protocol: write the deviation checks not written yet."""
        if self._force is None:
            self._force = findForce(simulation.system)
        deviation = self._force.getLastDeviation(simulation.context)
        if deviation.step < 0 or deviation.step == self._lastStep:
            return
        self._lastStep = deviation.step
        # The check's own time: the State is at the current step, the check may be older.
        stepSize = simulation.integrator.getStepSize().value_in_unit(unit.picosecond)
        time = state.getTime().value_in_unit(unit.picosecond) - (simulation.currentStep - deviation.step) * stepSize
        model = "accurate" if deviation.model == SwitchingDPForce.Accurate else "fast"
        guard = "fallback" if deviation.fallback else "normal"
        self._out.write(f"{deviation.step},{time:.6f},{deviation.maxForceDeviation:.6g},{deviation.rmsForceDeviation:.6g},"
                        f"{deviation.energyDeviationPerAtom:.6g},{deviation.worstParticle},{model},{guard}\n")
        self._out.flush()

    def __del__(self):
        if getattr(self, "_ownFile", False):
            self._out.close()
