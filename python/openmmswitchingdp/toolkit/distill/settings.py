"""The settings of a distillation, and the constants of its training schedule."""
import os
from dataclasses import dataclass, field

from ... import defaults

__all__ = ["Settings", "SEL_HEADROOM", "VALIDATION_EVERY", "START_LR", "STOP_LR", "PREF_E", "PREF_F"]


# Neighbour counts observed in the data get this much headroom in the model's sel
# (rounded up to a multiple of 4): MD visits denser spots than a few ps show.
SEL_HEADROOM = 1.2
VALIDATION_EVERY = 10     # every 10th explored frame is held out for deepmd-kit's validation

# The training schedule: exponential learning-rate decay from START_LR to STOP_LR, the
# loss prefactors moving from their start to their limit values with it (deepmd-kit:
# pref = limit + (start - limit) * lr / start_lr).
START_LR, STOP_LR = 1e-3, 3e-6
PREF_E = (0.02, 2.0)
PREF_F = (1000.0, 1.0)


@dataclass
class Settings:
    """All settings of a distillation; the defaults are the command's.  Lengths in A,
    temperatures in K, times in ps unless the name says fs."""
    accurate: str
    pdb: str
    out: str
    types: list = None                     # DP type per atom (default: element symbols)
    temperature: float = defaults.TEMPERATURE
    explore_temperatures: list = None      # default [temperature, 1.2 temperature]
    explore_ps: float = 5.0                # sampled accurate MD per temperature
    equilibration_ps: float = 0.5          # before sampling, per temperature
    sample_interval_fs: float = defaults.SAMPLE_INTERVAL_FS
    timestep_fs: float = defaults.TIMESTEP_FS
    rcut: float = 4.0
    rcut_smth: float = 0.5
    sel: list = None                       # per type of the accurate model's type_map; default from the data
    descriptor_neurons: list = field(default_factory=lambda: [8, 16, 32])
    axis_neuron: int = 4
    fitting_neurons: list = field(default_factory=lambda: [32, 32, 32])
    train_steps: int = 20000
    retrain_steps: int = 5000
    compress_step: float = 0.02            # dp compress table step
    interval: int = defaults.INTERVAL      # the alternation surveyed (1 accurate step in interval)
    rounds: int = 3                        # retrainings after the first training, at most
    survey_ps: float = 1.0                 # per survey run (fast-only and alternating, from each start)
    starts_per_temperature: int = 2
    trust_lo: float = 0.6                  # eV/A
    trust_hi: float = None                 # eV/A; None: no upper level
    min_distance_factor: float = 0.8       # of the explored data's closest pair; closer frames are refused
    frames_per_round: int = 300
    retrain_start_lr: float = 1e-4
    min_improvement: float = 0.05
    max_temperature_factor: float = 1.5    # a survey run hotter than this times its thermostat stops
    residual: bool = False
    residual_steps: int = 20000
    residual_descriptor_neurons: list = field(default_factory=lambda: [8, 16, 32])
    report: bool = True
    validate_ps: float = 5.0
    bench_steps: int = 200
    bench_replicate: int = 1               # the report's bench tiles the PDB's box this many times per axis
    nve_outer_fs: list = field(default_factory=lambda: [2.0, 4.0, 6.0])
    nve_ps: float = 2.0
    platform: str = defaults.PLATFORM
    seed: int = defaults.SEED

    def check(self):
        """Raise ValueError naming the first setting that is out of range."""
        for name in ("accurate", "pdb"):
            if not os.path.isfile(getattr(self, name)):
                raise ValueError(f"{name}: file not found: {getattr(self, name)}")
        positive = ("temperature", "explore_ps", "sample_interval_fs", "timestep_fs", "rcut", "survey_ps",
                    "compress_step", "max_temperature_factor", "validate_ps", "nve_ps")
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive (got {getattr(self, name)})")
        if not 0 <= self.rcut_smth < self.rcut:
            raise ValueError(f"rcut_smth must be in [0, rcut) (got {self.rcut_smth}, rcut {self.rcut})")
        if self.equilibration_ps < 0 or self.rounds < 0 or self.min_improvement < 0 or self.trust_lo < 0:
            raise ValueError("equilibration_ps, rounds, min_improvement and trust_lo must not be negative")
        for name in ("train_steps", "retrain_steps", "interval", "starts_per_temperature", "frames_per_round",
                     "residual_steps", "bench_steps", "bench_replicate", "axis_neuron"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1 (got {getattr(self, name)})")
        if self.interval < 2:
            raise ValueError("interval must be at least 2: alternation needs fast steps")
        if self.trust_hi is not None and not self.trust_hi > self.trust_lo:
            raise ValueError(f"trust_hi ({self.trust_hi}) must be above trust_lo ({self.trust_lo})")
        if not 0 < self.min_distance_factor <= 1:
            raise ValueError(f"min_distance_factor must be in (0, 1] (got {self.min_distance_factor})")
        if not STOP_LR < self.retrain_start_lr <= START_LR:
            raise ValueError(f"retrain_start_lr must be in ({STOP_LR:g}, {START_LR:g}] (got {self.retrain_start_lr})")
        if any(not t > 0 for t in self.explore_temperatures or []):
            raise ValueError("explore temperatures must be positive")
        for name in ("descriptor_neurons", "fitting_neurons", "residual_descriptor_neurons"):
            if not getattr(self, name) or min(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be a list of positive layer widths")
        if self.explore_ps * 1000 < self.sample_interval_fs * VALIDATION_EVERY:
            raise ValueError(f"explore_ps must cover at least {VALIDATION_EVERY} sampled frames")
        for name, value in (("sample_interval_fs", self.sample_interval_fs),):
            if abs(round(value / self.timestep_fs) * self.timestep_fs - value) > 1e-9:
                raise ValueError(f"{name} ({value}) must be a multiple of timestep_fs ({self.timestep_fs})")

    @property
    def temperatures(self):
        """The exploration temperatures, K."""
        return self.explore_temperatures or [self.temperature, 1.2 * self.temperature]

    # Settings that define what was made: a resumed run must not change them.
    IDENTITY = ("types", "temperature", "explore_temperatures", "explore_ps", "equilibration_ps",
                "sample_interval_fs", "timestep_fs", "rcut", "rcut_smth", "sel", "descriptor_neurons",
                "axis_neuron", "fitting_neurons", "train_steps", "seed")
