"""The class's market without a browser: choices act through the salespeople's attributes,
rounds are reproduced from seed and choices, bad choices are refused."""

from __future__ import annotations

import math

import pytest

from trustsim.classroom.choices import Choice, ChoiceError
from trustsim.classroom.debrief import debrief
from trustsim.classroom.market import Market, PlayError
from trustsim.classroom.sessionfile import check_replay, read, write
from trustsim.errors import DamagedFile
from trustsim.params import Scenario

SEATS, WEEKS = 8, 3


def small() -> Scenario:
    data = Scenario().model_dump()
    data["population"].update(n_customers=200, n_salespeople=8)
    return Scenario.model_validate(data, strict=False)


def play(rounds: int = 3, seed: int = 5) -> tuple[Market, list]:
    market = Market(small(), seed, SEATS, WEEKS)
    players = [market.join(f"p{i}") for i in range(5)]
    for r in range(rounds):
        for i, p in enumerate(players):
            if (i + r) % 3:  # some do not choose: last round's choice is kept
                market.choose(p.token, Choice(style=i / 4, effort=1 - i / 4, oversell=i == 0))
        market.run_round()
    return market, players


def test_choice_sets_the_salespersons_attributes_and_others_keep_theirs():
    market = Market(small(), 5, SEATS, WEEKS)
    drawn = list(market.drawn)
    p = market.join("Ann")
    market.choose(p.token, Choice(style=1.0, effort=0.25, oversell=True))
    market.run_round()
    a = market.model.arrays
    assert (a.strategy[p.seat], a.empathy[p.seat], a.integrity[p.seat]) == (1.0, 0.25, 0.0)
    for s in range(1, SEATS):  # the model's salespeople as drawn
        assert (a.strategy[s], a.empathy[s], a.integrity[s]) == (
            drawn[s].strategy,
            drawn[s].empathy,
            drawn[s].integrity,
        )
    market.choose(p.token, Choice(oversell=False))
    market.run_round()
    assert a.integrity[p.seat] == drawn[p.seat].integrity  # honest again: integrity as drawn


def test_a_student_who_does_not_choose_keeps_last_rounds_choice():
    market = Market(small(), 5, SEATS, WEEKS)
    p = market.join("Ann")
    market.choose(p.token, Choice(style=0.75, effort=0.0))
    market.run_round()
    market.run_round()
    assert market.rounds[1].choices[p.seat] == Choice(style=0.75, effort=0.0)
    assert market.rounds[1].chose[p.seat] is False


def test_overselling_breaches_and_the_outcomes_count_them():
    market = Market(small(), 5, SEATS, 20)
    liar, honest = market.join("liar"), market.join("honest")
    market.choose(honest.token, Choice(oversell=False))
    market.choose(liar.token, Choice(oversell=True))
    market.run_round()
    rows = {r["seat"]: r for r in market.outcomes}
    assert rows[liar.seat]["breaches"] > rows[honest.seat]["breaches"]
    assert rows[liar.seat]["breaches"] <= rows[liar.seat]["sales"]
    breach_events = [e for e in market.events[liar.seat] if e["kind"] == "breach"]
    assert breach_events and all(e["ties"] >= e["family"] for e in breach_events)


def test_replay_from_the_session_file_equals_the_session(tmp_path):
    market, _ = play()
    path = tmp_path / "session.parquet"
    write(market, path)
    meta, rows = read(path)
    assert meta["seed"] == 5 and len(rows) == 15
    again, diffs = check_replay(path)
    assert diffs == []
    assert len(again.outcomes) == len(market.outcomes)
    for a, b in zip(market.outcomes, again.outcomes):
        for k, v in a.items():
            assert v == b[k] or (math.isnan(v) and math.isnan(b[k]))


def test_replay_finds_a_tampered_outcome(tmp_path):
    import pyarrow.parquet as pq

    market, _ = play(rounds=2)
    path = tmp_path / "session.parquet"
    write(market, path)
    table = pq.read_table(path)
    sales = table.column("sales").to_pylist()
    sales[0] += 1
    table = table.set_column(table.schema.get_field_index("sales"), "sales", [sales])
    pq.write_table(table, path)
    _, diffs = check_replay(path)
    assert len(diffs) == 1 and "sales" in diffs[0]


def test_a_damaged_session_file_is_one_clear_error(tmp_path):
    bad = tmp_path / "x.parquet"
    bad.write_bytes(b"not parquet")
    with pytest.raises(DamagedFile, match="not a trustsim class session"):
        read(bad)
    with pytest.raises(DamagedFile, match="no such file"):
        read(tmp_path / "missing.parquet")


@pytest.mark.parametrize(
    "data",
    [
        {"style": 1.5},
        {"effort": -0.1},
        {"style": float("nan")},
        {"style": "1"},
        {"oversell": 1},
        {"style": True},
        {"visit": [1, 2]},
        [0.5],
    ],
)
def test_out_of_range_or_malformed_choices_are_refused(data):
    with pytest.raises(ChoiceError):
        Choice.parse(data)


def test_a_full_room_and_a_forged_token_are_refused():
    market = Market(small(), 5, 2, WEEKS)
    market.join("a")
    market.join("b")
    with pytest.raises(PlayError, match="full"):
        market.join("c")
    with pytest.raises(PlayError, match="unknown player"):
        market.choose("forged", Choice())
    with pytest.raises(PlayError, match="name"):
        Market(small(), 5, 2, WEEKS).join("   ")


def test_debrief_groups_students_by_what_they_chose():
    market, players = play(rounds=4)
    d = debrief(market.rounds, market.outcomes)
    assert d["rounds"] == 4 and d["half"] == 2
    assert sum(g["n"] for g in d["groups"]) == len(players)
    oversold = [g for g in d["groups"] if g["oversold"]]
    assert [g["n"] for g in oversold] == [1]  # only player 0 oversold
    sales = sum(r["sales"] for r in market.outcomes)  # all played 4 rounds: 2 early, 2 late
    per_round = sum((g["early"] + g["late"]) * g["n"] * 2 for g in d["groups"])
    assert per_round == pytest.approx(sales, abs=0.01 * len(players) * 4)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["replay", "no-such-session.parquet"], "no such file"),
        (["--seats", "0"], "--seats 0: use 1 to"),
        (["--weeks", "0"], "--weeks 0: use 1 to"),
    ],
)
def test_bad_command_lines_are_one_line_with_status_2(tmp_path, args, says):
    import subprocess

    from tests.browser import trustsim

    proc = subprocess.run(
        [*trustsim(), "class", *args], capture_output=True, text=True, cwd=tmp_path
    )
    assert proc.returncode == 2
    assert says in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_debrief_names_who_led_early_and_fell_behind():
    from trustsim.classroom.market import Round

    names = {s: f"s{s}" for s in range(6)}
    rounds = [
        Round(n, dict.fromkeys(range(6), Choice()), dict.fromkeys(range(6), True), names)
        for n in (1, 2)
    ]
    early = [9, 1, 2, 3, 4, 5]  # s0 leads round 1 ...
    late = [0, 5, 4, 3, 2, 6]  # ... and is last in round 2; s5 keeps up
    outcomes = [
        {"round": n, "seat": s, "sales": sales[s], "insiders": 0, "trust": 0.5}
        for n, sales in ((1, early), (2, late))
        for s in range(6)
    ]
    d = debrief(rounds, outcomes)
    assert [f["name"] for f in d["faded"]] == ["s0"]
    assert d["groups"][0]["early"] == pytest.approx(sum(early) / 6)
