"""scikit-build-core metadata provider: the wheel's runtime dependencies, with torch
and OpenMM pinned to the versions this build compiled against.

libtorch has no stable C++ ABI, so the plugin runs only with the exact torch it was
built with; it links OpenMM's C++ library, whose ABI holds within a minor release.
Listing "torch==<the build's torch>" here (rather than a fixed string) keeps the
metadata true for whatever torch the build environment has.
"""
from importlib.metadata import version

# Needed at run time besides torch and OpenMM: deepmd-kit's op library is loaded
# by every model (and mpich and e3nn by deepmd-kit's PyTorch models).
OTHERS = ["numpy", "deepmd-kit==3.2.0", "mpich", "e3nn"]


def dynamic_metadata(field, settings=None, project=None):
    if field != "dependencies":
        raise RuntimeError(f"runtime_pins provides only 'dependencies', not {field!r}")
    torch = version("torch").split("+")[0]
    openmm = version("openmm")
    major, minor = (int(x) for x in openmm.split(".")[:2])
    return [f"torch=={torch}", f"openmm>={openmm},<{major}.{minor + 1}", *OTHERS]
