#!/usr/bin/env bash
# One command for a machine with an NVIDIA GPU: set up (scripts/setup.sh), build the
# C++ tests, run the CUDA and OpenCL kernel tests against Reference, check that
# deepmd-kit's CUDA operators work (compressed models need them), run
# switchingdp-bench on the CUDA platform at 192, 1,536 and 12,288 atoms, and print
# one summary: every check's result, then the speed table.
#
#   bash scripts/gpu-check.sh            # logs in build/gpu-check/
#
# Every step runs even if an earlier one failed (except when setup fails); the exit
# status is 1 if any check failed.  Environment: GPU_CHECK_STEPS (timed inner steps
# at 192 atoms, default 2000; the bench divides them by the number of box copies),
# GPU_CHECK_ROUNDS (default 5), GPU_CHECK_BASELINE=1 to also time the PythonForce +
# DeepPot baseline.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
LOG=$ROOT/build/gpu-check
BUILD=$LOG/ctest
mkdir -p "$LOG"
RESULTS=$LOG/results.txt
: > "$RESULTS"
FAILED=0
PY=$ROOT/.venv/bin/python
COMPRESSED=$ROOT/examples/water/water_4A_fp32_compressed.pth
RESIDUAL=$ROOT/examples/water/water_6A_residual.pth

record() {  # check, result
    printf '%s\t%s\n' "$1" "$2" >> "$RESULTS"
    echo "-- $1: $2"
}
fail() {
    FAILED=1
    record "$1" "$2"
}

summary() {
    echo
    echo "== gpu-check summary ($(date -u +%Y-%m-%dT%H:%MZ), logs in build/gpu-check/)"
    "${PY:-python3}" - "$RESULTS" "$LOG/bench.log" <<'EOF'
import re, sys
results, bench = sys.argv[1], sys.argv[2]
print("| check | result |")
print("|---|---|")
for line in open(results):
    check, _, result = line.rstrip("\n").partition("\t")
    print(f"| {check} | {result} |")
# The bench prints one markdown table per size after a line "<atoms> atoms on <platform>...".
tables, current = [], None
try:
    lines = open(bench).read().splitlines()
except OSError:
    lines = []
for line in lines:
    m = re.match(r"(\d+) atoms on ", line)
    if m:
        current = [m.group(1), None, []]
        tables.append(current)
    elif current is None or line.startswith("|---"):
        continue
    elif line.startswith("| scheme |"):
        current[1] = line
    elif line.startswith("|") and current[1]:
        current[2].append(line)
    elif current[2]:
        current = None   # the table has ended
tables = [t for t in tables if t[1] and t[2]]
if tables:
    header = tables[0][1]
    print()
    print("| atoms " + header)
    print("|---:|---" + "|---:" * (header.count("|") - 2) + "|")
    for atoms, _, rows in tables:
        for row in rows:
            print(f"| {atoms} {row}")
else:
    print("\n(no speed table: see the bench row above and build/gpu-check/bench.log)")
EOF
}

echo "== GPU"
if command -v nvidia-smi > /dev/null 2>&1 && nvidia-smi -L > "$LOG/gpu.txt" 2>&1; then
    cat "$LOG/gpu.txt"
    record "GPU" "$(head -1 "$LOG/gpu.txt")"
else
    fail "GPU" "none found (nvidia-smi missing or failed): the CUDA checks will skip"
fi

echo "== setup (scripts/setup.sh, log: build/gpu-check/setup.log)"
if bash scripts/setup.sh > "$LOG/setup.log" 2>&1; then
    record "setup" "ok"
else
    fail "setup" "FAILED: $(tail -1 "$LOG/setup.log")"
    summary
    exit 1
fi
"$PY" - > "$LOG/versions.txt" 2>&1 <<'EOF'
import openmm, torch
print(f"openmm {openmm.__version__}, torch {torch.__version__} (CUDA {torch.version.cuda}, "
      f"available: {torch.cuda.is_available()}), OpenMM platforms: "
      + ", ".join(openmm.Platform.getPlatform(i).getName() for i in range(openmm.Platform.getNumPlatforms())))
EOF
record "versions" "$(tail -1 "$LOG/versions.txt")"

echo "== build the C++ tests (log: build/gpu-check/build.log)"
if "$ROOT/.venv/bin/cmake" -S . -B "$BUILD" -DPython3_EXECUTABLE="$PY" -DSWITCHINGDP_BUILD_TESTS=ON \
        -DSWITCHINGDP_BUILD_PYTHON=OFF > "$LOG/build.log" 2>&1 &&
   "$ROOT/.venv/bin/cmake" --build "$BUILD" -j "$(nproc)" >> "$LOG/build.log" 2>&1; then
    record "build" "ok ($(grep -h "platform kernel:" "$LOG/build.log" | sed 's/^-- //' | paste -sd ';' -))"
else
    fail "build" "FAILED: $(grep -m1 -i "error" "$LOG/build.log")"
fi

for test in TestCudaSwitchingDPForce TestOpenCLSwitchingDPForce; do
    echo "== $test (log: build/gpu-check/$test.log)"
    (cd "$BUILD" 2>/dev/null && ctest -N) > "$LOG/ctest-list.txt" 2>&1
    if ! grep -q ": $test\$" "$LOG/ctest-list.txt"; then
        fail "$test" "not built (see the build row)"
        continue
    fi
    # -V: the test's own output (tolerances, timings) also when it passes.
    (cd "$BUILD" && ctest -R "^$test\$" -V) > "$LOG/$test.log" 2>&1
    line=$(grep -m1 "Test *#[0-9]*: $test " "$LOG/$test.log")
    seconds=$(echo "$line" | grep -o "[0-9.]* sec")
    if echo "$line" | grep -q "Passed"; then
        errors=$(grep -h "worst relative errors" "$LOG/$test.log" | sed 's/.*worst relative errors against Reference, //' | paste -sd ';' -)
        record "$test" "passed ($seconds); worst relative errors vs Reference: ${errors:-none printed}"
    elif echo "$line" | grep -q "Skipped"; then
        fail "$test" "SKIPPED: $(grep -m1 "skipped:" "$LOG/$test.log" | sed 's/.*skipped: //')"
    else
        fail "$test" "FAILED: $(grep -m1 "FAIL:" "$LOG/$test.log" | sed 's/^[0-9]*: //')"
    fi
done

# deepmd-kit 3.2.0's wheel built its CUDA operators (used by compressed models:
# tabulate_fusion) against the CUDA 12 runtime, which it loads lazily as
# libcudart.so.12 on the first call, while torch runs on CUDA 13.  Check both
# halves, in child processes, so a crash is reported rather than ending this script.
echo "== deepmd-kit's CUDA operators (log: build/gpu-check/deepmd-ops.log)"
USE_COMPRESSED=0
"$PY" - > "$LOG/deepmd-cudart.log" 2>&1 <<'EOF'
import ctypes
for name in ("libcudart.so.12", "/usr/local/cuda/lib64/libcudart.so.12"):   # where deepmd-kit looks
    try:
        ctypes.CDLL(name)
        print(f"libcudart.so.12: found ({name})")
        break
    except OSError:
        pass
else:
    print("libcudart.so.12: not found (searched the loader path and /usr/local/cuda/lib64)")
EOF
"$PY" - "$COMPRESSED" > "$LOG/deepmd-ops.log" 2>&1 <<'EOF'
# The compressed float32 fast model on the CUDA platform against the CPU platform.
# The last RESULT line says what happened; a crash leaves none.
import sys
import openmm as mm, openmm.app as app, openmm.unit as u
import openmmswitchingdp as sdp
from openmmswitchingdp import bundled
if "libOpenMMSwitchingDPCUDA.so" not in sdp.LOADED_PLUGINS:
    print("RESULT: not run: no CUDA platform (or the plugin was built without its CUDA kernel)")
    sys.exit(4)
pdb = app.PDBFile(bundled.WATER_PDB)
energies = {}
try:
    for platform in ("CPU", "CUDA"):
        system = sdp.systemFromTopology(pdb.topology)
        force = sdp.SwitchingDPForce(bundled.ACCURATE_MODEL, sys.argv[1])
        force.setTypes(sdp.typesFromTopology(pdb.topology))
        force.setAccurateInterval(2)
        force.setAccuratePhase(1)   # the fast (compressed) model at step 0
        system.addForce(force)
        context = mm.Context(system, mm.VerletIntegrator(0.0005), mm.Platform.getPlatformByName(platform))
        context.setPositions(pdb.positions)
        energies[platform] = context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(u.kilojoule_per_mole)
except Exception as error:
    message = str(error).strip().splitlines()
    print(f"RESULT: error on {platform}: {type(error).__name__}: {message[-1] if message else ''}")
    sys.exit(2)
relative = abs(energies["CUDA"] - energies["CPU"]) / abs(energies["CPU"])
print(f"RESULT: CUDA {energies['CUDA']:.6f} kJ/mol, CPU {energies['CPU']:.6f}, relative difference {relative:.1e}")
sys.exit(0 if relative < 1e-4 else 3)
EOF
status=$?
cudart=$(tail -1 "$LOG/deepmd-cudart.log")
result=$(grep "^RESULT: " "$LOG/deepmd-ops.log" | tail -1 | sed 's/^RESULT: //')
if [ $status -eq 0 ]; then
    USE_COMPRESSED=1
    record "deepmd-kit CUDA ops (compressed model)" "ok: $result; $cudart"
elif [ $status -eq 4 ]; then
    fail "deepmd-kit CUDA ops (compressed model)" "$result; $cudart"
else
    if [ $status -gt 128 ]; then
        what="crashed (signal $((status - 128)))"
    elif [ $status -eq 3 ]; then
        what="wrong energy: $result"
    else
        what="failed: ${result:-exit $status, see the log}"
    fi
    fail "deepmd-kit CUDA ops (compressed model)" "$what; $cudart.  deepmd-kit 3.2.0's CUDA operators (tabulate_fusion, used by compressed models) were built for the CUDA 12 runtime (libcudart.so.12), torch here for CUDA 13: compressed models cannot run on this GPU; uncompressed models do not use these operators.  The bench leaves the compressed model out"
fi

echo "== switchingdp-bench on CUDA (log: build/gpu-check/bench.log)"
bench_args=(--platform CUDA --replicate 1 2 4 --steps "${GPU_CHECK_STEPS:-2000}" --rounds "${GPU_CHECK_ROUNDS:-5}"
            --residual "$RESIDUAL")
[ "${GPU_CHECK_BASELINE:-0}" = 1 ] || bench_args+=(--no-baseline)
[ $USE_COMPRESSED = 1 ] && bench_args+=(--other-fast "$COMPRESSED")
if "$ROOT/.venv/bin/switchingdp-bench" "${bench_args[@]}" > "$LOG/bench.log" 2>&1; then
    record "switchingdp-bench ${bench_args[*]}" "ok"
else
    status=$?
    # The last line that is not deepmd-kit's CUDA-12 stub complaining at exit.
    fail "switchingdp-bench ${bench_args[*]}" "FAILED (exit $status): $(grep -v "^\s*$\|^implib-gen" "$LOG/bench.log" | tail -1)"
fi

summary
exit $FAILED
