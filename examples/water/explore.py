"""One round of concurrent learning: run MD with the Deep Potential models, label the
frames they visit with the reference, and add them as a training set.

    python explore.py --cycles 6 --seed 11 --out data_explore

Models trained on reference MD frames only know the reference's own trajectories.
Driven by a model, the system drifts where the model is wrong, and there the
model's errors feed on themselves: the 4 A model, stable from the bundled structure,
blew up within 0.1-0.3 ps when started from states equilibrated by the 6 A model.
Each cycle here takes a fresh reference state (1 ps of reference MD), runs the
accurate model from it, then the fast model alone and 1:3 alternation from the
accurate model's end state, sampling a frame every --stride steps until a run gets
hotter than --max-temperature (the frames of a run going wrong are the ones the model
most needs; beyond that they are nonsense).  All frames are labelled with the
reference (generate_data.py) and written in deepmd-kit's format like the other sets.
(This is the exploration step of DP-GEN, without its model-deviation selection: here
the reference is cheap, so every visited frame is labelled.)
"""
import argparse
import os

import numpy as np
import openmm as mm
import openmm.unit as u

from generate_data import TYPE_MAP, label, reference_simulation, write_split
from openmmml import MLPotential
from openmmswitchingdp.toolkit.validate import temperature_of

HERE = os.path.dirname(os.path.abspath(__file__))


def dp_context(topology, accurate, fast, interval, temperature, seed):
    system = MLPotential("switchingdp", accurate=accurate, fast=fast).createSystem(topology, removeCMMotion=False,
                                                                                 interval=interval)
    integrator = mm.LangevinMiddleIntegrator(temperature, 1.0, 0.0005)
    integrator.setRandomNumberSeed(seed)
    return mm.Context(system, integrator, mm.Platform.getPlatformByName("CPU"))


def sample(context, start, steps, stride, max_temperature):
    """Frames (positions nm, box nm) every `stride` steps from `start` (a State) until
    `steps` or the run gets hotter than max_temperature; returns (frames, end State, ps run)."""
    context.setState(start)
    atoms = context.getSystem().getNumParticles()
    frames = []
    for done in range(0, steps, stride):
        try:
            context.getIntegrator().step(stride)
            state = context.getState(getPositions=True, getVelocities=True, getEnergy=True)
        except Exception:   # non-finite positions
            break
        if not temperature_of(state, atoms) < max_temperature:
            break
        frames.append((state.getPositions(asNumpy=True).value_in_unit(u.nanometer),
                       np.array(state.getPeriodicBoxVectors().value_in_unit(u.nanometer))))
        start = state
    return frames, start, len(frames) * stride * 0.0005


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accurate", default=os.path.join(HERE, "water_6A.pth"))
    parser.add_argument("--fast", default=os.path.join(HERE, "water_4A.pth"))
    parser.add_argument("--cycles", type=int, default=6)
    parser.add_argument("--temperatures", type=float, nargs="+", default=[330.0, 400.0],
                        help="K, taken in turn by the cycles")
    parser.add_argument("--accurate-ps", type=float, default=0.5, help="ps of accurate-model MD per cycle")
    parser.add_argument("--fast-ps", type=float, default=0.5, help="at most this many ps of fast-only and of alternation")
    parser.add_argument("--stride", type=int, default=10, help="MD steps between frames")
    parser.add_argument("--max-temperature", type=float, default=600.0)
    parser.add_argument("--max-force", type=float, default=40.0,
                        help="eV/A: frames where the reference force exceeds this are dropped (collapsed atoms; "
                             "data_contacts/ reaches 37 eV/A)")
    parser.add_argument("--validation-fraction", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", default=os.path.join(HERE, "data_explore"))
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    frames = []
    reference = None
    for cycle in range(args.cycles):
        temperature = args.temperatures[cycle % len(args.temperatures)]
        seed = args.seed * 1000 + cycle
        reference = reference_simulation(temperature, seed)
        reference.step(2000)
        start = reference.context.getState(getPositions=True, getVelocities=True)
        topology = reference.topology
        runs = {"accurate": (args.accurate, args.accurate, 1, args.accurate_ps),
                "fast-only": (args.fast, args.fast, 1, args.fast_ps),
                "alternating 1:3": (args.accurate, args.fast, 4, args.fast_ps)}
        contexts = {name: dp_context(topology, acc, fast, interval, temperature, seed)
                    for name, (acc, fast, interval, _) in runs.items()}
        got, accurate_end, _ = sample(contexts["accurate"], start, int(args.accurate_ps / 0.0005), args.stride,
                                      args.max_temperature)
        frames += got
        report = [f"accurate {len(got)}"]
        for name in ("fast-only", "alternating 1:3"):
            got, _, ran = sample(contexts[name], accurate_end, int(runs[name][3] / 0.0005), args.stride,
                                 args.max_temperature)
            frames += got
            report.append(f"{name} {len(got)} ({ran:.2f} ps)")
        print(f"cycle {cycle} at {temperature:g} K: " + ", ".join(report), flush=True)

    labelled = []
    for positions, box in frames:
        reference.context.setPeriodicBoxVectors(*box)
        reference.context.setPositions(positions)
        labelled.append(label(reference.context))
    # A run can collapse two atoms onto each other between two temperature checks; such
    # frames (forces up to 1e10 eV/A) wreck the training, so they are dropped.
    physical = [frame for frame in labelled if np.abs(frame[3]).max() <= args.max_force]
    print(f"dropped {len(labelled) - len(physical)} frames with forces above {args.max_force:g} eV/A")
    labelled = physical
    types = np.array([TYPE_MAP.index(a.element.symbol) for a in reference.topology.atoms()])
    n_val = write_split(args.out, types, labelled, args.validation_fraction, rng)
    print(f"wrote {len(labelled) - n_val} training and {n_val} validation frames to {args.out}")


if __name__ == "__main__":
    main()
