"""deepmd-kit's side of the data: the teacher model's metadata and labels, and
systems in deepmd-kit's data format (type.raw, type_map.raw, ``set.000/*.npy``; A and eV)."""
import os
import shutil

import numpy as np

from ... import defaults
from ...units import ANGSTROM_PER_NM, KJ_PER_MOL_NM_PER_EV_A, KJ_PER_MOL_PER_EV

__all__ = ["model_metadata", "label_frames", "write_system", "read_system"]


def model_metadata(path):
    """(type_map, rcut in A) of a frozen deepmd-kit model; refuses models that need
    frame or atomic parameters (their fast partner would need them too)."""
    from deepmd.infer import DeepPot
    try:
        model = DeepPot(path)
    except Exception as error:
        raise ValueError(f"{path}: deepmd-kit cannot load this model: {str(error).splitlines()[0]}") from None
    if model.get_dim_fparam() or model.get_dim_aparam():
        raise ValueError(f"{path} takes frame or atomic parameters; distillation supports models without them")
    return list(model.get_type_map()), float(model.get_rcut())


def label_frames(model, structure, coords, boxes, platform=defaults.PLATFORM, progress=None):
    """The model's energies (eV, per frame) and forces (eV/A, frames x atoms x 3) at
    coords (A, frames x atoms x 3) in boxes (A, frames x 3 x 3), from the plugin
    running the model alone."""
    import openmm as mm
    import openmm.unit as u
    from ..schemes import ACCURATE, Scheme, build_context
    context = build_context(Scheme(ACCURATE, model), structure, platform, velocities=False)
    energies, forces = [], []
    for coord, box in zip(coords, boxes):
        context.setPeriodicBoxVectors(*[mm.Vec3(*v) for v in box / ANGSTROM_PER_NM])
        context.setPositions(coord / ANGSTROM_PER_NM)
        state = context.getState(getEnergy=True, getForces=True)
        energies.append(state.getPotentialEnergy().value_in_unit(u.kilojoule_per_mole) / KJ_PER_MOL_PER_EV)
        forces.append(state.getForces(asNumpy=True).value_in_unit(u.kilojoule_per_mole / u.nanometer)
                      / KJ_PER_MOL_NM_PER_EV_A)
        if progress:
            progress.update(1)
    return np.array(energies), np.array(forces)


def write_system(folder, type_map, atom_types, coords, boxes, energies, forces):
    """One deepmd-kit system (type.raw, type_map.raw, ``set.000/*.npy``); A and eV."""
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(os.path.join(folder, "set.000"))
    np.savetxt(os.path.join(folder, "type.raw"), np.asarray(atom_types, dtype=int), fmt="%d")
    with open(os.path.join(folder, "type_map.raw"), "w") as f:
        f.write("\n".join(type_map) + "\n")
    frames = len(coords)
    arrays = {"coord": np.reshape(coords, (frames, -1)), "box": np.reshape(boxes, (frames, 9)),
              "energy": np.reshape(energies, (frames,)), "force": np.reshape(forces, (frames, -1))}
    for name, array in arrays.items():
        np.save(os.path.join(folder, "set.000", name + ".npy"), array.astype(np.float64))


def read_system(folder):
    """(coords A, boxes A, energies eV, forces eV/A) of a system written by write_system."""
    set_dir = os.path.join(folder, "set.000")
    coords = np.load(os.path.join(set_dir, "coord.npy"))
    frames = len(coords)
    return (coords.reshape(frames, -1, 3), np.load(os.path.join(set_dir, "box.npy")).reshape(frames, 3, 3),
            np.load(os.path.join(set_dir, "energy.npy")), np.load(os.path.join(set_dir, "force.npy")).reshape(frames, -1, 3))
