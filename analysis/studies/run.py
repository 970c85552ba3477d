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
from trustsim.analysis.studies.plan import experiment, points_frame
from trustsim.analysis.studies.spec import Study, load_studies
from trustsim.analysis.studies.stats import driver
from trustsim.errors import OutputError, UsageError
from trustsim.runtime.files import atomic_write
from trustsim.runtime.provenance import provenance

SUMMARY_COLUMNS = [
    "id", "hypothesis", "statistic", "direction", "classification", "n_control", "n_treatment",
    "control_mean", "treatment_mean", "effect", "ci_low", "ci_high", "effect_size", "p_value",
    "p_holm", "verdict", "interval", "ablation_effect", "ablation_ci_low", "ablation_ci_high",
    "ablation_verdict", "robust_share", "robust_points", "robust_driver", "quick",
]  # fmt: skip


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
    stat_of = {s.id: s.statistic for s in studies}
    merged = runs.merge(pts, on="point_id", how="left")
    merged["value"] = [
        row[stat_of[row["study"]]] for row in merged.to_dict("records")
    ]  # each study's own statistic column
    keep = ["run_id", "point_id", "study", "role", "lhs_point", "replicate", "seed", "value"]
    lhs = [c for c in merged if c.startswith("lhs:")]
    return merged[keep + lhs].sort_values("run_id").reset_index(drop=True)


def _arm(reps: pd.DataFrame, role: str) -> np.ndarray:
    return reps.loc[reps.role == role].sort_values("replicate")["value"].to_numpy(dtype=float)


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


def summarize(
    studies: list[Study], reps: pd.DataFrame, rob: pd.DataFrame, quick: bool
) -> pd.DataFrame:
    rows = []
    for study in studies:
        mine = reps[reps.study == study.id]
        paired = study.spec.runs.common_seeds
        seed = study.spec.runs.master_seed
        eff = S.estimate(_arm(mine, "control"), _arm(mine, "treatment"), paired, seed)
        row = {
            "id": study.id,
            "hypothesis": study.spec.study.hypothesis,
            "statistic": study.statistic,
            "direction": study.spec.study.direction,
            "classification": study.spec.study.classification,
            **{k: v for k, v in asdict(eff).items() if k != "paired"},
            "verdict": S.verdict(eff.ci_low, eff.ci_high, study.sign),
        }
        if study.ablation:
            abl = S.estimate(
                _arm(mine, "ablation_control"), _arm(mine, "ablation_treatment"), paired, seed + 1
            )
            row |= {
                "ablation_effect": abl.effect,
                "ablation_ci_low": abl.ci_low,
                "ablation_ci_high": abl.ci_high,
                "ablation_verdict": S.verdict(abl.ci_low, abl.ci_high, study.sign),
            }
        share, counted = S.robust_share(rob.loc[rob.study == study.id, "effect"], study.sign)
        row |= {
            "robust_share": share,
            "robust_points": counted,
            "robust_driver": driver(study, rob)[0],
            "quick": quick,
        }
        rows.append(row)
    table = pd.DataFrame(rows).reindex(columns=SUMMARY_COLUMNS)
    table["p_holm"] = S.holm(table["p_value"])
    return table


def analyze(out: Path, studies: list[Study], runs: pd.DataFrame, pts: pd.DataFrame, quick: bool):
    reps = replicate_table(runs, pts, studies)
    rob = robustness_table(reps)
    return summarize(studies, reps, rob, quick), reps, rob


def _write_tables(out: Path, summary: pd.DataFrame, reps: pd.DataFrame, rob: pd.DataFrame):
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
    try:
        return _finish(out, studies, sweep, pts, quick, replicates, versions, start)
    except OutputError as exc:  # a full disk, ...: the runs are kept, not "nothing"
        exc.kept = exc.kept or f"all {len(sweep.runs)} runs are kept in {out / 'sweep'}"
        exc.next_step = exc.next_step or (
            "free space and run the same command again: it reuses the runs"
        )
        raise


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


def _finish(out, studies, sweep, pts, quick, replicates, versions, start) -> StudyReport:
    """The tables, report and provenance of finished runs."""
    from trustsim.analysis.studies.report import write_report

    summary, reps, rob = analyze(out, studies, sweep.runs, pts, quick)
    _write_tables(out, summary, reps, rob)
    meta = {
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "replicates_option": replicates,
        "runs": len(sweep.runs),
        "new_runs": sweep.new_runs,
        "workers": sweep.workers,
        "sweep_seconds": round(sweep.seconds, 1),
        "master_seeds": {s.id: s.spec.runs.master_seed for s in studies},
        "study_files": {s.id: str(s.path) for s in studies},
        **versions,
    }
    meta["wall_seconds"] = round(time.perf_counter() - start, 1)
    write_report(out, studies, summary, reps, rob, meta)
    atomic_write(
        out / "provenance.json",
        lambda p: p.write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8"),
    )
    return StudyReport(out, summary, reps, rob, meta)
