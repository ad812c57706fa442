"""Speed of switching schemes against each single model, measured side by side.

For each system size it runs, in one process, Langevin MD with: the accurate model
alone, the fast model alone (both at the inner time step), alternation (1 accurate
step in --interval) and rRESPA (slow term every --inner-steps inner steps, fast model
every inner step), and the accurate model through OpenMM's PythonForce calling
deepmd-kit's DeepPot each step: what a user would write without this plugin
(--no-baseline skips it).  It prints steps/s and ns/day, the speedup in ns/day over
accurate-only, the ideal speedup from the single-model step times measured in the
same run, and their ratio (efficiency):

    alternating: n / (1 + (n-1) r)      rRESPA: k / (1 + k r)      r = t_fast / t_accurate

    switchingdp-bench --replicate 1 2 --platform CPU

--lammps adds the same models on the same coordinates in LAMMPS with deepmd-kit's
`pair_style deepmd` (accurate-only, each fast-only and rRESPA through `run_style
respa` with `pair_style hybrid/scaled`), each round one `lmp` run per row timed by
LAMMPS's loop time, both engines on --threads threads (1 unless given).  It prints the
plugin/LAMMPS speed ratio of each model or scheme and checks that both report the same
first-frame potential energy.
"""
import argparse
import contextlib
import functools
import os
import sys
import tempfile
import time

import numpy as np

from . import bundled, lammps
from .units import ns_per_day

SLOW_GROUP = 1
TEMPERATURE = 330.0   # K
FRICTION = 1.0        # 1/ps
LAMMPS_PREFIX = "LAMMPS "
# First-frame energies of the plugin and LAMMPS must agree to this relative
# difference: the same model on the same coordinates, float64 or float32 arithmetic.
ENERGY_TOLERANCE = {"float64": 1e-6, "float32": 1e-4}


class EnergyMismatch(RuntimeError):
    """The plugin and LAMMPS disagree on a first-frame energy."""


def replicated_system(pdb_path, copies):
    """Positions (nm), element symbols, masses and box of the PDB tiled copies^3 times."""
    import openmm.app as app
    import openmm.unit as u
    pdb = app.PDBFile(pdb_path)
    box = np.array(pdb.topology.getPeriodicBoxVectors().value_in_unit(u.nanometer))
    base = np.array(pdb.getPositions(asNumpy=True).value_in_unit(u.nanometer))
    elements = [a.element.symbol for a in pdb.topology.atoms()]
    masses = [a.element.mass.value_in_unit(u.dalton) for a in pdb.topology.atoms()]
    shifts = [i * box[0] + j * box[1] + k * box[2] for i in range(copies) for j in range(copies) for k in range(copies)]
    positions = np.concatenate([base + s for s in shifts])
    return positions, elements * len(shifts), masses * len(shifts), box * copies


def deeppot_python_force(model_file, elements):
    """What a user would write without this plugin: an OpenMM PythonForce whose
    callback gives the State's positions and box to deepmd-kit's DeepPot."""
    import openmm as mm
    from deepmd.infer import DeepPot
    from .units import ANGSTROM_PER_NM, KJ_PER_MOL_NM_PER_EV_A, KJ_PER_MOL_PER_EV
    deeppot = DeepPot(model_file)
    types = [deeppot.get_type_map().index(e) for e in elements]

    def compute(state):
        positions = state.getPositions(asNumpy=True)._value * ANGSTROM_PER_NM
        box = np.array(state.getPeriodicBoxVectors()._value) * ANGSTROM_PER_NM
        energy, forces, _ = deeppot.eval(positions.reshape(1, -1), box.reshape(1, 9), types)
        return float(energy[0, 0]) * KJ_PER_MOL_PER_EV, forces.reshape(-1, 3) * KJ_PER_MOL_NM_PER_EV_A

    force = mm.PythonForce(compute)
    force.setUsesPeriodicBoundaryConditions(True)
    return force


def limit_threads(threads):
    """Run this process's torch (and so the plugin's models) on `threads` threads."""
    import torch
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:   # allowed only before torch's first parallel work
        pass


def make_context(scheme, system_data, platform, seed=1, temperature=TEMPERATURE, threads=None):
    """A Context running one scheme (a dict from schemes()) on the given system.
    threads: the CPU platform's thread count (None: OpenMM's default); the models'
    torch threads are set for the whole process by limit_threads()."""
    import openmm as mm
    from openmm.mtsintegrator import MTSLangevinIntegrator
    from . import SwitchingDPForce
    positions, elements, masses, box = system_data
    system = mm.System()
    for m in masses:
        system.addParticle(m)
    system.setDefaultPeriodicBoxVectors(*[mm.Vec3(*v) for v in box])
    if scheme.get("python_force"):
        force = deeppot_python_force(scheme["accurate"], elements)
    else:
        force = SwitchingDPForce(scheme["accurate"], scheme["fast"])
        force.setTypes(elements)
        force.setAccurateInterval(scheme.get("interval", 1))
        if scheme.get("guard"):
            force.setDeviationCheckInterval(1)
            force.setDeviationThreshold(scheme["guard"])
    if scheme.get("inner"):
        force.setMode(SwitchingDPForce.MultipleTimeStep)
        force.setSlowForceGroup(SLOW_GROUP)
        if scheme.get("residual"):
            force.setSlowTerm(SwitchingDPForce.Residual)
        integrator = MTSLangevinIntegrator(temperature, FRICTION, scheme["dt"], [(SLOW_GROUP, 1), (0, scheme["inner"])])
    else:
        integrator = mm.LangevinMiddleIntegrator(temperature, FRICTION, scheme["dt"])
    system.addForce(force)
    integrator.setRandomNumberSeed(seed)
    properties = {"Threads": str(threads)} if threads and platform == "CPU" else {}
    context = mm.Context(system, integrator, mm.Platform.getPlatformByName(platform), properties)
    context.setPositions([mm.Vec3(*p) for p in positions])
    context.setVelocitiesToTemperature(temperature, seed)
    return context


def timed_steps_per_second(context, steps):
    context.getState(getEnergy=True)   # finish queued work before timing
    start = time.perf_counter()
    context.getIntegrator().step(steps)
    context.getState(getEnergy=True)
    return steps / (time.perf_counter() - start)


def schemes(accurate, fast, interval, inner, dt_fs, baseline=False, other_fast=(), residual=None, guard=None):
    """The runs to compare, by name; accurate-only first (the reference).  Each
    switching run names the fast-only run that times its fast model ("fast_run").
    other_fast: more fast models (e.g. a compressed float32 one), each with its own
    fast-only and alternating runs.  residual: a model co-trained with `fast` (Fu et al.),
    run as rRESPA with E = E_fast + E_residual.  guard: a deviation threshold (eV/A)
    for one more alternating run, guarded (checks on every accurate step)."""
    dt = dt_fs * 1e-3
    runs = {"accurate-only": dict(kind="accurate", accurate=accurate, fast=fast, interval=1, dt=dt)}
    for i, model in enumerate([fast, *other_fast]):
        tag = "" if i == 0 else f" ({os.path.basename(model)})"
        runs["fast-only" + tag] = dict(kind="fast", accurate=model, fast=model, interval=1, dt=dt,
                                       fast_run="fast-only" + tag)
        runs[f"alternating 1:{interval - 1}" + tag] = dict(kind="alternating", accurate=accurate, fast=model,
                                                           interval=interval, dt=dt, fast_run="fast-only" + tag)
        if i == 0:
            runs[f"rRESPA {dt_fs * inner:g}/{dt_fs:g} fs"] = dict(kind="mts", accurate=accurate, fast=fast,
                                                                  inner=inner, dt=dt * inner, fast_run="fast-only")
    if guard:
        runs[f"alternating 1:{interval - 1}, guarded at {guard:g} eV/A"] = dict(
            kind="alternating", accurate=accurate, fast=fast, interval=interval, dt=dt, guard=guard,
            fast_run="fast-only")
    if residual:
        runs[f"rRESPA {dt_fs * inner:g}/{dt_fs:g} fs, co-trained residual"] = dict(
            kind="mts", accurate=residual, fast=fast, residual=True, inner=inner, dt=dt * inner, fast_run="fast-only")
    if baseline:
        runs["accurate, PythonForce + DeepPot"] = dict(kind="baseline", accurate=accurate, python_force=True, dt=dt)
    return runs


def lammps_schemes(runs):
    """The LAMMPS counterparts of the plugin's single-model and rRESPA runs, named
    "LAMMPS " + the plugin run's name.  terms: the (scale, model) pair styles summed
    (for rRESPA the first is the inner one).  Alternation has no counterpart: LAMMPS
    cannot switch models by step."""
    out = {}
    for name, scheme in runs.items():
        if scheme["kind"] in ("accurate", "fast"):
            terms = [(1.0, scheme["accurate"])]
        elif scheme["kind"] == "mts":
            slow = [(1.0, scheme["accurate"])] if scheme.get("residual") else \
                [(1.0, scheme["accurate"]), (-1.0, scheme["fast"])]
            terms = [(1.0, scheme["fast"])] + slow
        else:
            continue
        counterpart = dict(scheme, terms=terms, plugin_run=name)
        if "fast_run" in scheme:
            counterpart["fast_run"] = LAMMPS_PREFIX + scheme["fast_run"]
        out[LAMMPS_PREFIX + name] = counterpart
    return out


@functools.lru_cache(maxsize=None)
def model_precision(path):
    """"float32" if any floating-point weight of a frozen model is float32, else "float64"."""
    import ctypes
    import torch
    from . import deepmd_ops
    # Frozen deepmd-kit models reference deepmd's operators, whose library needs MPI.
    if deepmd_ops.op_library():
        if deepmd_ops.mpi_library():
            ctypes.CDLL(deepmd_ops.mpi_library(), mode=ctypes.RTLD_GLOBAL)
        torch.ops.load_library(deepmd_ops.op_library())
    model = torch.jit.load(path, map_location="cpu")
    tensors = list(model.parameters()) + list(model.buffers())
    return "float32" if any(t.dtype == torch.float32 for t in tensors) else "float64"


def ideal_speedup(scheme, speed, reference="accurate-only"):
    """The speedup over accurate-only (`reference`) if only model time counted, from the
    measured steps/s of accurate-only and of the scheme's fast model alone
    (r = t_fast / t_accurate)."""
    if scheme["kind"] in ("accurate", "baseline"):
        return 1.0   # the baseline runs the same model
    r = speed[reference] / speed[scheme["fast_run"]]
    if scheme["kind"] == "fast":
        return 1.0 / r
    if scheme["kind"] == "alternating":
        n = scheme["interval"]
        return n / (1 + (n - 1) * r)
    # rRESPA: one slow evaluation per k fast ones.  A residual model is costed as the
    # accurate model (the bundled one has the same cutoff, sel and network sizes).
    k = scheme["inner"]
    return k / (1 + k * r)


def measure(args, copies):
    """Rows (scheme, steps/s, ns/day, speedup, ideal, efficiency) for one system size,
    and with --lammps the comparison with LAMMPS (else None): one tuple per LAMMPS run
    (plugin run, plugin steps/s, LAMMPS steps/s, plugin/LAMMPS, plugin first-frame
    energy, LAMMPS's, relative difference, tolerance), energies in kJ/mol.

    The schemes are timed in interleaved rounds and each keeps its median, so a
    machine that slows down or speeds up during the run affects all of them alike."""
    import openmm.unit as u
    from . import SwitchingDPForce
    system_data = replicated_system(args.pdb, copies)
    runs = schemes(args.accurate, args.fast, args.interval, args.inner_steps, args.timestep, args.baseline,
                   args.other_fast, args.residual)
    lammps_runs = lammps_schemes(runs) if args.lammps else {}
    steps = max(4 * args.inner_steps, args.steps // copies**3)
    contexts = {name: make_context(scheme, system_data, args.platform, threads=args.threads)
                for name, scheme in runs.items()}
    # The plugin's energy at the input coordinates, for the check against LAMMPS.
    first_energy = {scheme["plugin_run"]: contexts[scheme["plugin_run"]].getState(getEnergy=True)
                    .getPotentialEnergy().value_in_unit(u.kilojoule_per_mole) for scheme in lammps_runs.values()}
    # Every round starts from the state after the warm-up, so all rounds time the same
    # stretch of dynamics, and a fast model that would drift off over a long run
    # (a blow-up) cannot end the measurement.
    warm = {}
    for name, context in contexts.items():
        context.getIntegrator().step(args.warmup)
        warm[name] = context.getState(getPositions=True, getVelocities=True)
    samples = {name: [] for name in [*runs, *lammps_runs]}
    lammps_energy = {}
    workspace = tempfile.TemporaryDirectory(prefix="switchingdp-lammps-") if lammps_runs else contextlib.nullcontext()
    with workspace as workdir:
        if lammps_runs:
            data_file = os.path.join(workdir, "system.data")
            type_names = lammps.write_data(data_file, *system_data)
            force = SwitchingDPForce.cast(contexts["accurate-only"].getSystem().getForce(0))
            skin = force.getNeighborListSkin().value_in_unit(u.angstrom)   # the plugin's
        for _ in range(args.rounds):
            for name, scheme in runs.items():
                contexts[name].setState(warm[name])
                outer = max(1, steps // (args.rounds * scheme.get("inner", 1)))
                samples[name].append(timed_steps_per_second(contexts[name], outer))
            # One lmp process per LAMMPS run: start-up and model loading are not timed
            # (LAMMPS's loop time), its warm-up is the plugin's.
            for i, (name, scheme) in enumerate(lammps_runs.items()):
                outer = max(1, steps // (args.rounds * scheme.get("inner", 1)))
                script = lammps.input_script(data_file, type_names, scheme["terms"], scheme["dt"], outer,
                                             warmup=args.warmup, inner=scheme.get("inner"),
                                             temperature=TEMPERATURE, friction=FRICTION, skin=skin)
                result = lammps.run(script, workdir, f"run{i}", threads=args.threads or 1)
                samples[name].append(result.steps_per_second)
                lammps_energy.setdefault(name, result.first_energy)
    all_runs = {**runs, **lammps_runs}
    speed = {name: float(np.median(samples[name])) for name in all_runs}
    ns_day = {name: ns_per_day(speed[name], all_runs[name]["dt"]) for name in all_runs}
    r = speed["accurate-only"] / speed["fast-only"]   # t_fast / t_accurate
    rows = []
    for name, scheme in all_runs.items():
        # LAMMPS rows are measured against LAMMPS accurate-only, the plugin's against its own.
        reference = LAMMPS_PREFIX + "accurate-only" if name in lammps_runs else "accurate-only"
        speedup = ns_day[name] / ns_day[reference]
        ideal = ideal_speedup(scheme, speed, reference)
        rows.append((name, speed[name], ns_day[name], speedup, ideal, speedup / ideal))
    comparison = None
    if lammps_runs:
        comparison = []
        for name, scheme in lammps_runs.items():
            plugin_run = scheme["plugin_run"]
            plugin_e, lammps_e = first_energy[plugin_run], lammps_energy[name]
            precision = "float32" if any(model_precision(m) == "float32" for _, m in scheme["terms"]) else "float64"
            comparison.append((plugin_run, speed[plugin_run], speed[name], speed[plugin_run] / speed[name],
                               plugin_e, lammps_e, abs(lammps_e - plugin_e) / abs(plugin_e),
                               ENERGY_TOLERANCE[precision]))
    return len(system_data[0]), steps, r, rows, comparison


def print_comparison(comparison, threads):
    """The plugin/LAMMPS table and the first-frame energy check; raises EnergyMismatch."""
    print(f"\nLAMMPS (pair_style deepmd) rows: the same models on the same coordinates, {threads} thread(s) "
          "in both engines; their speedup, ideal and efficiency are against LAMMPS accurate-only.")
    print("| model / scheme | plugin steps/s | LAMMPS steps/s | plugin/LAMMPS | "
          "first-frame energy, plugin (kJ/mol) | LAMMPS (kJ/mol) | relative difference |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, plugin_sps, lammps_sps, ratio, plugin_e, lammps_e, rel, _ in comparison:
        print(f"| {name} | {plugin_sps:.2f} | {lammps_sps:.2f} | {ratio:.2f}x | {plugin_e:.10f} | "
              f"{lammps_e:.10f} | {rel:.1e} |")
    bad = [(name, rel, tol) for name, *_, rel, tol in comparison if rel > tol]
    worst = max(rel for *_, rel, _ in comparison)
    print(f"first-frame energy check, plugin vs LAMMPS: largest relative difference {worst:.1e} "
          f"(tolerance {ENERGY_TOLERANCE['float64']:g} for float64 models, "
          f"{ENERGY_TOLERANCE['float32']:g} with a float32 model): {'FAILED' if bad else 'ok'}")
    sys.stdout.flush()
    if bad:
        raise EnergyMismatch("plugin and LAMMPS first-frame energies differ: " + ", ".join(
            f"{name} {rel:.1e} > {tol:g}" for name, rel, tol in bad))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="switchingdp-bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accurate", default=bundled.ACCURATE_MODEL)
    parser.add_argument("--fast", default=bundled.FAST_MODEL)
    parser.add_argument("--pdb", default=bundled.WATER_PDB)
    parser.add_argument("--replicate", type=int, nargs="+", default=[1, 2],
                        help="tile the PDB box n x n x n times; one table per value")
    parser.add_argument("--interval", type=int, default=4, help="alternation: accurate on 1 step in this many")
    parser.add_argument("--inner-steps", type=int, default=4, help="rRESPA: inner steps per outer step")
    parser.add_argument("--timestep", type=float, default=0.5, help="inner time step, fs")
    parser.add_argument("--steps", type=int, default=200, help="timed inner steps per run at the smallest size")
    parser.add_argument("--warmup", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds; the median is kept")
    parser.add_argument("--platform", default="CPU")
    parser.add_argument("--other-fast", nargs="+", default=[], metavar="MODEL",
                        help="more fast models to compare (e.g. a compressed float32 one)")
    parser.add_argument("--residual", metavar="MODEL",
                        help="also time rRESPA with this residual model co-trained with --fast (Fu et al.)")
    parser.add_argument("--no-baseline", dest="baseline", action="store_false",
                        help="skip the PythonForce + DeepPot baseline (it needs deepmd-kit)")
    parser.add_argument("--lammps", action="store_true",
                        help="also time accurate-only, fast-only and rRESPA in LAMMPS (pair_style deepmd) "
                             "and compare speeds and first-frame energies; implies --threads 1 unless given")
    parser.add_argument("--threads", type=int,
                        help="CPU threads for the plugin (OpenMM CPU platform and torch) and LAMMPS "
                             "(default: each library's own, 1 with --lammps)")
    args = parser.parse_args(argv)
    if min(args.interval, args.inner_steps, args.steps, args.rounds, *args.replicate) < 1:
        parser.error("--interval, --inner-steps, --steps, --rounds and --replicate must be at least 1")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be at least 1")
    if args.lammps:
        reason = lammps.unavailable_reason()
        if reason:
            parser.error(f"--lammps: {reason}")
        if args.threads is None:
            args.threads = 1   # LAMMPS runs one thread: the fair comparison
    if args.threads:
        limit_threads(args.threads)

    results = []
    for copies in args.replicate:
        atoms, steps, r, rows, comparison = measure(args, copies)
        results.append((atoms, rows) if comparison is None else (atoms, rows, comparison))
        threads = f", {args.threads} thread(s)" if args.threads else ""
        print(f"\n{atoms} atoms on {args.platform}{threads}, {steps} timed inner steps per scheme in {args.rounds} "
              f"interleaved rounds (median), t_fast/t_accurate = {r:.2f}")
        print("| scheme | steps/s | ns/day | speedup vs accurate-only | ideal | efficiency |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, sps, nsd, speedup, ideal, efficiency in rows:
            print(f"| {name} | {sps:.2f} | {nsd:.3f} | {speedup:.2f}x | {ideal:.2f}x | {efficiency:.0%} |")
        sys.stdout.flush()
        if comparison is not None:
            print_comparison(comparison, args.threads)
    return results


def command(argv=None):
    """The console script: main() returns its results for Python callers, which the
    script must not hand to sys.exit (that prints them and exits with status 1)."""
    try:
        main(argv)
    except EnergyMismatch as error:
        print(f"switchingdp-bench: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    command()
