"""Classroom strings in Chinese and English, read from ``sim/classroom/locale.toml``.

Parameter labels are not listed twice: English is the schema's help text, Chinese comes
from ``[zh.params]`` keyed by ``section.key``; a missing Chinese string falls back to
English so a new parameter never breaks the page.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from trustsim.metrics import METRIC_HELP
from trustsim.params import Scenario

LOCALE_FILE = Path(__file__).with_name("locale.toml")
LANGS = ("zh", "en")
DEFAULT_LANG = "zh"


@lru_cache(maxsize=1)
def locale() -> dict[str, Any]:
    with LOCALE_FILE.open("rb") as fh:
        return tomllib.load(fh)


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"language must be one of {', '.join(LANGS)}, not {lang!r}")
    return lang


def text(lang: str, key: str, **fmt: Any) -> str:
    """The UI string ``key`` in ``lang`` (English if untranslated), formatted with ``fmt``."""
    table = locale()
    value = table[check_lang(lang)].get(key, table["en"][key])
    return value.format(**fmt) if fmt else value


def schema_help(key: str) -> str:
    """The schema's help text for ``section.key``, without the final full stop."""
    section, name = key.split(".")
    finfo = Scenario.model_fields[section].annotation.model_fields[name]  # type: ignore[union-attr]
    return (finfo.description or key).rstrip(".")


def param_label(key: str, lang: str) -> str:
    """Label of a parameter control."""
    if check_lang(lang) == "zh":
        return locale()["zh"].get("params", {}).get(key) or schema_help(key)
    return schema_help(key)


def has_translation(key: str) -> bool:
    return key in locale()["zh"].get("params", {})


def metric_label(name: str, lang: str) -> str:
    """Short label of a metric in plot legends."""
    labels = locale()[check_lang(lang)].get("metrics", {})
    return labels.get(name) or locale()["en"]["metrics"].get(name) or METRIC_HELP[name]


def ring_label(ring: int, lang: str) -> str:
    """Name of a ring (0 family, 1 insider, 2 outsider; see trustsim.codes)."""
    from trustsim.codes import RING_NAMES

    return text(lang, RING_NAMES[ring])
