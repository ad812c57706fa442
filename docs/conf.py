"""Sphinx configuration of the openmm-switchingdp documentation site.

Built by scripts/test.sh with ``python -m sphinx -W --keep-going -b html docs build/docs``,
so every warning fails the build.  Besides Sphinx's own checks (broken references,
missing images, documents outside every toctree), two of ours run here:

- every public name (a module's ``__all__``, and every public method and constant of
  the SWIG class ``SwitchingDPForce``) must appear in the API reference, and every
  public function and class must have a docstring (``check_public_names``);
- SWIG's docstrings (copied from the C++ header's comments) are normalised before
  docutils reads them (``normalise_swig_docstring``).

The API reference imports the installed package (the last ``pip install .``).
"""
import importlib
import inspect
import os
import re
import sys
import time

from sphinx.util import logging

project = "openmm-switchingdp"
author = "the openmm-switchingdp developers"
copyright = f"{time.gmtime().tm_year}, {author}"

extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]
# docs/results.md is written by benchmarks/results.py and starts its sections at
# level 3 under the page title; that skip is the only header warning we accept.
suppress_warnings = ["myst.header"]
# Pages without a title of their own: the threads tables are included by
# threads_tables.md, and results/bench.md and results/nve.md repeat results.md.
exclude_patterns = ["_build", "threads/default_threads.md", "threads/before_after.md",
                    "threads/before_after_lammps.md", "results/bench.md", "results/nve.md"]
html_theme = "alabaster"
html_title = "openmm-switchingdp"
html_static_path = []
autodoc_member_order = "bysource"
# The class docstring and the constructor's (SWIG puts the C++ constructors' comments,
# one per overload, on __init__).
autoclass_content = "both"
# Command lines in docstrings and pages: "--threads" must stay two hyphens.
smartquotes = False
# imported-members: a module documents every name of its __all__, wherever it is defined
# (without it autodoc drops constants whose value is a builtin, e.g. a float, because
# their __module__ is "builtins").  Packages that only re-export their submodules'
# names (toolkit.distill, toolkit.gpucheck) are documented with :no-members:.
autodoc_default_options = {"members": True, "undoc-members": True, "imported-members": True,
                           "show-inheritance": False}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
nitpicky = False
# `x` in docstrings and the C++ header means code, as in Markdown.
default_role = "code"

logger = logging.getLogger("switchingdp-docs")


# The modules whose public names the API reference must cover.  deepmd_ops is internal
# (it only finds deepmd-kit's libraries) and is left out on purpose.
FACE_MODULES = ["openmmswitchingdp", "openmmswitchingdp.defaults", "openmmswitchingdp.units",
                "openmmswitchingdp.integrators", "openmmswitchingdp.reporters",
                "openmmswitchingdp.bundled", "openmmswitchingdp.mlpotential"]
SWIG_CLASS = "openmmswitchingdp.SwitchingDPForce"
SWIG_SKIP = {"thisown"}          # SWIG's ownership flag, not part of the API
# Helpers OpenMM's SWIG layer adds to every Force class; documented, but their
# docstrings are not written in our header.
SWIG_HELPERS = {"isinstance"}


def toolkit_modules():
    """Every module under openmmswitchingdp.toolkit (subpackages included)."""
    import pkgutil
    try:
        toolkit = importlib.import_module("openmmswitchingdp.toolkit")
    except ImportError:
        return []
    names = ["openmmswitchingdp.toolkit"]
    names += [m.name for m in pkgutil.walk_packages(toolkit.__path__, "openmmswitchingdp.toolkit.")]
    return names


# ---- docstrings -----------------------------------------------------------------
_SWIG_SIGNATURE = re.compile(r"^\s*\w+\(self(,[^)]*)?\)\s*(->\s*\S+)?\s*$")


def normalise_swig_docstring(app, what, name, obj, options, lines):
    """SWIG copies each C++ comment into the method's docstring as it stands: indented by
    the header's own indentation, overloads marked ``*Overload N:*`` and separated by a
    line holding ``|``, ``@param``/``@return`` tags possible.  Make that plain
    reStructuredText."""
    if not name.startswith(SWIG_CLASS):
        return
    out = []
    for line in inspect.cleandoc("\n".join(lines)).splitlines():
        stripped = line.strip()
        if _SWIG_SIGNATURE.match(line):      # "getX(self) -> int": autodoc shows signatures itself
            continue
        if stripped == "|":                  # SWIG's separator between overloads
            out.append("")
            continue
        m = re.fullmatch(r"\*Overload (\d+):\*", stripped)
        if m:
            out.append(f"**Overload {m.group(1)}:**")
            continue
        m = re.match(r"@param\s+(\w+)\s*(.*)", stripped)
        if m:
            out.append(f":param {m.group(1)}: {m.group(2)}")
            continue
        m = re.match(r"@returns?\s*(.*)", stripped)
        if m:
            out.append(f":returns: {m.group(1)}")
            continue
        out.append(line)
    while out and not out[0].strip():
        out.pop(0)
    lines[:] = out


_IGNORED_IN_DRY_RUN = ("Unknown interpreted text role", "No role entry", "Unknown directive type",
                       "No directive entry", "Trying")


_ROLE = re.compile(r":(?:[a-z]+:)?[a-z]+:`([^`]*)`")


def _rst_problems(text):
    """What docutils alone says about a docstring.  Sphinx's roles (:func:`x` and the
    like) are replaced by literals first: resolving them needs the build environment,
    and a reference that does not resolve is reported by the real build anyway."""
    import io
    from docutils import nodes
    from docutils.core import publish_doctree
    settings = {"report_level": 5, "halt_level": 5, "warning_stream": io.StringIO(),
                "default_role": "code"}
    try:
        doctree = publish_doctree(_ROLE.sub(r"``\1``", text), settings_overrides=settings)
    except Exception:  # noqa: BLE001  (a Sphinx directive outside Sphinx: the real build judges it)
        return []
    problems = []
    for message in [*doctree.findall(nodes.system_message), *doctree.transform_messages]:
        body = message.astext()
        if message["level"] >= 2 and not any(word in body for word in _IGNORED_IN_DRY_RUN):
            problems.append(body.splitlines()[0] if body else "?")
    return problems


_RELATIVE = re.compile(r"(:(?:py:)?(?:mod|func|class|meth|attr|data|obj|exc):)`\.([A-Za-z_][\w.]*)`")


def relative_references(app, what, name, obj, options, lines):
    """Our docstrings write :mod:`.validate` for a sibling module, as Python's relative
    imports would.  Sphinx reads a leading dot as "any name ending so", which is ambiguous
    where toolkit.validate and toolkit.cli.validate both exist; resolve it as Python
    does, against the package of the docstring's module."""
    if not name.startswith("openmmswitchingdp"):
        return
    module_name = name if what == "module" else getattr(obj, "__module__", None) or name.rpartition(".")[0]
    module = sys.modules.get(module_name)
    package = module_name if module is not None and hasattr(module, "__path__") else module_name.rpartition(".")[0]

    def absolute(match):
        role, target = match.group(1), match.group(2)
        full = f"{package}.{target}"
        try:
            importlib.import_module(full)
            found = True
        except ImportError:
            parent, _, attr = full.rpartition(".")
            found = hasattr(sys.modules.get(parent), attr)
        return f"{role}`{target} <{full}>`" if found else match.group(0)

    lines[:] = [_RELATIVE.sub(absolute, line) for line in lines]


def plain_text_docstrings(app, what, name, obj, options, lines):
    """Many of our docstrings are plain text written for ``help()``: usage lines, option
    tables, ``|F_a - F_b|``.  A docstring that is not valid reStructuredText is shown as
    written, as a preformatted block, rather than mangled by docutils."""
    if not name.startswith("openmmswitchingdp") or not any(line.strip() for line in lines):
        return
    problems = _rst_problems("\n".join(lines))
    if problems:
        logger.verbose("%s: docstring shown preformatted (%s)", name, problems[0])
        lines[:] = ["::", ""] + ["    " + line for line in lines] + [""]


def module_constants(app, what, name, obj, options, lines):
    """Sphinx 9's autodoc documents a module constant only when it has a ``#:`` comment.
    A constant in ``__all__`` without one is still public: append it to its module's
    entry with its value, so the reference lists every public name.  (Packages that
    re-export submodules' names are documented in the submodules.)"""
    import sphinx
    if what != "module" or not name.startswith("openmmswitchingdp") or sphinx.version_info < (9,):
        return                           # Sphinx 8 documents them itself (undoc-members)
    members = options.get("members") if hasattr(options, "get") else getattr(options, "members", None)
    if not members:                      # :no-members: (a package re-exporting its submodules)
        return
    from sphinx.pycode import ModuleAnalyzer
    try:
        commented = {attr for (_, attr) in ModuleAnalyzer.for_module(name).find_attr_docs()}
    except Exception:  # noqa: BLE001
        commented = set()
    extra = []
    for member in getattr(obj, "__all__", []):
        value = getattr(obj, member, None)
        if member in commented or member.startswith("__") or callable(value) or inspect.ismodule(value):
            continue
        text = repr(value)
        if len(text) > 100 or "\n" in text:
            text = text[:97].replace("\n", " ") + "..."
        extra += ["", f".. py:data:: {member}", f"   :value: {text}", ""]
    if extra:
        lines += extra


# ---- every public name documented ----------------------------------------------------
def _documented(env):
    domain = env.get_domain("py")
    names = set(domain.objects)
    names.update(getattr(domain, "modules", {}))
    return names


def _own_docstring(obj):
    doc = obj.__doc__
    return bool(doc and doc.strip())


def check_public_names(app, env):
    documented = _documented(env)
    missing = []
    for module_name in FACE_MODULES + toolkit_modules():
        try:
            module = importlib.import_module(module_name)
        except Exception as error:  # noqa: BLE001
            logger.warning("API reference: cannot import %s (%s)", module_name, error, type="switchingdp",
                           subtype="import")
            continue
        if module_name not in documented:
            missing.append(f"module {module_name}")
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name, None)
            candidates = {f"{module_name}.{name}"}
            home = getattr(obj, "__module__", None)
            if inspect.ismodule(obj):
                candidates.add(obj.__name__)
            elif isinstance(home, str) and (inspect.isclass(obj) or inspect.isfunction(obj)):
                candidates.add(f"{home}.{name}")   # a re-export documented where it is defined
            if inspect.ismodule(module) and hasattr(module, "__path__"):
                # a package re-exporting a submodule's name: documented in the submodule
                prefix = module_name + "."
                candidates.update(f"{sub}.{name}" for sub in documented if sub.startswith(prefix)
                                  and getattr(sys.modules.get(sub), name, object()) is obj)
            if not candidates & documented:
                missing.append(f"public name {module_name}.{name}")
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and not _own_docstring(obj):
                logger.warning("API reference: %s.%s has no docstring", module_name, name,
                               type="switchingdp", subtype="docstring")
    swig = importlib.import_module("openmmswitchingdp").SwitchingDPForce
    for name, member in vars(swig).items():
        if name.startswith("_") or name in SWIG_SKIP:
            continue
        if f"{SWIG_CLASS}.{name}" not in documented:
            missing.append(f"public method {SWIG_CLASS}.{name}")
        if callable(member) and name not in SWIG_HELPERS and not _own_docstring(getattr(swig, name)):
            logger.warning("API reference: %s.%s has no docstring (document it in the C++ header)",
                           SWIG_CLASS, name, type="switchingdp", subtype="docstring")
    for name in missing:
        logger.warning("API reference: %s is not documented on the site", name,
                       type="switchingdp", subtype="undocumented")


def setup(app):
    app.connect("autodoc-process-docstring", normalise_swig_docstring)
    app.connect("autodoc-process-docstring", relative_references)
    app.connect("autodoc-process-docstring", plain_text_docstrings)
    app.connect("autodoc-process-docstring", module_constants)
    app.connect("env-check-consistency", check_public_names)
    return {"parallel_read_safe": True}
