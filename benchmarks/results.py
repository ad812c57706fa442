"""Regenerate the results page (docs/results.md and its plots) for the bundled water.

    bash scripts/results.sh            # setup, then this script with its defaults
    .venv/bin/python benchmarks/results.py --validate-time 5 1 --nve-duration 2

In one run it measures, on the platform given:
1. validate at 192 and 1536 atoms: RDF Pearson correlations, diffusion, energy and
   speed of fast-only, alternating 1:3 and rRESPA 2/0.5 fs with the bundled (distilled)
   fast model, and fast-only and alternating 1:3 with the hand-made one, each against
   accurate-only (NVT, 330 K);
2. NVE energy drift of velocity Verlet, rRESPA and alternation (192 atoms), for the
   distilled difference pair (accurate - fast) and the co-trained residual pairs,
   distilled and hand-made;
3. bench at 192 and 1536 atoms: steps/s of every scheme side by side, with the
   hand-made fast model, the co-trained pair's rRESPA and the PythonForce + DeepPot
   baseline;
and writes the page with every table and plot.
"""
import argparse
import datetime
import io
import json
import os
import platform as host
import sys
from contextlib import redirect_stdout

import torch

from openmmswitchingdp import bundled
from openmmswitchingdp.toolkit import analysis, nve, validate
from openmmswitchingdp.toolkit.cli import bench

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WATER = os.path.join(ROOT, "examples", "water")
# The hand-made fast model (examples/water/train.py) as the comparison: in float32,
# compressed (make_fast_levers.py), as the distilled one is, for speed like for like;
# the co-trained residual was trained against its float64 original.
HANDMADE = os.path.join(WATER, "water_4A_fp32_compressed.pth")
HANDMADE_RESIDUAL = os.path.join(WATER, "water_6A_residual.pth")


def reused_or_measured(path, reuse, measure):
    """The markdown section saved at `path` when reusing, else measure() (saved there)."""
    if reuse and os.path.exists(path):
        with open(path) as f:
            return f.read()
    section = measure()
    with open(path, "w") as f:
        f.write(section)
    return section


def nve_section(args):
    tables = []
    for title, slow_model, fast_model, residual, alternating in (
            ("distilled difference pair: water_6A.pth - water_4A_distilled.pth",
             bundled.ACCURATE_MODEL, bundled.FAST_MODEL, False, 4),
            ("distilled co-trained pair: water_4A_distilled.pth + water_6A_distilled_residual.pth",
             bundled.RESIDUAL_MODEL, bundled.FAST_MODEL, True, None),
            ("hand-made co-trained pair: water_4A.pth + water_6A_residual.pth",
             HANDMADE_RESIDUAL, bundled.HANDMADE_FAST_MODEL, True, None)):
        rows = nve.table(slow_model, fast_model, bundled.WATER_PDB, [1.0, 2.0, 4.0],
                         duration_ps=args.nve_duration, equilibration_ps=1.0, platform=args.platform,
                         residual=residual, alternating=alternating)
        tables.append(f"{title}\n\n" + nve.markdown(rows))
    return (f"### Energy conservation (NVE, 192 atoms, {args.nve_duration:g} ps per run after 1 ps NVT)\n\n"
            "Drift is the slope of a straight line fitted to the total energy; fluctuation is the standard "
            "deviation around it.  The full model of the co-trained pair is fast + residual, so its "
            "velocity-Verlet row is its own reference.  Alternation's energy is the energy of the model "
            "used at each step, so its fluctuation includes the switching.\n\n" + "\n\n".join(tables) + "\n")


def bench_section(args):
    common = ["--steps", str(args.bench_steps), "--platform", args.platform]
    standard, long_outer = io.StringIO(), io.StringIO()
    with redirect_stdout(standard):
        bench.main(["--replicate", "1", "2", *common, "--other-fast", HANDMADE, "--residual", bundled.RESIDUAL_MODEL])
    # The 3x goal is for the schemes with a longer period: 1 accurate (or slow)
    # evaluation in 8 steps, i.e. 1:7 alternation and a 4 fs rRESPA outer step.
    with redirect_stdout(long_outer):
        bench.main(["--replicate", "2", *common, "--interval", "8", "--inner-steps", "8",
                    "--residual", bundled.RESIDUAL_MODEL, "--no-baseline"])
    return ("### Speed (bench, interleaved rounds, median)\n\n"
            "Speedup is in ns/day against accurate-only; ideal is what the measured single-model step "
            "times allow; efficiency is their ratio.  Rows without a model name use the distilled fast "
            "model; the water_4A_fp32_compressed.pth rows use the hand-made one.  The PythonForce row "
            "is the same accurate model called from Python through deepmd-kit's DeepPot each step.\n"
            + standard.getvalue()
            + "\nThe same at 1536 atoms with one slow evaluation in 8 steps: 1:7 alternation and rRESPA "
              "4/0.5 fs (energy conservation at that outer step: the NVE tables above).\n"
            + long_outer.getvalue())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(ROOT, "docs"))
    parser.add_argument("--platform", default="CPU")
    parser.add_argument("--replicate", type=int, nargs="+", default=[1, 2],
                        help="validate at these tilings of the 192-atom box (1: 192 atoms, 2: 1536)")
    parser.add_argument("--validate-time", type=float, nargs="+", default=[5.0, 1.0],
                        help="ps of sampled NVT per scheme, one per --replicate value")
    parser.add_argument("--reuse", action="store_true",
                        help="take the measurements already in the output folder (each size's results.json, nve.md, "
                             "bench.md) instead of rerunning them, e.g. after running parts in parallel")
    parser.add_argument("--equilibration", type=float, default=2.0,
                        help="ps of accurate-only NVT from the PDB (the model relaxes from the reference's "
                             "structure, which heats the system for about a picosecond); every scheme starts there")
    parser.add_argument("--scheme-equilibration", type=float, default=0.5,
                        help="ps each scheme then runs under its own dynamics before sampling")
    parser.add_argument("--nve-duration", type=float, default=2.0, help="ps per NVE run")
    parser.add_argument("--bench-steps", type=int, default=400)
    parser.add_argument("--note", default="", help="a paragraph under the header: how this page's runs were made")
    args = parser.parse_args()
    figures = os.path.join(args.out, "results")
    os.makedirs(figures, exist_ok=True)

    sections = []
    if len(args.validate_time) != len(args.replicate):
        parser.error("give one --validate-time per --replicate value")
    for copies, time_ps in zip(args.replicate, args.validate_time):
        atoms = 192 * copies**3
        folder = os.path.join(figures, f"water_{atoms}")
        saved = os.path.join(folder, "results.json")
        if args.reuse and os.path.exists(saved):
            with open(saved) as f:
                results = json.load(f)
            time_ps = results["time_ps"]
        else:
            results = validate.validate(validate.ValidateOptions(
                bundled.ACCURATE_MODEL, bundled.FAST_MODEL, bundled.WATER_PDB, replicate=copies, time_ps=time_ps,
                equilibration_ps=args.equilibration, scheme_equilibration_ps=args.scheme_equilibration,
                platform=args.platform, out=folder, other_fast=[HANDMADE])).as_dict()
        rel = os.path.relpath(folder, args.out)
        sections.append(
            f"### {atoms} atoms: structure and dynamics ({time_ps:g} ps NVT per scheme at 330 K; every scheme "
            f"starts from the state after {results['equilibration_ps']:g} ps of accurate-only NVT and runs "
            f"{results.get('scheme_equilibration_ps', 0):g} ps under its own dynamics before sampling)\n\n"
            "RDF Pearson r against accurate-only (1 = identical), diffusion coefficients from the MSD, "
            "mean potential energy of the sampled frames under the accurate model, and the speed of each run "
            "(sequential runs, so more exposed to machine noise than the bench table below).\n\n"
            f"{analysis.markdown_table(results)}\n\n"
            f"![RDFs]({rel}/rdf.png)\n![MSD]({rel}/msd.png)\n![energy step by step]({rel}/energy.png)\n")
        print(sections[-1], flush=True)

    sections.append(reused_or_measured(os.path.join(figures, "nve.md"), args.reuse, lambda: nve_section(args)))
    print(sections[-1], flush=True)
    sections.append(reused_or_measured(os.path.join(figures, "bench.md"), args.reuse, lambda: bench_section(args)))
    print(sections[-1], flush=True)

    threads = torch.get_num_threads()
    shown = sys.argv[1:]
    if "--note" in shown:   # the note is printed on the page itself
        at = shown.index("--note")
        shown = shown[:at] + shown[at + 2:]
    options = " ".join(shown)
    header = (f"# Results: the bundled water\n\nRegenerated by `bash scripts/results.sh{' ' + options if options else ''}` on "
              f"{datetime.date.today().isoformat()}: {args.platform} platform, {host.processor() or host.machine()}, "
              f"{os.cpu_count()} cores, {threads} torch thread(s), Python {sys.version.split()[0]}, "
              f"torch {torch.__version__}.  Models: water_6A.pth (accurate), water_4A_distilled.pth (the "
              f"bundled fast model, made by switchingdp-distill from water_6A.pth alone; float32, compressed) "
              f"and water_6A_distilled_residual.pth (co-trained with it); for comparison the hand-made fast "
              f"model water_4A.pth (examples/water/train.py; in the validate and bench tables as its float32 "
              f"compressed copy water_4A_fp32_compressed.pth) and water_6A_residual.pth (co-trained with "
              f"water_4A.pth).\n")
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(header + "\n" + (args.note + "\n\n" if args.note else "") + "\n".join(sections))
    print(f"wrote {os.path.join(args.out, 'results.md')}")


if __name__ == "__main__":
    main()
