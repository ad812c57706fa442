"""The documentation's own checks, without building the site (scripts/test.sh builds it
with warnings as errors): the README's size and links, and docs/conf.py's check that
every public name is in the API reference, which must fail when one is left out."""
import importlib.util
import inspect
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
README = os.path.join(ROOT, "README.md")


def test_readme_is_short():
    with open(README) as f:
        assert len(f.read().splitlines()) <= 250


def test_readme_relative_links_exist():
    with open(README) as f:
        text = f.read()
    links = [t.split("#")[0] for t in re.findall(r"\]\(([^)]+)\)", text) if "://" not in t and not t.startswith("#")]
    assert links, "the README links to the site's pages"
    missing = [link for link in links if link and not os.path.exists(os.path.join(ROOT, link))]
    assert not missing


@pytest.fixture(scope="module")
def conf():
    pytest.importorskip("sphinx")
    spec = importlib.util.spec_from_file_location("docs_conf", os.path.join(ROOT, "docs", "conf.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Recorder:
    def __init__(self):
        self.messages = []

    def warning(self, message, *args, **kwargs):
        self.messages.append((kwargs.get("subtype"), message % args))

    def verbose(self, *args, **kwargs):
        pass


class _Env:
    def __init__(self, names):
        domain = type("Domain", (), {})()
        domain.objects = dict.fromkeys(names)
        domain.modules = {}
        self._domain = domain

    def get_domain(self, name):
        assert name == "py"
        return self._domain


def _everything(conf):
    """Every name the API reference is expected to hold."""
    import importlib
    names = set()
    for module_name in conf.FACE_MODULES + conf.toolkit_modules():
        module = importlib.import_module(module_name)
        names.add(module_name)
        names.update(f"{module_name}.{name}" for name in getattr(module, "__all__", []))
    force = importlib.import_module("openmmswitchingdp").SwitchingDPForce
    names.update(f"{conf.SWIG_CLASS}.{name}" for name in vars(force) if not name.startswith("_"))
    return names


def _undocumented(conf, names, monkeypatch):
    recorder = _Recorder()
    monkeypatch.setattr(conf, "logger", recorder)
    conf.check_public_names(None, _Env(names))
    return [text for subtype, text in recorder.messages if subtype in ("undocumented", "import")]


def test_check_passes_when_everything_is_documented(conf, monkeypatch):
    assert _undocumented(conf, _everything(conf), monkeypatch) == []


@pytest.mark.parametrize("left_out", ["openmmswitchingdp.typesFromTopology",
                                      "openmmswitchingdp.SwitchingDPForce.setDeviationLimit",
                                      "openmmswitchingdp.bundled.FAST_MODEL",
                                      "openmmswitchingdp.toolkit.nve"])
def test_check_fails_when_a_name_is_left_out(conf, monkeypatch, left_out):
    names = _everything(conf) - {left_out}
    messages = _undocumented(conf, names, monkeypatch)
    assert any(left_out in message for message in messages), messages


def test_swig_docstrings_become_restructured_text(conf):
    lines = inspect.cleandoc("""
        *Overload 1:*

        Create a force from two frozen models.
        @param accurateFile the accurate model

        |

        *Overload 2:*

        Create a force from one model.
        """).splitlines()
    conf.normalise_swig_docstring(None, "method", conf.SWIG_CLASS + ".__init__", None, {}, lines)
    assert "|" not in [line.strip() for line in lines]
    assert "**Overload 2:**" in lines
    assert ":param accurateFile: the accurate model" in lines
    assert conf._rst_problems("\n".join(lines)) == []


def test_plain_text_docstrings_are_shown_as_written(conf):
    lines = ["The deviation max_i |F_accurate - F_fast| in eV/A."]
    conf.plain_text_docstrings(None, "function", "openmmswitchingdp.x", None, {}, lines)
    assert lines[0] == "::" and lines[2].strip().startswith("The deviation")
    valid = ["A State's time, ps.", "", "Uses :func:`openmmswitchingdp.typesFromTopology`."]
    kept = list(valid)
    conf.plain_text_docstrings(None, "function", "openmmswitchingdp.y", None, {}, kept)
    assert kept == valid


def test_relative_references_resolve_like_python(conf):
    import openmmswitchingdp.toolkit.analysis as analysis
    lines = ["running is :mod:`.validate`'s job, plotting :mod:`.plots`'; :mod:`.nowhere` stays."]
    conf.relative_references(None, "module", "openmmswitchingdp.toolkit.analysis", analysis, {}, lines)
    assert ":mod:`validate <openmmswitchingdp.toolkit.validate>`" in lines[0]
    assert ":mod:`plots <openmmswitchingdp.toolkit.plots>`" in lines[0]
    assert ":mod:`.nowhere`" in lines[0]
