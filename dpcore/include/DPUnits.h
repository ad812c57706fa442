#ifndef OPENMM_SWITCHINGDP_UNITS_H_
#define OPENMM_SWITCHINGDP_UNITS_H_

namespace SwitchingDPPlugin {

/**
 * The one place where OpenMM units (nm, kJ/mol) meet model units.  DeePMD models
 * are trained in A and eV by convention; a model trained in other units can be
 * used by changing the two scales.
 */
struct DPUnits {
    static constexpr double KJ_PER_MOL_PER_EV = 96.48533212331002;  // CODATA 2018
    static constexpr double ANGSTROM_PER_NM = 10.0;

    double lengthPerNm = ANGSTROM_PER_NM;        ///< model length units in one nm
    double kjPerMolPerEnergy = KJ_PER_MOL_PER_EV; ///< kJ/mol in one model energy unit

    double toModelLength(double nm) const { return nm * lengthPerNm; }
    double toNm(double modelLength) const { return modelLength / lengthPerNm; }
    double toKJPerMol(double modelEnergy) const { return modelEnergy * kjPerMolPerEnergy; }
    /** model energy / model length -> kJ/mol/nm */
    double forceToKJPerMolNm(double modelForce) const { return modelForce * kjPerMolPerEnergy * lengthPerNm; }
};

} // namespace SwitchingDPPlugin

#endif
