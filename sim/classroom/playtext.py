"""Strings of the class's pages in Chinese and English, read from ``play.toml``.

The pages get both tables at once (``/text.json``) and switch language in the browser;
a string missing in Chinese falls back to English.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

PLAY_TEXT = Path(__file__).with_name("play.toml")


@lru_cache(maxsize=1)
def strings() -> dict[str, dict[str, Any]]:
    with PLAY_TEXT.open("rb") as fh:
        table = tomllib.load(fh)
    return {lang: {**table["en"], **table[lang]} for lang in table}
