#ifndef OPENMM_SWITCHINGDPFORCE_PROXY_H_
#define OPENMM_SWITCHINGDPFORCE_PROXY_H_

#include "openmm/serialization/SerializationProxy.h"

namespace SwitchingDPPlugin {

/**
 * XML form of a SwitchingDPForce.  Both models' bytes are embedded (base64), so a
 * serialized System runs anywhere without the original model files.
 */
class SwitchingDPForceProxy : public OpenMM::SerializationProxy {
public:
    SwitchingDPForceProxy();
    void serialize(const void* object, OpenMM::SerializationNode& node) const;
    void* deserialize(const OpenMM::SerializationNode& node) const;
};

} // namespace SwitchingDPPlugin

#endif
