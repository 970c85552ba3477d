"""Lesson files: every shipped lesson is valid and makes its change; bad files say what is wrong."""

from pathlib import Path

import pytest

from trustsim.classroom.lessons import LESSON_DIR, all_lessons, find_lesson, load_lesson
from trustsim.loader import ScenarioError
from trustsim.params import flat

TOPICS = {
    "repeated_trades",
    "ability_then_character",
    "breach_way_back",
    "forgiveness",
    "exit_barrier",
    "referral",
    "gifts_vs_emotion",
    "culture",
}

GOOD = """
[lesson]
order = 1
id = "demo"
base = "classroom"
customer = 3
try_set = ["culture.ring_gradient=0.1"]
[lesson.zh]
title = "标题"
watch = "看"
question = "问"
try = "试"
[lesson.en]
title = "Title"
watch = "Watch"
question = "Ask"
try = "Try"
[culture]
ring_gradient = 0.9
"""


def write(tmp_path: Path, text: str, name: str = "l.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_lessons_cover_the_issue_in_order():
    lessons = all_lessons()
    assert len(lessons) >= 8
    assert [lesson.info.order for lesson in lessons] == list(range(1, len(lessons) + 1))
    assert {lesson.id for lesson in lessons} >= TOPICS


@pytest.mark.parametrize("path", sorted(LESSON_DIR.glob("*.toml")), ids=lambda p: p.stem)
def test_each_lesson_is_valid_bilingual_and_its_try_changes_something(path):
    lesson = load_lesson(path)
    for lang in ("zh", "en"):
        t = lesson.text(lang)
        assert all(s.strip() for s in (t.title, t.watch, t.question, t.try_))
    assert any("\u4e00" <= ch <= "\u9fff" for ch in lesson.text("zh").watch)
    assert lesson.text("zh").title != lesson.text("en").title
    before, after = flat(lesson.scenario), flat(lesson.tried)
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {item.split("=")[0] for item in lesson.info.try_set}
    assert 0 <= lesson.info.customer < lesson.scenario.population.n_customers
    assert 60 <= lesson.scenario.run.steps <= 150
    assert lesson.scenario.population.n_customers <= 300


def test_culture_lesson_flips_the_ring_gradient():
    lesson = find_lesson("culture")
    assert lesson.scenario.culture.ring_gradient > 0.9
    assert lesson.tried.culture.ring_gradient < 0.1


def test_base_is_laid_under_the_lesson_tables(tmp_path):
    lesson = load_lesson(write(tmp_path, GOOD))
    assert lesson.scenario.population.n_customers == 200  # from scenarios/classroom.toml
    assert lesson.scenario.culture.ring_gradient == 0.9  # the lesson's own table wins
    assert lesson.tried.culture.ring_gradient == 0.1


def test_find_lesson_by_id_stem_and_path():
    assert find_lesson("breach_way_back").id == "breach_way_back"
    assert find_lesson("03_breach_way_back").id == "breach_way_back"
    assert find_lesson(str(LESSON_DIR / "03_breach_way_back.toml")).id == "breach_way_back"
    assert find_lesson("breach") is None  # a shipped scenario, not a lesson


def assert_refused(path, expected: list[str]) -> None:
    """Loading ``path`` fails with a message naming the file and each of ``expected``."""
    with pytest.raises(ScenarioError) as err:
        load_lesson(path)
    message = str(err.value)
    assert str(path) in message
    for part in expected:
        assert part in message, message


@pytest.mark.parametrize(
    "edit, expected",
    [
        (
            lambda t: t.replace("order = 1", 'order = 1\ncolour = "red"'),
            ["unknown key 'lesson.colour'", "allowed: order, id"],
        ),
        (lambda t: t.replace('try = "试"\n', ""), ["lesson.zh.try is missing"]),
        (
            lambda t: t.replace('"culture.ring_gradient=0.1"', '"culture.ring_gradiant=0.1"'),
            ["lesson.try_set", "did you mean 'culture.ring_gradient'"],
        ),
        (
            lambda t: t.replace('"culture.ring_gradient=0.1"', '"culture.ring_gradient=3"'),
            ["with lesson.try_set: culture.ring_gradient = 3 is not allowed", "[0, 1]"],
        ),
        (
            lambda t: t.replace("ring_gradient = 0.9", "ring_gradient = 1.9"),
            ["culture.ring_gradient = 1.9 is not allowed: must be a number in [0, 1]"],
        ),
        (
            lambda t: t.replace("[culture]", "[cultur]"),
            ["unknown table [cultur]", "did you mean 'culture'"],
        ),
        (
            lambda t: t.replace("customer = 3", "customer = 200"),
            ["lesson.customer = 200", "[0, 199]"],
        ),
        (
            lambda t: t.replace('base = "classroom"', 'base = "nowhere"'),
            ["lesson.base = 'nowhere' is not a shipped scenario", "baseline"],
        ),
        (
            lambda t: t.replace("customer = 3", 'customer = 3\nplot = ["insider_shar"]'),
            ["lesson.plot", "insider_shar: no such metric"],
        ),
        (lambda t: t.replace('id = "demo"', 'id = "Demo Lesson"'), ["lesson.id = 'Demo Lesson'"]),
    ],
)
def test_bad_lessons_name_file_key_and_what_is_allowed(tmp_path, edit, expected):
    assert_refused(write(tmp_path, edit(GOOD)), expected)


def test_a_scenario_without_a_lesson_table_is_refused(tmp_path):
    path = write(tmp_path, "[run]\nsteps = 5\n")
    with pytest.raises(ScenarioError, match=r"needs a \[lesson\] table"):
        load_lesson(path)


def test_orders_and_ids_must_be_unique_in_a_folder(tmp_path):
    write(tmp_path, GOOD, "a.toml")
    write(tmp_path, GOOD.replace('id = "demo"', 'id = "other"'), "b.toml")
    with pytest.raises(
        ScenarioError, match=r"b.toml: lesson.order = 1 is already used by .*a.toml"
    ):
        all_lessons(tmp_path)


PREDICT = """
[lesson.predict]
metric = "insider_share"
step = 50
edges = [0.2, 0.4]
[lesson.predict.zh]
question = "问"
explain = "解释"
choices = ["少", "中", "多"]
[lesson.predict.en]
question = "Ask"
explain = "Explain"
"""


def test_a_prediction_table_is_read_with_its_ranges(tmp_path):
    from trustsim.classroom.predict import choice_labels, choice_of

    predict = load_lesson(write(tmp_path, GOOD + PREDICT)).info.predict
    assert (predict.metric, predict.step, predict.edges) == ("insider_share", 50, [0.2, 0.4])
    assert choice_labels(predict, "zh") == ["少", "中", "多"]
    assert choice_labels(predict, "en") == ["below 0.2", "0.2 to 0.4", "0.4 or more"]
    assert [choice_of(predict, v) for v in (0.1, 0.2, 0.39, 0.4, 0.9)] == [0, 1, 1, 2, 2]


@pytest.mark.parametrize(
    "edit, expected",
    [
        (
            lambda t: t.replace('metric = "insider_share"', 'metric = "insider_shar"'),
            ["lesson.predict.metric", "insider_shar: no such metric"],
        ),
        (
            lambda t: t.replace("step = 50", "step = 500"),
            ["lesson.predict.step = 500 is not allowed", "[1, 120]"],
        ),
        (
            lambda t: t.replace("edges = [0.2, 0.4]", "edges = [0.4, 0.2]"),
            ["lesson.predict.edges", "edges must increase"],
        ),
        (
            lambda t: t.replace('choices = ["少", "中", "多"]', 'choices = ["少", "多"]'),
            ["lesson.predict.zh.choices has 2 names for 3 ranges"],
        ),
        (
            lambda t: t.replace('explain = "Explain"\n', ""),
            ["lesson.predict.en.explain is missing"],
        ),
        (
            lambda t: t.replace('question = "Ask"', 'question = "Ask"\ncolour = 1'),
            ["unknown key 'lesson.predict.en.colour'", "allowed: question, explain, choices"],
        ),
    ],
)
def test_a_bad_prediction_names_file_and_key(tmp_path, edit, expected):
    assert_refused(write(tmp_path, edit(GOOD + PREDICT)), expected)


def test_a_bad_prediction_is_one_line_and_exit_2(tmp_path):
    import subprocess
    import sys

    path = write(tmp_path, GOOD + PREDICT.replace("step = 50", "step = 0"))
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "trustsim.cli",
            "animate",
            str(path),
            "--out",
            str(tmp_path / "a.gif"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 2, out.stderr
    assert f"{path}: lesson.predict.step = 0 is not allowed" in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
