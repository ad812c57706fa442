#include "SwitchingDPForce.h"
#include "SwitchingDPForceProxy.h"
#include "openmm/serialization/SerializationProxy.h"
#include <typeinfo>

using namespace SwitchingDPPlugin;

// Runs when the library is loaded, so deserializing needs only the library.
extern "C" __attribute__((constructor)) void registerSwitchingDPSerializationProxies() {
    OpenMM::SerializationProxy::registerProxy(typeid(SwitchingDPForce), new SwitchingDPForceProxy());
}
