"""Building small study files for tests."""

from __future__ import annotations

from pathlib import Path

SMALL_MARKET = [
    "population.n_customers=120",
    "population.n_salespeople=6",
    "population.n_firms=2",
    "run.steps=50",
]


def q(items: list[str]) -> str:
    return "[" + ", ".join(f'"{x}"' for x in items) + "]"


def study_text(
    sid: str = "tiny",
    statistic: str = "trades",
    direction: str = "increase",
    control: list[str] | None = None,
    treatment: list[str] | None = None,
    replicates: int = 6,
    master_seed: int = 1,
    common_seeds: bool = True,
    base: list[str] | None = None,
    extra: str = "",
    robustness: bool = False,
) -> str:
    control = ["salespeople.competence=0.3"] if control is None else control
    treatment = ["salespeople.competence=0.9"] if treatment is None else treatment
    text = f"""[study]
id = "{sid}"
claim = "a test study"
statistic = "{statistic}"
direction = "{direction}"
control_is = "a test control"
[base]
scenario = "baseline"
set = {q(SMALL_MARKET + (base or []))}
[control]
set = {q(control)}
[treatment]
set = {q(treatment)}
[runs]
replicates = {replicates}
master_seed = {master_seed}
common_seeds = {str(common_seeds).lower()}
"""
    if robustness:
        text += """[robustness]
samples = 4
replicates = 1
[robustness.parameters]
"firms.quality" = [0.4, 0.9]
"salespeople.integrity" = [0.6, 1.0]
"population.propensity_mean" = [0.3, 0.7]
"culture.ring_gradient" = [0.2, 0.9]
"""
    return text + extra


def write_study(folder: Path, name: str = "tiny", **kw) -> Path:
    path = Path(folder) / f"{name}.toml"
    path.write_text(study_text(sid=kw.pop("sid", name), **kw), encoding="utf-8")
    return path
