"""Reading scenario files and ``--set`` overrides into a validated :class:`Scenario`.

Every problem becomes one line that names the file (or option), the key and what is
allowed, so that a user never has to read a traceback.
"""

from __future__ import annotations

import difflib
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from trustsim.errors import ScenarioError
from trustsim.params import Scenario, describe, flat, iter_fields, keywords

# Shipped scenarios are package data (folder scenarios/ of the repository), read through
# importlib.resources so that an installed wheel finds them as a checkout does.
SCENARIO_DIR = Path(str(resources.files("trustsim.scenarios")))
DEFAULT_SCENARIO = "baseline"


def resolve_path(name: str | Path, folder: Path | None = None) -> Path:
    """A path as given, or a shipped file by name: ``baseline`` -> scenarios/baseline.toml,
    or in ``folder`` (experiments, studies, targets) when given."""
    path = Path(name)
    if path.is_file() or path.suffix or len(path.parts) > 1:
        return path
    return (folder or SCENARIO_DIR) / f"{name}.toml"


def read_toml(path: Path, what: str = "scenario") -> dict[str, Any]:
    """Parse a TOML file, turning every way it can fail into a ScenarioError."""
    if not path.exists():
        raise ScenarioError(
            [f"{path}: no such file (a {what} is a TOML file; shipped ones are in {SCENARIO_DIR})"]
        )
    if path.is_dir():
        raise ScenarioError([f"{path}: is a directory, expected a TOML {what} file"])
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([f"{path}: cannot be read as UTF-8 text ({exc})"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([f"{path}: not valid TOML: {exc}"]) from None
    if not data:
        raise ScenarioError(
            [
                f"{path}: the file is empty; a {what} needs at least one table, "
                f"e.g. [run] steps = 100"
            ]
        )
    return data


def suggest(word: str, choices: list[str]) -> str:
    """ "; did you mean 'x'?" for the closest of ``choices``, or "" if none is close."""
    close = difflib.get_close_matches(word, choices, n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


NAMES_HINT = "(names look like population.n_customers; `trustsim params` lists them)"


def no_such_parameter(name: str, known: list[str]) -> str:
    """The one wording for a parameter name the schema does not have."""
    return f"no such parameter{suggest(name, known)} {NAMES_HINT}"


def _inside(annotation: Any) -> Any:
    """The model a field holds, looking through list[...], dict[..., ...] and Optional."""
    args = getattr(annotation, "__args__", (annotation,))
    return next((a for a in args if hasattr(a, "model_fields")), annotation)


def _field_of(spec: Any, names: list[str]) -> tuple[Any, Any]:
    """(model holding the last name, FieldInfo of the last name) along ``names`` in
    ``spec``; past the schema (inside a plain dict or list) the last field reached."""
    model, finfo = spec, None
    for i, part in enumerate(names):
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            return model, (finfo if not fields else None)
        if i == len(names) - 1:
            return model, fields[part]
        finfo = fields[part]
        model = _inside(finfo.annotation)
    return model, finfo


def explain_spec(source: str, err: dict[str, Any], spec: Any, what: str) -> str:
    """One line for one pydantic error in a file of schema ``spec`` (an experiment, study
    or targets file; ``what`` names it: "an experiment"). List items are counted from 1."""
    names = [str(x) for x in err["loc"] if not isinstance(x, int)]
    key = "".join(f"[{x + 1}]" if isinstance(x, int) else f".{x}" for x in err["loc"])
    key = key.lstrip(".")
    parent, finfo = _field_of(spec, names)
    if err["type"] == "extra_forbidden":
        fields = list(getattr(parent, "model_fields", {}))
        where = f"[{'.'.join(names[:-1])}]" if len(names) > 1 else what
        return (
            f"{source}: unknown key '{key}'{suggest(names[-1], fields)} "
            f"(allowed in {where}: {', '.join(fields)})"
        )
    described = finfo is not None and finfo.description
    allowed = f"must be {finfo.description}" if described else err["msg"]
    if err["type"] == "missing":
        return f"{source}: {key} is missing: {allowed}"
    if err["type"] == "model_type":
        return f"{source}: [{key}] must be a table"
    return f"{source}: {key} = {err.get('input')!r} is not allowed: {allowed}"


def validate_spec(spec: Any, data: dict[str, Any], source: str, what: str) -> Any:
    """``spec.model_validate(data)``, or ScenarioError with a line for every problem."""
    try:
        return spec.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError([explain_spec(source, e, spec, what) for e in exc.errors()]) from None


def _explain(source: str, err: dict[str, Any]) -> str:
    """One line for one pydantic error."""
    loc = [str(x) for x in err["loc"]]
    key = ".".join(loc)
    sections = list(Scenario.model_fields)
    if err["type"] == "extra_forbidden":
        if len(loc) == 1:
            return (
                f"{source}: unknown table [{key}]{suggest(key, sections)} "
                f"(allowed: {', '.join(sections)})"
            )
        keys = list(Scenario.model_fields[loc[0]].annotation.model_fields)  # type: ignore[union-attr]
        return (
            f"{source}: unknown key '{key}'{suggest(loc[-1], keys)} "
            f"(allowed in [{loc[0]}]: {', '.join(keys)})"
        )
    if len(loc) == 2:
        given = err.get("input")
        return f"{source}: {key} = {given!r} is not allowed: must be {describe(loc[0], loc[1])}"
    if len(loc) == 1 and err["type"] == "model_type":
        return f"{source}: [{key}] must be a table of key = value pairs"
    return f"{source}: {key or 'scenario'}: {err['msg']}"


def validate(data: dict[str, Any], source: str) -> Scenario:
    """Build a Scenario from nested dicts or raise ScenarioError naming every problem."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError([_explain(source, e) for e in exc.errors()]) from None


def parse_value(text: str) -> Any:
    """A --set value as a TOML literal (42, 0.5, true, "x"); bare words stay strings."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


CLI_LABEL = "--set {}"  # how the command line names an override in a problem line
PYTHON_LABEL = "override '{}'"  # and how the Python API does


def apply_overrides(
    data: dict[str, Any], overrides: list[str], label: str = CLI_LABEL
) -> tuple[dict[str, Any], list[str]]:
    """Apply ``section.key=value`` strings to nested scenario data.

    Returns a new dict and one problem line per override that names nothing, each
    starting with ``label`` filled in with the override.
    """
    known = [f"{s}.{k}" for s, k, _ in iter_fields()]
    out = {s: dict(v) if isinstance(v, dict) else v for s, v in data.items()}
    problems = []
    for item in overrides:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or key not in known:
            why = f"expected KEY=VALUE {NAMES_HINT}" if not sep else no_such_parameter(key, known)
            problems.append(f"{label.format(item)}: {why}")
            continue
        section, name = key.split(".")
        table = out.setdefault(section, {})
        if not isinstance(table, dict):
            problems.append(f"{label.format(item)}: [{section}] in the scenario is not a table")
            continue
        table[name] = parse_value(value.strip())
    return out, problems


def with_keywords(base: Scenario | None, given: dict[str, Any], source: str) -> Scenario:
    """``base`` (default: the schema's defaults) with parameters given as Python keywords
    (``n_customers=200``, ``culture__ring_gradient=0.9``; :func:`trustsim.params.keywords`),
    validated by the schema; ScenarioError with one line per problem, naming ``source``."""
    if base is not None and not isinstance(base, Scenario):
        raise ScenarioError(
            [
                f"{source}: the settings must be a trustsim Scenario (trustsim.load_scenario(...)"
                f" or trustsim.Scenario()), not {type(base).__name__}"
            ]
        )
    base = base or Scenario()
    if not given:
        return base
    names = keywords()
    data = base.model_dump()
    problems = []
    for word, value in given.items():
        if word not in names:
            problems.append(
                f"{source}: no parameter '{word}'{suggest(word, list(names))} "
                f"(keywords look like n_customers=200 or culture__ring_gradient=0.9; "
                f"`trustsim params` lists them)"
            )
            continue
        section, key = names[word]
        data[section][key] = value.item() if hasattr(value, "item") else value  # numpy scalars
    if problems:
        raise ScenarioError(problems)
    return validate(data, source)


def model_settings(
    params: Scenario | None, scenario: object, given: dict[str, Any], source: str
) -> Scenario:
    """A model's settings from its arguments: ``params`` (or a trustsim Scenario given as
    ``scenario=``, Mesa's name for its own settings) changed by keywords."""
    if isinstance(scenario, Scenario):
        if params is not None:
            raise ScenarioError([f"{source}: give the settings once (params=), not twice"])
        params = scenario
    return with_keywords(params, given, source)


def load_scenario(
    name: str | Path | None = None,
    overrides: list[str] | None = None,
    *,
    label: str = PYTHON_LABEL,
) -> Scenario:
    """Load a scenario file (default: baseline), apply ``section.key=value`` overrides,
    validate. Problem lines name an override by ``label`` (the CLI's: ``CLI_LABEL``)."""
    path = resolve_path(name or DEFAULT_SCENARIO)
    data, problems = apply_overrides(read_toml(path), overrides or [], label)
    with_what = "--set" if label == CLI_LABEL else "overrides"
    source = str(path) + (f" with {with_what}" if overrides else "")
    try:
        scenario = validate(data, source)
    except ScenarioError as exc:
        problems += exc.problems
    if problems:
        raise ScenarioError(problems)
    return scenario


__all__ = [
    "CLI_LABEL",
    "SCENARIO_DIR",
    "ScenarioError",
    "apply_overrides",
    "flat",
    "load_scenario",
    "model_settings",
    "read_toml",
    "resolve_path",
    "validate",
    "with_keywords",
]
