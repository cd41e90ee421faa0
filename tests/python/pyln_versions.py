"""Smoke check of the provisioned venv: import both pyln packages and print their versions.

Prints one `<distribution> <version>` line each, the version as the installed metadata has it
(pyln spells 26.6.9 as `v26.06.9`), then the interpreter's version.
"""

import importlib.metadata
import sys

import pyln.client
import pyln.proto
from pyln.proto import wire  # noqa: F401  (the import itself is the check)

for dist, module in (("pyln-client", pyln.client), ("pyln-proto", pyln.proto)):
    version = importlib.metadata.version(dist)
    assert module.__version__ == version, (dist, module.__version__, version)
    print(f"{dist} {version}")
print(f"python {sys.version.split()[0]}")
