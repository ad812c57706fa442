"""Paths of the bundled water system and models (installed with the package)."""
import os

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
ACCURATE_MODEL = os.path.join(DATA_DIR, "water_6A.pth")
FAST_MODEL = os.path.join(DATA_DIR, "water_4A.pth")
WATER_PDB = os.path.join(DATA_DIR, "water.pdb")
# Made by switchingdp-distill from water_6A.pth and water.pdb alone: the fast model
# (float32, compressed) and the residual co-trained with it for rRESPA.
DISTILLED_FAST_MODEL = os.path.join(DATA_DIR, "water_4A_distilled.pth")
DISTILLED_RESIDUAL_MODEL = os.path.join(DATA_DIR, "water_6A_distilled_residual.pth")
