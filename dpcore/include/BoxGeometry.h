#ifndef OPENMM_SWITCHINGDP_BOXGEOMETRY_H_
#define OPENMM_SWITCHINGDP_BOXGEOMETRY_H_

namespace SwitchingDPPlugin {

/**
 * What both neighbour lists need to know about a periodic box (9 numbers, rows =
 * box vectors, any length unit): the reciprocal vectors, which turn a position into
 * fractional coordinates (f_k = r . reciprocal_k), and the distance between each
 * pair of opposite faces, which says how many images a cutoff reaches.
 */
struct BoxGeometry {
    double reciprocal[9];
    double faceSpacing[3];
    /** Throws an OpenMMException if the box has zero, negative or non-finite volume. */
    explicit BoxGeometry(const double* box);
};

} // namespace SwitchingDPPlugin

#endif
