#!/usr/bin/env bash
# Set up everything on a fresh machine: a local virtual environment (.venv) with
# the pinned dependencies, then build and install openmm-switchingdp into it.
# Safe to run again: pip skips what is already there; the plugin is rebuilt.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

# OpenCL, for OpenMM's OpenCL platform and our kernel on it (its tests run the GPU
# kernel against Reference).  Where no OpenCL device exists, pocl provides one on
# the CPU; building our OpenCL library needs the OpenCL headers.  Installed with apt
# when we are root; otherwise we say what is missing and go on (the OpenCL library
# is then not built, or its tests skip, each with a reason).  Quiet when all is there.
opencl_has_device() {
    if command -v clinfo > /dev/null 2>&1; then
        clinfo -l 2>/dev/null | grep -q "Device #"
    else
        # No clinfo: an installed ICD (pocl, NVIDIA, ...) is the best sign of a device.
        compgen -G "/etc/OpenCL/vendors/*.icd" > /dev/null
    fi
}
setup_opencl() {
    local missing=()
    # The ICD loader (libOpenCL.so.1) is what OpenMM's OpenCL platform links; pocl does not pull it in.
    ldconfig -p 2>/dev/null | grep -q "libOpenCL.so.1 " || missing+=(ocl-icd-libopencl1)
    opencl_has_device || missing+=(pocl-opencl-icd)
    [ -f /usr/include/CL/cl.h ] || missing+=(ocl-icd-opencl-dev opencl-headers)
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -eq 0 ] && command -v apt-get > /dev/null 2>&1; then
        echo "Installing OpenCL (${missing[*]}) with apt-get"
        if ! { apt-get update -qq > /dev/null &&
               DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null; }; then
            echo "Note: apt-get could not install ${missing[*]}; going on without OpenCL."
        fi
    else
        echo "Note: OpenCL is incomplete here; to build and test the OpenCL platform kernel install" \
             "(Debian/Ubuntu, as root): apt-get install ${missing[*]}.  Going on without it."
    fi
}
[ "${SWITCHINGDP_SKIP_OPENCL_SETUP:-0}" = 1 ] || setup_opencl

if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
fi
.venv/bin/python -m pip install --quiet -r requirements.txt
# No build isolation: the plugin must be built against the exact torch it runs with.
.venv/bin/python -m pip install --quiet --no-build-isolation --no-deps .
echo "openmm-switchingdp installed in $(pwd)/.venv"
