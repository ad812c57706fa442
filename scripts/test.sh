#!/usr/bin/env bash
# Set up everything, then run the whole test suite: C++ tests (ctest) and Python
# tests (pytest), then build the documentation site with warnings as errors.  No GPU needed.
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
# The documentation site (docs/): any Sphinx warning fails, among them a broken
# reference or a public name the API reference leaves out (docs/conf.py).
echo "Building the documentation (build/docs)"
if ! "$PYTHON" -m sphinx -W --keep-going -q -b html docs build/docs > build/docs.log 2>&1; then
    cat build/docs.log
    echo "The documentation build failed (log: build/docs.log)."
    exit 1
fi
