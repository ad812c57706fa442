"""The C++ layers point one way: dpcore (the engine) is below the API.  No source
file under dpcore/ may include a header of the layers above it (openmmapi/,
serialization/, platforms/); the build enforces it too, since dpcore's include
path holds only dpcore/include.  This reads the sources; it imports nothing of
the package."""
import os
import re

from helpers import ROOT

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^">]+)[">]', re.MULTILINE)
ABOVE = ("openmmapi", "serialization", "platforms")
SOURCE_ENDINGS = (".h", ".hpp", ".cpp", ".cc", ".cu")


def files_under(*parts, endings=SOURCE_ENDINGS):
    top = os.path.join(ROOT, *parts)
    for folder, _, names in os.walk(top):
        for name in sorted(names):
            if name.endswith(endings):
                yield os.path.join(folder, name)


def headers_above():
    """{include spelling: the header it names} for every header of the upper layers,
    both by its path under an include/ folder (e.g. internal/SwitchingDPForceImpl.h)
    and by its bare name, which a flat include path would also find."""
    found = {}
    for layer in ABOVE:
        for path in files_under(layer, endings=(".h", ".hpp")):
            relative = os.path.relpath(path, ROOT)
            found.setdefault(os.path.basename(path), relative)
            parts = relative.split(os.sep)
            if "include" in parts:
                found.setdefault("/".join(parts[parts.index("include") + 1:]), relative)
            found.setdefault("/".join(parts), relative)
    return found


def dpcore_includes():
    """(dpcore file, included name) for every #include under dpcore/."""
    for path in files_under("dpcore"):
        with open(path) as source:
            for name in INCLUDE.findall(source.read()):
                yield os.path.relpath(path, ROOT), name


def test_the_scan_sees_both_layers():
    above = headers_above()
    assert "SwitchingDPForce.h" in above and "SwitchingDPSchedule.h" in above
    assert "internal/SwitchingDPForceImpl.h" in above
    assert any(name == "SwitchingDPEngine.h" for _, name in dpcore_includes())


def test_dpcore_includes_nothing_from_the_layers_above():
    above = headers_above()
    dpcore_headers = {os.path.basename(p) for p in files_under("dpcore", "include", endings=(".h", ".hpp"))}
    upward = [f"{source} includes \"{name}\" ({above[name]})"
              for source, name in dpcore_includes()
              if name in above and os.path.basename(name) not in dpcore_headers]
    assert not upward, "dpcore is the layer below openmmapi; move what it needs down:\n" + "\n".join(upward)
