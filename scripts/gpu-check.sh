#!/usr/bin/env bash
# One command for a machine with an NVIDIA GPU: build the plugin against this
# machine's torch with its C++ tests, run the CUDA kernel test against Reference
# (ctest -R Cuda), then `python -m openmmswitchingdp.toolkit.cli.gpucheck`: every model family
# on CUDA against Reference, one evaluation's time per model at 192 to 98,304 atoms,
# switchingdp-bench's schemes on CUDA at 192, 1,536 and 12,288 atoms and the model
# engines; and print one summary.
#
#   bash scripts/gpu-check.sh --wheelhouse .whl [--out LOGDIR] [--python python3] [-- GPUCHECK-OPTIONS]
#       A machine without network whose Python already has a CUDA build of torch,
#       with CMake, a C++ compiler and CUDA headers: installs the wheels that
#       scripts/gpu-wheelhouse.sh downloaded (--no-index --no-deps) into a private
#       target ($WORK/site, default WORK=/tmp/switchingdp-gpu), builds there
#       ($WORK/build) and installs the package into the same target.  Under 6 minutes
#       on 16 cores, build included.
#   bash scripts/gpu-check.sh [--out LOGDIR] [-- GPUCHECK-OPTIONS]
#       A machine with network: scripts/setup.sh (the .venv), the C++ tests built in
#       LOGDIR/ctest, the CUDA and OpenCL kernel tests, then the same Python checks.
#
# Options: --only STEP[,STEP] (install, build, ctest, python: run only these, reusing
# $WORK from an earlier run on this machine), --work DIR.  Everything after `--` goes
# to gpucheck (e.g. -- --parts bench --sizes 192).  Every log goes to LOGDIR (default
# build/gpu-check).  Each step runs even if an earlier check failed (not after a
# failed setup or build); the exit status is 1 if any check failed.  Environment:
# GPU_CHECK_DEADLINE_S (default 345): the Python checks start no new work after this
# many seconds from the start, and are stopped at it plus 10.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
START=$(date +%s)
WHEELHOUSE=""
LOG=$ROOT/build/gpu-check
PY=""
WORK=/tmp/switchingdp-gpu
ONLY="install,build,ctest,python"
GPUCHECK_ARGS=()
DEADLINE=${GPU_CHECK_DEADLINE_S:-345}
while [ $# -gt 0 ]; do
    case "$1" in
        --wheelhouse) WHEELHOUSE=$2; shift 2 ;;
        --out) LOG=$2; shift 2 ;;
        --python) PY=$2; shift 2 ;;
        --work) WORK=$2; shift 2 ;;
        --only) ONLY=$2; shift 2 ;;
        --) shift; GPUCHECK_ARGS=("$@"); break ;;
        -h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "gpu-check.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
mkdir -p "$LOG"
LOG=$(cd "$LOG" && pwd)
RESULTS=$LOG/results.txt
: > "$RESULTS"
rm -f "$LOG/summary.md"
# A Python given by a relative path still works after the cd below.
[[ -n "$PY" && "$PY" == */* ]] && PY=$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")
FAILED=0

elapsed() { echo $(( $(date +%s) - START )); }
say() { echo "[$(elapsed)s] $*"; }
record() {  # check, result
    printf '%s\t%s\n' "$1" "$2" >> "$RESULTS"
    echo "-- $1: $2"
}
fail() {
    FAILED=1
    record "$1" "$2"
}
wanted() { [[ ",$ONLY," == *",$1,"* ]]; }

summary() {
    echo
    echo "== gpu-check summary ($(date -u +%Y-%m-%dT%H:%MZ), $(elapsed) s, logs in $LOG)"
    echo "| check | result |"
    echo "|---|---|"
    while IFS=$'\t' read -r check result; do
        echo "| $check | $result |"
    done < "$RESULTS"
    if [ -s "$LOG/summary.md" ]; then
        echo
        cat "$LOG/summary.md"
    fi
}
finish() {
    summary
    exit $FAILED
}

say "GPU"
if command -v nvidia-smi > /dev/null 2>&1 && nvidia-smi -L > "$LOG/gpu.txt" 2>&1; then
    cat "$LOG/gpu.txt"
    record "GPU" "$(head -1 "$LOG/gpu.txt"), $(nproc) cores"
else
    fail "GPU" "none found (nvidia-smi missing or failed): the CUDA checks will fail or skip"
fi

if [ -n "$WHEELHOUSE" ]; then
    # --- offline: the wheelhouse, a private target, this machine's torch -------------
    WHEELHOUSE=$(cd "$WHEELHOUSE" 2>/dev/null && pwd) || { fail "wheelhouse" "no folder $WHEELHOUSE"; finish; }
    PY=${PY:-python3}
    SITE=$WORK/site
    BUILD=$WORK/build
    mkdir -p "$WORK/lib"
    if ! TORCH_DIR=$("$PY" -c "import os, torch; print(os.path.dirname(torch.__file__))" 2> "$LOG/torch.txt"); then
        fail "torch" "$PY cannot import torch: $(tail -1 "$LOG/torch.txt")"
        finish
    fi
    if wanted install; then
        say "install the wheels from $WHEELHOUSE into $SITE (log: install.log)"
        rm -rf "$SITE"
        if timeout 240 "$PY" -m pip install --no-index --no-deps --no-compile --no-cache-dir --disable-pip-version-check \
                --target "$SITE" "$WHEELHOUSE"/*.whl > "$LOG/install.log" 2>&1; then
            record "install" "ok: $(cd "$WHEELHOUSE" && ls ./*.whl | sed 's|^\./||; s/-py.*//; s/-cp.*//' | paste -sd ' ' -)"
        else
            fail "install" "FAILED: $(grep -v '^\s*$' "$LOG/install.log" | tail -1)"
            finish
        fi
        # The MPI stand-in deepmd-kit's op library links (built here if the folder lacks it).
        if [ -f "$WHEELHOUSE/lib/libmpi.so.12" ]; then
            cp "$WHEELHOUSE/lib/libmpi.so.12" "$WORK/lib/"
        else
            ${CC:-gcc} -O2 -shared -fPIC -nostdlib -Wl,-soname,libmpi.so.12 -o "$WORK/lib/libmpi.so.12" \
                scripts/mpi-stub.c >> "$LOG/install.log" 2>&1 || fail "MPI stub" "could not build scripts/mpi-stub.c"
        fi
    fi
    export PYTHONPATH=$SITE${PYTHONPATH:+:$PYTHONPATH}
    # swig (and cmake, if carried): their launchers, and swig's own binary, which stays
    # when the project's install below replaces bin/.
    export PATH=$SITE/bin:$SITE/swig/data/bin:$PATH
    swig_lib=$(ls -d "$SITE"/swig/data/share/swig/* 2>/dev/null | head -1)
    [ -n "$swig_lib" ] && export SWIG_LIB=$swig_lib
    # libmpi.so.12 (the stub), libcudart.so.12 (deepmd-kit's CUDA operators), torch's
    # libraries and its CUDA 13 ones (OpenMM's CUDA platform looks for libnvrtc and
    # libcufft beside itself, where a private target has none), OpenMM's for the C++
    # tests, and the driver where containers mount it.
    LD_LIBRARY_PATH=$WORK/lib:$SITE/nvidia/cuda_runtime/lib:$TORCH_DIR/lib:$TORCH_DIR/../nvidia/cu13/lib:$SITE/OpenMM.libs/lib:/usr/local/nvidia/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    export LD_LIBRARY_PATH
    export SWITCHINGDP_MPI_LIBRARY=$WORK/lib/libmpi.so.12
    export CMAKE_BUILD_PARALLEL_LEVEL=$(nproc)
    "$PY" - > "$LOG/versions.txt" 2>&1 <<'EOF'
import sys, torch, openmm, openmmml
platforms = [openmm.Platform.getPlatform(i).getName() for i in range(openmm.Platform.getNumPlatforms())]
print(f"Python {sys.version.split()[0]}, torch {torch.__version__} (CUDA {torch.version.cuda}, available: "
      f"{torch.cuda.is_available()}), openmm {openmm.__version__} from {openmm.__file__.rsplit('/', 2)[0]}, "
      f"platforms {', '.join(platforms)}")
failures = openmm.Platform.getPluginLoadFailures()
if failures:   # the first says why (the others are usually the plugins that depend on it)
    print(f"{len(failures)} OpenMM plugin(s) did not load, first: {failures[0][:300]}")
EOF
    record "versions" "$(paste -sd ';' "$LOG/versions.txt")"

    if wanted build; then
        # CUDA headers for the plugin's CUDA library: a complete set (crt/ included),
        # torch's nvidia/cu13 when it has one, else the machine's toolkit.
        CUDA_ROOT=""
        for candidate in "$TORCH_DIR/../nvidia/cu13" /usr/local/cuda /usr/local/cuda-13.0; do
            if [ -z "$CUDA_ROOT" ] && [ -f "$candidate/include/crt/host_defines.h" ]; then
                CUDA_ROOT=$(cd "$candidate" && pwd)
            fi
        done
        TORCH_PREFIX=$("$PY" -c "import torch.utils; print(torch.utils.cmake_prefix_path)")
        say "build and install into $SITE, C++ tests in $BUILD (log: build.log; CUDA headers: ${CUDA_ROOT:-none found})"
        defines=(-C "build-dir=$BUILD" -C cmake.define.SWITCHINGDP_BUILD_TESTS=ON
                 -C "cmake.define.CMAKE_PREFIX_PATH=$TORCH_PREFIX")
        [ -n "$CUDA_ROOT" ] && defines+=(-C "cmake.define.SWITCHINGDP_CUDA_ROOT=$CUDA_ROOT")
        if ! command -v cmake > /dev/null 2>&1; then
            fail "build" "FAILED: no cmake on this machine (scripts/gpu-wheelhouse.sh --with-cmake carries one)"
            finish
        fi
        # No build isolation: the plugin is built against the torch it runs with.
        build_start=$(date +%s)
        if timeout 400 "$PY" -m pip install --no-build-isolation --no-deps --no-index --no-cache-dir --disable-pip-version-check \
                --upgrade --target "$SITE" -v "${defines[@]}" . > "$LOG/build.log" 2>&1; then
            record "build" "ok in $(( $(date +%s) - build_start )) s ($(grep -ho "platform kernel: .*" "$LOG/build.log" | paste -sd ';' -))"
        else
            fail "build" "FAILED: $(grep -m1 -E "error:|Error|ERROR" "$LOG/build.log" || tail -1 "$LOG/build.log")"
            finish
        fi
    fi
    CTEST_TESTS=(TestCudaSwitchingDPForce)
else
    # --- online: scripts/setup.sh's .venv ---------------------------------------------
    PY=${PY:-$ROOT/.venv/bin/python}
    BUILD=$LOG/ctest
    if wanted install; then
        say "setup (scripts/setup.sh, log: setup.log)"
        if bash scripts/setup.sh > "$LOG/setup.log" 2>&1; then
            record "setup" "ok"
        else
            fail "setup" "FAILED: $(tail -1 "$LOG/setup.log")"
            finish
        fi
    fi
    "$PY" -c "import openmm, torch; print(f'openmm {openmm.__version__}, torch {torch.__version__} (CUDA {torch.version.cuda}, available: {torch.cuda.is_available()})')" \
        > "$LOG/versions.txt" 2>&1
    record "versions" "$(tail -1 "$LOG/versions.txt")"
    if wanted build; then
        say "build the C++ tests (log: build.log)"
        if "$ROOT/.venv/bin/cmake" -S . -B "$BUILD" -DPython3_EXECUTABLE="$PY" -DSWITCHINGDP_BUILD_TESTS=ON \
                -DSWITCHINGDP_BUILD_PYTHON=OFF > "$LOG/build.log" 2>&1 &&
           "$ROOT/.venv/bin/cmake" --build "$BUILD" -j "$(nproc)" >> "$LOG/build.log" 2>&1; then
            record "build" "ok ($(grep -ho "platform kernel: .*" "$LOG/build.log" | paste -sd ';' -))"
        else
            fail "build" "FAILED: $(grep -m1 -i "error" "$LOG/build.log")"
        fi
    fi
    CTEST_TESTS=(TestCudaSwitchingDPForce TestOpenCLSwitchingDPForce)
fi

if wanted ctest; then
    for test in "${CTEST_TESTS[@]}"; do
        say "$test (log: $test.log)"
        (cd "$BUILD" 2>/dev/null && ctest -N) > "$LOG/ctest-list.txt" 2>&1
        if ! grep -q ": $test\$" "$LOG/ctest-list.txt"; then
            fail "$test" "not built (see the build row and build.log)"
            continue
        fi
        # -V: the test's own output (tolerances, timings) also when it passes.
        (cd "$BUILD" && timeout "${GPU_CHECK_CTEST_S:-200}" ctest -R "^$test\$" -V) > "$LOG/$test.log" 2>&1
        line=$(grep -m1 "Test *#[0-9]*: $test " "$LOG/$test.log")
        seconds=$(echo "$line" | grep -o "[0-9.]* sec")
        errors=$(grep -h "worst relative errors" "$LOG/$test.log" | sed 's/.*worst relative errors against Reference, //' | paste -sd ';' -)
        if echo "$line" | grep -q "Passed"; then
            record "$test" "passed ($seconds); worst relative errors vs Reference: ${errors:-none printed}"
        elif echo "$line" | grep -q "Skipped"; then
            fail "$test" "SKIPPED: $(grep -m1 "skipped:" "$LOG/$test.log" | sed 's/.*skipped: //')"
        else
            fail "$test" "FAILED${seconds:+ ($seconds)}: $(grep -m1 "FAIL" "$LOG/$test.log" | sed 's/^[0-9]*: //')${errors:+; worst relative errors: $errors}"
        fi
    done
fi

if wanted python; then
    left=$(( DEADLINE - $(elapsed) ))
    [ $left -lt 30 ] && left=30
    say "python -m openmmswitchingdp.toolkit.cli.gpucheck ${GPUCHECK_ARGS[*]} (log: gpucheck.log; $left s left)"
    # torch first, then the package (the order torch expects; see openmmswitchingdp/__init__.py).
    # From $WORK, so that the package comes from the install, not from a source folder.
    (cd "$WORK" 2>/dev/null || cd /tmp
     timeout $(( left + 10 )) "$PY" -c "import torch; from openmmswitchingdp.toolkit.cli.gpucheck import main; raise SystemExit(main())" \
         --root "$ROOT" --out "$LOG" --deadline-s "$left" "${GPUCHECK_ARGS[@]}") > "$LOG/gpucheck.log" 2>&1
    status=$?
    case $status in
        0) record "gpucheck" "ok (its summary below; tables in gpucheck.log and *.md)" ;;
        1) fail "gpucheck" "a check FAILED (its summary below)" ;;
        2) fail "gpucheck" "not run: $(grep -m1 "is not available" "$LOG/gpucheck.log")" ;;
        124) fail "gpucheck" "stopped at the deadline ($DEADLINE s); see gpucheck.log" ;;
        *) fail "gpucheck" "exit $status$( [ $status -gt 128 ] && echo " (signal $((status - 128)))"): $(grep -v "^\s*$" "$LOG/gpucheck.log" | tail -1)" ;;
    esac
fi
finish
