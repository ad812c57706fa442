"""The first benchmark: alternating 1:3 against accurate-only and fast-only on the
bundled water (192 atoms) and a 2x2x2 replica (1536 atoms), in one process.

    .venv/bin/python benchmarks/benchmark.py [--steps 200] [--platform CPU]

The measuring code lives in openmmswitchingdp.toolkit.bench (also for your own models).
"""
from openmmswitchingdp.toolkit.cli.bench import main

if __name__ == "__main__":
    main()
