"""Checkpoint editing: the trained fast model's weights frozen in float32 and
compressed, with the data's closest pair written into the checkpoint."""
import os

from .trainer import dp_command, run_logged

__all__ = ["freeze_fast"]


def freeze_fast(folder, checkpoint, min_distance, compress_step, target):
    """The trained float64 weights frozen in float32 and compressed, as `target`.

    Compression tabulates the embedding nets down to the smallest interatomic distance
    of the training data, which is written into the checkpoint here (training skipped
    deepmd-kit's own, dense neighbour statistics)."""
    import torch
    log = os.path.join(folder, "freeze.log")
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    model = state["model"]
    for key in model:
        if key.endswith("min_nbor_dist"):
            model[key] = torch.tensor(min_distance, dtype=model[key].dtype)
    params = model["_extra_state"]["model_params"]
    params["descriptor"]["precision"] = "float32"
    params["fitting_net"]["precision"] = "float32"
    float32_checkpoint = os.path.join(folder, "frozen32.ckpt.pt")
    torch.save({"model": model}, float32_checkpoint)
    float32 = os.path.join(folder, "fast_float32.pth")
    run_logged([dp_command(), "--pt", "freeze", "-c", float32_checkpoint, "-o", float32], folder, log)
    run_logged([dp_command(), "--pt", "compress", "-i", float32, "-o", target, "-s", str(compress_step)], folder, log)
    return target
