"""The thread policy of model evaluation on the CPU (dpcore/OpenMPRuntimes): deepmd-kit's
op library brings its own OpenMP runtime, whose spinning thread pool fought torch's
for the cores (the compressed model ran 8x slower at torch's default two threads).
After a model evaluation, that runtime's parallel regions run on the calling thread
alone, while torch keeps its own thread count."""
import ctypes
import os

import openmm as mm
import pytest
import torch

from helpers import ROOT, make_context, make_system, water
from openmmswitchingdp import SwitchingDPForce

COMPRESSED = os.path.join(ROOT, "examples", "water", "water_4A_fp32_compressed.pth")


def loaded_openmp_runtimes():
    """Paths of the OpenMP runtimes mapped into this process."""
    paths = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if os.path.basename(path).startswith(("libgomp", "libomp", "libiomp")):
                paths.add(path)
    return paths


def max_threads(path):
    """omp_get_max_threads() of one runtime, on this thread."""
    return ctypes.CDLL(path, mode=os.RTLD_NOLOAD | os.RTLD_LAZY).omp_get_max_threads()


def test_deepmd_runtime_runs_serially_torch_keeps_its_threads():
    before = torch.get_num_threads()
    positions, elements, masses, box = water()
    force = SwitchingDPForce(COMPRESSED)
    system = make_system(masses, box, force, elements)
    context = make_context(system, positions, platform="CPU")
    context.getState(getEnergy=True)
    torch_dir = os.path.dirname(torch.__file__)
    foreign = [p for p in loaded_openmp_runtimes() if not p.startswith(torch_dir)]
    torch_runtimes = [p for p in loaded_openmp_runtimes() if p.startswith(torch_dir)]
    if not foreign:
        pytest.skip("no OpenMP runtime besides torch's is loaded (deepmd-kit's op library links none here)")
    for path in foreign:
        assert max_threads(path) == 1, path
    assert torch.get_num_threads() == before
    # torch's own runtime is left as torch set it
    for path in torch_runtimes:
        assert max_threads(path) == before, path
    del context


def test_policy_applies_on_each_evaluating_thread():
    """omp_set_num_threads is per thread: an evaluation from another thread (a user's
    worker thread) gets the same policy."""
    import threading
    positions, elements, masses, box = water()
    force = SwitchingDPForce(COMPRESSED)
    system = make_system(masses, box, force, elements)
    context = make_context(system, positions, platform="Reference")
    seen = {}

    def worker():
        context.getState(getEnergy=True)
        torch_dir = os.path.dirname(torch.__file__)
        seen.update({p: max_threads(p) for p in loaded_openmp_runtimes() if not p.startswith(torch_dir)})
    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    if not seen:
        pytest.skip("no OpenMP runtime besides torch's is loaded")
    assert set(seen.values()) == {1}
