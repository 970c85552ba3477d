"""``trustsim study``: run studies through the sweep machinery, then estimate and report.

DIR/sweep/ is an ordinary sweep folder (resumable, lockable); DIR/replicates.parquet holds
one value per run, DIR/summary.csv and DIR/studies.parquet one row per study, and
DIR/report.md / DIR/report.html the report (:mod:`trustsim.analysis.studies.report`).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from trustsim.analysis.studies import stats as S
from trustsim.analysis.studies.plan import (
    DOSE_ROLE,
    confirm_experiment,
    experiment,
    points_frame,
)
from trustsim.analysis.studies.spec import Study, load_studies
from trustsim.analysis.studies.stats import driver
from trustsim.errors import OutputError, UsageError, keeping
from trustsim.runtime.files import atomic_write
from trustsim.runtime.provenance import provenance

SUMMARY_COLUMNS = [
    "id", "hypothesis", "statistic", "direction", "classification", "kind", "n_control",
    "n_treatment", "control_mean", "treatment_mean", "effect", "ci_low", "ci_high", "ci_level",
    "effect_size", "p_value", "p_holm", "sesoi", "outcome", "verdict", "interval",
    "latent", "latent_direction", "latent_effect", "latent_ci_low", "latent_ci_high",
    "manipulation", "dose_parameter", "dose_levels", "dose_direction", "dose_slope",
    "dose_ci_low", "dose_ci_high", "dose_verdict", "dose_latent_slope",
    "dose_latent_ci_low", "dose_latent_ci_high", "ablation_effect", "ablation_ci_low",
    "ablation_ci_high", "ablation_verdict", "robust_share", "robust_ci_low", "robust_ci_high",
    "robust_points", "robust_driver", "falsifier", "falsifier_tried", "falsifier_effect",
    "falsifier_ci_low", "falsifier_ci_high", "falsifier_outcome", "quick",
]  # fmt: skip
CHECK_CLASSES = ("by form", "by form in direction")  # reported as implementation checks


@dataclass
class StudyReport:
    out: Path
    summary: pd.DataFrame
    replicates: pd.DataFrame
    robustness: pd.DataFrame
    meta: dict


def default_out(quick: bool) -> Path:
    return Path("out") / ("studies-quick" if quick else "studies")


def replicate_table(runs: pd.DataFrame, pts: pd.DataFrame, studies: list[Study]) -> pd.DataFrame:
    """One row per run: study, role, robustness point, replicate, seed and the value."""
    by_id = {s.id: s for s in studies}
    merged = runs.merge(pts, on="point_id", how="left")
    records = merged.to_dict("records")
    merged["value"] = [row[by_id[row["study"]].statistic] for row in records]
    merged["latent"] = [
        row.get(by_id[row["study"]].latent, np.nan) if by_id[row["study"]].latent else np.nan
        for row in records
    ]  # each study's own statistic and latent columns (confirmation runs: no latent)
    extras = sorted({n for s in studies for n in s.spec.study.report})
    for name in extras:
        merged[f"extra:{name}"] = [
            row.get(name, np.nan) if name in by_id[row["study"]].spec.study.report else np.nan
            for row in records
        ]
    keep = ["run_id", "point_id", "study", "role", "lhs_point", "dose_level", "replicate"]
    keep += ["seed", "value", "latent", *(f"extra:{n}" for n in extras)]
    lhs = [c for c in merged if c.startswith("lhs:")]
    return merged[keep + lhs].sort_values("run_id").reset_index(drop=True)


def _arm(reps: pd.DataFrame, role: str, column: str = "value") -> np.ndarray:
    return reps.loc[reps.role == role].sort_values("replicate")[column].to_numpy(dtype=float)


def robustness_table(reps: pd.DataFrame) -> pd.DataFrame:
    """Per study and robustness point: the sampled values and the effect (paired mean)."""
    rob = reps[reps.lhs_point >= 0]
    if rob.empty:
        return pd.DataFrame(columns=["study", "lhs_point", "effect"])
    wide = rob.pivot_table(
        index=["study", "lhs_point", "replicate"], columns="role", values="value", dropna=False
    )
    diff = (wide["robust_treatment"] - wide["robust_control"]).rename("effect")
    effect = diff.groupby(level=["study", "lhs_point"]).mean().reset_index()
    lhs = [c for c in rob if c.startswith("lhs:")]
    values = rob.drop_duplicates(["study", "lhs_point"])[["study", "lhs_point", *lhs]]
    return effect.merge(values, on=["study", "lhs_point"])


def _manipulation(study: Study, mine: pd.DataFrame, level: float) -> dict:
    """The manipulation check: the latent's effect, interval and whether it moved as meant."""
    if study.latent is None:
        return {}
    seed = study.spec.runs.master_seed + 2
    lat = S.estimate(
        _arm(mine, "control", "latent"),
        _arm(mine, "treatment", "latent"),
        study.spec.runs.common_seeds,
        seed,
        level,
    )
    moved = S.verdict(lat.ci_low, lat.ci_high, study.latent_sign) == "supported"
    return {
        "latent": study.latent,
        "latent_direction": study.spec.manipulation.direction,
        "latent_effect": lat.effect,
        "latent_ci_low": lat.ci_low,
        "latent_ci_high": lat.ci_high,
        "manipulation": "passed" if moved else "failed",
    }


def _dose_matrix(study: Study, mine: pd.DataFrame, column: str) -> np.ndarray:
    """(replicates, levels) of a column over the dose runs, NaN where missing."""
    dose = mine[mine.role == DOSE_ROLE]
    wide = dose.pivot_table(index="replicate", columns="dose_level", values=column, dropna=False)
    wide = wide.reindex(columns=range(len(study.doses)))
    return wide.to_numpy(dtype=float)


def _dose(study: Study, mine: pd.DataFrame, level: float) -> dict:
    """Slope of the statistic on the dose level, and on the measured latent."""
    dose = study.spec.dose
    if dose is None:
        return {}
    paired, seed = study.spec.runs.common_seeds, study.spec.runs.master_seed + 3
    y = _dose_matrix(study, mine, "value")
    x = np.broadcast_to(np.asarray(dose.levels, dtype=float), y.shape)
    on_level = S.dose_slope(x, y, paired, seed, level)
    row = {
        "dose_parameter": dose.parameter,
        "dose_levels": " ".join(fmt_level(v) for v in dose.levels),
        "dose_direction": "increase" if study.dose_sign > 0 else "decrease",
        "dose_slope": on_level.effect,
        "dose_ci_low": on_level.ci_low,
        "dose_ci_high": on_level.ci_high,
        "dose_verdict": S.verdict(on_level.ci_low, on_level.ci_high, study.dose_sign),
    }
    if study.latent is not None:
        on_latent = S.dose_slope(_dose_matrix(study, mine, "latent"), y, paired, seed, level)
        row |= {
            "dose_latent_slope": on_latent.effect,
            "dose_latent_ci_low": on_latent.ci_low,
            "dose_latent_ci_high": on_latent.ci_high,
        }
    return row


def fmt_level(value: float) -> str:
    return f"{value:g}"


def _robust(study: Study, rob: pd.DataFrame, confirm: pd.DataFrame, candidate, level) -> dict:
    """Robustness share with its Wilson interval and the driver; and the falsifying
    setting: the candidate of the targeted search, named only when running both arms there
    on fresh seeds did not support the effect (else none was found)."""
    mine = rob[rob.study == study.id].dropna(subset=["effect"])
    share, counted = S.robust_share(mine["effect"], study.sign)
    low, high = S.wilson(share, counted)
    row = {
        "robust_share": share,
        "robust_ci_low": low,
        "robust_ci_high": high,
        "robust_points": counted,
        "robust_driver": driver(study, rob)[0],
        "falsifier": "",
        "falsifier_tried": "",
    }
    if candidate is None:
        return row
    setting = ", ".join(f"{k}={v:.4g}" for k, v in candidate.items())
    there = confirm[confirm.study == study.id]
    eff = S.estimate(
        _arm(there, "confirm_control"),
        _arm(there, "confirm_treatment"),
        study.spec.runs.common_seeds,
        study.spec.runs.master_seed + 4,
        level,
    )
    outcome = S.verdict(eff.ci_low, eff.ci_high, study.sign, study.spec.study.sesoi)
    row |= {
        "falsifier_tried": setting,
        "falsifier_effect": eff.effect,
        "falsifier_ci_low": eff.ci_low,
        "falsifier_ci_high": eff.ci_high,
        "falsifier_outcome": outcome,
    }
    if outcome != "supported":
        row["falsifier"] = setting
    return row


def summarize(
    studies: list[Study],
    reps: pd.DataFrame,
    rob: pd.DataFrame,
    quick: bool,
    confirm: pd.DataFrame | None = None,
    candidates: dict | None = None,
) -> pd.DataFrame:
    rows = []
    level = S.family_level(len(studies))
    for study in studies:
        mine = reps[reps.study == study.id]
        paired = study.spec.runs.common_seeds
        seed = study.spec.runs.master_seed
        sesoi = study.spec.study.sesoi
        eff = S.estimate(_arm(mine, "control"), _arm(mine, "treatment"), paired, seed, level)
        outcome = S.verdict(eff.ci_low, eff.ci_high, study.sign, sesoi)
        check = study.spec.study.classification in CHECK_CLASSES
        manip = _manipulation(study, mine, level)
        final = S.study_verdict(outcome, manip.get("manipulation"), check)
        row = {
            "id": study.id,
            "hypothesis": study.spec.study.hypothesis,
            "statistic": study.statistic,
            "direction": study.spec.study.direction,
            "classification": study.spec.study.classification,
            "kind": "implementation check" if check else "finding",
            **{k: v for k, v in asdict(eff).items() if k != "paired"},
            "ci_level": level,
            "sesoi": sesoi if sesoi is not None else np.nan,
            "outcome": outcome,
            "verdict": final,
            **manip,
            **_dose(study, mine, level),
        }
        if study.ablation:
            abl = S.estimate(
                _arm(mine, "ablation_control"),
                _arm(mine, "ablation_treatment"),
                paired,
                seed + 1,
                level,
            )
            row |= {
                "ablation_effect": abl.effect,
                "ablation_ci_low": abl.ci_low,
                "ablation_ci_high": abl.ci_high,
                "ablation_verdict": S.verdict(abl.ci_low, abl.ci_high, study.sign, sesoi),
            }
        candidate = (candidates or {}).get(study.id)
        row |= _robust(study, rob, confirm if confirm is not None else reps[:0], candidate, level)
        row["quick"] = quick
        rows.append(row)
    table = pd.DataFrame(rows).reindex(columns=SUMMARY_COLUMNS)
    table["p_holm"] = S.holm(table["p_value"])
    # Findings lead; implementation checks follow (each group in the order given).
    order = np.argsort((table["kind"] != "finding").to_numpy(), kind="stable")
    return table.iloc[order].reset_index(drop=True)


EXTRA_COLUMNS = ["study", "statistic", "role", "n", "mean", "ci_low", "ci_high"]


def extras_table(studies: list[Study], reps: pd.DataFrame) -> pd.DataFrame:
    """The further statistics a file asks for (``study.report``): per arm, the mean over
    replicates with its 95 % t interval (e.g. H1's Kaplan-Meier median trades to insider)."""
    rows = []
    for study in studies:
        mine = reps[reps.study == study.id]
        for name in study.spec.study.report:
            for role in ("control", "treatment"):
                n, mean, low, high = S.mean_interval(_arm(mine, role, f"extra:{name}"))
                rows.append(dict(zip(EXTRA_COLUMNS, (study.id, name, role, n, mean, low, high))))
    return pd.DataFrame(rows, columns=EXTRA_COLUMNS)


def candidates_of(studies: list[Study], rob: pd.DataFrame) -> dict[str, dict]:
    """The targeted search's candidate falsifying setting of each finding (ODD §11 class
    not by form) that has one."""
    return {
        s.id: c
        for s in studies
        if s.spec.study.classification not in CHECK_CLASSES
        and (c := S.falsifying_candidate(s, rob)) is not None
    }


def _write_tables(out: Path, summary: pd.DataFrame, reps: pd.DataFrame, rob: pd.DataFrame, extras):
    atomic_write(out / "extras.csv", lambda p: extras.to_csv(p, index=False))
    atomic_write(out / "summary.csv", lambda p: summary.to_csv(p, index=False))
    atomic_write(out / "studies.parquet", lambda p: summary.to_parquet(p, index=False))
    atomic_write(out / "replicates.parquet", lambda p: reps.to_parquet(p, index=False))
    atomic_write(out / "robustness.parquet", lambda p: rob.to_parquet(p, index=False))


def run_studies(
    names: list[str],
    out: str | Path | None = None,
    *,
    quick: bool = False,
    replicates: int | None = None,
    workers: int | None = None,
    cluster: str | None = None,
    progress: bool = False,
) -> StudyReport:
    """Run (or resume) the studies into ``out`` and write tables and report."""
    studies = load_studies(names, quick, replicates)
    out = Path(out) if out is not None else default_out(quick)
    return run_loaded(
        studies, out, quick=quick, replicates=replicates, workers=workers, cluster=cluster,
        progress=progress,
    )  # fmt: skip


def check_same_studies(out: Path, exp) -> None:
    """Refuse a folder whose runs belong to other study files or settings, naming what
    differs (the file the user edited, a study added or left out, --quick or sizes)."""
    path = out / "sweep" / "manifest.json"
    try:
        old = json.loads(json.loads(path.read_text(encoding="utf-8"))["experiment"])
        before = {s["id"]: s for s in old["studies"]}
    except (OSError, ValueError, KeyError, TypeError):
        return  # no folder yet, or a damaged manifest: the sweep heals or refuses it
    new = json.loads(exp.text)
    now = {s["id"]: s for s in new["studies"]}
    if old == new:
        return
    edited = [now[i]["file"] for i in now if i in before and before[i]["text"] != now[i]["text"]]
    diff = [f"{f} was edited since" for f in edited]
    diff += [f"{now[i]['file']} is new" for i in now if i not in before]
    diff += [f"{before[i]['file']} is left out" for i in before if i not in now]
    if not diff:
        diff = ["other sizes (--quick or --replicates)"]
    raise UsageError(
        f"{out}: holds runs of other studies than these ({'; '.join(diff)}); use another "
        f"--out, or delete {out} to start over"
    )


def run_loaded(
    studies: list[Study],
    out: Path,
    *,
    quick: bool = False,
    replicates: int | None = None,
    workers: int | None = None,
    cluster: str | None = None,
    progress: bool = False,
) -> StudyReport:
    """:func:`run_studies` for studies already loaded (e.g. built in a test or notebook)."""
    from trustsim.analysis.studies.report import write_report
    from trustsim.analysis.sweep.driver import execute

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(
            "starting the studies",
            out,
            "is a file, not a folder",
            kept="nothing was computed or written",
            next_step="choose another --out (a folder) and run the same command again",
        )
    start = time.perf_counter()
    versions = provenance()  # of the code that starts the runs
    exp, points = experiment(studies, out / "sweep", quick, replicates)
    pts = points_frame(points, studies, quick, replicates)
    check_same_studies(out, exp)
    sweep = execute(exp, out / "sweep", workers=workers, cluster=cluster, progress=progress)
    with keeping(lambda: _kept(out, len(sweep.runs)), "(it reuses the runs)"):
        reps = replicate_table(sweep.runs, pts, studies)
        rob = robustness_table(reps)
        candidates = candidates_of(studies, rob)
        confirm, confirm_runs, confirm_new = None, 0, 0
        if candidates:
            cexp, cpoints = confirm_experiment(
                studies, candidates, out / "confirm", quick, replicates
            )
            csweep = execute(
                cexp, out / "confirm", workers=workers, cluster=cluster, progress=progress
            )
            cpts = points_frame(cpoints, studies, quick, replicates)
            confirm = replicate_table(csweep.runs, cpts, studies)
            confirm_runs, confirm_new = len(csweep.runs), csweep.new_runs
        summary = summarize(studies, reps, rob, quick, confirm, candidates)
        extras = extras_table(studies, reps)
        _write_tables(out, summary, reps, rob, extras)
        meta = {
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "quick": quick,
            "replicates_option": replicates,
            "runs": len(sweep.runs) + confirm_runs,
            "confirmation_runs": confirm_runs,
            "new_runs": sweep.new_runs + confirm_new,
            "workers": sweep.workers,
            "sweep_seconds": round(sweep.seconds, 1),
            "master_seeds": {s.id: s.spec.runs.master_seed for s in studies},
            "study_files": {s.id: str(s.path) for s in studies},
            **versions,
        }
        meta["wall_seconds"] = round(time.perf_counter() - start, 1)
        write_report(out, studies, summary, reps, rob, meta, extras)
        atomic_write(
            out / "provenance.json",
            lambda p: p.write_text(
                json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8"
            ),
        )
        return StudyReport(out, summary, reps, rob, meta)


def _kept(out: Path, runs: int) -> str:
    """What a study folder holds for the next session once its runs are done."""
    kept = f"all {runs} runs are kept in {out / 'sweep'}"
    if (out / "confirm").exists():
        kept += f" and the confirmation runs finished so far in {out / 'confirm'}"
    return kept
