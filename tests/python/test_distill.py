"""switchingdp-distill: the whole command on a tiny setting (interrupted and resumed),
its labels against deepmd-kit's own inference of the accurate model, frame selection
by deviation on scripted cases, and its refusals."""
import json
import os
import time

import numpy as np
import openmm as mm
import openmm.unit as u
import pytest

from helpers import ACCURATE, FAST, WATER_PDB, deep_pot
from openmmswitchingdp import SwitchingDPForce
from openmmswitchingdp.toolkit import distill
from openmmswitchingdp.toolkit.bench import model_precision
from openmmswitchingdp.toolkit.cli import distill as distill_command
from openmmswitchingdp.toolkit.schemes import ACCURATE as ACCURATE_ONLY, Scheme, Structure, build_context

# A few frames, a few hundred training steps, one round of selection (the trust levels
# are wide: a model trained this briefly deviates by several eV/A) and a short report.
TINY = dict(explore_ps=0.05, equilibration_ps=0.0, sample_interval_fs=5.0, train_steps=200, retrain_steps=100,
            rounds=1, trust_lo=0.0, trust_hi=1e6, min_improvement=0.0,
            survey_ps=0.025, starts_per_temperature=1, frames_per_round=4, validate_ps=0.1, bench_steps=8,
            descriptor_neurons=[4, 8], fitting_neurons=[8, 8], residual=True, residual_steps=200, nve_ps=0.05,
            nve_outer_fs=[2.0])


class Interrupt(Exception):
    pass


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """The command on TINY, interrupted after the first training and started again.
    Returns (work folder, stages of the first call, log of the second, seconds in all)."""
    out = str(tmp_path_factory.mktemp("distill") / "work")
    first_log, second_log = [], []

    def stop_after_training(stage):
        if stage == "train-0":
            raise Interrupt

    start = time.perf_counter()
    with pytest.raises(Interrupt):
        distill.distill(ACCURATE, WATER_PDB, out, log=first_log.append, progress=False,
                        on_stage=stop_after_training, **TINY)
    first_stages = list(json.load(open(os.path.join(out, "progress.json"))))
    checkpoint_time = os.path.getmtime(os.path.join(out, "round-0", "model.ckpt.pt"))
    result = distill.distill(ACCURATE, WATER_PDB, out, log=second_log.append, progress=False, **TINY)
    seconds = time.perf_counter() - start
    return out, first_stages, second_log, seconds, checkpoint_time, result


def test_the_tiny_run_makes_a_compressed_float32_model_that_the_plugin_runs(tiny_run):
    out, _, _, seconds, _, result = tiny_run
    print(f"tiny distillation, interrupted and resumed: {seconds:.0f} s")
    fast = os.path.join(out, "fast.pth")
    assert result["fast"] == fast and os.path.isfile(fast)
    assert model_precision(fast) == "float32"
    # Compressed: the tabulated model gives the float32 model's energy to table accuracy.
    best = json.load(open(os.path.join(out, "progress.json")))["final"]["best_round"]
    uncompressed = os.path.join(out, f"round-{best}", "fast_float32.pth")
    structure = Structure.from_pdb(WATER_PDB)
    energies = [build_context(Scheme(ACCURATE_ONLY, model), structure, "Reference", velocities=False)
                .getState(getEnergy=True).getPotentialEnergy().value_in_unit(u.kilojoule_per_mole)
                for model in (fast, uncompressed)]
    assert os.path.getsize(fast) != os.path.getsize(uncompressed)
    assert energies[0] == pytest.approx(energies[1], rel=1e-4)
    # The pair runs as a SwitchingDPForce, alternating, on the CPU platform.
    pair = Scheme("alternating", ACCURATE, fast, interval=4)
    context = build_context(pair, structure, "CPU")
    context.getIntegrator().step(8)
    force = SwitchingDPForce.cast(context.getSystem().getForce(0))
    assert list(force.getEvaluationCounts(context)) == [2, 6]
    assert np.isfinite(context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(u.kilojoule_per_mole))
    # The sel came from the data: every observed neighbour count fits with headroom.
    label = json.load(open(os.path.join(out, "progress.json")))["label"]
    sel = json.load(open(os.path.join(out, "round-0", "input.json")))["model"]["descriptor"]["sel"]
    assert sel == distill.sel_from_counts(label["neighbours"])
    assert all(s >= c for s, c in zip(sel, label["neighbours"]))


def test_the_report_has_the_rounds_accuracy_and_speed(tiny_run):
    out, *_ = tiny_run
    report = open(os.path.join(out, "report.md")).read()
    for heading in ("## Rounds", "## Accuracy", "## Speed"):
        assert heading in report
    for scheme in ("accurate-only", "fast-only", "alternating 1:3", "rRESPA 2/0.5 fs",
                   "rRESPA 2/0.5 fs, co-trained residual"):
        assert f"| {scheme} |" in report
    assert "## Speed (switchingdp-bench, 192 atoms," in report
    assert os.path.isfile(os.path.join(out, "validate", "rdf.png"))


def test_the_residual_is_trained_on_accurate_minus_fast_and_reported(tiny_run):
    """--residual: its labels are the accurate model's minus the fast model's (both by
    DeepPot here), and the report has rRESPA's NVE rows for both slow terms."""
    out, *_ = tiny_run
    accurate, fast = deep_pot(ACCURATE), deep_pot(os.path.join(out, "fast.pth"))
    folder = os.path.join(out, "residual-data", "explore", "training")
    coords, boxes, energies, forces = distill.read_system(folder)
    types = np.loadtxt(os.path.join(folder, "type.raw"), dtype=int)
    flat = coords.reshape(len(coords), -1), boxes.reshape(len(coords), 9)
    e_acc, f_acc, _ = accurate.eval(*flat, types)
    e_fast, f_fast, _ = fast.eval(*flat, types)
    assert energies == pytest.approx((e_acc - e_fast).reshape(-1), abs=1e-6 * np.abs(e_acc).max())
    assert np.abs(forces - (f_acc - f_fast).reshape(forces.shape)).max() < 1e-4
    residual = os.path.join(out, "residual.pth")
    assert deep_pot(residual).get_rcut() == accurate.get_rcut()
    report = open(os.path.join(out, "report.md")).read()
    for label in ("co-trained residual", "accurate - fast (DMTS)"):
        section = report[report.index(f"slow term = {label}"):]
        assert "| rRESPA 2/0.5 fs | 2 |" in section


def test_labels_equal_the_accurate_models_energies_and_forces(tiny_run):
    """The written data set against deepmd-kit's DeepPot on the same coordinates."""
    out, *_ = tiny_run
    model = deep_pot(ACCURATE)
    type_map = model.get_type_map()
    frames = 0
    for part in ("training", "validation"):
        folder = os.path.join(out, "data", "explore", part)
        assert open(os.path.join(folder, "type_map.raw")).read().split() == type_map
        types = np.loadtxt(os.path.join(folder, "type.raw"), dtype=int)
        elements = [a.element.symbol for a in Structure.from_pdb(WATER_PDB).topology.atoms()]
        assert [type_map[t] for t in types] == elements
        coords, boxes, energies, forces = distill.read_system(folder)
        expected_e, expected_f, _ = model.eval(coords.reshape(len(coords), -1), boxes.reshape(len(coords), 9), types)
        assert energies == pytest.approx(expected_e.reshape(-1), rel=1e-10)
        assert np.abs(forces - expected_f.reshape(forces.shape)).max() < 1e-8
        frames += len(coords)
    # 0.05 ps at 5 fs per temperature, two temperatures; one frame in 10 held out
    assert frames == 20
    # and the frames selected from the survey
    coords, boxes, energies, forces = distill.read_system(os.path.join(out, "data", "round-0", "training"))
    types = np.loadtxt(os.path.join(out, "data", "round-0", "training", "type.raw"), dtype=int)
    expected_e, expected_f, _ = model.eval(coords.reshape(len(coords), -1), boxes.reshape(len(coords), 9), types)
    assert len(coords) == 4
    assert energies == pytest.approx(expected_e.reshape(-1), rel=1e-10)
    assert np.abs(forces - expected_f.reshape(forces.shape)).max() < 1e-8
    survey = np.load(os.path.join(out, "round-0", "survey.npz"))
    # each frame's closest pair, stored once: brute force over the 27 nearest images
    shifts = np.array([[i, j, l] for i in (-1, 0, 1) for j in (-1, 0, 1) for l in (-1, 0, 1)], dtype=float)
    for coord, box, closest in zip(survey["coords"], survey["boxes"], survey["closest"]):
        delta = coord[:, None, None, :] - coord[None, :, None, :] + (shifts @ box)[None, None, :, :]
        distance = np.linalg.norm(delta, axis=3).min(axis=2)
        np.fill_diagonal(distance, np.inf)
        assert closest == pytest.approx(distance.min(), rel=1e-12)
    assert any(np.allclose(coords[0], c) for c in survey["coords"])
    assert len(distill.read_system(os.path.join(out, "data", "explore", "validation"))[0]) == 2


def test_an_interrupted_run_resumes_after_its_last_finished_stage(tiny_run):
    out, first_stages, second_log, _, checkpoint_time, _ = tiny_run
    assert first_stages == ["explore", "label", "train-0"]
    for stage in first_stages:
        assert f"[{stage}] done earlier, skipped" in second_log
    assert "[survey-0]" in second_log and "[report]" in second_log
    # round 0 was not trained again
    assert os.path.getmtime(os.path.join(out, "round-0", "model.ckpt.pt")) == checkpoint_time
    progress = json.load(open(os.path.join(out, "progress.json")))
    assert list(progress) == ["explore", "label", "train-0", "survey-0", "select-0", "train-1", "survey-1", "final",
                              "residual", "report"]
    assert progress["select-0"]["selected"] == 4
    assert progress["train-1"]["training_frames"] == progress["label"]["training"] + 4
    assert progress["final"]["best_round"] in (0, 1)
    # round 1 starts from round 0's weights
    commands = [line for line in open(os.path.join(out, "round-1", "train.log")) if line.startswith("$ ")]
    assert "--init-model" in commands[0] and os.path.join("round-0", "model.ckpt.pt") in commands[0]
    # and continues the first training's schedule from the retraining rate
    first, later = (json.load(open(os.path.join(out, f"round-{k}", "input.json"))) for k in (0, 1))
    assert first["learning_rate"]["start_lr"] == distill.START_LR
    assert later["learning_rate"]["start_lr"] == distill.Settings("", "", "").retrain_start_lr
    # A different run may not reuse the folder.
    with pytest.raises(ValueError, match="other settings.*rcut"):
        distill.distill(ACCURATE, WATER_PDB, out, log=lambda _: None, progress=False, **{**TINY, "rcut": 3.5})


def test_an_interrupted_training_restarts_from_its_last_checkpoint(tiny_run, tmp_path):
    """deepmd-kit killed mid-training (here by an interrupt while its progress is shown):
    started again, it continues from the last checkpoint instead of from scratch."""
    out, *_ = tiny_run
    settings = distill.Settings(ACCURATE, WATER_PDB, str(tmp_path), descriptor_neurons=[4, 8], fitting_neurons=[8, 8])
    config = distill.training_input(settings, ["O", "H"], [20, 40], 300,
                                    [os.path.join(out, "data", "explore", "training")],
                                    [os.path.join(out, "data", "explore", "validation")])
    config["training"].update(save_freq=50, disp_freq=10)
    folder = str(tmp_path / "train")

    class StopAfter100:
        def __init__(self, **_):
            self.shown = 0

        def update(self, steps):
            self.shown += steps
            if self.shown >= 100:
                raise Interrupt

        def close(self):
            pass
    with pytest.raises(Interrupt):
        distill.train(folder, config, 300, None, StopAfter100, "train")
    interrupted_at = int(os.path.realpath(os.path.join(folder, "model.ckpt.pt")).split("-")[-1][:-3])
    assert 50 <= interrupted_at < 300
    distill.train(folder, config, 300, None, distill.silent_bar, "train")
    commands = [line for line in open(os.path.join(folder, "train.log")) if line.startswith("$ ")]
    assert len(commands) == 2 and "--restart" not in commands[0] and "--restart" in commands[1]
    assert os.path.realpath(os.path.join(folder, "model.ckpt.pt")).endswith("model.ckpt-300.pt")
    # the second run began where the checkpoint was, not at step 0
    steps = [int(line.split()[0]) for line in open(os.path.join(folder, "lcurve.out"))
             if line.strip() and not line.startswith("#")]
    restart = next(i for i in range(1, len(steps)) if steps[i] <= steps[i - 1])   # deepmd-kit appends
    assert steps[restart] == interrupted_at and steps[-1] == 300 and steps.count(1) == 1


def test_retraining_continues_the_first_trainings_schedule(tmp_path):
    """A later round starts at retrain_start_lr with the loss weights the first training
    has at that rate (deepmd-kit moves them with the rate: limit + (start - limit) lr / start_lr),
    and ends where the first training ends."""
    settings = distill.Settings(ACCURATE, WATER_PDB, str(tmp_path))
    first, later = (distill.training_input(settings, ["O", "H"], [20, 40], 5000, ["t"], ["v"], start_lr=lr)
                    for lr in (distill.START_LR, 1e-4))
    loss, rate = first["loss"], first["learning_rate"]
    for name in ("e", "f"):
        at_1e4 = loss[f"limit_pref_{name}"] + (loss[f"start_pref_{name}"] - loss[f"limit_pref_{name}"]) * 1e-4 / rate["start_lr"]
        assert later["loss"][f"start_pref_{name}"] == pytest.approx(at_1e4, rel=1e-12)
        assert later["loss"][f"limit_pref_{name}"] == loss[f"limit_pref_{name}"]
    assert (loss["start_pref_e"], loss["start_pref_f"]) == (0.02, 1000)
    assert later["learning_rate"]["start_lr"] == 1e-4 and later["learning_rate"]["stop_lr"] == rate["stop_lr"]


def test_frames_are_classified_and_selected_by_the_trust_levels():
    deviations = np.array([0.1, 0.7, 5.0, np.nan, 0.59, 0.6, 3.99, 4.0, 2.0, 1.0])
    classes = distill.classify(deviations, 0.6, 4.0)
    assert list(classes) == ["accurate", "candidate", "failed", "failed", "accurate", "candidate", "candidate",
                             "failed", "candidate", "candidate"]
    candidates = [1, 5, 6, 8, 9]
    assert list(distill.select_frames(deviations, 0.6, 4.0, limit=10)) == candidates
    picked = distill.select_frames(deviations, 0.6, 4.0, limit=3, seed=7)
    assert len(picked) == 3 and set(picked) <= set(candidates) and list(picked) == sorted(picked)
    assert list(distill.select_frames(deviations, 0.6, 4.0, limit=3, seed=7)) == list(picked)   # reproducible
    assert len({tuple(distill.select_frames(deviations, 0.6, 4.0, 3, seed)) for seed in range(20)}) > 1
    stats = distill.deviation_statistics(deviations, 0.6, 4.0)
    assert (stats["accurate"], stats["candidate"], stats["failed"]) == (2, 5, 3)
    assert stats["max"] == 5.0 and stats["median"] == pytest.approx(np.median(deviations[~np.isnan(deviations)]))
    # No upper level (the default): only non-finite frames and those marked too close fail.
    too_close = np.zeros(len(deviations), dtype=bool)
    too_close[[1, 4]] = True
    assert list(distill.classify(deviations, 0.6, None, too_close)) == [
        "accurate", "failed", "candidate", "failed", "failed", "candidate", "candidate", "candidate", "candidate",
        "candidate"]
    assert list(distill.select_frames(deviations, 0.6, None, limit=10, too_close=too_close)) == [2, 5, 6, 7, 8, 9]


def test_frames_with_atoms_closer_than_the_explored_data_are_refused(tmp_path):
    """Scripted frames of three atoms in a 10 A box: a pair at 0.7 A is below 0.8 times
    the explored data's closest pair (1.0 A), a pair at 0.9 A is not; the minimum image
    counts (atoms 0.75 A apart across the box face)."""
    work = distill.Work(str(tmp_path), print)
    work.finish("label", {"smallest_distance": 1.0})
    probe = type("Probe", (), {"settings": distill.Settings(ACCURATE, WATER_PDB, str(tmp_path)), "work": work})()
    box = np.eye(3) * 10.0
    frames = [[[1, 1, 1], [1, 1, 1.9], [5, 5, 5]],
              [[1, 1, 1], [1, 1, 1.7], [5, 5, 5]],
              [[0.2, 5, 5], [9.45, 5, 5], [5, 1, 1]]]
    closest = distill.closest_pairs(np.array(frames, dtype=float), np.array([box] * 3))
    assert closest == pytest.approx([0.9, 0.7, 0.75])
    assert list(distill.Distillation.too_close(probe, closest)) == [False, True, True]


def test_selection_on_frames_scored_by_the_plugin():
    """Scripted frames: the bundled water, and copies with one hydrogen pulled 0.2,
    0.5 and 1.0 A away from its oxygen.  The pair's deviation, as the plugin scores it,
    equals the one from DeepPot's forces of both models, and the trust levels put the
    frames in the classes those deviations say."""
    from openmmswitchingdp.toolkit.schemes import pair_evaluator
    structure = Structure.from_pdb(WATER_PDB)
    evaluate = pair_evaluator(ACCURATE, FAST, structure, "Reference")
    accurate, fast = deep_pot(ACCURATE), deep_pot(FAST)
    types = [accurate.get_type_map().index(e) for e in structure.elements]
    box = structure.box * 10
    deviations = []
    for pull in (0.0, 0.2, 0.5, 1.0):
        coords = structure.positions * 10
        oh = coords[1] - coords[0]
        coords[1] = coords[1] + pull * oh / np.linalg.norm(oh)
        _, deviation, _ = evaluate(coords / 10)
        f_acc = accurate.eval(coords.reshape(1, -1), box.reshape(1, 9), types)[1].reshape(-1, 3)
        f_fast = fast.eval(coords.reshape(1, -1), box.reshape(1, 9), types)[1].reshape(-1, 3)
        assert deviation == pytest.approx(np.linalg.norm(f_acc - f_fast, axis=1).max(), rel=1e-8)
        deviations.append(deviation)
    assert len(set(deviations)) == 4
    lo, hi = sorted(deviations)[1], sorted(deviations)[3]
    chosen = distill.select_frames(deviations, lo, hi, limit=10)
    assert list(chosen) == [i for i, d in enumerate(deviations) if lo <= d < hi]


def test_the_rounds_stop_when_the_deviation_stops_improving(tmp_path):
    def round_(p95, candidates):
        return {"all": {"candidate": candidates}, "alternating": {"p95": p95}}
    rounds = [round_(1.0, 10), round_(0.8, 5), round_(0.79, 4)]
    settings = distill.Settings(ACCURATE, WATER_PDB, str(tmp_path), rounds=5, min_improvement=0.05)
    stop = distill.Distillation.stop_reason
    probe = type("Probe", (), {"settings": settings})()
    assert stop(probe, rounds[:1]) is None
    assert stop(probe, rounds[:2]) is None                       # 20 % better
    assert "improved by less than 5%" in stop(probe, rounds)     # 1 % better
    assert "no candidate" in stop(probe, [round_(1.0, 0)])
    probe.settings = distill.Settings(ACCURATE, WATER_PDB, str(tmp_path), rounds=1)
    assert "round limit" in stop(probe, rounds[:2])


def test_survey_statistics_split_alternation_from_the_fast_model_alone(tmp_path):
    """Scripted survey: two runs of 3 and 2 frames; the statistics of each kind are
    those of its own frames."""
    work = distill.Work(str(tmp_path), print)
    os.makedirs(work.path("round-0"))
    deviations = np.array([0.1, 0.2, 9.0, 0.5, 0.7])
    coords = np.array([[[1, 1, 1], [1, 1, 2.5]]] * 5, dtype=float)
    coords[4, 1, 2] = 1.5                          # the last frame has a pair 0.5 A apart
    np.savez(work.path("round-0", "survey.npz"), deviations=deviations, coords=coords,
             boxes=np.array([np.eye(3) * 10] * 5))
    work.finish("label", {"smallest_distance": 1.0})
    work.finish("survey-0", {"runs": [{"scheme": "fast-only", "ps": 0.03}, {"scheme": "alternating 1:3", "ps": 0.02}]})

    class Probe:     # a survey written without the closest pairs: load_survey computes them
        too_close = distill.Distillation.too_close
        load_survey = distill.Distillation.load_survey
    probe = Probe()
    probe.settings, probe.work = distill.Settings(ACCURATE, WATER_PDB, str(tmp_path)), work
    stats = distill.Distillation.survey_statistics(probe, 0)
    assert stats["fast-only"]["max"] == 9.0 and stats["fast-only"]["frames"] == 3
    assert (stats["fast-only"]["candidate"], stats["fast-only"]["failed"]) == (1, 0)   # no upper trust level
    assert stats["alternating"]["median"] == pytest.approx(0.6) and stats["alternating"]["frames"] == 2
    assert (stats["alternating"]["accurate"], stats["alternating"]["failed"]) == (1, 1)
    assert stats["all"]["frames"] == 5 and stats["all"]["failed"] == 1
    probe.settings = distill.Settings(ACCURATE, WATER_PDB, str(tmp_path), trust_hi=4.0)
    assert distill.Distillation.survey_statistics(probe, 0)["fast-only"]["failed"] == 1


@pytest.mark.parametrize("change, message", [
    (dict(accurate="missing.pth"), "accurate: file not found"),
    (dict(types=["O", "Xe"] * 96), "Xe not in its type_map"),
    (dict(types=["O", "H"]), "types: 2 given for 192 atoms"),
    (dict(rcut_smth=4.0), "rcut_smth"),
    (dict(trust_lo=1.0, trust_hi=0.5), "trust_hi"),
    (dict(min_distance_factor=1.5), "min_distance_factor must be in"),
    (dict(retrain_start_lr=0.01), "retrain_start_lr must be in"),
    (dict(residual_descriptor_neurons=[]), "residual_descriptor_neurons must be a list"),
    (dict(interval=1), "interval must be at least 2"),
    (dict(bench_replicate=0), "bench_replicate must be at least 1"),
    (dict(sel=[20]), "sel needs one count per type"),
    (dict(sample_interval_fs=0.7), "multiple of timestep_fs"),
    (dict(explore_ps=float("nan")), "explore_ps must be positive"),
])
def test_bad_settings_are_refused_by_name(tmp_path, change, message):
    arguments = dict(accurate=ACCURATE, pdb=WATER_PDB, out=str(tmp_path / "work"))
    arguments.update(change)
    with pytest.raises(ValueError, match=message):
        distill.distill(arguments.pop("accurate"), arguments.pop("pdb"), arguments.pop("out"), log=lambda _: None,
                        progress=False, **arguments)


def test_a_corrupt_model_is_refused_by_name(tmp_path):
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="deepmd-kit cannot load this model"):
        distill.distill(str(bad), WATER_PDB, str(tmp_path / "work"), log=lambda _: None, progress=False)


def test_the_command_line_refuses_bad_input_with_a_message(capsys):
    with pytest.raises(SystemExit) as exit_:
        distill_command.main(["--accurate", "missing.pth", "--pdb", WATER_PDB, "--out", "unused", "--no-progress"])
    assert exit_.value.code == 2
    assert "accurate: file not found: missing.pth" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        distill_command.main(["--accurate", ACCURATE, "--pdb", WATER_PDB, "--out", "unused", "--trust-lo", "2",
                              "--trust-hi", "1"])
    assert "trust_hi (1.0) must be above trust_lo (2.0)" in capsys.readouterr().err


def test_the_bundled_distilled_pair_reproduces_the_accurate_model():
    """examples/water's distilled pair (distill_bundled.sh) against DeepPot of the 6 A
    model on the bundled structure: the fast model alone is close, and fast + its co-trained
    residual has closer forces (the residual's held-out force RMSE was 0.107 eV/A)."""
    from helpers import WATER
    accurate = deep_pot(ACCURATE)
    fast = deep_pot(os.path.join(WATER, "water_4A_distilled.pth"))
    residual = deep_pot(os.path.join(WATER, "water_6A_distilled_residual.pth"))
    structure = Structure.from_pdb(WATER_PDB)
    types = [accurate.get_type_map().index(e) for e in structure.elements]
    args = (structure.positions.reshape(1, -1) * 10, structure.box.reshape(1, 9) * 10, types)
    (e_acc, f_acc, _), (e_fast, f_fast, _), (e_res, f_res, _) = (m.eval(*args) for m in (accurate, fast, residual))
    atoms = len(types)
    rms = lambda f: float(np.sqrt(((f - f_acc) ** 2).mean()))  # noqa: E731
    print(f"per atom: fast {(e_fast - e_acc).item() / atoms * 1e3:+.2f} meV, fast + residual "
          f"{(e_fast + e_res - e_acc).item() / atoms * 1e3:+.2f} meV; force RMS: fast {rms(f_fast):.3f}, "
          f"fast + residual {rms(f_fast + f_res):.3f} eV/A")
    # Measured: fast +1.65 meV/atom and 0.125 eV/A; fast + residual -1.40 meV/atom and
    # 0.107 eV/A.
    assert abs((e_fast - e_acc).item()) / atoms < 2e-3 and abs((e_fast + e_res - e_acc).item()) / atoms < 5e-3
    assert rms(f_fast) < 0.2 and rms(f_fast + f_res) < rms(f_fast)
    assert deep_pot(os.path.join(WATER, "water_4A_distilled.pth")).get_rcut() == 4.0
