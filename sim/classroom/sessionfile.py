"""A class's session as one Parquet file, and its replay.

One row per (round, student seat): the player's name, the choice that acted
(``style``, ``effort``, ``oversell``), whether it was chosen anew that round (``chose``)
and the outcomes (:data:`trustsim.classroom.market.OUTCOMES`). The file's metadata
(key ``trustsim.class``) holds what else decides the session: the scenario in full, the
seed, seats, weeks per round and the trustsim version. :func:`check_replay` plays the
rounds again from seed and choices and compares every outcome.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from trustsim.classroom.choices import FIELDS, Choice
from trustsim.classroom.market import OUTCOMES, Market, Round, replay
from trustsim.errors import DamagedFile
from trustsim.params import Scenario

META_KEY = b"trustsim_class"


def rows(market: Market) -> list[dict[str, Any]]:
    out = []
    by_round = {r.number: r for r in market.rounds}
    for row in market.outcomes:
        rnd, s = by_round[row["round"]], row["seat"]
        out.append(
            {
                "round": rnd.number,
                "seat": s,
                "name": rnd.names[s],
                **rnd.choices[s].as_dict(),
                "chose": rnd.chose[s],
                **{k: row[k] for k in OUTCOMES},
            }
        )
    return out


def write(market: Market, path: Path) -> None:
    """Write the session atomically (a reader never sees half a file)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from trustsim import __version__
    from trustsim.runtime.files import atomic_write

    data = rows(market)
    columns = ["round", "seat", "name", *FIELDS, "chose", *OUTCOMES]
    table = pa.Table.from_pylist(data) if data else pa.table({c: [] for c in columns})
    meta = {
        "scenario": market.scenario.model_dump(mode="json"),
        "seed": market.seed,
        "seats": market.seats,
        "weeks": market.weeks,
        "version": __version__,
    }
    table = table.replace_schema_metadata({META_KEY: json.dumps(meta).encode()})
    atomic_write(Path(path), lambda tmp: pq.write_table(table, tmp))


def read(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(metadata, rows) of a session file; anything else is one :class:`DamagedFile` line."""
    import pyarrow.parquet as pq

    path = Path(path)
    try:
        table = pq.read_table(path)
        meta = json.loads(table.schema.metadata[META_KEY])
    except FileNotFoundError:
        raise DamagedFile(f"{path}: no such file") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DamagedFile(
            f"{path}: not a trustsim class session ({type(exc).__name__}); "
            "the server writes one after every round (trustsim class --out FILE)"
        ) from None
    return meta, table.to_pylist()


def rounds_of(data: list[dict[str, Any]]) -> list[Round]:
    numbers = sorted({r["round"] for r in data})
    out = []
    for n in numbers:
        mine = [r for r in data if r["round"] == n]
        out.append(
            Round(
                n,
                {r["seat"]: Choice(r["style"], r["effort"], r["oversell"]) for r in mine},
                {r["seat"]: r["chose"] for r in mine},
                {r["seat"]: r["name"] for r in mine},
            )
        )
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def check_replay(path: Path) -> tuple[Market, list[str]]:
    """Replay a session file; returns the market and every outcome that differs."""
    meta, data = read(path)
    try:
        scenario = Scenario.model_validate(meta["scenario"], strict=False)
        market = replay(scenario, meta["seed"], meta["seats"], meta["weeks"], rounds_of(data))
    except (KeyError, TypeError, ValueError) as exc:
        raise DamagedFile(f"{path}: its session record cannot be replayed ({exc})") from None
    again = rows(market)
    diffs = [
        f"round {a['round']} seat {a['seat']}: {k} was {a[k]}, replay gives {b[k]}"
        for a, b in zip(data, again)
        for k in OUTCOMES
        if not _same(a[k], b[k])
    ]
    if len(again) != len(data):
        diffs.append(f"{len(data)} rows in the file, {len(again)} in the replay")
    return market, diffs
