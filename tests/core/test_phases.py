"""The core's step is its phases: ODD §3 names them, in the order ``step`` calls them, and the
Mesa methods it names for the same phases exist."""

import ast
import inspect
import re
import textwrap

from tests.helpers import ROOT
from trustsim.core import meet, phases, step
from trustsim.mesa_model import agents, model

SECTION_3 = (
    (ROOT / "docs" / "ODD.md").read_text(encoding="utf-8").split("## 3.")[1].split("## 4.")[0]
)


def named(engine: str) -> list[str]:
    """Function names ODD §3 gives for ``engine`` ("Mesa" or "core"), in order of mention."""
    names = []
    for part in re.findall(
        rf"\*{engine}:\*(.*?)(?:\*Mesa:\*|\*core:\*|\n\d\. |$)", SECTION_3, re.S
    ):
        names += re.findall(r"`([\w.]+)`", re.split(r"[;)]|\.\s", part)[0])
    return [n for n in names if not n.isupper()]  # not the constants (FIRST_TRY, ...)


def called_by_step() -> list[str]:
    """The phase functions ``step`` calls, in the order of its source."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(step.step)))
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    names = [n.func.id for n in sorted(calls, key=lambda n: (n.lineno, n.col_offset))]
    return [n for n in names if hasattr(phases, n) or hasattr(meet, n)]


def test_odd_names_the_core_phases_in_the_order_step_calls_them():
    calls = called_by_step()
    # the loop over the two rounds of phase 4: capacity_left and choose_elsewhere run before
    # the second round only, open_round and meet in both
    i = calls.index("capacity_left")
    rounds = calls[i + 2 : i + 4] + calls[i : i + 4]
    assert rounds == [
        "open_round",
        "meet",
        "capacity_left",
        "choose_elsewhere",
        "open_round",
        "meet",
    ]
    helpers = ("trade", "after_trade", "tally")  # called by meet, named in ODD as its parts
    assert [n for n in named("core") if n not in helpers] == calls[:i] + rounds + calls[i + 4 :]
    assert calls[0] == "begin_step" and calls[-1] == "measure"


def test_every_function_odd_names_exists_in_its_engine():
    for name in named("core"):
        assert hasattr(phases, name) or hasattr(meet, name), name
    classes = {"Customer": agents.Customer, "Salesperson": agents.Salesperson}
    classes["TrustModel"] = model.TrustModel
    owner = agents.Customer
    for name in named("Mesa"):
        cls, _, method = name.rpartition(".")
        owner = classes[cls] if cls else owner
        assert callable(getattr(owner, method, None)), name


def test_each_phase_with_customer_loops_is_compiled_serially_and_in_parallel():
    for fn in step.PARALLEL:
        serial = step.step_serial.py_func.__globals__[fn.__name__]
        parallel = step.step_parallel.py_func.__globals__[fn.__name__]
        assert serial.targetoptions.get("parallel") in (None, False), fn.__name__
        assert parallel.targetoptions.get("parallel") is True, fn.__name__
        assert serial.py_func.__code__ is fn.__code__ is parallel.py_func.__code__
