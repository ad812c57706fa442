"""switchingdp-distill: make a fast partner for your one accurate DeePMD model.

    switchingdp-distill --accurate acc.pth --pdb start.pdb --out work/

The accurate model is the teacher: it labels any configuration exactly, so no DFT
is needed.  The run

1. explores: Langevin MD with the accurate model at each --explore-temperature
   (default: --temperature and 1.2 times it), a frame every --sample-interval fs;
2. labels every frame with the accurate model (energies and forces, through the
   plugin) and writes them in deepmd-kit's data format;
3. trains a fast se_e2_a model with deepmd-kit (cutoff --rcut, neighbour counts
   `sel` from the data unless given, network sizes as options), then freezes it in
   float32 and compresses it (deepmd-kit's tabulated embedding nets);
4. surveys it: from states the accurate model reached, runs the fast model alone and
   1:(interval-1) alternation and scores every sampled frame by the pair's force
   deviation max_i abs(F_accurate - F_fast) (eV/A);
5. selects frames by the deviation (DP-GEN's trust levels: a frame with deviation
   at or above --trust-lo is a candidate, below it the fast model is already right
   there).  DP-GEN also drops frames above an upper level, since its DFT labels of
   broken configurations are costly and useless; here the teacher labels any frame
   exactly, and the fast model's worst frames are the ones it most needs, so there
   is no upper level unless --trust-hi is given.  A frame is refused ('failed') only
   if it is not finite or two atoms come closer than --min-distance-factor times the
   closest pair of the explored data.  Up to --frames-per-round candidates are
   labelled and the model is retrained from the previous weights, continuing the
   first training's schedule from --retrain-start-lr (a restart at the full rate
   undoes what was learned, the energies first); repeats 4-5
   until the deviation on alternation's frames stops improving (its 95th percentile
   by less than --min-improvement), no candidate is left, or --rounds retrainings
   were done, and keeps the round with the lowest such percentile;
6. ends with a report (report.md): the rounds, then switchingdp-validate and
   switchingdp-bench of the pair it made.  With --residual it also trains a residual
   model co-trained with the fast one (Fu et al.: E = E_fast + E_residual, the slow
   term of rRESPA) and reports the NVE drift of rRESPA at 2, 4 and 6 fs outer steps,
   with the residual and with accurate - fast (the DMTS scheme).

Everything is written to --out; an interrupted run started again with the same --out
resumes after its last finished stage (an interrupted training from its last
checkpoint).  The fast model is --out/fast.pth (float32, compressed).
"""
import argparse
import dataclasses
import os
import sys

from ..distill import Settings, distill
from .common import TIMESTEP_HELP, HelpFormatter, add_threads_option, apply_threads

__all__ = ["main", "build_parser"]


def build_parser():
    """The argument parser of switchingdp-distill (its defaults are :class:`Settings`')."""
    d = Settings(accurate="", pdb="", out="")
    parser = argparse.ArgumentParser(prog="switchingdp-distill", description=__doc__, formatter_class=HelpFormatter)
    parser.add_argument("--accurate", required=True, help="your accurate model (.pth)")
    parser.add_argument("--pdb", required=True, help="a starting structure; its CRYST1 record sets the box")
    parser.add_argument("--out", required=True, help="work folder (resumed if it holds an interrupted run)")
    parser.add_argument("--types", nargs="+", help="DP type per atom (default: element symbols)")
    parser.add_argument("--temperature", type=float, default=d.temperature, help="K, of the runs the pair is for")
    parser.add_argument("--explore-temperatures", type=float, nargs="+", metavar="K",
                        help="accurate MD temperatures (default: --temperature and 1.2 times it)")
    parser.add_argument("--explore-time", dest="explore_ps", type=float, default=d.explore_ps, help="ps sampled per temperature")
    parser.add_argument("--equilibration", dest="equilibration_ps", type=float, default=d.equilibration_ps, help="ps before sampling")
    parser.add_argument("--sample-interval", dest="sample_interval_fs", type=float, default=d.sample_interval_fs, help="fs between frames")
    parser.add_argument("--timestep", dest="timestep_fs", type=float, default=d.timestep_fs, help=TIMESTEP_HELP)
    parser.add_argument("--rcut", type=float, default=d.rcut, help="the fast model's cutoff, A")
    parser.add_argument("--rcut-smth", type=float, default=d.rcut_smth, help="A")
    parser.add_argument("--sel", type=int, nargs="+", help="neighbours kept per type (default: from the data)")
    parser.add_argument("--descriptor-neurons", type=int, nargs="+", default=d.descriptor_neurons,
                        help="the fast model's embedding net")
    parser.add_argument("--axis-neuron", type=int, default=d.axis_neuron, help="the fast model's axis neurons")
    parser.add_argument("--fitting-neurons", type=int, nargs="+", default=d.fitting_neurons,
                        help="the fast model's fitting net")
    parser.add_argument("--train-steps", type=int, default=d.train_steps, help="first training")
    parser.add_argument("--retrain-steps", type=int, default=d.retrain_steps, help="each later round")
    parser.add_argument("--compress-step", type=float, default=d.compress_step,
                        help="table step of deepmd-kit's model compression")
    parser.add_argument("--interval", type=int, default=d.interval, help="alternation surveyed and reported")
    parser.add_argument("--rounds", type=int, default=d.rounds, help="retrainings at most")
    parser.add_argument("--survey-time", dest="survey_ps", type=float, default=d.survey_ps, help="ps per survey run")
    parser.add_argument("--starts", dest="starts_per_temperature", type=int, default=d.starts_per_temperature, help="survey starts per temperature")
    parser.add_argument("--trust-lo", type=float, default=d.trust_lo, help="eV/A")
    parser.add_argument("--trust-hi", type=float, default=d.trust_hi,
                        help="eV/A; frames at or above it are not labelled (default: no upper level)")
    parser.add_argument("--min-distance-factor", type=float, default=d.min_distance_factor,
                        help="frames with two atoms closer than this times the explored data's closest pair "
                             "are not labelled")
    parser.add_argument("--frames-per-round", type=int, default=d.frames_per_round,
                        help="candidate frames labelled per retraining at most")
    parser.add_argument("--retrain-start-lr", type=float, default=d.retrain_start_lr,
                        help="later rounds continue the first training's schedule from this learning rate")
    parser.add_argument("--min-improvement", type=float, default=d.min_improvement,
                        help="stop when the deviation's 95th percentile improves by less than this fraction")
    parser.add_argument("--max-temperature-factor", type=float, default=d.max_temperature_factor,
                        help="a survey run stops above this times its temperature")
    parser.add_argument("--residual", action="store_true", help="also co-train a residual model for rRESPA")
    parser.add_argument("--residual-steps", type=int, default=d.residual_steps, help="the residual's training")
    parser.add_argument("--residual-descriptor-neurons", type=int, nargs="+", default=d.residual_descriptor_neurons,
                        help="the residual's embedding net (it runs at the accurate model's cutoff)")
    parser.add_argument("--no-report", dest="report", action="store_false", help="skip the final report")
    parser.add_argument("--validate-time", dest="validate_ps", type=float, default=d.validate_ps, help="ps per scheme in the report")
    parser.add_argument("--bench-steps", type=int, default=d.bench_steps, help="timed steps of the report's bench")
    parser.add_argument("--bench-replicate", type=int, default=d.bench_replicate, metavar="N",
                        help="the report's bench runs the PDB's box tiled N x N x N times (the fast model's share "
                             "of the cost falls with size)")
    parser.add_argument("--nve-outer", dest="nve_outer_fs", type=float, nargs="+", default=d.nve_outer_fs, help="fs, with --residual")
    parser.add_argument("--nve-time", dest="nve_ps", type=float, default=d.nve_ps, help="ps per NVE run, with --residual")
    parser.add_argument("--platform", default=d.platform, help="OpenMM platform")
    add_threads_option(parser, note="; the training runs (dp train) get as many")
    parser.add_argument("--seed", type=int, default=d.seed, help="seed of the MD runs and the training")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    return parser


def main(argv=None):
    """switchingdp-distill; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    apply_threads(parser, args.threads)   # this process's MD and labelling
    if args.threads is not None:
        # dp train runs in child processes: they read their thread counts from these
        for name in ("OMP_NUM_THREADS", "DP_INTRA_OP_PARALLELISM_THREADS", "DP_INTER_OP_PARALLELISM_THREADS"):
            os.environ[name] = str(args.threads)
    fields = {f.name for f in dataclasses.fields(Settings)} - {"accurate", "pdb", "out"}
    options = {name: value for name, value in vars(args).items() if name in fields}
    try:
        result = distill(args.accurate, args.pdb, args.out, progress=not args.no_progress, **options)
    except ValueError as error:
        parser.error(str(error))
    except KeyboardInterrupt:
        print(f"\ninterrupted; run the same command again to resume from {args.out}", file=sys.stderr)
        return 130
    print(f"fast model: {result['fast']}")
    if result["report"]:
        print(open(result["report"]).read())
    return 0


if __name__ == "__main__":
    sys.exit(main())
