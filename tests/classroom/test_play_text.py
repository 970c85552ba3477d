"""The class's pages have every string they show in Chinese and English."""

from __future__ import annotations

import re
import tomllib
from importlib.resources import files

PAGES = ("play.js", "play_join.html", "play_student.html", "play_teacher.html")


def used_keys() -> set[str]:
    keys = set()
    for name in PAGES:
        source = files("trustsim.classroom").joinpath(name).read_text(encoding="utf-8")
        keys |= set(re.findall(r'\bt\("(\w+)"', source))  # t("key", ...)
        keys |= set(re.findall(r'data-t="(\w+)"', source))
        keys |= {f"ev_{k}" for k in ("breach", "insider", "lost")}  # t(`ev_${e.kind}`)
    return keys


def test_both_languages_have_the_same_strings_and_every_one_the_pages_use():
    table = tomllib.loads(files("trustsim.classroom").joinpath("play.toml").read_text("utf-8"))
    assert set(table["zh"]) == set(table["en"])
    missing = used_keys() - set(table["en"])
    assert not missing, f"strings the pages use but play.toml lacks: {sorted(missing)}"
    assert all(table["zh"][k] != table["en"][k] for k in table["en"] if k != "insiders")


def test_event_kinds_the_market_reports_have_strings():
    source = files("trustsim.classroom").joinpath("market.py").read_text(encoding="utf-8")
    kinds = set(re.findall(r'"kind": "(\w+)"', source))
    table = tomllib.loads(files("trustsim.classroom").joinpath("play.toml").read_text("utf-8"))
    assert kinds and all(f"ev_{k}" in table["en"] for k in kinds)
