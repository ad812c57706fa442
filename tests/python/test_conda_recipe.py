"""The conda recipe (conda/recipe.yaml with conda/variants.yaml) renders for both
variants, CPU and CUDA, with the requirements the package needs.

Rendering is done in-process with py-rattler-build: it evaluates the recipe's
Jinja, selectors and variants but solves no environment and fetches nothing, so
this runs offline in well under a second.  Nothing here builds the package (there
is no conda on the CI machine); see conda/README.md.
"""
import os
import re

import pytest
import rattler_build
from rattler_build import PlatformConfig, RenderConfig, Stage0Recipe, VariantConfig

# Not helpers.ROOT: helpers imports the plugin, which this test does not need.
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECIPE = os.path.join(ROOT, "conda", "recipe.yaml")
VARIANTS = os.path.join(ROOT, "conda", "variants.yaml")
# The platform the recipe is built for (it skips every other one).
PLATFORM = "linux-64"


def render(recipe_path=RECIPE):
    recipe = Stage0Recipe.from_file(recipe_path)
    config = RenderConfig(platform=PlatformConfig(target_platform=PLATFORM))
    return recipe.render(VariantConfig.from_file(VARIANTS), config)


@pytest.fixture(scope="module")
def variants():
    """Rendered variants by kind: {"cpu": RenderedVariant, "cuda": RenderedVariant}."""
    rendered = render()
    kinds = {("cpu" if v.variant["cuda_compiler_version"] == "None" else "cuda"): v for v in rendered}
    assert len(rendered) == 2 and set(kinds) == {"cpu", "cuda"}, [v.variant for v in rendered]
    return kinds


def names(specs):
    """Package names of plain match specs ("cmake >=3.24" -> "cmake")."""
    return [s.split()[0] for s in specs if isinstance(s, str)]


def pins(specs, kind):
    """{package: arguments} of the pin_compatible/pin_subpackage entries."""
    return {p[kind]["name"]: p[kind] for p in specs if isinstance(p, dict) and kind in p}


def project_version():
    with open(os.path.join(ROOT, "pyproject.toml")) as f:
        return re.search(r'^version = "([^"]+)"', f.read(), re.MULTILINE).group(1)


def test_exactly_a_cpu_and_a_cuda_variant(variants):
    assert variants["cuda"].variant["cuda_compiler_version"] == "12.9"
    cpu, cuda = variants["cpu"].recipe.build.string, variants["cuda"].recipe.build.string
    assert cpu.startswith("cpu_py312h") and cuda.startswith("cuda129_py312h"), (cpu, cuda)
    # Everything else about the two builds is the same.
    differing = {k for k in variants["cpu"].variant if variants["cpu"].variant[k] != variants["cuda"].variant.get(k)}
    assert differing == {"cuda_compiler_version"}


@pytest.mark.parametrize("kind", ["cpu", "cuda"])
def test_requirements(variants, kind):
    variant = variants[kind]
    requirements = variant.recipe.requirements
    build, host, run = requirements.build, requirements.host, requirements.run

    # Build tools: conda-forge's C++ compiler and sysroot, CMake, Ninja, SWIG; the
    # CUDA compiler only in the CUDA build.
    assert "gxx_linux-64 14.*" in build and "sysroot_linux-64 2.17.*" in build
    assert {"cmake", "ninja", "swig"} <= set(names(build))
    nvcc = [s for s in build if str(s).startswith("cuda-nvcc")]
    assert nvcc == (["cuda-nvcc_linux-64 12.9.*"] if kind == "cuda" else [])

    # Host: the interpreter and build backend, and the libraries the plugin links.
    # A bare name takes its version from variants.yaml, so pytorch and openmm are
    # built against exactly one minor version each.
    assert {"python", "pip", "scikit-build-core", "numpy", "openmm", "pytorch", "libtorch"} <= set(names(host))
    assert "pytorch" in host and "openmm" in host
    assert VariantConfig.from_file(VARIANTS)["pytorch"] == [variant.variant["pytorch"]]
    assert VariantConfig.from_file(VARIANTS)["openmm"] == [variant.variant["openmm"]]
    assert f"pytorch * {kind}*" in host
    cuda_host = [s for s in host if str(s).startswith("cuda-")]
    assert cuda_host == (["cuda-version ==12.9", "cuda-cudart-dev"] if kind == "cuda" else [])

    # Run: pytorch held to the build's release and kind (libtorch has no stable C++
    # ABI), OpenMM to its minor series, deepmd-kit for its op library.
    pinned = pins(run, "pin_compatible")
    assert set(pinned) == {"pytorch", "openmm"}
    assert pinned["pytorch"]["upper_bound"] == "x.x.x" and pinned["pytorch"]["build"] == f"{kind}*"
    assert pinned["openmm"]["upper_bound"] == "x.x"
    assert "deepmd-kit >=3.2" in run
    assert {"python", "numpy", "tqdm", "mdtraj", "matplotlib-base"} <= set(names(run))
    # The other kind's torch must not sneak in anywhere.
    other = "cpu" if kind == "cuda" else "cuda"
    assert not [s for s in build + host + run if f"{other}*" in str(s)]


@pytest.mark.parametrize("kind", ["cpu", "cuda"])
def test_build_script_and_tests(variants, kind):
    recipe = variants[kind].recipe
    assert recipe.package.name == "openmm-switchingdp"
    assert recipe.package.version == project_version()
    assert recipe.about.license == "MIT"

    script = recipe.build.script
    assert script["env"] == {"TORCH_PROC_TYPE": kind}
    assert "-m pip install . -vv --no-deps --no-build-isolation" in script["content"]
    assert "cmake.define.SWITCHINGDP_BUILD_TESTS=ON" in script["content"]
    assert "ctest --test-dir build/conda" in script["content"]

    tests = recipe.to_dict()["tests"]
    imports = [t["python"]["imports"] for t in tests if "python" in t]
    assert imports == [["openmmswitchingdp"]]
    commands = [c for t in tests if "script" in t for c in t["script"]]
    md = [c for c in commands if c.startswith("switchingdp-md --steps")]
    assert md and "--platform CPU" in md[0]


def write_copy(tmp_path, text):
    path = tmp_path / "recipe.yaml"
    path.write_text(text)
    return str(path)


def test_a_copy_renders(tmp_path):
    # The harness used for the broken recipes below works on an intact copy.
    with open(RECIPE) as f:
        assert len(render(write_copy(tmp_path, f.read()))) == 2


@pytest.mark.parametrize("breakage", [
    # An undefined Jinja variable.
    ("pytorch * ${{ torch_proc_type }}*", "pytorch * ${{ torch_proc_typo }}*"),
    # A YAML syntax error.
    ("requirements:\n  build:\n", "requirements:\n  build:\n  - [unclosed\n"),
    # A match spec that does not parse.
    ("cmake >=3.24", "cmake >=>3.24"),
], ids=["undefined-variable", "yaml-error", "bad-match-spec"])
def test_a_broken_recipe_does_not_render(tmp_path, breakage):
    with open(RECIPE) as f:
        text = f.read()
    old, new = breakage
    assert old in text
    with pytest.raises(rattler_build.RattlerBuildError):
        render(write_copy(tmp_path, text.replace(old, new)))
