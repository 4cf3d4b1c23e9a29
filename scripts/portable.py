#!/usr/bin/env python
"""Run pytest (nbval) with PyTorch and its math libraries on another CPU code path: ``make portable``.

The stored outputs of the notebooks were produced on one machine; a learner's CPU may vectorise
differently (AVX-512, AVX2, NEON, none) and so round differently in the last bits. A strictly compared
output must not depend on that. This script re-executes the notebooks on code paths other than the
native one and lets nbval compare:

- ``ATEN_CPU_CAPABILITY=default``: PyTorch's own kernels without vector instructions;
- ``MKL_CBWR=COMPATIBLE``: Intel MKL (matrix products) on its most conservative, SSE2-compatible
  branch (MKL's "conditional numerical reproducibility" setting);
- ``ONEDNN_MAX_CPU_ISA=SSE41``: oneDNN limited to SSE4.1.

Every argument is passed to pytest, e.g.
``python scripts/portable.py --nbval --nbval-current-env notebooks/01_bigram_counting.ipynb``.
``tests/test_portable.py`` shows that it catches a planted non-portable print.
"""

from __future__ import annotations

import os
import subprocess
import sys

#: The environment of another CPU code path (see the module docstring).
PORTABLE_ENV = {
    "ATEN_CPU_CAPABILITY": "default",
    "MKL_CBWR": "COMPATIBLE",
    "ONEDNN_MAX_CPU_ISA": "SSE41",
}


def main(argv: list[str]) -> int:
    env = {**os.environ, **PORTABLE_ENV}
    print("portable: " + " ".join(f"{k}={v}" for k, v in PORTABLE_ENV.items()), flush=True)
    return subprocess.call([sys.executable, "-m", "pytest", *argv], env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
