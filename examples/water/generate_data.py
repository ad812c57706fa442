"""Generate DeePMD training data for flexible water with OpenMM.

64 H2O in a 12.4 A cubic box, amber14 tip3pfb with flexible bonds and angles
(rigidWater=False, no constraints), PME, LangevinMiddle at 330 K with a 0.5 fs step.
Frames are written in deepmd-kit's npy system format in A and eV, split into a
training and a held-out validation system, and the last frame is written as the
bundled structure water.pdb.

    python generate_data.py --frames 3000 --out data
"""
import argparse
import os

import numpy as np
import openmm as mm
import openmm.app as app
import openmm.unit as u

# Unit conversion for the training labels (OpenMM nm, kJ/mol -> deepmd A, eV).
KJ_PER_MOL_PER_EV = 96.48533212331002
A_PER_NM = 10.0


def build_water_box(n_waters, box_nm, seed):
    forcefield = app.ForceField("amber14/tip3pfb.xml")
    modeller = app.Modeller(app.Topology(), [])
    # Solvate a larger box, keep the first n_waters, then set the box we want:
    # addSolvent cannot give an exact count in an exact box.
    big = box_nm * 1.2
    modeller.addSolvent(forcefield, model="tip3p", boxSize=mm.Vec3(big, big, big) * u.nanometer)
    residues = list(modeller.topology.residues())
    pos = np.array(modeller.positions.value_in_unit(u.nanometer))
    centre = pos.mean(axis=0)
    atoms_of = [[a.index for a in r.atoms()] for r in residues]
    dist = [np.linalg.norm(pos[idx[0]] - centre) for idx in atoms_of]
    keep = set(np.argsort(dist)[:n_waters])
    modeller.delete([r for i, r in enumerate(residues) if i not in keep])
    modeller.topology.setPeriodicBoxVectors(np.eye(3) * box_nm * u.nanometer)
    return forcefield, modeller


def write_system(path, type_map, types, coords, boxes, energies, forces):
    os.makedirs(os.path.join(path, "set.000"), exist_ok=True)
    np.savetxt(os.path.join(path, "type.raw"), types, fmt="%d")
    with open(os.path.join(path, "type_map.raw"), "w") as f:
        f.write("\n".join(type_map) + "\n")
    nframes = len(coords)
    np.save(os.path.join(path, "set.000", "coord.npy"), coords.reshape(nframes, -1))
    np.save(os.path.join(path, "set.000", "box.npy"), boxes.reshape(nframes, 9))
    np.save(os.path.join(path, "set.000", "energy.npy"), energies)
    np.save(os.path.join(path, "set.000", "force.npy"), forces.reshape(nframes, -1))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=3000)
    parser.add_argument("--stride", type=int, default=20, help="MD steps between frames")
    parser.add_argument("--equilibration", type=int, default=4000, help="MD steps before sampling")
    parser.add_argument("--validation-fraction", type=float, default=0.1)
    parser.add_argument("--temperature", type=float, default=330.0)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--out", default="data")
    parser.add_argument("--pdb", default="water.pdb")
    args = parser.parse_args()

    forcefield, modeller = build_water_box(64, 1.24, args.seed)
    system = forcefield.createSystem(modeller.topology, nonbondedMethod=app.PME, nonbondedCutoff=0.6 * u.nanometer,
                                     constraints=None, rigidWater=False)
    integrator = mm.LangevinMiddleIntegrator(args.temperature * u.kelvin, 1 / u.picosecond, 0.5 * u.femtosecond)
    integrator.setRandomNumberSeed(args.seed)
    platform = mm.Platform.getPlatformByName("CPU")
    simulation = app.Simulation(modeller.topology, system, integrator, platform)
    simulation.context.setPositions(modeller.positions)
    simulation.minimizeEnergy()
    simulation.context.setVelocitiesToTemperature(args.temperature * u.kelvin, args.seed)
    simulation.step(args.equilibration)

    type_map = ["O", "H"]
    types = np.array([type_map.index(a.element.symbol) for a in modeller.topology.atoms()])
    coords, boxes, energies, forces = [], [], [], []
    for frame in range(args.frames):
        simulation.step(args.stride)
        state = simulation.context.getState(getPositions=True, getForces=True, getEnergy=True)
        coords.append(state.getPositions(asNumpy=True).value_in_unit(u.nanometer) * A_PER_NM)
        boxes.append(np.array(state.getPeriodicBoxVectors().value_in_unit(u.nanometer)) * A_PER_NM)
        energies.append(state.getPotentialEnergy().value_in_unit(u.kilojoule_per_mole) / KJ_PER_MOL_PER_EV)
        forces.append(state.getForces(asNumpy=True).value_in_unit(u.kilojoule_per_mole / u.nanometer)
                      / KJ_PER_MOL_PER_EV / A_PER_NM)
        if (frame + 1) % 500 == 0:
            print(f"{frame + 1}/{args.frames} frames", flush=True)
    coords, boxes, energies, forces = map(np.asarray, (coords, boxes, energies, forces))

    rng = np.random.default_rng(args.seed)
    order = rng.permutation(args.frames)
    n_val = int(round(args.validation_fraction * args.frames))
    for name, idx in (("validation", np.sort(order[:n_val])), ("training", np.sort(order[n_val:]))):
        write_system(os.path.join(args.out, name), type_map, types, coords[idx], boxes[idx], energies[idx], forces[idx])
    with open(args.pdb, "w") as f:
        state = simulation.context.getState(getPositions=True, enforcePeriodicBox=True)
        simulation.topology.setPeriodicBoxVectors(state.getPeriodicBoxVectors())
        app.PDBFile.writeFile(simulation.topology, state.getPositions(), f)
    print(f"wrote {args.frames - n_val} training and {n_val} validation frames to {args.out}, structure to {args.pdb}")


if __name__ == "__main__":
    main()
