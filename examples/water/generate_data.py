"""Generate DeePMD training data for flexible water with OpenMM.

64 H2O in a 12.4 A cubic box, amber14 tip3pfb with flexible bonds and angles
(rigidWater=False, no constraints), PME, plus a short-range wall on hydrogen (see
hydrogen_wall), LangevinMiddle at 330 K with a 0.5 fs step.  Frames are written in
deepmd-kit's npy system format in A and eV, split into a training and a held-out
validation system, and the last frame is written as the bundled structure water.pdb.

    python generate_data.py --frames 3000 --out data
    python generate_data.py --frames 1500 --temperature 450 --seed 4500 --out data_450K --pdb /dev/null
    python generate_data.py --perturb-molecules --source data --frames 1500 --seed 808 --out data_contacts

--perturb-molecules relabels frames of an existing data set (--source) after moving
each molecule rigidly (0.1 A, 0.1 rad) and each atom slightly (0.02 A): close contacts
between molecules that MD rarely visits, where a model must learn that atoms repel.
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
TYPE_MAP = ["O", "H"]


def hydrogen_wall(system, topology):
    """TIP3P gives hydrogen no repulsion: only its bond keeps it off other molecules'
    oxygens, which attract it.  Models trained on MD frames never see how steeply the
    energy rises when atoms of two molecules meet, and fast (short-cutoff) models drove
    hydrogens into neighbouring molecules within 0.1-0.3 ps.  This wall, 4.184 kJ/mol x
    (0.12 nm / r)^12 between a hydrogen and any atom of another molecule, is negligible
    at liquid distances (0.03 kJ/mol at 1.8 A) and keeps the reference well-behaved
    at the close contacts the perturbed frames sample."""
    wall = mm.CustomNonbondedForce("4.184*(0.12/r)^12*(isH1+isH2-isH1*isH2)")
    wall.addPerParticleParameter("isH")
    wall.setNonbondedMethod(mm.CustomNonbondedForce.CutoffPeriodic)
    wall.setCutoffDistance(0.35 * u.nanometer)
    for atom in topology.atoms():
        wall.addParticle([1.0 if atom.element.symbol == "H" else 0.0])
    wall.createExclusionsFromBonds([(b[0].index, b[1].index) for b in topology.bonds()], 2)
    system.addForce(wall)


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


def rotation(vector):
    """The rotation by |vector| radians about vector's direction (Rodrigues)."""
    angle = np.linalg.norm(vector)
    k = vector / angle
    cross = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(angle) * cross + (1 - np.cos(angle)) * cross @ cross


def perturbed_molecules(coords, rng, shift=0.1, angle=0.1, jitter=0.02):
    """Each O, H, H molecule rotated about its O and shifted (A, rad), every atom jittered."""
    molecules = coords.reshape(-1, 3, 3).copy()
    for m in molecules:
        m[:] = (m - m[0]) @ rotation(rng.normal(scale=angle, size=3)).T + m[0] + rng.normal(scale=shift, size=3)
    return molecules.reshape(-1, 3) + rng.normal(scale=jitter, size=coords.shape)


def reference_simulation(temperature, seed):
    """The reference: 64 flexible TIP3P-FB waters with PME and the hydrogen wall,
    Langevin at `temperature`, minimised, velocities drawn."""
    forcefield, modeller = build_water_box(64, 1.24, seed)
    system = forcefield.createSystem(modeller.topology, nonbondedMethod=app.PME, nonbondedCutoff=0.6 * u.nanometer,
                                     constraints=None, rigidWater=False)
    hydrogen_wall(system, modeller.topology)
    integrator = mm.LangevinMiddleIntegrator(temperature * u.kelvin, 1 / u.picosecond, 0.5 * u.femtosecond)
    integrator.setRandomNumberSeed(seed)
    platform = mm.Platform.getPlatformByName("CPU")
    simulation = app.Simulation(modeller.topology, system, integrator, platform)
    simulation.context.setPositions(modeller.positions)
    simulation.minimizeEnergy()
    simulation.context.setVelocitiesToTemperature(temperature * u.kelvin, seed)
    return simulation


def label(context):
    """(coordinates A, box A, energy eV, forces eV/A) of the context's current frame."""
    state = context.getState(getPositions=True, getForces=True, getEnergy=True)
    return (state.getPositions(asNumpy=True).value_in_unit(u.nanometer) * A_PER_NM,
            np.array(state.getPeriodicBoxVectors().value_in_unit(u.nanometer)) * A_PER_NM,
            state.getPotentialEnergy().value_in_unit(u.kilojoule_per_mole) / KJ_PER_MOL_PER_EV,
            state.getForces(asNumpy=True).value_in_unit(u.kilojoule_per_mole / u.nanometer)
            / KJ_PER_MOL_PER_EV / A_PER_NM)


def write_split(out, types, labelled, validation_fraction, rng):
    """Write labelled frames as out/training and out/validation (a random split); returns the validation count."""
    coords, boxes, energies, forces = map(np.asarray, zip(*labelled))
    order = rng.permutation(len(coords))
    n_val = int(round(validation_fraction * len(coords)))
    for name, idx in (("validation", np.sort(order[:n_val])), ("training", np.sort(order[n_val:]))):
        write_system(os.path.join(out, name), TYPE_MAP, types, coords[idx], boxes[idx], energies[idx], forces[idx])
    return n_val


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
    parser.add_argument("--perturb-molecules", action="store_true",
                        help="relabel rigidly displaced molecules of --source's frames instead of running MD")
    parser.add_argument("--source", default="data")
    args = parser.parse_args()

    simulation = reference_simulation(args.temperature, args.seed)
    simulation.step(args.equilibration)

    types = np.array([TYPE_MAP.index(a.element.symbol) for a in simulation.topology.atoms()])
    rng = np.random.default_rng(args.seed)
    if args.perturb_molecules:
        source = os.path.join(args.source, "training", "set.000")
        source_coords = np.load(os.path.join(source, "coord.npy")).reshape(-1, len(types), 3)
        source_boxes = np.load(os.path.join(source, "box.npy")).reshape(-1, 3, 3)
        picked = rng.choice(len(source_coords), size=args.frames, replace=len(source_coords) < args.frames)
    labelled = []
    for frame in range(args.frames):
        if args.perturb_molecules:
            moved = perturbed_molecules(source_coords[picked[frame]], rng)
            simulation.context.setPeriodicBoxVectors(*(source_boxes[picked[frame]] / A_PER_NM))
            simulation.context.setPositions(moved / A_PER_NM)
        else:
            simulation.step(args.stride)
        labelled.append(label(simulation.context))
        if (frame + 1) % 500 == 0:
            print(f"{frame + 1}/{args.frames} frames", flush=True)
    n_val = write_split(args.out, types, labelled, args.validation_fraction, rng)
    with open(args.pdb, "w") as f:
        state = simulation.context.getState(getPositions=True, enforcePeriodicBox=True)
        simulation.topology.setPeriodicBoxVectors(state.getPeriodicBoxVectors())
        app.PDBFile.writeFile(simulation.topology, state.getPositions(), f)
    print(f"wrote {args.frames - n_val} training and {n_val} validation frames to {args.out}, structure to {args.pdb}")


if __name__ == "__main__":
    main()
