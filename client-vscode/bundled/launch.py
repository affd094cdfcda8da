"""Runs the pitfalls bundled with the extension: `python -I -S launch.py ARGS` is `pitfalls ARGS`.

-I and -S keep the interpreter's own environment out (no PYTHON* variables, no current
directory, no user or site-packages), so sys.path is the standard library plus the libraries
scripts/build-vsix.sh installed for this interpreter's version (libs/cp3XX): a workspace whose
environment pins other versions of pitfalls' dependencies cannot reach the server.
"""

import os
import sys

if not (sys.flags.isolated and sys.flags.no_site):
    sys.exit("pitfalls: run the bundle as `python -I -S launch.py ...`, or the interpreter's site-packages leak in")
version = "%d.%d" % sys.version_info[:2]
bundle = os.path.join(os.path.dirname(os.path.abspath(__file__)), "libs")
libs = os.path.join(bundle, "cp" + version.replace(".", ""))
if sys.implementation.name != "cpython" or not os.path.isdir(libs):
    minors = sorted(int(name[3:]) for name in os.listdir(bundle) if name[3:].isdigit()) if os.path.isdir(bundle) else []
    built = ["3.%d" % minor for minor in minors]
    sys.exit("pitfalls: the bundle has no libraries for %s %s (it has CPython: %s)" % (sys.implementation.name, version, ", ".join(built) or "none"))
sys.path.insert(0, libs)

from pitfalls.cli.main import main  # noqa: E402 - once sys.path holds the bundle

sys.exit(main())
