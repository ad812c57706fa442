#!/usr/bin/env bash
# Set up everything, then run the whole test suite: C++ tests (ctest) and Python
# tests (pytest).  No GPU needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PYTHON=$(pwd)/.venv/bin/python
cmake_bin=$(pwd)/.venv/bin/cmake
mkdir -p build
"$cmake_bin" -S . -B build/ctest -DPython3_EXECUTABLE="$PYTHON" -DSWITCHINGDP_BUILD_TESTS=ON \
    -DSWITCHINGDP_BUILD_PYTHON=OFF > build/ctest.configure.log
"$cmake_bin" --build build/ctest -j 2 > build/ctest.build.log
(cd build/ctest && ctest --output-on-failure)
"$PYTHON" -m pytest tests/python -p no:warnings -q
