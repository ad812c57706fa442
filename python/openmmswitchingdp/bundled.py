"""Paths of the bundled water system and models (installed with the package)."""
import os

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
ACCURATE_MODEL = os.path.join(DATA_DIR, "water_6A.pth")
FAST_MODEL = os.path.join(DATA_DIR, "water_4A.pth")
WATER_PDB = os.path.join(DATA_DIR, "water.pdb")
