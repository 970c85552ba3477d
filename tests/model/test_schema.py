"""The parameter schema is the single source of truth, and every parameter does something."""

import re
from pathlib import Path

from trustsim.params import (
    RECORD_DTYPE,
    Scenario,
    choices_of,
    describe,
    field_range,
    iter_fields,
    param_record,
)

SIM = Path(__file__).resolve().parents[2] / "sim"


def test_every_parameter_has_help_a_range_or_is_boolean():
    for section, key, finfo in iter_fields():
        assert finfo.description, f"{section}.{key} has no help text"
        if choices_of(finfo):  # a word: the default is one of the words allowed
            assert finfo.default in choices_of(finfo) and len(choices_of(finfo)) > 1
        elif finfo.annotation is not bool:
            lo, hi = field_range(finfo)
            assert lo is not None and hi is not None, f"{section}.{key} has no range"
            assert lo <= finfo.default <= hi
        assert describe(section, key)


def test_every_parameter_is_read_by_the_model():
    """A parameter that nothing reads is a lie to the user."""
    files = [SIM / f for f in ("rules.py", "measure.py", "value.py", "population.py", "network.py")]
    files += sorted((SIM / "core").glob("*.py")) + sorted((SIM / "mesa_model").glob("*.py"))
    files.append(SIM / "runtime" / "run.py")
    code = "\n".join(f.read_text() for f in files)
    unused = []
    for section, key, _ in iter_fields():
        as_attr = re.compile(
            rf"\b{section}\.{key}\b|\.{section}\b.*\.{key}\b|\b(sp|pop|fm|net)\.{key}\b"
        )
        if not as_attr.search(code):
            unused.append(f"{section}.{key}")
    assert not unused, f"parameters nothing reads: {unused}"


def test_record_holds_every_model_parameter_as_float():
    rec = param_record(Scenario())
    assert rec.dtype == RECORD_DTYPE
    assert rec[0]["culture"]["ring_gradient"] == 0.7 and rec[0]["mechanisms"]["needs"]


def test_a_word_valued_parameter_is_held_as_its_position_among_the_words():
    for k, word in enumerate(("random", "best", "known", "handover")):
        rec = param_record(Scenario(turnover={"reassignment": word}))
        assert rec[0]["turnover"]["reassignment"] == k
    assert describe("turnover", "reassignment") == "one of 'random', 'best', 'known', 'handover'"
