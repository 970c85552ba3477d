"""Every label the classroom shows exists in Chinese and English."""

from trustsim.classroom import text as T
from trustsim.classroom.lessons import all_lessons
from trustsim.classroom.plots import plotted_metrics
from trustsim.classroom.session import catalogue, control_keys
from trustsim.metrics import METRICS


def strings(lang):
    return {k: v for k, v in T.locale()[lang].items() if isinstance(v, str)}


def test_every_ui_string_exists_in_both_languages_and_is_translated():
    zh, en = strings("zh"), strings("en")
    assert set(zh) == set(en)
    same = [k for k in zh if zh[k] == en[k] and any(c.isalpha() for c in zh[k])]
    assert same == []


def test_every_shown_parameter_has_a_label_in_both_languages():
    keys = {k for item in catalogue() for k in control_keys(item)}
    missing = sorted(k for k in keys if not T.has_translation(k))
    assert missing == []
    for key in keys:
        assert T.param_label(key, "en") == T.schema_help(key)
        assert T.param_label(key, "zh") != T.param_label(key, "en")


def test_every_plotted_metric_has_a_label_in_both_languages():
    names = set(plotted_metrics())
    for lesson in all_lessons():
        names |= set(plotted_metrics(lesson.info.plot))
    assert names <= set(METRICS)
    for name in names:
        assert name in T.locale()["zh"]["metrics"] and name in T.locale()["en"]["metrics"]


def test_text_formats_and_rejects_unknown_languages():
    assert T.text("en", "step_counter", step=7) == "Step 7"
    assert T.text("zh", "step_counter", step=7) == "第 7 步"
    try:
        T.text("fr", "step")
    except ValueError as exc:
        assert "zh, en" in str(exc)
    else:
        raise AssertionError("an unknown language must be refused")
