"""The old module paths, which stay for one release as aliases of their new places
in :mod:`openmmswitchingdp.toolkit`."""
import importlib
import warnings

__all__ = ["alias"]


def alias(namespace, old, *new):
    """Make `namespace` (an alias module's globals) hand out the public names of the
    modules `new` (the later one's where both have a name), with a DeprecationWarning
    that `old` moved; returns the last of them (the command line, where there is one)."""
    warnings.warn(f"{old} is deprecated and will be removed in the next release; use {' and '.join(new)}",
                  DeprecationWarning, stacklevel=3)
    names = set()
    for name in new:
        module = importlib.import_module(name)
        namespace.update({n: getattr(module, n) for n in module.__all__})
        names.update(module.__all__)
    namespace["__all__"] = sorted(names)
    return module
