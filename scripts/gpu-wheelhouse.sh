#!/usr/bin/env bash
# Download, where the package index is reachable, everything a GPU machine without
# network needs for `scripts/gpu-check.sh --wheelhouse DIR`, into one folder that
# travels with the working tree:
#
#   bash scripts/gpu-wheelhouse.sh --python 3.12            # into .whl/ (git ignores it)
#   bash scripts/gpu-wheelhouse.sh --python 3.12 --out DIR --dry-run
#
# The GPU machine is taken to have that Python with a CUDA build of torch in it, CMake,
# a C++ compiler and the CUDA headers (/usr/local/cuda or torch's nvidia packages), as
# cluster GPU nodes and the H200 machine of issue 23 do.  The folder gets:
#   - wheels for that Python (pip download --no-deps, binary only): openmm and
#     OpenMM-CUDA-13 (OpenMM's CUDA platform), deepmd-kit (only its op library is
#     used: every frozen model needs its operators; nothing imports its Python
#     package, so none of deepmd-kit's Python dependencies are needed), swig and
#     scikit-build-core with pathspec (the build), nvidia-cuda-runtime-cu12
#     (libcudart.so.12, which deepmd-kit's CUDA operators for compressed models load,
#     while torch runs on CUDA 13);
#   - openmmml, an sdist only: built here into its pure-Python wheel;
#   - lib/libmpi.so.12: scripts/mpi-stub.c compiled (deepmd-kit's op library links
#     MPI, which one process never calls), in place of the 13 MB mpich wheel.
# Then it prints the folder's size and what the working tree comes to with it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

PYTHON_VERSION=3.12
OUT=.whl
DRY_RUN=0
WITH_CMAKE=0
usage() {
    sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
    echo
    echo "Options: --python X.Y (the GPU machine's Python, default $PYTHON_VERSION), --out DIR (default .whl),"
    echo "         --with-cmake (also the cmake wheel, 29 MiB, for a machine without CMake: the folder"
    echo "         then no longer fits beside the working tree in 64 MiB),"
    echo "         --dry-run (print the commands and the package list, download nothing)."
    echo "Environment: PIP_PYTHON (the Python whose pip downloads; default .venv/bin/python, else python3), CC."
}
while [ $# -gt 0 ]; do
    case "$1" in
        --python) PYTHON_VERSION=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --dry-run) DRY_RUN=1; shift ;;
        --with-cmake) WITH_CMAKE=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "gpu-wheelhouse.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
if ! [[ $PYTHON_VERSION =~ ^3\.[0-9]+$ ]]; then
    echo "gpu-wheelhouse.sh: --python takes a version such as 3.12, not '$PYTHON_VERSION'" >&2
    exit 2
fi
if [ -z "${PIP_PYTHON:-}" ]; then
    if [ -x .venv/bin/python ]; then PIP_PYTHON=.venv/bin/python; else PIP_PYTHON=python3; fi
fi

# Pinned: the versions pyproject.toml and build_support/runtime_pins.py build and run with.
BINARY_WHEELS=(openmm==8.6.1 OpenMM-CUDA-13==8.6.1 deepmd-kit==3.2.0 swig==4.5.1
               scikit-build-core==1.1.2 pathspec==1.1.1 nvidia-cuda-runtime-cu12==12.9.79)
[ $WITH_CMAKE = 1 ] && BINARY_WHEELS+=(cmake==4.4.5)
SDIST_WHEELS=(openmmml==1.8)
# Wheels for Linux x86-64 with glibc 2.34 or newer (openmm 8.6.1 needs 2.34).
PLATFORMS=()
for tag in manylinux_2_34 manylinux_2_28 manylinux_2_27 manylinux_2_17 manylinux2014 manylinux_2_12 manylinux2010 \
           manylinux_2_5 manylinux1; do
    PLATFORMS+=(--platform "${tag}_x86_64")
done
PYTHON_TAG=${PYTHON_VERSION/./}
DOWNLOAD=("$PIP_PYTHON" -m pip download --no-deps --only-binary=:all: --python-version "$PYTHON_VERSION"
          --implementation cp --abi "cp$PYTHON_TAG" --abi abi3 --abi none "${PLATFORMS[@]}" -d "$OUT"
          "${BINARY_WHEELS[@]}")
WHEEL=("$PIP_PYTHON" -m pip wheel --no-deps --no-binary=:all: -w "$OUT" "${SDIST_WHEELS[@]}")
STUB=("${CC:-gcc}" -O2 -shared -fPIC -nostdlib -Wl,-soname,libmpi.so.12 -o "$OUT/lib/libmpi.so.12" scripts/mpi-stub.c)

echo "packages: ${BINARY_WHEELS[*]} ${SDIST_WHEELS[*]} (built from its sdist) lib/libmpi.so.12 (scripts/mpi-stub.c)"
echo "for: CPython $PYTHON_VERSION on Linux x86-64 (glibc 2.34+), into $OUT/"
if [ $DRY_RUN = 1 ]; then
    echo "${DOWNLOAD[*]}"
    echo "${WHEEL[*]}"
    echo "mkdir -p $OUT/lib"
    echo "${STUB[*]}"
    exit 0
fi

mkdir -p "$OUT/lib"
"${DOWNLOAD[@]}"
# A pure-Python wheel whatever Python builds it (py3-none-any).
"${WHEEL[@]}"
"${STUB[@]}"

# One version of each distribution: a second (from an earlier run with other pins)
# would make the offline install fail.
"$PIP_PYTHON" - "$OUT" <<'EOF'
import collections, os, re, sys
names = collections.defaultdict(list)
for f in sorted(os.listdir(sys.argv[1])):
    if f.endswith(".whl"):
        names[re.sub(r"[-_.]+", "-", f.split("-")[0]).lower()].append(f)
extra = {n: fs for n, fs in names.items() if len(fs) > 1}
if extra:
    sys.exit("gpu-wheelhouse.sh: more than one version in the folder: "
             + "; ".join(", ".join(fs) for fs in extra.values()) + " (remove the old ones)")
EOF

echo
ls -l "$OUT" "$OUT/lib" | grep -v "^total"
folder=$(du -sb "$OUT" | cut -f1)
# What travels to a device machine: tracked and untracked, not ignored files, plus the carried folder.
tree=$(git ls-files -z --cached --others --exclude-standard | xargs -0 -r du -cb 2>/dev/null | tail -1 | cut -f1)
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
echo "wheelhouse $OUT: $(mib "$folder") ($folder bytes); with the working tree ($(mib "$tree")," \
     "without ignored files): $(mib $((folder + tree)))"
if [ $((folder + tree)) -gt $((64 * 1048576)) ]; then
    echo "note: over 64 MiB, more than a lent device machine takes with the working tree"
fi
