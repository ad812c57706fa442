"""The distillation pipeline: make a fast partner for your one accurate DeePMD model
(the library of ``switchingdp-distill``; its help, in
:mod:`openmmswitchingdp.toolkit.cli.distill`, describes the stages).

    from openmmswitchingdp.toolkit.distill import distill
    result = distill("acc.pth", "start.pdb", "work/")

The accurate model is the teacher: it labels any configuration exactly, so no DFT is
needed.  :class:`Distillation` runs the stages (explore, label, train, survey, select,
final, residual, report), each recorded in the work folder so that a run started
again resumes after its last finished stage.
"""
import dataclasses
import os
import shutil
import sys
import time

import numpy as np

from ...units import ANGSTROM_PER_NM
from .data import label_frames, model_metadata, read_system, write_system
from .geometry import closest_pairs, neighbour_statistics, sel_from_counts
from .resume import Work, check_resumable
from .sampling import sample_md
from .selection import deviation_statistics, select_frames
from .settings import START_LR, VALIDATION_EVERY, Settings
from .trainer import dp_command, last_lcurve, run_logged, train, training_input
from .checkpoint import freeze_fast

__all__ = ["Distillation", "distill", "silent_bar"]


class Distillation:
    """A distillation's stages (explore, label, train, survey, select, final, residual,
    report), each recorded in the work folder when it finishes so that a run started
    again resumes after it.  `log` takes each line of the log; `progress` shows bars;
    `on_stage(name)` is called after each finished stage."""

    def __init__(self, settings, log=print, progress=True, on_stage=None):
        settings.check()
        self.settings = settings
        self.log = log
        self.on_stage = on_stage
        if progress:
            from tqdm import tqdm

            def bar(**kwargs):
                return tqdm(file=sys.stdout, leave=False, **kwargs)
            self.bar = bar
        else:
            self.bar = silent_bar
        self.work = Work(settings.out, log)
        from ..schemes import Structure
        self.structure = Structure.from_pdb(settings.pdb)
        self.type_map, self.accurate_rcut = model_metadata(settings.accurate)
        names = settings.types or self.structure.elements
        if len(names) != self.structure.topology.getNumAtoms():
            raise ValueError(f"types: {len(names)} given for {self.structure.topology.getNumAtoms()} atoms")
        missing = sorted(set(names) - set(self.type_map))
        if missing:
            raise ValueError(f"{settings.accurate}: type(s) {', '.join(missing)} not in its type_map {self.type_map}")
        self.types = list(names)
        self.atom_types = [self.type_map.index(n) for n in names]
        if settings.sel is not None and len(settings.sel) != len(self.type_map):
            raise ValueError(f"sel needs one count per type of {self.type_map} (got {len(settings.sel)})")
        check_resumable(self.work, settings)

    def stage(self, name, function):
        """Run a stage unless an earlier run finished it; returns its recorded result."""
        if self.work.done(name):
            self.log(f"[{name}] done earlier, skipped")
            return self.work.result(name)
        self.log(f"[{name}]")
        start = time.perf_counter()
        result = function()
        result["seconds"] = round(time.perf_counter() - start, 1)
        self.work.finish(name, result)
        if self.on_stage:
            self.on_stage(name)
        return result

    def run(self):
        """Run (or resume) every stage; returns :meth:`summary`."""
        s = self.settings
        self.stage("explore", self.explore)
        self.stage("label", self.label_explored)
        rounds = []
        best = None
        for k in range(s.rounds + 1):
            self.stage(f"train-{k}", lambda: self.train_round(k))
            self.stage(f"survey-{k}", lambda: self.survey(k))
            survey = self.survey_statistics(k)
            rounds.append(survey)
            every, alternating = survey["all"], survey["alternating"]
            self.log(f"round {k}: deviation on alternation's frames median {alternating['median']:.3f}, "
                     f"p95 {alternating['p95']:.3f}, max {alternating['max']:.3f} eV/A; on all survey frames "
                     f"{every['accurate']} accurate, {every['candidate']} candidate, {every['failed']} failed")
            if best is None or alternating["p95"] < rounds[best]["alternating"]["p95"]:
                best = k
            stop = self.stop_reason(rounds)
            if stop:
                self.log(f"stopping after round {k}: {stop}")
                break
            self.stage(f"select-{k}", lambda: self.select_and_label(k))
        self.stage("final", lambda: self.finalize(best, rounds))
        if s.residual:
            self.stage("residual", self.train_residual)
        if s.report:
            self.stage("report", self.report)
        return self.summary()

    def stop_reason(self, rounds):
        """Why the rounds end after the last of `rounds` (None: go on).  Progress is
        judged on alternation's frames, the dynamics the pair is made for; the fast
        model's runs alone are there to find where it is wrong."""
        s = self.settings
        k = len(rounds) - 1
        p95 = [r["alternating"]["p95"] for r in rounds]
        if rounds[-1]["all"]["candidate"] == 0:
            return "no candidate frame left"
        if k >= s.rounds:
            return f"round limit ({s.rounds} retrainings)"
        if k >= 1 and p95[-1] > (1 - s.min_improvement) * min(p95[:-1]):
            return (f"the deviation's 95th percentile on alternation's frames improved by less than "
                    f"{s.min_improvement:.0%} ({min(p95[:-1]):.3f} -> {p95[-1]:.3f} eV/A)")
        return None

    # --- 1. exploration -------------------------------------------------------------
    def explore(self):
        """Stage 1: accurate-model MD at each exploration temperature, frames and survey starts saved."""
        import openmm.unit as u
        from ..schemes import ACCURATE, Scheme, build_context
        s = self.settings
        scheme = Scheme(ACCURATE, s.accurate, timestep_fs=s.timestep_fs)
        per_frame = int(round(s.sample_interval_fs / s.timestep_fs))
        frames = int(round(s.explore_ps * 1000 / s.sample_interval_fs))
        result = {"temperatures": []}
        os.makedirs(self.work.path("explore"), exist_ok=True)
        for i, temperature in enumerate(s.temperatures):
            context = build_context(scheme, self.structure, s.platform, temperature, seed=s.seed + i)
            equilibration = int(round(s.equilibration_ps * 1000 / s.timestep_fs))
            bar = self.bar(total=equilibration + frames * per_frame, desc=f"explore {temperature:g} K", unit="step")
            if equilibration:
                context.getIntegrator().step(equilibration)
                bar.update(equilibration)
            coords, boxes, states = sample_md(context, per_frame, frames, np.inf, bar)
            bar.close()
            if len(coords) < frames:
                raise RuntimeError(f"the accurate model's MD at {temperature:g} K stopped after {len(coords)} of "
                                   f"{frames} frames (non-finite positions): check the structure and the model")
            # Survey starts: states spread over the sampled stretch, the last one included.
            picks = np.linspace(len(states) - 1, 0, s.starts_per_temperature + 1)[:-1].round().astype(int)[::-1]
            np.savez(self.work.path("explore", f"{temperature:g}K.npz"), coords=coords, boxes=boxes,
                     start_positions=np.array([states[j].getPositions(asNumpy=True).value_in_unit(u.nanometer)
                                               for j in picks]),
                     start_velocities=np.array([states[j].getVelocities(asNumpy=True).value_in_unit(
                         u.nanometer / u.picosecond) for j in picks]))
            result["temperatures"].append({"temperature": temperature, "frames": len(coords)})
            self.log(f"  {temperature:g} K: {len(coords)} frames")
        return result

    def explored(self):
        """The saved exploration of each temperature (npz files)."""
        s = self.settings
        parts = [np.load(self.work.path("explore", f"{t:g}K.npz")) for t in s.temperatures]
        return parts

    # --- 2. labels ----------------------------------------------------------------------
    def label_explored(self):
        """Stage 2: the explored frames labelled by the accurate model, split into training and validation."""
        s = self.settings
        parts = self.explored()
        coords = np.concatenate([p["coords"] for p in parts])
        boxes = np.concatenate([p["boxes"] for p in parts])
        bar = self.bar(total=len(coords), desc="label", unit="frame")
        energies, forces = label_frames(s.accurate, self.structure, coords, boxes, s.platform, bar)
        bar.close()
        held_out = np.zeros(len(coords), dtype=bool)
        held_out[::VALIDATION_EVERY] = True
        for name, mask in (("training", ~held_out), ("validation", held_out)):
            write_system(self.work.path("data", "explore", name), self.type_map, self.atom_types,
                         coords[mask], boxes[mask], energies[mask], forces[mask])
        counts, smallest = neighbour_statistics(coords, boxes, self.atom_types, len(self.type_map), s.rcut)
        return {"frames": int(len(coords)), "training": int((~held_out).sum()), "validation": int(held_out.sum()),
                "neighbours": counts, "smallest_distance": smallest}

    def training_systems(self):
        """The deepmd-kit training systems written so far."""
        data = self.work.path("data")
        return sorted(os.path.join(data, d, "training") for d in os.listdir(data)
                      if os.path.isdir(os.path.join(data, d, "training")))

    def sel(self):
        """The fast model's sel: the setting, else from the explored data's neighbour counts."""
        s = self.settings
        if s.sel is not None:
            return list(s.sel)
        return sel_from_counts(self.work.result("label")["neighbours"])

    def smallest_distance(self):
        """Over every labelled frame (the selected ones may come closer)."""
        smallest = self.work.result("label")["smallest_distance"]
        for stage, result in self.work.progress.items():
            if stage.startswith("select-") and result.get("smallest_distance") is not None:
                smallest = min(smallest, result["smallest_distance"])
        return smallest

    # --- 3. training ----------------------------------------------------------------------
    def train_round(self, k):
        """Stage 3: train round k's fast model (from round k-1's weights) and freeze it."""
        s = self.settings
        folder = self.work.path(f"round-{k}")
        steps = s.train_steps if k == 0 else s.retrain_steps
        config = training_input(s, self.type_map, self.sel(), steps, self.training_systems(),
                                [self.work.path("data", "explore", "validation")],
                                start_lr=START_LR if k == 0 else s.retrain_start_lr)
        init = None if k == 0 else self.work.path(f"round-{k - 1}", "model.ckpt.pt")
        checkpoint = train(folder, config, steps, init, self.bar, f"train round {k}")
        fast = freeze_fast(folder, checkpoint, self.smallest_distance(), s.compress_step,
                           os.path.join(folder, "fast.pth"))
        return {"fast": os.path.relpath(fast, self.work.root), "steps": steps, "sel": self.sel(),
                "training_frames": int(sum(len(np.load(os.path.join(t, "set.000", "energy.npy")))
                                           for t in self.training_systems())),
                "lcurve": last_lcurve(folder)}

    def fast_model(self, k):
        """Round k's fast model file."""
        return self.work.path(self.work.result(f"train-{k}")["fast"])

    # --- 4. survey --------------------------------------------------------------------------
    def survey(self, k):
        """Fast-only and alternating runs of round k's fast model from every start."""
        import openmm.unit as u
        from ..schemes import ALTERNATING, FAST, Scheme, build_context, pair_evaluator
        s = self.settings
        fast = self.fast_model(k)
        per_frame = int(round(s.sample_interval_fs / s.timestep_fs))
        frames = int(round(s.survey_ps * 1000 / s.sample_interval_fs))
        evaluate = pair_evaluator(s.accurate, fast, self.structure, s.platform)
        coords, boxes, deviations, runs = [], [], [], []
        for temperature, part in zip(s.temperatures, self.explored()):
            for j, (positions, velocities) in enumerate(zip(part["start_positions"], part["start_velocities"])):
                for scheme in (Scheme(FAST, s.accurate, fast, s.timestep_fs),
                               Scheme(ALTERNATING, s.accurate, fast, s.timestep_fs, interval=s.interval)):
                    context = build_context(scheme, self.structure, s.platform, temperature,
                                            seed=s.seed + 100 * k + j, velocities=False)
                    context.setPositions(positions * u.nanometer)
                    context.setVelocities(velocities * u.nanometer / u.picosecond)
                    bar = self.bar(total=frames * per_frame, desc=f"survey {k}: {scheme.name}, {temperature:g} K",
                                   unit="step")
                    c, b, _ = sample_md(context, per_frame, frames, s.max_temperature_factor * temperature, bar)
                    bar.close()
                    for coord, box in zip(c, b):
                        _, max_deviation, _ = evaluate(coord / ANGSTROM_PER_NM, box / ANGSTROM_PER_NM)
                        deviations.append(max_deviation)
                    coords.append(c)
                    boxes.append(b)
                    runs.append({"scheme": scheme.name, "temperature": temperature, "start": j,
                                 "ps": len(c) * s.sample_interval_fs / 1000, "complete": len(c) == frames})
        coords = np.concatenate(coords)
        boxes = np.concatenate(boxes)
        closest = closest_pairs(coords, boxes)
        np.savez(self.work.path(f"round-{k}", "survey.npz"), coords=coords, boxes=boxes,
                 deviations=np.array(deviations), closest=closest)
        return {**deviation_statistics(deviations, s.trust_lo, s.trust_hi, self.too_close(closest)), "runs": runs}

    def load_survey(self, k):
        """Round k's survey frames; each frame's closest pair is computed once, by survey()
        (and here for a survey written before it was stored)."""
        survey = dict(np.load(self.work.path(f"round-{k}", "survey.npz")))
        if "closest" not in survey:
            survey["closest"] = closest_pairs(survey["coords"], survey["boxes"])
        return survey

    def too_close(self, closest):
        """Per frame, from its closest pair (A): are two atoms closer than
        min_distance_factor times the closest pair of the explored data (a configuration
        the teacher should not be asked about)?"""
        limit = self.settings.min_distance_factor * self.work.result("label")["smallest_distance"]
        return np.asarray(closest) < limit

    def survey_statistics(self, k):
        """Deviation statistics of round k's survey frames: all of them, and those of the
        alternating and of the fast-only runs."""
        s = self.settings
        survey = self.load_survey(k)
        deviations = survey["deviations"]
        too_close = self.too_close(survey["closest"])
        kinds = []
        for run in self.work.result(f"survey-{k}")["runs"]:
            frames = int(round(run["ps"] * 1000 / s.sample_interval_fs))
            kinds += ["alternating" if run["scheme"].startswith("alternating") else "fast-only"] * frames
        kinds = np.array(kinds)
        return {"all": deviation_statistics(deviations, s.trust_lo, s.trust_hi, too_close),
                **{kind: deviation_statistics(deviations[kinds == kind], s.trust_lo, s.trust_hi, too_close[kinds == kind])
                   for kind in ("alternating", "fast-only")}}

    # --- 5. selection ----------------------------------------------------------------------------
    def select_and_label(self, k):
        """Stage 5: label the candidate frames of round k's survey for the next round."""
        s = self.settings
        survey = self.load_survey(k)
        chosen = select_frames(survey["deviations"], s.trust_lo, s.trust_hi, s.frames_per_round, seed=s.seed + k,
                               too_close=self.too_close(survey["closest"]))
        coords, boxes = survey["coords"][chosen], survey["boxes"][chosen]
        bar = self.bar(total=len(chosen), desc=f"label round {k}", unit="frame")
        energies, forces = label_frames(s.accurate, self.structure, coords, boxes, s.platform, bar)
        bar.close()
        write_system(self.work.path("data", f"round-{k}", "training"), self.type_map, self.atom_types,
                     coords, boxes, energies, forces)
        counts, smallest = neighbour_statistics(coords, boxes, self.atom_types, len(self.type_map), s.rcut)
        over = [c for c, limit in zip(counts, self.sel()) if c > limit]
        if over:
            self.log(f"  warning: selected frames have {counts} neighbours per type within {s.rcut} A, "
                     f"more than sel {self.sel()}; deepmd-kit drops the farthest ones")
        self.log(f"  labelled {len(chosen)} selected frames")
        return {"selected": int(len(chosen)), "smallest_distance": smallest if np.isfinite(smallest) else None}

    # --- 6. result and report ------------------------------------------------------------------
    def finalize(self, best, rounds):
        """Keep the best round's fast model as fast.pth."""
        source = self.fast_model(best)
        shutil.copy(source, self.work.path("fast.pth"))
        self.log(f"fast model: {self.work.path('fast.pth')} (round {best}, float32, compressed)")
        return {"best_round": best, "rounds": rounds}

    def train_residual(self):
        """A residual model co-trained with the fast one (Fu et al.): trained on the
        accurate labels minus the fast model's predictions, at the accurate model's cutoff."""
        s = self.settings
        fast = self.work.path("fast.pth")
        systems = self.training_systems() + [self.work.path("data", "explore", "validation")]
        residual_systems, all_coords, all_boxes = [], [], []
        for system in systems:
            coords, boxes, energies, forces = read_system(system)
            all_coords.append(coords)
            all_boxes.append(boxes)
            bar = self.bar(total=len(coords), desc="residual labels", unit="frame")
            fast_energies, fast_forces = label_frames(fast, self.structure, coords, boxes, s.platform, bar)
            bar.close()
            target = self.work.path("residual-data", os.path.relpath(system, self.work.path("data")))
            write_system(target, self.type_map, self.atom_types, coords, boxes, energies - fast_energies,
                         forces - fast_forces)
            residual_systems.append(target)
        counts, _ = neighbour_statistics(np.concatenate(all_coords), np.concatenate(all_boxes), self.atom_types,
                                         len(self.type_map), self.accurate_rcut)
        sel = sel_from_counts(counts)
        settings = dataclasses.replace(s, descriptor_neurons=s.residual_descriptor_neurons)
        config = training_input(settings, self.type_map, sel, s.residual_steps,
                                residual_systems[:-1], residual_systems[-1:], rcut=self.accurate_rcut)
        folder = self.work.path("residual")
        checkpoint = train(folder, config, s.residual_steps, None, self.bar, "train residual")
        run_logged([dp_command(), "--pt", "freeze", "-c", checkpoint, "-o", self.work.path("residual.pth")], folder,
                   os.path.join(folder, "freeze.log"))
        return {"residual": "residual.pth", "rcut": self.accurate_rcut, "sel": sel}

    def report(self):
        """Write report.md (see :func:`~openmmswitchingdp.toolkit.distill.report.write_report`)."""
        from .report import write_report
        return write_report(self)

    def summary(self):
        """The paths made (fast, residual, report) and every stage's recorded result."""
        return {"fast": self.work.path("fast.pth"), "progress": self.work.progress,
                "residual": self.work.path("residual.pth") if self.settings.residual else None,
                "report": self.work.path("report.md") if self.settings.report else None}


class _SilentBar:
    """A progress bar that shows nothing."""

    def update(self, _):
        """Nothing."""

    def close(self):
        """Nothing."""


def silent_bar(**_):
    """A progress bar (tqdm's keywords) that shows nothing."""
    return _SilentBar()


def distill(accurate, pdb, out, log=print, progress=True, on_stage=None, **options):
    """Distil a fast partner for `accurate`; options are Settings' fields.  Returns a dict
    with the fast model's path, the residual's (with residual=True), the report's and
    every stage's recorded result.  on_stage(name) is called after each finished stage."""
    settings = Settings(accurate=accurate, pdb=pdb, out=out, **options)
    return Distillation(settings, log, progress, on_stage).run()
