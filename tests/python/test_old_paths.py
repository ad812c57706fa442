"""The module paths the tools had before openmmswitchingdp.toolkit stay for one
release: each imports, warns (DeprecationWarning naming the new path) and hands out
the very objects of the new modules."""
import importlib
import sys

import pytest

# old module -> the new modules it re-exports
ALIASES = {
    "schemes": ["openmmswitchingdp.toolkit.schemes"],
    "analysis": ["openmmswitchingdp.toolkit.analysis"],
    "plots": ["openmmswitchingdp.toolkit.plots"],
    "lammps": ["openmmswitchingdp.toolkit.lammps"],
    "nve": ["openmmswitchingdp.toolkit.nve", "openmmswitchingdp.toolkit.cli.nve"],
    "bench": ["openmmswitchingdp.toolkit.bench", "openmmswitchingdp.toolkit.cli.bench"],
    "validate": ["openmmswitchingdp.toolkit.validate", "openmmswitchingdp.toolkit.cli.validate"],
    "distill": ["openmmswitchingdp.toolkit.distill", "openmmswitchingdp.toolkit.cli.distill"],
    "cli": ["openmmswitchingdp.toolkit.md", "openmmswitchingdp.toolkit.cli.md"],
    "gpucheck": ["openmmswitchingdp.toolkit.gpucheck", "openmmswitchingdp.toolkit.cli.gpucheck"],
}


@pytest.mark.parametrize("old", sorted(ALIASES))
def test_an_old_path_warns_and_points_at_the_new_objects(old, monkeypatch):
    name = f"openmmswitchingdp.{old}"
    monkeypatch.delitem(sys.modules, name, raising=False)
    with pytest.warns(DeprecationWarning, match=f"{name} is deprecated.*{ALIASES[old][0]}"):
        alias = importlib.import_module(name)
    news = [importlib.import_module(new) for new in ALIASES[old]]
    names = sorted({n for new in news for n in new.__all__})
    assert sorted(alias.__all__) == names
    for n in names:
        owner = next(new for new in reversed(news) if n in new.__all__)
        assert getattr(alias, n) is getattr(owner, n), n


def test_the_names_tests_and_scripts_used_are_still_there():
    with pytest.warns(DeprecationWarning):
        cli = importlib.reload(importlib.import_module("openmmswitchingdp.cli"))
    assert cli.main and cli.MAX_TEMPERATURE_FACTOR == 3 and cli.DEFAULT_GUARD == 1.0
    with pytest.warns(DeprecationWarning):
        distill = importlib.reload(importlib.import_module("openmmswitchingdp.distill"))
    for n in ("dp_command", "freeze_fast", "pair_distances", "read_system", "distill", "main", "Settings"):
        assert hasattr(distill, n), n
    with pytest.warns(DeprecationWarning):
        validate = importlib.reload(importlib.import_module("openmmswitchingdp.validate"))
    assert validate.temperature_of and validate.command
    with pytest.warns(DeprecationWarning):
        bench = importlib.reload(importlib.import_module("openmmswitchingdp.bench"))
    assert bench.main and bench.command and bench.measure
