"""The native se_e2_a path (the plugin evaluates the environment matrix, embedding and
fitting nets, or the compressed tables, itself instead of running the frozen module's
TorchScript) against deepmd-kit's own inference, DeepPot on the same file, and against
the plugin's TorchScript path (setUseNativePath(False)).

Every se_e2_a model in the repository (the bundled water models, tests/data/fparam.pth
and aparam.pth) and the tiny fixtures of tests/data/make_native_fixtures.py (one/two-
sided, exclusions, three types with gelu, float32, compressed, a sel the water
overflows) runs on the native path, and on the Reference platform matches DeepPot to
1e-12 relative in float64, 1e-6 in compressed float64 and 4e-6 in float32 (see
FLOAT32_TOLERANCE): the energy relative to |E|, the forces as max|dF| / max|F_ref|.
Three geometries: the bundled water (cubic), the same molecules mapped into a triclinic
cell (reduced form, every atom wrapped into it) and a non-periodic cluster of 12
molecules.  The three-type model sees every 5th hydrogen typed "C".

One Context per model serves all of that: particles 0-191 are the water (cubic, then
triclinic box), particles 192-227 the cluster, and four one-model forces in their own
force groups evaluate them, native and TorchScript each (TorchScript on the triclinic
water and the cluster only: it is the slow path).

On the CPU and OpenCL platforms (one Context each, shared by the tests; OpenCL in double
precision, on pocl's CPU device where there is no GPU) a pair of native models runs as
the accurate and the fast model, in alternation (interval 2: step 0 accurate, step 1
fast) and in MultipleTimeStep mode (the slow group holds accurate - fast).

Last, the torch profiler counts the aten operators of one native evaluation of the
bundled 6 A model at 192 atoms: no host synchronisation (item, nonzero, masked_select,
unique) and at most 400 operators, fewer than the TorchScript path (~2,300)."""
import collections
import functools
import glob
import json
import os

import numpy as np
import openmm as mm
import pytest

from helpers import ACCURATE, ROOT, WATER, deepmd_energy_forces, make_context, make_system, water
from openmmswitchingdp import SwitchingDPForce
from test_model_families import parameters, second_configuration
from test_opencl import _opencl_unavailable

DATA = os.path.join(ROOT, "tests", "data")
REPOSITORY_MODELS = [os.path.join(WATER, f) for f in (
    "water_4A.pth", "water_4A_distilled.pth", "water_4A_fp32.pth", "water_4A_fp32_compressed.pth",
    "water_4A_weak.pth", "water_6A.pth", "water_6A_distilled_residual.pth", "water_6A_fp32.pth",
    "water_6A_residual.pth")] + [os.path.join(DATA, f) for f in ("fparam.pth", "aparam.pth")]
FIXTURES = [os.path.join(DATA, f) for f in (
    "se_a_two_side.pth", "se_a_one_side.pth", "se_a_three_types.pth", "se_a_fp32.pth",
    "se_a_fp32_compressed.pth", "se_a_one_side_compressed.pth", "se_a_small_sel.pth")]
MODELS = {os.path.basename(p): p for p in REPOSITORY_MODELS + FIXTURES}
GEOMETRIES = ["cubic", "triclinic", "non-periodic"]
# OpenMM reduced form: a = (a_x, 0, 0), b = (b_x, b_y, 0), c = (c_x, c_y, c_z) with
# |b_x|, |c_x| <= a_x / 2 and |c_y| <= b_y / 2.  Volume 1.934 nm^3 (the cubic box: 1.907).
TRICLINIC = np.array([[1.24, 0, 0], [0.3, 1.2, 0], [-0.2, 0.25, 1.3]])
C_EVERY = 5           # every 5th hydrogen is typed "C" for a model whose type_map has C
CLUSTER_MOLECULES = 12
NATIVE, TORCHSCRIPT = "native", "torchscript"
# Float32 models: 1e-6 is within float32 noise here.  The plugin's TorchScript path
# itself differs from DeepPot by up to 1.2e-6 (energy) and 1.0e-6 (max|dF| / max|F|) on
# the bundled water_4A_fp32 / water_6A_fp32 (float32 sums in another order: the energy
# of 36-192 atoms summed in float32, displacements from float32-rounded coordinates),
# and the native path by up to 1.6e-6.  A model run in the wrong precision is off by
# ~1.5e-5 (test_deepmd_agreement), a wrong neighbour or term by far more.
FLOAT32_TOLERANCE = 4e-6
FORBIDDEN_OPS = {"aten::nonzero", "aten::item", "aten::_local_scalar_dense", "aten::masked_select", "aten::unique"}
MAX_NATIVE_OPS = 400


# --- models -------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def model_meta(path):
    """What the frozen module says: descriptor type, precision, compressed, type_map, sel, rcut (A)."""
    import deepmd.pt  # noqa: F401  (deepmd-kit's custom ops, which compressed models call)
    import torch
    module = torch.jit.load(path, map_location="cpu")
    script = json.loads(module.get_model_def_script())
    descriptor = script["descriptor"]
    se_a = descriptor["type"] in ("se_e2_a", "se_a")
    return {"type": descriptor["type"], "precision": descriptor.get("precision"),
            "compressed": se_a and bool(module.atomic_model.descriptor.compress),
            "type_map": list(script["type_map"]), "sel": descriptor.get("sel"), "rcut": descriptor.get("rcut")}


def tolerance(path):
    """Relative tolerance against deepmd-kit (and between the plugin's two paths):
    float64 sums the same terms in another order (seen: <= 5e-14); compressed float64
    evaluates the same table (seen: 1e-14; 1e-6 allowed for another spline evaluation);
    float32 rounds differently, see FLOAT32_TOLERANCE."""
    meta = model_meta(path)
    if meta["precision"] != "float64":
        return FLOAT32_TOLERANCE
    return 1e-6 if meta["compressed"] else 1e-12


def relative_errors(energy, forces, ref_energy, ref_forces):
    return abs(energy - ref_energy) / abs(ref_energy), np.abs(forces - ref_forces).max() / np.abs(ref_forces).max()


def assert_close(got, ref, tol, what):
    de, df = relative_errors(*got, *ref)
    assert de <= tol and df <= tol, f"{what}: energy {de:.2e}, forces {df:.2e} relative (tolerance {tol:g})"


# --- geometries -----------------------------------------------------------------------

def wrap(positions, box):
    fractional = positions @ np.linalg.inv(box)
    return (fractional - np.floor(fractional)) @ box


@functools.lru_cache(maxsize=None)
def cluster_indices():
    """The CLUSTER_MOLECULES molecules (O, H, H) whose oxygens are nearest the centre."""
    positions = water()[0]
    oxygens = np.arange(0, len(positions), 3)
    centre = positions[oxygens].mean(axis=0)
    nearest = oxygens[np.argsort(np.linalg.norm(positions[oxygens] - centre, axis=1))[:CLUSTER_MOLECULES]]
    return np.sort(np.concatenate([nearest, nearest + 1, nearest + 2]))


@functools.lru_cache(maxsize=None)
def geometry(name):
    """(positions nm, box or None, particle indices into the water's element list)."""
    positions, _, _, box = water()
    if name == "cubic":
        # Wrapped here, in float64: deepmd-kit casts the coordinates of a float32 model to
        # float32 before it wraps them, which moves an atom outside the box by ~1e-6 A
        # (8.9e-6 of max|F| for water_4A_distilled.pth, by the TorchScript path too).
        return wrap(positions, box), box, np.arange(len(positions))
    if name == "triclinic":
        # Each molecule moves with its oxygen under the map taking the cubic cell onto the
        # triclinic one (shapes kept, no close contacts: >= 1.28 A between molecules), then
        # every atom is wrapped into the cell (molecules broken across its faces).
        oxygens = positions[0::3]
        mapped = oxygens @ np.linalg.inv(box) @ TRICLINIC
        moved = positions + np.repeat(mapped - oxygens, 3, axis=0)
        return wrap(moved, TRICLINIC), TRICLINIC, np.arange(len(positions))
    if name == "non-periodic":
        idx = cluster_indices()
        return positions[idx], None, idx
    raise KeyError(name)


def model_elements(path):
    """The water's element names in the model's terms: with "C" in its type_map, every
    C_EVERY-th hydrogen is a C."""
    elements = list(water()[1])
    if "C" not in model_meta(path)["type_map"]:
        return elements
    hydrogens = [i for i, e in enumerate(elements) if e == "H"]
    for i in hydrogens[C_EVERY - 1::C_EVERY]:
        elements[i] = "C"
    return elements


@functools.lru_cache(maxsize=None)
def reference(name, geometry_name):
    """deepmd-kit's energy (kJ/mol) and forces (kJ/mol/nm) for one model and geometry."""
    path = MODELS[name]
    positions, box, idx = geometry(geometry_name)
    elements = [model_elements(path)[i] for i in idx]
    frame, atomic = parameters(path, len(idx))
    return deepmd_energy_forces(path, positions, elements, box, frame, atomic)


# --- the plugin on the Reference platform: one Context per model ---------------------

# force group -> (particles: "water" or "cluster", native path)
ROLES = [("water", True), ("water", False), ("cluster", True), ("cluster", False)]
TORCHSCRIPT_GEOMETRIES = ["triclinic", "non-periodic"]   # the TorchScript path is the slow one


def group_energy_forces(context, group):
    state = context.getState(getEnergy=True, getForces=True, groups={group})
    return (state.getPotentialEnergy().value_in_unit(mm.unit.kilojoule_per_mole),
            np.array(state.getForces(asNumpy=True).value_in_unit(mm.unit.kilojoule_per_mole / mm.unit.nanometer)))


@functools.lru_cache(maxsize=None)
def plugin_results(name):
    """{"engines": [...], "notes": [...], (geometry, native): (energy, forces of its particles)}."""
    path = MODELS[name]
    elements = model_elements(path)
    _, _, masses, _ = water()
    n = len(elements)
    cluster = cluster_indices()
    system = mm.System()
    for m in list(masses) + [masses[i] for i in cluster]:
        system.addParticle(m)
    # A triclinic default box lets the Context take the cubic one too.
    system.setDefaultPeriodicBoxVectors(*[mm.Vec3(*v) for v in TRICLINIC])
    forces = []
    for group, (part, native) in enumerate(ROLES):
        force = SwitchingDPForce(path)
        force.setUseNativePath(native)
        if part == "water":
            particles, types = list(range(n)), elements
        else:
            particles, types = list(range(n, n + len(cluster))), [elements[i] for i in cluster]
        force.setUsesPeriodicBoundaryConditions(part == "water")
        force.setParticles(particles)
        force.setTypes(types)
        frame, atomic = parameters(path, len(particles))
        force.setFrameParameters(frame)
        force.setAtomicParameters(atomic)
        force.setForceGroup(group)
        system.addForce(force)
        forces.append(force)
    acc = SwitchingDPForce.Accurate
    results = {"engines": [f.getModelEngine(acc) for f in forces], "notes": [f.getModelEngineNote(acc) for f in forces],
               "use_native": [f.getUseNativePath() for f in forces]}
    context = mm.Context(system, mm.VerletIntegrator(0.0005), mm.Platform.getPlatformByName("Reference"))
    cluster_positions = geometry("non-periodic")[0]
    for geometry_name in ("cubic", "triclinic"):
        positions, box, _ = geometry(geometry_name)
        context.setPeriodicBoxVectors(*[mm.Vec3(*v) for v in box])
        context.setPositions(np.concatenate([positions, cluster_positions]))
        for group in (0, 1) if geometry_name in TORCHSCRIPT_GEOMETRIES else (0,):
            energy, f = group_energy_forces(context, group)
            results[(geometry_name, ROLES[group][1])] = (energy, f[:n])
    for group in (2, 3):
        energy, f = group_energy_forces(context, group)
        results[("non-periodic", ROLES[group][1])] = (energy, f[n:])
    results["counts"] = [list(f.getEvaluationCounts(context)) for f in forces]
    return results


@pytest.mark.parametrize("name", MODELS)
def test_engine_is_native(name):
    """getModelEngine says "native" (with no note) by default, "torchscript" after
    setUseNativePath(False); the forces of the agreement tests' Context."""
    results = plugin_results(name)
    assert results["use_native"] == [native for _, native in ROLES]
    assert results["engines"] == [NATIVE if native else TORCHSCRIPT for _, native in ROLES], results["notes"]
    assert results["notes"][0] == ""
    # native: cubic + triclinic water, the cluster once; TorchScript: triclinic, cluster.
    assert results["counts"] == [[2, 0], [1, 0], [1, 0], [1, 0]]


@pytest.mark.parametrize("geometry_name", GEOMETRIES)
@pytest.mark.parametrize("name", MODELS)
def test_native_matches_deepmd(name, geometry_name):
    got = plugin_results(name)[(geometry_name, True)]
    assert_close(got, reference(name, geometry_name), tolerance(MODELS[name]), f"{name} {geometry_name} native vs DeepPot")


@pytest.mark.parametrize("geometry_name", TORCHSCRIPT_GEOMETRIES)
@pytest.mark.parametrize("name", MODELS)
def test_native_matches_torchscript(name, geometry_name):
    results = plugin_results(name)
    assert_close(results[(geometry_name, True)], results[(geometry_name, False)], tolerance(MODELS[name]),
                 f"{name} {geometry_name} native vs TorchScript path")


def test_every_se_e2_a_model_in_the_repository_is_covered():
    """A new se_e2_a model in examples/water or tests/data joins MODELS (or is the
    fixture that must stay on TorchScript)."""
    found = {p for p in glob.glob(os.path.join(WATER, "*.pth")) + glob.glob(os.path.join(DATA, "*.pth"))
             if model_meta(p)["type"] in ("se_e2_a", "se_a")}
    assert found == set(MODELS.values()) | {UNSUPPORTED}


UNSUPPORTED = os.path.join(DATA, "se_a_silut.pth")   # its fitting net's "silut:3.0" has no native form


def test_unsupported_setting_runs_torchscript_and_says_why(capfd):
    force = SwitchingDPForce(UNSUPPORTED)
    assert force.getModelEngine(SwitchingDPForce.Accurate) == TORCHSCRIPT
    note = force.getModelEngineNote(SwitchingDPForce.Accurate)
    assert "se_a_silut.pth" in note and "activation function 'silut:3.0'" in note
    for other in (ACCURATE, os.path.join(DATA, "se_e2_r.pth")):   # native; another family: no note
        assert SwitchingDPForce(other).getModelEngineNote(SwitchingDPForce.Accurate) == ""
    positions, elements, masses, box = water()
    capfd.readouterr()
    context = make_context(make_system(masses, box, force, elements), positions)
    lines = [line for line in capfd.readouterr().err.splitlines() if "not the native path" in line]
    assert lines == [note], "one line on stderr when the model is loaded, the same as the note"
    state = context.getState(getEnergy=True, getForces=True)
    energy = state.getPotentialEnergy().value_in_unit(mm.unit.kilojoule_per_mole)
    forces = state.getForces(asNumpy=True).value_in_unit(mm.unit.kilojoule_per_mole / mm.unit.nanometer)
    ref_energy, ref_forces = deepmd_energy_forces(UNSUPPORTED, positions, elements, box)
    assert abs(energy - ref_energy) <= 1e-12 * abs(ref_energy)
    assert np.abs(forces - ref_forces).max() <= 1e-12 * np.abs(ref_forces).max()


def test_fixtures_are_what_they_claim():
    """The fixture properties the agreement tests rely on (make_native_fixtures.py)."""
    for path in FIXTURES:
        assert model_meta(path)["type"] == "se_e2_a", path
    three = MODELS["se_a_three_types.pth"]
    assert model_meta(three)["type_map"] == ["O", "H", "C"]
    for geometry_name in GEOMETRIES:
        idx = geometry(geometry_name)[2]
        carbons = sum(model_elements(three)[i] == "C" for i in idx)
        assert carbons >= 2, f"{geometry_name}: {carbons} atoms typed C"
    assert [(model_meta(MODELS[f])["precision"], model_meta(MODELS[f])["compressed"])
            for f in ("se_a_fp32.pth", "se_a_fp32_compressed.pth", "se_a_one_side_compressed.pth")] == \
        [("float32", False), ("float32", True), ("float64", True)]
    # se_a_small_sel: nearly every atom of the water has more O and more H neighbours
    # within rcut than sel keeps, in both periodic geometries.
    small = model_meta(MODELS["se_a_small_sel.pth"])
    elements = np.array(water()[1])
    for geometry_name in ("cubic", "triclinic"):
        positions, box, _ = geometry(geometry_name)
        d = positions[:, None, :] - positions[None, :, :]
        fractional = d @ np.linalg.inv(box)
        d = (fractional - np.round(fractional)) @ box
        r = np.linalg.norm(d, axis=-1) / 0.1   # A
        np.fill_diagonal(r, np.inf)
        for t, n in zip(small["type_map"], small["sel"]):
            over = ((r < small["rcut"])[:, elements == t].sum(axis=1) > n).mean()
            assert over > 0.8, f"{geometry_name}: only {100 * over:.0f}% of atoms overflow sel {n} of {t}"


# --- CPU and OpenCL: alternation and MultipleTimeStep with native models -------------

PAIR_ACCURATE = os.path.join(DATA, "se_a_two_side.pth")          # float64
PAIR_FAST = os.path.join(DATA, "se_a_fp32_compressed.pth")       # float32, compressed
ALTERNATING_GROUP, MTS_FAST_GROUP, MTS_SLOW_GROUP = 0, 1, 2
PLATFORM_FORCE_TOLERANCE = {"CPU": 0.0, "OpenCL": 1e-9}   # OpenCL double: 2^-32 fixed-point force sums


@pytest.fixture(scope="module", params=["CPU", "OpenCL"])
def pair_context(request):
    """One Context (one OpenCL kernel compilation) holding an alternating force (group 0,
    interval 2: step 0 accurate, step 1 fast) and a MultipleTimeStep force (fast model
    in group 1, accurate - fast in group 2), both with the native pair."""
    platform = request.param
    if platform == "OpenCL":
        reason = _opencl_unavailable()
        if reason:
            pytest.skip(reason)
    positions, elements, masses, box = water()
    system = mm.System()
    for m in masses:
        system.addParticle(m)
    system.setDefaultPeriodicBoxVectors(*[mm.Vec3(*v) for v in box])
    alternating = SwitchingDPForce(PAIR_ACCURATE, PAIR_FAST)
    alternating.setAccurateInterval(2)
    alternating.setAccuratePhase(0)
    alternating.setForceGroup(ALTERNATING_GROUP)
    mts = SwitchingDPForce(PAIR_ACCURATE, PAIR_FAST)
    mts.setMode(SwitchingDPForce.MultipleTimeStep)
    mts.setSlowTerm(SwitchingDPForce.Difference)
    mts.setForceGroup(MTS_FAST_GROUP)
    mts.setSlowForceGroup(MTS_SLOW_GROUP)
    for force in (alternating, mts):
        force.setTypes(elements)
        system.addForce(force)
    properties = {"Precision": "double"} if platform == "OpenCL" else {}
    try:
        context = mm.Context(system, mm.VerletIntegrator(0.0005), mm.Platform.getPlatformByName(platform), properties)
    except mm.OpenMMException as error:
        if platform == "OpenCL":
            pytest.skip(f"no OpenCL device for double precision: {error}")
        raise
    context.setPositions(positions)
    return platform, context, alternating, mts


def pair_tolerance(platform, path):
    return max(tolerance(path), PLATFORM_FORCE_TOLERANCE[platform])


def test_pair_models_are_native(pair_context):
    _, _, alternating, mts = pair_context
    for force in (alternating, mts):
        for model in (SwitchingDPForce.Accurate, SwitchingDPForce.Fast):
            assert force.getModelEngine(model) == NATIVE, force.getModelEngineNote(model)


def test_alternation_picks_the_scheduled_model(pair_context):
    platform, context, alternating, _ = pair_context
    positions, elements, _, box = water()
    # Step 0 (float64 model): molecules moved by whole box vectors, atoms far outside the
    # box.  Step 1 (float32 model): another displaced configuration, wrapped in float64
    # (deepmd-kit would wrap it in float32, see geometry()).
    far = second_configuration(positions, box, seed=5)
    wrapped = wrap(second_configuration(positions, box, seed=6), box)
    before = np.array(alternating.getEvaluationCounts(context))
    assert alternating.getModelForStep(0) == SwitchingDPForce.Accurate
    assert alternating.getModelForStep(1) == SwitchingDPForce.Fast
    for step, coordinates, path in ((0, far, PAIR_ACCURATE), (1, wrapped, PAIR_FAST)):
        context.setStepCount(step)
        context.setPositions(coordinates)
        got = group_energy_forces(context, ALTERNATING_GROUP)
        ref = deepmd_energy_forces(path, coordinates, elements, box)
        assert_close(got, ref, pair_tolerance(platform, path),
                     f"{platform} step {step} vs DeepPot {os.path.basename(path)}")
    assert list(np.array(alternating.getEvaluationCounts(context)) - before) == [1, 1]


def test_mts_groups_hold_fast_and_accurate_minus_fast(pair_context):
    platform, context, _, mts = pair_context
    positions, elements, _, box = water()
    coordinates = wrap(second_configuration(positions, box, seed=9), box)
    context.setPositions(coordinates)
    before = np.array(mts.getEvaluationCounts(context))
    fast = group_energy_forces(context, MTS_FAST_GROUP)
    slow = group_energy_forces(context, MTS_SLOW_GROUP)
    ref_acc = deepmd_energy_forces(PAIR_ACCURATE, coordinates, elements, box)
    ref_fast = deepmd_energy_forces(PAIR_FAST, coordinates, elements, box)
    tol_acc, tol_fast = pair_tolerance(platform, PAIR_ACCURATE), pair_tolerance(platform, PAIR_FAST)
    assert_close(fast, ref_fast, tol_fast, f"{platform} MTS fast group")
    # The difference's error is bounded by those of its terms (relative to each term).
    e_err = abs(slow[0] - (ref_acc[0] - ref_fast[0]))
    f_err = np.abs(slow[1] - (ref_acc[1] - ref_fast[1])).max()
    assert e_err <= tol_acc * abs(ref_acc[0]) + tol_fast * abs(ref_fast[0]), f"{platform} MTS slow group energy"
    assert f_err <= tol_acc * np.abs(ref_acc[1]).max() + tol_fast * np.abs(ref_fast[1]).max(), \
        f"{platform} MTS slow group forces"
    assert list(np.array(mts.getEvaluationCounts(context)) - before) == [1, 1]


# --- the torch profiler: what one native evaluation costs in operators --------------

def profiled_model_ops(use_native):
    """The aten:: operators the model itself runs (the engine's profiler scope
    SwitchingDP::model) in one fresh evaluation of the bundled 6 A model at 192 atoms on
    the CPU platform: (names of the top-level operators, number of aten:: events
    including those nested inside operators)."""
    from torch.profiler import ProfilerActivity, profile
    positions, elements, masses, box = water()
    force = SwitchingDPForce(ACCURATE)
    force.setUseNativePath(use_native)
    context = make_context(make_system(masses, box, force, elements), positions, "CPU")
    for shift in (0.0, 1e-5):   # warm-up evaluations (first-call allocations, TorchScript profiling runs)
        context.setPositions(positions + shift)
        context.getState(getEnergy=True, getForces=True)
    context.setPositions(positions + 2e-5)   # moved: a fresh evaluation, not the cached result
    before = force.getEvaluationCounts(context)[SwitchingDPForce.Accurate]
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        context.getState(getEnergy=True, getForces=True)
    assert force.getEvaluationCounts(context)[SwitchingDPForce.Accurate] == before + 1
    assert force.getModelEngine(SwitchingDPForce.Accurate) == (NATIVE if use_native else TORCHSCRIPT)
    events = prof.events()
    scopes = [e for e in events if e.name == "SwitchingDP::model"]
    assert len(scopes) == 1, f"{len(scopes)} SwitchingDP::model scopes recorded (expected one evaluation)"
    start, end = scopes[0].time_range.start, scopes[0].time_range.end
    inside = [e for e in events if e.name.startswith("aten::") and start <= e.time_range.start and e.time_range.end <= end]
    top = [e.name for e in inside if e.cpu_parent is None or not e.cpu_parent.name.startswith("aten::")]
    return top, len(inside)


@pytest.mark.filterwarnings("ignore:.*Profiler clears events")
def test_native_evaluation_has_no_host_syncs_and_few_operators():
    native, native_all = profiled_model_ops(True)
    torchscript, torchscript_all = profiled_model_ops(False)
    counts = collections.Counter(native)
    print(f"\ntensor operators per evaluation of the model (water_6A.pth, 192 atoms, CPU): native {len(native)} "
          f"({native_all} aten:: events with those nested in operators), TorchScript {len(torchscript)} ({torchscript_all})")
    print("native, most frequent:", ", ".join(f"{n} {c}" for n, c in counts.most_common(8)))
    assert torchscript, "the profiler recorded no aten:: operators of the model (TorchScript path)"
    syncs = {name: counts[name] for name in FORBIDDEN_OPS if counts[name]}
    assert not syncs, f"host synchronising / data-dependent operators in the native path: {syncs}"
    assert len(native) <= MAX_NATIVE_OPS, f"{len(native)} tensor operators (at most {MAX_NATIVE_OPS})"
    assert len(native) < len(torchscript) / 2 and native_all < torchscript_all / 2
