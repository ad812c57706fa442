"""The tools' thin command-line modules: each parses its arguments, builds its
library's options, calls the library and prints.  The console scripts
``switchingdp-md``, ``-bench``, ``-validate`` and ``-distill`` are their ``main`` (or
``command``) functions; :mod:`openmmswitchingdp.toolkit.cli.common` holds what they
share."""

__all__ = []
