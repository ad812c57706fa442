"""Our libraries export only our API and entry points (build_support/exports.map).

An exported std:: (or torch) template instantiation can take the place of the copy
another library was built against: on a GPU machine, torch::jit::load crashed inside
std::ostream code that resolved into our library."""
import glob
import os
import re
import shutil
import subprocess
import sys

import pytest

import openmmswitchingdp

ENTRY_POINTS = {"registerPlatforms", "registerKernelFactories", "registerSwitchingDPSerializationProxies"}
# What a demangled symbol of ours looks like, plain or as the special symbols of a class.
OURS = re.compile(r"^(?:(?:vtable|VTT|typeinfo|typeinfo name|construction vtable|guard variable) for |"
                  r"(?:non-)?virtual thunk to )?SwitchingDPPlugin::")


def exported_symbols(nm_output):
    """The demangled names of the defined dynamic symbols in `nm -D --defined-only -C` output."""
    names = []
    for line in nm_output.splitlines():
        parts = line.split(maxsplit=2)
        if len(parts) == 3:
            names.append(parts[2])
    return names


def foreign(names):
    """The names that are neither ours nor an entry point."""
    return [name for name in names if not OURS.match(name) and name not in ENTRY_POINTS
            and not name.startswith("PyInit_")]


def libraries():
    folder = os.path.dirname(openmmswitchingdp.__file__)
    return sorted(glob.glob(os.path.join(folder, "*.so")))


@pytest.mark.skipif(shutil.which("nm") is None, reason="nm (binutils) is not installed")
@pytest.mark.parametrize("library", libraries(), ids=os.path.basename)
def test_library_exports_only_our_api(library):
    output = subprocess.run(["nm", "-D", "--defined-only", "-C", library], check=True, capture_output=True,
                            text=True).stdout
    names = exported_symbols(output)
    assert names, "nm found no exported symbol: the check would pass vacuously"
    assert foreign(names) == []
    assert not [name for name in names if "std::" in name.split("(")[0]]


def test_the_check_catches_std_symbols():
    sample = ("0000000000012340 T SwitchingDPPlugin::SwitchingDPForce::getTypes() const\n"
              "0000000000012350 V vtable for SwitchingDPPlugin::SwitchingDPForce\n"
              "0000000000012360 W std::basic_ostream<char, std::char_traits<char> >& "
              "std::basic_ostream<char, std::char_traits<char> >::_M_insert<double>(double)\n"
              "0000000000012370 u guard variable for std::__detail::_AnyMatcher<char>::__nul\n"
              "0000000000012380 T registerPlatforms\n")
    assert foreign(exported_symbols(sample)) == [
        "std::basic_ostream<char, std::char_traits<char> >& std::basic_ostream<char, std::char_traits<char> >"
        "::_M_insert<double>(double)", "guard variable for std::__detail::_AnyMatcher<char>::__nul"]


def test_importing_the_package_imports_torch_first():
    """A fresh interpreter that imports only our package has torch's Python package
    loaded, and loaded before our platform libraries."""
    code = ("import sys, openmmswitchingdp; "
            "names = list(sys.modules); "
            "assert 'torch' in names, 'torch not imported'; "
            "assert names.index('torch') < names.index('openmmswitchingdp.switchingdpforce'); "
            "print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
