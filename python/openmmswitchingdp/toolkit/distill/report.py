"""The distillation's report (report.md): its rounds, then switchingdp-validate's and
switchingdp-bench's measurements of the pair it made, and with a residual the NVE
drift of rRESPA."""
import os

from ... import defaults
from .. import analysis, bench, nve
from ..schemes import Structure, standard_schemes
from ..validate import ValidateOptions, validate

__all__ = ["write_report"]


def write_report(distillation):
    """Write report.md of a finished :class:`~openmmswitchingdp.toolkit.distill.pipeline.Distillation`
    into its work folder; returns the stage's record."""
    from .pipeline import silent_bar
    self = distillation
    s = self.settings
    fast = self.work.path("fast.pth")
    candidates = (f"at or above {s.trust_lo:g} eV/A" if s.trust_hi is None
                  else f"in [{s.trust_lo:g}, {s.trust_hi:g}) eV/A")
    lines = [f"# Distilled fast model for {os.path.basename(s.accurate)}", "",
             f"Fast model: `fast.pth` (se_e2_a, rcut {s.rcut:g} A, sel {self.sel()}, float32, compressed), "
             f"from {self.work.result('label')['frames']} explored frames at "
             f"{', '.join(f'{t:g}' for t in s.temperatures)} K and the frames selected in each round.", "",
             "## Rounds: the pair's force deviation max_i |F_acc - F_fast| (eV/A) on the survey frames", "",
             f"Frames with deviation {candidates} are candidates for labelling; frames with two atoms closer than "
             f"{s.min_distance_factor:g} times the explored data's closest pair "
             f"({self.work.result('label')['smallest_distance']:.3f} A) are refused as failed. The round with "
             "the lowest 95th percentile on alternation's frames is kept.", "",
             "| round | training frames | alternation: median | p95 | max | fast alone: median | p95 | max | "
             "accurate / candidate / failed frames |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    final = self.work.result("final")
    for k, survey in enumerate(final["rounds"]):
        train_result = self.work.result(f"train-{k}")
        alternating, alone, every = survey["alternating"], survey["fast-only"], survey["all"]
        lines.append(f"| {k}{' (kept)' if k == final['best_round'] else ''} | {train_result['training_frames']} | "
                     f"{alternating['median']:.3f} | {alternating['p95']:.3f} | {alternating['max']:.3f} | "
                     f"{alone['median']:.3f} | {alone['p95']:.3f} | {alone['max']:.3f} | "
                     f"{every['accurate']} / {every['candidate']} / {every['failed']} |")
    results = validate(ValidateOptions(
        s.accurate, fast, s.pdb, time_ps=s.validate_ps, equilibration_ps=s.equilibration_ps,
        scheme_equilibration_ps=min(defaults.SCHEME_EQUILIBRATION_PS, s.validate_ps / 2), temperature=s.temperature,
        timestep_fs=s.timestep_fs, interval=s.interval, platform=s.platform, seed=s.seed,
        out=self.work.path("validate"), progress=self.bar is not silent_bar, which=[0, 1, 2, 3]))
    lines += ["", f"## Accuracy (switchingdp-validate, {s.validate_ps:g} ps per scheme at {s.temperature:g} K)", "",
              analysis.markdown_table(results)]
    runs = standard_schemes(s.accurate, fast, s.interval, defaults.INNER_STEPS, s.timestep_fs,
                            residual=self.work.path("residual.pth") if s.residual else None)
    structure = Structure.from_pdb(s.pdb, s.bench_replicate)
    speed = bench.measure(runs, structure, s.platform, steps=s.bench_steps, rounds=3)
    lines += ["", f"## Speed (switchingdp-bench, {speed.atoms} atoms, {s.platform} platform, {speed.steps} "
              f"timed steps per scheme in 3 interleaved rounds; t_fast/t_accurate = {speed.fast_ratio:.2f})", "",
              bench.markdown_rows(speed.rows)]
    if s.residual:
        for label, slow, residual in (("co-trained residual", self.work.path("residual.pth"), True),
                                      ("accurate - fast (DMTS)", s.accurate, False)):
            table = nve.table(slow, fast, s.pdb, s.nve_outer_fs, s.timestep_fs, s.nve_ps,
                              report_fs=min(10.0, s.nve_ps * 100), temperature=s.temperature,
                              equilibration_ps=s.equilibration_ps, seed=s.seed, platform=s.platform,
                              residual=residual)
            lines += ["", f"## NVE, rRESPA with the slow term = {label} ({s.nve_ps:g} ps per run)", "",
                      nve.markdown(table)]
    with open(self.work.path("report.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    self.log(f"report: {self.work.path('report.md')}")
    return {"report": "report.md"}

