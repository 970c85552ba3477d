"""The roofline kernel (benchmarks/roofline.py) does the work the model does: the same keyed
draws per purchase as the engines, counted from a run of the baseline."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.slow

COUNT = """
import json, sys
sys.path.insert(0, {bench!r})
import numpy as np
import roofline
work = roofline.count_work(n=80, steps=60, burn=20)
import trustsim.rng as rng
calls = [0]
plain = rng.uniform
def counting(*a):
    calls[0] += 1
    return plain(*a)
rng.uniform = counting
kernel, _, _ = roofline.purchase_kernel_source()  # binds the counting uniform (JIT off)
n = 5000
rec = np.zeros((n, roofline.RECORD_FIELDS))
ties = np.arange(n, dtype=np.int64)[::-1].copy()
tab = np.full((2, 64), 0.5)
kernel(rec, ties, tab, 1, 3, roofline.rates_array(work))
print(json.dumps({{"work": work.as_dict(), "kernel_uniforms": calls[0] / n}}))
"""


@pytest.fixture(scope="module")
def counted():
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1", "PYTHONWARNINGS": "ignore"}
    out = subprocess.run(
        [sys.executable, "-c", COUNT.format(bench=str(ROOT / "benchmarks"))],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_model_buys_and_draws_in_the_long_run(counted):
    work = counted["work"]
    assert 0.05 < work["purchase_share"] < 1.5  # encounters per customer-step
    assert work["uniforms"] > 2 * work["normals"] > 0
    assert work["sigmoids"] > 0 and work["trust_formulas"] > 0


def test_the_kernel_makes_the_models_draws_per_purchase(counted):
    work = counted["work"]
    per_purchase_model = work["uniforms"] / work["purchase_share"]
    per_purchase_kernel = counted["kernel_uniforms"] / work["purchase_share"]
    # the kernel spreads fractional rates evenly: its total over n customers is floor(n r)
    assert per_purchase_kernel == pytest.approx(
        per_purchase_model, abs=3 / 5000 / work["purchase_share"]
    )
