"""Paths of the bundled water system and models (installed with the package)."""
import os

__all__ = ["DATA_DIR", "ACCURATE_MODEL", "WATER_PDB", "FAST_MODEL", "RESIDUAL_MODEL", "HANDMADE_FAST_MODEL"]

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
ACCURATE_MODEL = os.path.join(DATA_DIR, "water_6A.pth")
WATER_PDB = os.path.join(DATA_DIR, "water.pdb")
# The default fast partner, made by switchingdp-distill from water_6A.pth and water.pdb
# alone (float32, compressed; examples/water/distill_bundled.sh), and the residual
# co-trained with it for rRESPA (Fu et al.).
FAST_MODEL = os.path.join(DATA_DIR, "water_4A_distilled.pth")
RESIDUAL_MODEL = os.path.join(DATA_DIR, "water_6A_distilled_residual.pth")
# The first fast model, trained by hand against the classical reference
# (examples/water/train.py, float64); kept to compare with and for tests that need
# double precision.
HANDMADE_FAST_MODEL = os.path.join(DATA_DIR, "water_4A.pth")
