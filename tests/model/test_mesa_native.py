"""The models as a Mesa user meets them: parameters by keyword, rng/seed, run_model(),
the DataCollector, the tie network, mesa.batch_run and SolaraViz's way of rebuilding."""

from __future__ import annotations

import inspect

import mesa
import numpy as np
import pandas as pd
import pytest

import trustsim
from trustsim.codes import OUTSIDER
from trustsim.core.model import CoreModel
from trustsim.errors import ScenarioError, UsageError
from trustsim.mesa_model.agents import Customer
from trustsim.mesa_model.model import TrustModel
from trustsim.params import iter_fields, keyword_of, keywords
from trustsim.runtime.run import simulate

SMALL = {"n_customers": 40, "n_salespeople": 4, "n_firms": 2}
ENGINES = [TrustModel, CoreModel]


@pytest.mark.parametrize("cls", ENGINES)
def test_parameters_by_short_name_and_by_section(cls):
    m = cls(n_customers=30, ring_gradient=0.9, rng=3, mechanisms__gifts=False)
    assert m.params.population.n_customers == 30
    assert m.params.culture.ring_gradient == 0.9
    assert m.params.mechanisms.gifts is False
    assert m.seed == 3
    same = cls(population__n_customers=30, culture__ring_gradient=0.9, rng=3)
    assert same.params.culture == m.params.culture


@pytest.mark.parametrize("cls", ENGINES)
def test_a_bad_keyword_is_one_line_from_the_schema(cls):
    with pytest.raises(ScenarioError) as bad:
        cls(n_customer=30)
    assert bad.value.problems == [
        f"{cls.__name__}: no parameter 'n_customer'; did you mean 'n_customers'? "
        "(keywords look like n_customers=200 or culture__ring_gradient=0.9; "
        "`trustsim params` lists them)"
    ]
    with pytest.raises(ScenarioError) as bad:
        cls(n_customers=1)
    assert bad.value.problems == [
        f"{cls.__name__}: population.n_customers = 1 is not allowed: "
        "must be an integer in [2, 5000000] (customers)"
    ]


def test_every_parameter_has_exactly_one_shortest_keyword():
    names = keywords()
    for section, key, _ in iter_fields():
        word = keyword_of(section, key)
        assert names[word] == (section, key)
        assert names[f"{section}__{key}"] == (section, key)
    # shared by two quantities: only the long form; a switch yields to the quantity
    assert "heterogeneity" not in names and "scheduled_step" not in names
    assert names["ring_gradient"] == ("culture", "ring_gradient")
    assert names["capacity"] == ("salespeople", "capacity")
    assert names["breach_exit"] == ("mechanisms", "breach_exit")


def test_params_lists_the_keyword_of_each_parameter(capsys):
    from trustsim.cli import main

    assert main(["params"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert any(line.startswith("population.n_customers = 500 ") for line in out)
    assert any("TrustModel(n_customers=...)" in line for line in out)
    assert any("TrustModel(firms__heterogeneity=...)" in line for line in out)


@pytest.mark.parametrize("cls", ENGINES)
def test_rng_and_seed_as_mesa_takes_them(cls):
    assert cls(rng=7, **SMALL).seed == 7
    assert cls(seed=7, **SMALL).seed == 7
    assert cls(**SMALL).seed == trustsim.Scenario().run.seed  # reproducible by default
    drawn = cls(rng=np.random.default_rng(5), **SMALL).seed
    assert drawn == cls(rng=np.random.default_rng(5), **SMALL).seed
    with pytest.raises(UsageError, match="give rng or seed, not both"):
        cls(rng=1, seed=1, **SMALL)
    with pytest.raises(UsageError, match="rng = -1 is not allowed"):
        cls(rng=-1, **SMALL)


def test_init_help_is_trustsims_not_mesas():
    doc = inspect.getdoc(TrustModel.__init__)
    assert "Overload" not in doc and "n_customers=200" in doc
    assert "rng" in inspect.signature(TrustModel).parameters
    assert "n_customers" in inspect.getdoc(CoreModel.__init__)


def test_run_model_ends_after_run_steps():
    m = TrustModel(steps=4, **SMALL)
    m.run_model()
    assert m.steps == 4 and m.running is False
    core = CoreModel(steps=4, **SMALL)
    assert core.running
    core.run(4)
    assert core.running is False


def test_datacollector_has_a_step_column_from_step_0_and_customer_reporters():
    m = TrustModel(steps=3, **SMALL)
    m.run_model()
    frame = m.datacollector.get_model_vars_dataframe()
    assert frame["step"].tolist() == [0, 1, 2, 3]
    assert frame["trades"].iloc[0] == 0  # nothing happened before the first step
    agents = m.datacollector.get_agenttype_vars_dataframe(Customer)
    assert list(agents.columns) == ["salesperson", "trust", "ring"]
    last = agents.xs(3.0, level="Step")
    assert len(last) == len(m.customers)
    for cust in m.customers:
        row = last.loc[cust.unique_id]
        sp = cust.salesperson
        if sp is None:
            assert row["salesperson"] == -1 and np.isnan(row["trust"])
            assert row["ring"] == OUTSIDER
            continue
        rel = cust.relationships[sp.idx]
        assert row["salesperson"] == sp.idx and row["ring"] == rel.ring
        assert row["trust"] == pytest.approx(rel.trust(m.steps, m.P), abs=1e-12)
    assert (last["salesperson"] >= 0).any()  # the check above saw customers with one


def test_simulate_time_series_still_start_at_step_1():
    result = simulate(trustsim.Scenario.model_validate({"population": SMALL}), "mesa", 2, 3)
    assert result.columns["step"].tolist() == [1, 2, 3]
    frame = result.model.datacollector.get_model_vars_dataframe()
    assert result.columns["trades"].tolist() == frame["trades"].tolist()[1:]


def test_tie_network_nodes_are_customers_unique_ids_with_the_agent():
    m = TrustModel(**SMALL)
    g = m.ties
    assert set(g.nodes) == {c.unique_id for c in m.customers}
    for cust in m.customers:
        assert g.nodes[cust.unique_id]["agent"] is cust
        assert g.nodes[cust.unique_id]["idx"] == cust.idx
        assert {(n.unique_id, r) for n, r in cust.ties} == {
            (v, g.edges[cust.unique_id, v]["ring"]) for v in g.neighbors(cust.unique_id)
        }
    assert g.number_of_edges() == m.world.graph.number_of_edges() > 0


def test_batch_run_equals_simulate_for_the_same_seeds():
    rows = mesa.batch_run(
        TrustModel,
        parameters={"ring_gradient": [0.1, 0.9], **SMALL},
        rng=[1, 2],
        max_steps=20,
        data_collection_period=1,
        display_progress=False,
    )
    table = pd.DataFrame(rows).drop_duplicates(["RunId", "Step"])
    assert len(table) == 4 * 21
    for (gradient, seed), run in table.groupby(["ring_gradient", "seed"]):
        scenario = TrustModel(ring_gradient=gradient, **SMALL).params
        expected = simulate(scenario, "core", int(seed), 20).timeseries
        got = run[run["Step"] > 0].reset_index(drop=True)
        assert got["step"].tolist() == expected["step"].tolist()
        for name in ("trades", "mean_trust", "insider_share", "breaches"):
            np.testing.assert_array_equal(got[name].to_numpy(), expected[name].to_numpy())


def test_rebuilding_as_solaraviz_reset_does():
    """SolaraViz's Reset passes Mesa's own Scenario as ``scenario=`` with the page's
    parameters; that used to crash ('Scenario' object has no attribute 'population')."""
    from mesa.visualization.solara_viz import _build_model_init_kwargs

    model = TrustModel(n_customers=30, rng=4)
    kwargs = _build_model_init_kwargs(
        model,
        {"n_customers": 25, "ring_gradient": 0.2},
        add_scenario_when_empty=True,
        require_model_accepts_scenario=True,
    )
    assert isinstance(kwargs["scenario"], mesa.experimental.scenarios.Scenario)
    fresh = type(model)(**kwargs)
    assert fresh.params.population.n_customers == 25
    assert fresh.params.culture.ring_gradient == 0.2
    fresh.step()
    assert fresh.steps == 1


def test_the_settings_may_still_be_given_as_a_trustsim_scenario():
    settings = trustsim.Scenario.model_validate({"population": SMALL})
    assert TrustModel(settings).params is settings
    assert TrustModel(scenario=settings).params is settings
    with pytest.raises(ScenarioError, match="must be a trustsim Scenario"):
        TrustModel({"population": SMALL})
