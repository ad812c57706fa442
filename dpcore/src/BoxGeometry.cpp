#include "BoxGeometry.h"
#include "openmm/OpenMMException.h"
#include <cmath>

using namespace SwitchingDPPlugin;

static void cross(const double* u, const double* v, double* out) {
    out[0] = u[1]*v[2] - u[2]*v[1];
    out[1] = u[2]*v[0] - u[0]*v[2];
    out[2] = u[0]*v[1] - u[1]*v[0];
}

BoxGeometry::BoxGeometry(const double* box) {
    cross(box + 3, box + 6, reciprocal);
    cross(box + 6, box, reciprocal + 3);
    cross(box, box + 3, reciprocal + 6);
    double volume = box[0]*reciprocal[0] + box[1]*reciprocal[1] + box[2]*reciprocal[2];
    if (!(volume > 0) || !std::isfinite(volume))
        throw OpenMM::OpenMMException("SwitchingDPForce: the periodic box has zero or negative volume");
    for (int k = 0; k < 3; k++) {
        for (int d = 0; d < 3; d++)
            reciprocal[3*k+d] /= volume;
        const double* g = reciprocal + 3*k;
        faceSpacing[k] = 1.0 / std::sqrt(g[0]*g[0] + g[1]*g[1] + g[2]*g[2]);
    }
}
