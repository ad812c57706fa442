"""Speed of two installed builds of the plugin, side by side: `switchingdp-bench` of
each build run in alternating processes (A B A B ...), each process with its own
interleaved rounds; per scheme and size, the median steps/s of each build and
their ratio.  Used for the before/after tables of changes to the hot path.

    python benchmarks/before_after.py --before /tmp/oldpkg --after openmmswitchingdp \
        --repeats 3 -- --replicate 1 2 --rounds 3 --no-baseline
A build is either an installed package of its own name beside openmmswitchingdp, or a
folder holding an unpacked build's `openmmswitchingdp` package (e.g. a wheel of an
earlier commit, unzipped), which then runs under that name from PYTHONPATH, so that
openmm-ml's entry point and every import in that process reach that build.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys


def run(build, bench_args):
    environment = dict(os.environ)
    package = build
    if os.path.isdir(build):
        package = "openmmswitchingdp"
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [build, environment.get("PYTHONPATH")]))
        # The unpacked build's libraries find torch's and OpenMM's through relative rpaths
        # that hold only inside site-packages: name the installed ones' folders instead.
        import importlib.util
        site = os.path.dirname(os.path.dirname(importlib.util.find_spec("openmm").origin))
        libraries = [os.path.join(site, "torch", "lib"), os.path.join(site, "OpenMM.libs", "lib")]
        environment["LD_LIBRARY_PATH"] = os.pathsep.join(filter(None, [*libraries, environment.get("LD_LIBRARY_PATH")]))
    out = subprocess.run([sys.executable, "-m", f"{package}.bench", *bench_args], check=True,
                         capture_output=True, text=True, env=environment).stdout
    speeds, atoms = {}, None
    for line in out.splitlines():
        m = re.match(r"^(\d+) atoms on", line)
        if m:
            atoms = int(m.group(1))
        m = re.match(r"^\| (.+?) \| ([0-9.]+) \| ([0-9.]+) \|", line)
        if m and atoms is not None:
            speeds[(atoms, m.group(1))] = float(m.group(2))
    return speeds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True)
    parser.add_argument("--after", required=True)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("bench_args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    bench_args = [a for a in args.bench_args if a != "--"]
    samples = {args.before: {}, args.after: {}}
    for r in range(args.repeats):
        for package in (args.before, args.after):
            for key, value in run(package, bench_args).items():
                samples[package].setdefault(key, []).append(value)
            print(f"repeat {r + 1}/{args.repeats}: {package} done", file=sys.stderr, flush=True)
    print(f"| atoms | scheme | before steps/s | after steps/s | after/before |\n|---:|---|---:|---:|---:|")
    for key in samples[args.before]:
        if key not in samples[args.after]:
            continue
        b, a = statistics.median(samples[args.before][key]), statistics.median(samples[args.after][key])
        print(f"| {key[0]} | {key[1]} | {b:.2f} | {a:.2f} | {a / b:.3f} |")


if __name__ == "__main__":
    main()
