#!/usr/bin/env python3
"""Exit 0 when every package pinned in requirements.txt (beside this file) is installed
at exactly that version, 1 otherwise: lets .ci/run skip pip (~1 s) when nothing is to do."""

import os
import sys
from importlib import metadata

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "requirements.txt")
for line in open(path):
    line = line.split("#")[0].strip()
    if not line:
        continue
    name, version = line.split("==")
    try:
        if metadata.version(name) != version:
            sys.exit(1)
    except metadata.PackageNotFoundError:
        sys.exit(1)
