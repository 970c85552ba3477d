"""The prediction's files: three comparison tables, the errors, figures in the style of
Fader, Hardie & Lee (2005) and a self-contained report.html with provenance; all written
at once (a staging folder, then renames), so a failure never leaves half a report."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from trustsim.analysis.calibration.report import _md_to_html, _plt, _version
from trustsim.analysis.measures.cohort import CALIBRATION_WEEKS, MAX_X
from trustsim.analysis.realdata import bgnbd
from trustsim.analysis.realdata.cdnow import Panel
from trustsim.analysis.realdata.predict import Comparison, compare, ratios, run_cohorts
from trustsim.errors import output_errors
from trustsim.params import Scenario
from trustsim.runtime.files import staged_write
from trustsim.runtime.provenance import provenance

COLOURS = {"actual": "black", "model": "tab:red", "bgnbd": "tab:blue"}
LABELS = {"actual": "actual", "model": "trustsim", "bgnbd": "BG/NBD (fitted)"}


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=100, format="png", bbox_inches="tight")
    _plt().close(fig)
    return buffer.getvalue()


def _split(ax) -> None:
    ax.axvline(CALIBRATION_WEEKS + 0.5, color="grey", linestyle="--", linewidth=1)


def tracking_figure(c: Comparison, cumulative: bool) -> bytes:
    fig, ax = _plt().subplots(figsize=(8, 4))
    t = c.tracking
    for col in ("actual", "model", "bgnbd"):
        y = t[col].to_numpy() if cumulative else np.diff(t[col].to_numpy(), prepend=0.0)
        ax.plot(t.week, y, color=COLOURS[col], label=LABELS[col], linewidth=1.2)
    _split(ax)
    ax.set_xlabel("week")
    ax.set_ylabel("cumulative repeat purchases" if cumulative else "weekly repeat purchases")
    ax.set_title(
        f"{'Cumulative' if cumulative else 'Weekly'} repeat purchases of the cohort "
        f"(dashed: end of calibration, week {CALIBRATION_WEEKS})"
    )
    ax.legend()
    return _png(fig)


def conditional_figure(c: Comparison) -> bytes:
    fig, ax = _plt().subplots(figsize=(6, 4))
    t = c.conditional
    for col in ("actual", "model", "bgnbd"):
        ax.plot(t.x, t[col], marker="o", color=COLOURS[col], label=LABELS[col])
    ax.set_xticks(range(MAX_X + 1), [*map(str, range(MAX_X)), f"{MAX_X}+"])
    ax.set_xlabel(f"repeat purchases in weeks 1-{CALIBRATION_WEEKS}")
    ax.set_ylabel(f"mean repeat purchases, weeks {CALIBRATION_WEEKS + 1}-78")
    ax.set_title("Conditional expectations")
    ax.legend()
    return _png(fig)


def histogram_figure(c: Comparison) -> bytes:
    fig, ax = _plt().subplots(figsize=(6, 4))
    t = c.histogram
    for k, col in enumerate(("actual", "model", "bgnbd")):
        ax.bar(t.x + (k - 1) * 0.27, t[col], width=0.27, color=COLOURS[col], label=LABELS[col])
    ax.set_xticks(range(MAX_X + 1), [*map(str, range(MAX_X)), f"{MAX_X}+"])
    ax.set_xlabel(f"repeat purchases in weeks 1-{CALIBRATION_WEEKS}")
    ax.set_ylabel("customers")
    ax.set_title("Calibration-period histogram")
    ax.legend()
    return _png(fig)


def _md_table(df: pd.DataFrame, digits: int = 3) -> str:
    def cell(v) -> str:
        return f"{v:.{digits}g}" if isinstance(v, float) else str(v)

    rows = [" | ".join(df.columns), " | ".join("---" for _ in df.columns)]
    rows += [" | ".join(cell(v) for v in r) for r in df.itertuples(index=False)]
    return "\n".join(f"| {r} |" for r in rows)


def provenance_record(
    panel: Panel, c: Comparison, scenario: Scenario, source: str, seeds: int, seconds: float
) -> dict:
    first = scenario.run.seed
    return {
        "data_file": str(panel.path),
        "data_layout": panel.which,
        "data_customers": panel.customers,
        "calibration_rows_sha256": panel.calibration_sha256(),
        "scenario_file": source,
        "seeds": list(range(first, first + seeds)),
        "model_cohort_sizes": c.model.sizes,
        "model_seconds": round(c.model.seconds, 2),
        "wall_time_s": round(seconds, 2),
        "bgnbd_published": bgnbd.PUBLISHED,
        "bgnbd_fitted": c.bgnbd["fitted"].params,
        "bgnbd_fitted_log_likelihood": round(c.bgnbd["fitted"].log_likelihood, 2),
        "lifetimes": _version("lifetimes"),
        "parameters": scenario.model_dump(),
        **provenance(),
    }


FIGURES = ("tracking_weekly.png", "tracking_cumulative.png", "conditional.png", "histogram.png")


def report_md(c: Comparison, prov: dict) -> str:
    r = ratios(c.errors)
    rf = ratios(c.errors, "BG/NBD (fitted)")
    return "\n".join(
        [
            "# trustsim against CDNOW: weeks 40-78 predicted from weeks 1-39",
            "",
            f"Data: {prov['data_file']} ({prov['data_customers']:,} customers). Model: "
            f"{prov['scenario_file']}, {len(prov['seeds'])} seeds, cohorts of "
            f"{sum(prov['model_cohort_sizes']):,} customers in all, every figure per cohort "
            f"customer times {prov['data_customers']:,}. docs/REAL_DATA.md.",
            "",
            "## Errors",
            "",
            "Hold-out MAPE: mean absolute percentage error of cumulative repeat purchases, "
            "weeks 40-78. Conditional MAE: mean absolute error of mean weeks 40-78 purchases "
            "over the classes x = 0..7+ the model's cohort has customers in (the same "
            "classes for every predictor; their number in conditional_classes). Histogram: Pearson chi-square over 0..7+ (7 df) against the "
            "actual counts.",
            "",
            _md_table(c.errors),
            "",
            f"Model / BG/NBD at the published parameters: MAPE x{r['holdout_mape_pct']:.2f}, "
            f"MAE x{r['conditional_mae']:.2f}; at the parameters fitted here: "
            f"x{rf['holdout_mape_pct']:.2f}, x{rf['conditional_mae']:.2f}.",
            "",
            "## Tracking",
            "",
            "![weekly tracking](tracking_weekly.png)",
            "![cumulative tracking](tracking_cumulative.png)",
            "",
            "## Conditional expectations",
            "",
            "![conditional expectations](conditional.png)",
            "",
            _md_table(c.conditional),
            "",
            "## Histogram of weeks 1-39",
            "",
            "![histogram](histogram.png)",
            "",
            _md_table(c.histogram),
            "",
            "## Provenance",
            "",
            "```",
            json.dumps({k: v for k, v in prov.items() if k != "parameters"}, indent=2),
            "```",
        ]
    )


def _html(md: str, figures: dict[str, bytes]) -> str:
    page = _md_to_html(md, "trustsim predict cdnow")
    for name, data in figures.items():
        page = page.replace(
            f'src="{name}"', f'src="data:image/png;base64,{base64.b64encode(data).decode()}"'
        )
    return page


def write_report(out: Path, c: Comparison, prov: dict) -> dict[str, Path]:
    figures = dict(
        zip(
            FIGURES,
            (
                tracking_figure(c, cumulative=False),
                tracking_figure(c, cumulative=True),
                conditional_figure(c),
                histogram_figure(c),
            ),
        )
    )
    page = _html(report_md(c, prov), figures)
    tables = {
        "tracking.csv": c.tracking,
        "conditional.csv": c.conditional,
        "histogram.csv": c.histogram,
        "errors.csv": c.errors,
    }
    files = {
        name: (out / name, lambda p, df=df: df.to_csv(p, index=False))
        for name, df in tables.items()
    }
    files.update(
        {name: (out / name, lambda p, b=data: p.write_bytes(b)) for name, data in figures.items()}
    )
    text = json.dumps(prov, indent=2, ensure_ascii=False)
    files["provenance.json"] = (out / "provenance.json", lambda p: p.write_text(text, "utf-8"))
    files["report.html"] = (out / "report.html", lambda p: p.write_text(page, "utf-8"))
    with output_errors(
        "saving the prediction", kept="nothing of this prediction was saved (rerun it)"
    ):
        return staged_write(out, files)


def predict_and_write(panel: Panel, scenario: Scenario, source: str, seeds: int, out: Path):
    """Run, compare and write; returns the paths, the ratios and the wall time."""
    import time

    start = time.perf_counter()
    c = compare(panel, run_cohorts(scenario, seeds))
    seconds = time.perf_counter() - start
    prov = provenance_record(panel, c, scenario, source, seeds, seconds)
    return write_report(out, c, prov), ratios(c.errors), seconds
