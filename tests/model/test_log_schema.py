"""The event log's one table (metrics.LOG_SCHEMA): the names, integer columns and defaults
derive from it, and both engines write its defaults where an event sets nothing."""

import numpy as np
import pytest

from tests.helpers import small
from trustsim import metrics
from trustsim.core.eventlog import DEFAULT_ROW
from trustsim.metrics import EV_OFFER, EV_TURNOVER, LOG_DEFAULTS, LOG_SCHEMA
from trustsim.runtime.run import simulate

# What an offer and a turnover event set besides who, when and the relationship.
SETS = {EV_OFFER: {"trust_before", "discount", "switched"}}
SETS[EV_TURNOVER] = {"trust_before", "org_trust", "followed"}


def test_names_integer_columns_and_defaults_come_from_the_table():
    assert tuple(name for name, _, _ in LOG_SCHEMA) == metrics.LOG_COLUMNS
    assert len(set(metrics.LOG_COLUMNS)) == len(LOG_SCHEMA)
    assert {dtype for _, dtype, _ in LOG_SCHEMA} == {"int64", "float64"}
    for i, (name, dtype, default) in enumerate(LOG_SCHEMA):
        assert getattr(metrics, f"L_{name.upper()}") == i, name
        assert (name in metrics.LOG_INT_COLUMNS) == (dtype == "int64"), name
        assert (name in LOG_DEFAULTS) == (default is not None), name
        if default is not None:
            assert DEFAULT_ROW[i] == default or (np.isnan(DEFAULT_ROW[i]) and np.isnan(default))


@pytest.mark.parametrize("engine", ["core", "mesa"])
def test_both_engines_write_the_tables_defaults(engine):
    scenario = small(
        "baseline",
        "run.history=true",
        "population.n_firms=3",
        "competition.offer_rate=0.2",
        "turnover.rate=0.05",
    )
    ev = simulate(scenario, engine, seed=3).events
    for kind, sets in SETS.items():
        rows = ev[ev.kind == kind]
        assert len(rows) > 0, kind
        for name, default in LOG_DEFAULTS.items():
            if name not in sets:
                expect = np.full(len(rows), default, dtype=float)
                np.testing.assert_array_equal(rows[name].to_numpy(float), expect, err_msg=name)
