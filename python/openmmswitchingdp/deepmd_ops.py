"""Locate deepmd-kit's custom-operator library without importing deepmd.

Models frozen by deepmd-kit reference deepmd's TorchScript operators, so the C++
side loads libdeepmd_op_pt.so (and the MPI library it links) before loading a
model.  It finds them through two environment variables, which this module fills
in from the installed deepmd-kit and mpich packages unless the user set them:

    SWITCHINGDP_DEEPMD_OP_LIBRARY   path of libdeepmd_op_pt.so
    SWITCHINGDP_MPI_LIBRARY         path of libmpi.so.12

Run as a script it prints both paths (the C++ tests use this).
"""
import importlib.util
import os
from importlib import metadata

OP_VARIABLE = "SWITCHINGDP_DEEPMD_OP_LIBRARY"
MPI_VARIABLE = "SWITCHINGDP_MPI_LIBRARY"

__all__ = ["op_library", "mpi_library", "configure_environment", "OP_VARIABLE", "MPI_VARIABLE"]


def op_library():
    """Path of deepmd-kit's PyTorch op library, or None if deepmd-kit is not installed."""
    spec = importlib.util.find_spec("deepmd")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = os.path.join(location, "lib", "libdeepmd_op_pt.so")
        if os.path.exists(path):
            return path
    return None


def mpi_library():
    """Path of the MPI library: SWITCHINGDP_MPI_LIBRARY where set (e.g. the stand-in
    scripts/gpu-check.sh uses on machines without mpich), else the mpich package's, or None."""
    if os.environ.get(MPI_VARIABLE):
        return os.environ[MPI_VARIABLE]
    try:
        files = metadata.files("mpich") or []
    except metadata.PackageNotFoundError:
        return None
    for f in files:
        if f.match("libmpi.so.*"):
            return str(f.locate())
    return None


def configure_environment():
    """Set the two environment variables (see the module) from the installed packages,
    unless the user set them."""
    for variable, finder in ((OP_VARIABLE, op_library), (MPI_VARIABLE, mpi_library)):
        if not os.environ.get(variable):
            path = finder()
            if path:
                os.environ[variable] = path


if __name__ == "__main__":
    print(op_library() or "")
    print(mpi_library() or "")
