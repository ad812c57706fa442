"""deepmd-kit's trainer as a subprocess: its input.json, ``dp --pt train`` with a
progress bar fed from lcurve.out, and the learning curve."""
import json
import os
import shutil
import subprocess
import sys
import time

from .settings import PREF_E, PREF_F, START_LR, STOP_LR

__all__ = ["dp_command", "training_input", "run_logged", "last_lcurve_step", "train", "last_lcurve"]


def dp_command():
    """The ``dp`` command of deepmd-kit: on the PATH, else beside this Python."""
    return shutil.which("dp") or os.path.join(os.path.dirname(sys.executable), "dp")


def training_input(settings, type_map, sel, steps, training_systems, validation_systems, rcut=None,
                   start_lr=START_LR):
    """deepmd-kit's input.json of an se_e2_a model, trained on energies and forces
    (float64; the fast model is frozen in float32 afterwards).  A start_lr below
    START_LR continues the full schedule from that rate: the loss prefactors start
    where the full schedule has them at that rate."""
    def prefactor(start, limit):
        fraction = start_lr / START_LR
        return start * fraction + limit * (1 - fraction)
    return {
        "model": {
            "type_map": type_map,
            "descriptor": {"type": "se_e2_a", "sel": sel, "rcut_smth": settings.rcut_smth,
                           "rcut": rcut or settings.rcut, "neuron": list(settings.descriptor_neurons),
                           "axis_neuron": settings.axis_neuron, "resnet_dt": False, "precision": "float64",
                           "seed": settings.seed},
            "fitting_net": {"neuron": list(settings.fitting_neurons), "resnet_dt": True, "precision": "float64",
                            "seed": settings.seed},
        },
        "learning_rate": {"type": "exp", "decay_steps": max(steps // 100, 1), "start_lr": start_lr,
                          "stop_lr": STOP_LR},
        "loss": {"type": "ener", "start_pref_e": prefactor(*PREF_E), "limit_pref_e": PREF_E[1],
                 "start_pref_f": prefactor(*PREF_F), "limit_pref_f": PREF_F[1],
                 "start_pref_v": 0, "limit_pref_v": 0},
        "training": {
            "training_data": {"systems": training_systems, "batch_size": 1},
            "validation_data": {"systems": validation_systems, "batch_size": 1, "numb_btch": 3},
            "numb_steps": steps, "seed": settings.seed, "disp_file": "lcurve.out",
            "disp_freq": max(1, min(100, steps // 10)), "save_freq": max(1, min(1000, steps // 2)),
        },
    }


def run_logged(command, cwd, log_file):
    """Run `command` in `cwd`, its output appended to `log_file`; RuntimeError with the
    log's end when it fails."""
    with open(log_file, "a") as log:
        log.write("$ " + " ".join(command) + "\n")
        log.flush()
        result = subprocess.run(command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    if result.returncode:
        tail = open(log_file).read().splitlines()[-15:]
        raise RuntimeError(f"{' '.join(command[:3])} failed (exit {result.returncode}); the end of {log_file}:\n"
                           + "\n".join(tail))


def last_lcurve_step(folder):
    """The last training step in `folder`'s lcurve.out (0 when there is none yet)."""
    try:
        with open(os.path.join(folder, "lcurve.out")) as f:
            lines = [line for line in f if line.strip() and not line.startswith("#")]
        return int(lines[-1].split()[0]) if lines else 0
    except (OSError, ValueError, IndexError):
        return 0


def train(folder, config, steps, init_checkpoint, progress_bar, description):
    """dp --pt train in `folder` (resuming its own checkpoint if an earlier attempt was
    interrupted), with a progress bar fed from lcurve.out; returns the final
    checkpoint's path."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "input.json"), "w") as f:
        json.dump(config, f, indent=1)
    log = os.path.join(folder, "train.log")
    command = [dp_command(), "--pt", "train", "--skip-neighbor-stat", "input.json"]
    checkpoint = os.path.join(folder, "model.ckpt.pt")
    if os.path.exists(checkpoint):
        command += ["--restart", checkpoint]
    elif init_checkpoint:
        command += ["--init-model", init_checkpoint]
    bar = progress_bar(total=steps, desc=description, unit="step")
    shown = 0
    with open(log, "a") as out:
        out.write("$ " + " ".join(command) + "\n")
        out.flush()
        process = subprocess.Popen(command, cwd=folder, stdout=out, stderr=subprocess.STDOUT)
        try:
            while process.poll() is None:
                time.sleep(1.0)
                step = last_lcurve_step(folder)
                if step > shown:
                    bar.update(step - shown)
                    shown = step
        except BaseException:
            process.terminate()
            process.wait()
            raise
    bar.update(max(0, steps - shown))
    bar.close()
    if process.returncode:
        tail = open(log).read().splitlines()[-15:]
        raise RuntimeError(f"deepmd-kit training failed (exit {process.returncode}); the end of {log}:\n"
                           + "\n".join(tail))
    return checkpoint




def last_lcurve(folder):
    """The last line of deepmd-kit's learning curve, by column name."""
    try:
        with open(os.path.join(folder, "lcurve.out")) as f:
            lines = f.read().splitlines()
        header = [line for line in lines if line.startswith("#")][0].lstrip("#").split()
        values = [line for line in lines if line.strip() and not line.startswith("#")][-1].split()
        return {name: float(value) for name, value in zip(header, values)}
    except (OSError, IndexError, ValueError):
        return {}
