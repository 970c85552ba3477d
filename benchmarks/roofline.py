"""The roofline of a customer-step: the model's arithmetic and memory traffic, no model logic.

The core's speed is judged against the fastest this machine can do the *work* a
customer-step of the model must do, not against an empty loop. That work is measured from
the model itself, by counting (:func:`count_work`), over the long run of the baseline:

- the share of customer-steps in which the customer buys (a need arrives and it meets
  someone),
- keyed uniform draws (a normal is two, by Box-Muller, with its log, sqrt and cos),
  normals, sigmoids, evaluations of the trust formula (two table reads and a multiply-add,
  as the core computes it from its per-run tables), other powers in the rules (gift decay,
  need depth and value), per customer-step;
- relationship records read besides the customer's own (trust evaluations of other
  records) and tie reads (referral and elsewhere walks), per customer-step.

:func:`purchase_kernel` then does exactly those counts per customer-step: it reads and
writes the customer's own 64-byte record, reads the counted number of other records and
ties at keyed random places, and makes the counted draws and transcendental functions, with
no branching model logic and no bookkeeping. Fractional counts are spread evenly over the
customers (customer c does floor((c+1)·r) − floor(c·r) of a kind whose rate is r), so its
totals per customer-step equal the counted rates. The core's ns per customer-step over the
kernel's is the roofline fraction (benchmarks/bench_scale.py --only table).

Counting runs the Mesa engine with numba's JIT off (set NUMBA_DISABLE_JIT=1 before
anything imports numba): its rules are then plain Python functions that can be wrapped, and
it makes the same keyed draws and rule calls as the core (tests/engines/test_docking.py).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

RECORD_FIELDS = 8  # ti, te, gift, scar, asym, last, n_trades, ring|origin|met: 64 bytes


@dataclass(frozen=True)
class Work:
    """What one customer-step of the model does, on average over the counted steps."""

    purchase_share: float  # customer-steps with a purchase (an encounter with a salesperson)
    uniforms: float  # keyed uniform draws (a normal's two included)
    normals: float  # of which pairs went into Box-Muller normals
    sigmoids: float
    trust_formulas: float  # combined trust (exp of the ability weight, pow of gift decay)
    powers: float  # other pow calls: gift decay, need depth and value
    other_records: float  # relationship records read besides the own one
    tie_reads: float

    def per_purchase(self, name: str) -> float:
        return getattr(self, name) / self.purchase_share

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def count_work(n: int = 200, steps: int = 150, burn: int = 50, seed: int = 1) -> Work:
    """Count the work of the baseline's customer-steps ``burn + 1 .. steps`` (the long run,
    after the first weeks in which customers look for salespeople). JIT must be off."""
    import numba

    if not numba.config.DISABLE_JIT:
        raise RuntimeError("count_work needs NUMBA_DISABLE_JIT=1 set before numba is imported")
    import trustsim.rng as rng

    counts = dict.fromkeys(Work.__dataclass_fields__, 0)
    live = [False]

    def counting(name, fn):
        def wrapped(*args, **kwargs):
            if live[0]:
                counts[name] += 1
            return fn(*args, **kwargs)

        return wrapped

    rng.uniform = counting("uniforms", rng.uniform)  # before the rules bind the name
    rng.normal = counting("normals", rng.normal)
    from trustsim import rules

    for name, fn in (
        ("sigmoids", "sigmoid"),
        ("trust_formulas", "combined_trust"),
        ("powers", "gift_now"),
        ("powers", "needs_depth"),
        ("powers", "needs_value"),
        ("tie_reads", "refers"),
        ("tie_reads", "refers_elsewhere"),
        ("purchase_share", "sales_stages"),
    ):
        setattr(rules, fn, counting(name, getattr(rules, fn)))
    _plain_parameters()
    from trustsim.loader import load_scenario
    from trustsim.mesa_model import agents
    from trustsim.mesa_model.model import TrustModel

    trust = agents.Relationship.trust
    agents.Relationship.trust = counting("other_records", trust)
    scenario = load_scenario("baseline", [f"population.n_customers={n}", f"run.steps={steps}"])
    model = TrustModel(scenario, seed)
    for _ in range(burn):
        model.step()
    live[0] = True
    for _ in range(steps - burn):
        model.step()
    live[0] = False
    agents.Relationship.trust = trust
    cs = n * (steps - burn)
    rate = {k: v / cs for k, v in counts.items()}
    # each purchase evaluates its own record's trust once in the stage walk; the rest of
    # the trust evaluations read other records
    rate["other_records"] = max(rate["other_records"] - rate["purchase_share"], 0.0)
    return Work(**rate)


def _plain_parameters() -> None:
    """Without the JIT the rules read ``P[0].section.key`` from plain Python objects."""
    from types import SimpleNamespace

    import trustsim.params as params

    def plain(scenario):
        data = scenario.model_dump()
        for section, key, finfo in params.iter_fields():  # a word as its position, as
            choices = params.choices_of(finfo)  # param_record stores it
            if choices:
                data[section][key] = choices.index(data[section][key])
        return [SimpleNamespace(**{k: SimpleNamespace(**v) for k, v in data.items()})]

    params.param_record = plain


def _spread(c: int, rate: float) -> int:
    """How many of a kind with ``rate`` per customer-step customer c does."""
    return math.floor((c + 1) * rate) - math.floor(c * rate)


def purchase_kernel_source():
    """The kernel as a Python function (compiled by :func:`compiled_kernel`; run as is with
    the JIT off, which is how tests count its draws)."""
    import numpy as np
    from numba import njit, prange

    from trustsim.rng import normal, uniform

    spread = njit(inline="always")(_spread)

    def kernel(rec, ties, tab, seed, t, rates):
        share, uni, nor, sig, tf, pw, other, tie = (
            rates[0],
            rates[1],
            rates[2],
            rates[3],
            rates[4],
            rates[5],
            rates[6],
            rates[7],
        )
        n = rec.shape[0]
        total = 0.0
        for c in prange(n):
            x = rec[c, 0] + rec[c, 1] + rec[c, 2]
            plain = uni - 2.0 * nor  # uniforms not spent on normals
            for k in range(spread(c, plain)):
                x += uniform(seed, t, c, 0, k)
            for k in range(spread(c, nor)):
                x += normal(seed, t, c, 0, k)
            for _ in range(spread(c, sig)):
                x = 1.0 / (1.0 + np.exp(-x))
            for k in range(spread(c, tf)):  # the trust formula, from tables as the core does
                x = x * tab[0, (c + k) % tab.shape[1]] + tab[1, (t + k) % tab.shape[1]]
            for k in range(spread(c, pw)):
                x += 0.8 ** (k + 2)
            for k in range(spread(c, other)):  # another relationship's record
                j = (c * 40503 + k * 9973 + t * 7919) % n
                x += rec[j, 0] + rec[j, 1]
            for k in range(spread(c, tie)):  # a tie and its customer's record
                j = ties[(c * 2654435761 + k * 97 + t) % ties.shape[0]]
                x += rec[j, 6]
            if spread(c, share):  # a purchase writes the own record back
                rec[c, 0] = 0.9 * rec[c, 0] + 0.1 * x
                rec[c, 1] = 0.95 * rec[c, 1] + 0.05 * x
                rec[c, 5] = t
                rec[c, 6] += 1.0
            total += x
        return total

    return kernel, prange, njit


def compiled_kernel(parallel: bool):
    kernel, _, njit = purchase_kernel_source()
    return njit(cache=True, parallel=parallel)(kernel)


def rates_array(work: Work):
    import numpy as np

    w = work
    return np.array(
        [
            w.purchase_share,
            w.uniforms,
            w.normals,
            w.sigmoids,
            w.trust_formulas,
            w.powers,
            w.other_records,
            w.tie_reads,
        ]
    )
