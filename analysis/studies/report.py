"""The study report: DIR/report.md (figures as files) and DIR/report.html (self-contained).

Both are rendered from the same rows (:func:`table_rows`), so the summary table of the
report is the table of summary.csv, formatted.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np
import pandas as pd

from trustsim.analysis.studies.spec import Study
from trustsim.runtime.files import atomic_write

MARK = {
    "supported": "🟢", "reversed": "🔴", "not detected": "⚪", "negligible": "🔵",
    "manipulation failed": "🟠", "check passed": "✔️", "check failed": "❌",
}  # fmt: skip
COLOUR = {
    "supported": "#1a7f37", "reversed": "#cf222e", "not detected": "#6e7781",
    "negligible": "#0969da", "manipulation failed": "#bc4c00", "check passed": "#1a7f37",
    "check failed": "#cf222e",
}  # fmt: skip
TABLE = [
    ("kind", "kind"), ("hypothesis", "H"), ("id", "study"), ("statistic", "statistic"),
    ("direction", "expected"), ("effect", "effect"), ("ci_low", "CI low"),
    ("ci_high", "CI high"), ("sesoi", "sesoi"), ("effect_size", "dz / g"),
    ("p_holm", "p (Holm)"), ("manipulation", "manipulation"), ("dose_slope", "dose slope"),
    ("verdict", "verdict"), ("classification", "ODD §11"),
    ("ablation_effect", "ablation effect"), ("robust_share", "robust share"),
]  # fmt: skip
ROLE_LABEL = {
    "control": "control",
    "treatment": "treatment",
    "ablation_control": "ablation: control",
    "ablation_treatment": "ablation: treatment",
}
KINDS = (
    ("finding", "Findings"),
    ("implementation check", "Implementation checks (a relation a rule builds in)"),
)


def fmt(value) -> str:
    """One cell: numbers to 4 significant digits, NaN as an em dash."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value)).lower()
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return "—" if not np.isfinite(value) else f"{value:.4g}"
    return "—" if value is None or value == "" else str(value)


def table_rows(summary: pd.DataFrame) -> list[list[str]]:
    return [[fmt(row[c]) for c, _ in TABLE] for row in summary.to_dict("records")]


# ----------------------------------------------------------------------------- figures


def _figure_replicates(study: Study, reps: pd.DataFrame, path: Path) -> Path:
    from matplotlib.figure import Figure  # no pyplot: leaves a notebook's backend alone

    mine = reps[(reps.study == study.id) & (reps.lhs_point < 0)]
    roles = [r for r in ROLE_LABEL if (mine.role == r).any()]
    fig = Figure(figsize=(6.4, 3.4))
    ax = fig.subplots()
    rng = np.random.default_rng(0)  # horizontal jitter only
    for i, role in enumerate(roles):
        v = mine.loc[mine.role == role, "value"].to_numpy(dtype=float)
        ax.scatter(i + rng.uniform(-0.12, 0.12, v.size), v, s=14, alpha=0.6)
        if np.isfinite(v).any():
            ax.hlines(np.nanmean(v), i - 0.25, i + 0.25, color="black", lw=2)
    ax.set_xticks(range(len(roles)), [ROLE_LABEL[r] for r in roles], fontsize=8)
    ax.set_ylabel(study.statistic, fontsize=8)
    ax.set_title(f"{study.id}: replicate values (bar: mean)", fontsize=9)
    fig.tight_layout()
    atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=100))
    return path


def _figure_robustness(study: Study, rob: pd.DataFrame, name: str, path: Path) -> Path | None:
    from matplotlib.figure import Figure

    mine = rob[rob.study == study.id]
    if mine.empty or not name:
        return None
    fig = Figure(figsize=(6.4, 3.4))
    ax = fig.subplots()
    good = study.sign * mine.effect > 0
    x = mine[f"lhs:{name}"]
    ax.scatter(x[good], mine.effect[good], s=18, label="expected sign", color="#1a7f37")
    ax.scatter(x[~good], mine.effect[~good], s=18, label="other sign / zero", color="#cf222e")
    ax.axhline(0, color="grey", lw=1)
    ax.set_xlabel(name, fontsize=8)
    ax.set_ylabel(f"effect on {study.statistic}", fontsize=8)
    ax.set_title(f"{study.id}: effect across the parameter space", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=100))
    return path


def _figure_dose(study: Study, reps: pd.DataFrame, path: Path) -> Path | None:
    from matplotlib.figure import Figure

    dose = study.spec.dose
    mine = reps[(reps.study == study.id) & (reps.role == "dose")]
    if dose is None or mine.empty:
        return None
    x = np.asarray(dose.levels, dtype=float)[mine.dose_level.to_numpy(dtype=int)]
    fig = Figure(figsize=(6.4, 3.4))
    ax = fig.subplots()
    ax.scatter(x, mine.value, s=14, alpha=0.5, label="replicate")
    means = mine.groupby("dose_level").value.mean()
    ax.plot(np.asarray(dose.levels)[means.index], means.to_numpy(), "k-o", lw=2, label="mean")
    ax.set_xlabel(dose.parameter, fontsize=8)
    ax.set_ylabel(study.statistic, fontsize=8)
    ax.set_title(f"{study.id}: dose-response", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=100))
    return path


# ----------------------------------------------------------------------------- text


def _design(study: Study, row: dict) -> list[str]:
    spec = study.spec
    lines = [
        f"- base: `{spec.base.scenario}` with {', '.join(f'`{s}`' for s in spec.base.set) or 'no changes'}",
        f"- control: {', '.join(f'`{s}`' for s in spec.control.set) or 'the base'} — {spec.study.control_is}",
        f"- treatment: {', '.join(f'`{s}`' for s in spec.treatment.set) or 'the base'}",
        f"- statistic: `{study.statistic}`, expected to **{spec.study.direction}**; "
        f"replicates {int(row['n_control'])} / {int(row['n_treatment'])} usable (control / "
        f"treatment), {'common seeds (paired)' if spec.runs.common_seeds else 'independent seeds'}, "
        f"master seed {spec.runs.master_seed}",
    ]
    if spec.study.sesoi is not None:
        why = f" — {spec.study.sesoi_is}" if spec.study.sesoi_is else ""
        lines.append(f"- smallest effect of interest: ±{fmt(spec.study.sesoi)}{why}")
    if spec.manipulation:
        lines.append(
            f"- manipulation: the arms should **{spec.manipulation.direction}** "
            f"`{spec.manipulation.latent}`"
        )
    if spec.dose:
        lines.append(
            f"- dose: `{spec.dose.parameter}` at {', '.join(fmt(v) for v in spec.dose.levels)} "
            f"on the base, same seeds"
        )
    if spec.ablation:
        lines.append(f"- ablation (both arms): {', '.join(f'`{s}`' for s in spec.ablation.set)}")
    if spec.robustness:
        names = ", ".join(f"`{k}` {v}" for k, v in spec.robustness.parameters.items())
        lines.append(f"- robustness: Latin hypercube over {names}")
    return lines


def _ci(row: dict, prefix: str) -> str:
    return f"[{fmt(row[prefix + 'ci_low'])}, {fmt(row[prefix + 'ci_high'])}]"


def _texts(study: Study, row: dict) -> dict[str, str]:
    """The sentences of one study's section (Markdown; the HTML renderer converts them)."""
    level = f"{100 * row['ci_level']:.3g} %"
    size = "dz" if row["interval"].endswith("paired") else "Hedges' g"
    texts = {
        "Effect": f"effect {fmt(row['effect'])} (treatment {fmt(row['treatment_mean'])} − "
        f"control {fmt(row['control_mean'])}), {level} CI {_ci(row, '')} ({row['interval']}), "
        f"{size} {fmt(row['effect_size'])}, p = {fmt(row['p_value'])} (Holm "
        f"{fmt(row['p_holm'])}); reading of the interval: {row['outcome']}"
    }
    if study.latent:
        texts["Manipulation check"] = (
            f"`{study.latent}` moved by {fmt(row['latent_effect'])}, {level} CI "
            f"{_ci(row, 'latent_')}, expected to {row['latent_direction']}: "
            f"**{row['manipulation']}**"
        )
    if study.spec.dose:
        text = (
            f"slope of `{study.statistic}` on `{row['dose_parameter']}` "
            f"{fmt(row['dose_slope'])}, {level} CI {_ci(row, 'dose_')}, expected to "
            f"{row['dose_direction']}: {row['dose_verdict']}"
        )
        if study.latent:
            text += (
                f"; on the measured `{study.latent}`: {fmt(row['dose_latent_slope'])}, CI "
                f"{_ci(row, 'dose_latent_')}"
            )
        texts["Dose"] = text
    texts["Ablation"] = (
        f"with the ablation, effect {fmt(row['ablation_effect'])}, CI "
        f"{_ci(row, 'ablation_')} ({row['ablation_verdict']})"
        if study.ablation
        else "no ablation in this study (the control arm is itself the mechanism switched off)"
    )
    texts["Robustness"] = (
        f"expected sign at {fmt(row['robust_share'])} of {int(row['robust_points'])} sampled "
        f"points (95 % Wilson {_ci(row, 'robust_')}); the effect moves most with "
        f"`{row['robust_driver'] or '—'}`"
        if row["robust_points"]
        else "no robustness points"
    )
    if row["kind"] == "finding" and row["robust_points"]:
        texts["Falsifiability"] = _falsifiability(row, level)
    return texts


def _also(extras: pd.DataFrame | None, sid: str) -> str:
    """The file's further statistics (``study.report``), per arm with a 95 % interval."""
    if extras is None or extras.empty:
        return ""
    mine = extras[extras.study == sid]
    parts = [
        f"`{r['statistic']}` {r['role']} {fmt(r['mean'])} [{fmt(r['ci_low'])}, "
        f"{fmt(r['ci_high'])}] (n = {int(r['n'])})"
        for r in mine.to_dict("records")
    ]
    return "; ".join(parts)


def _falsifiability(row: dict, level: str) -> str:
    """Where the effect vanishes or reverses: the targeted search's confirmed setting."""
    if not row["falsifier_tried"]:
        return (
            "no setting in the ranges searched (the sampled points, and the corner a linear "
            "fit of their effects points to) gave an effect of zero or the other sign"
        )
    there = (
        f"effect {fmt(row['falsifier_effect'])}, {level} CI {_ci(row, 'falsifier_')}, "
        f"{row['falsifier_outcome']}, both arms run there on fresh seeds"
    )
    if row["falsifier"]:
        return f"the effect vanishes or reverses at {row['falsifier']} ({there})"
    return (
        f"none found within the ranges searched: the best candidate, {row['falsifier_tried']}, "
        f"still gave {there}"
    )


def _sections(
    studies: list[Study], summary: pd.DataFrame, figures: dict, extras=None
) -> list[dict]:
    """Per study, in the summary's order: the text blocks both renderers lay out."""
    by_id = {s.id: s for s in studies}
    out = []
    for row in summary.to_dict("records"):
        study = by_id[row["id"]]
        texts = _texts(study, row)
        if also := _also(extras, study.id):
            texts["Also measured (mean over replicates, 95 % interval)"] = also
        out.append(
            {
                "study": study,
                "row": row,
                "design": _design(study, row),
                "texts": texts,
                "figures": figures[study.id],
            }
        )
    return out


def _provenance_lines(meta: dict) -> list[str]:
    deps = ", ".join(f"{k} {v}" for k, v in meta["dependencies"].items())
    return [
        f"- mode: **{'quick (reduced replicates, half-length runs)' if meta['quick'] else 'full'}**",
        f"- trustsim {meta['trustsim']}, Python {meta['python']}, commit "
        f"`{meta['git_commit'] or 'unknown'}`; {deps}",
        f"- {meta['runs']} runs ({meta['new_runs']} computed in this session on "
        f"{meta['workers']} workers, {meta['sweep_seconds']} s); wall time "
        f"{meta['wall_seconds']} s; finished {meta['finished']}",
        "- master seeds: " + ", ".join(f"{k} {v}" for k, v in meta["master_seeds"].items()),
    ]


QUICK_TITLE = " (--quick: reduced sizes, not the model's answer)"
RULE = (
    "Verdict rule: effect = mean(treatment) − mean(control) over replicates with a BCa "
    "bootstrap interval (t interval where the bootstrap is degenerate) at the simultaneous "
    "level 1 − 0.05/m for the m studies of this report (Bonferroni: all verdicts together "
    "err with probability ≤ 0.05). **negligible** if the interval lies inside ±sesoi (the "
    "smallest effect of interest; two one-sided tests), else **supported** if it excludes 0 "
    "on the expected side, **reversed** on the other side, otherwise **not detected**. A "
    "study whose arms do not move its latent in the expected direction (the manipulation "
    "check, same level) is **manipulation failed**, whatever its outcome. Studies whose "
    "relation a rule builds in (ODD §11: by form, by form in direction) are implementation "
    "checks (**check passed** / **check failed**), listed after the findings. Effect sizes: "
    "dz for paired (common-seed) arms, Hedges' g otherwise."
)


def _study_md(s: dict, out: Path) -> list[str]:
    study, row = s["study"], s["row"]
    lines = [
        f"### {row['hypothesis'] or ''} {study.id}: {MARK[row['verdict']]} {row['verdict']} "
        f"({row['classification']})".replace("###  ", "### "),
        "",
        f"**Claim.** {study.spec.study.claim}",
        "",
        f"**Source.** {study.spec.study.source or '—'}",
        "",
        "**Design.**",
        "",
        *s["design"],
        "",
    ]
    for title, text in s["texts"].items():
        lines += [f"**{title}.** {text}.", ""]
    lines += [
        f"![{study.id} {k}]({p.relative_to(out).as_posix()})" for k, p in s["figures"].items()
    ]
    return [*lines, ""]


def render_md(summary: pd.DataFrame, sections: list[dict], meta: dict) -> str:
    head = "| " + " | ".join(h for _, h in TABLE) + " |"
    title = "# Hypothesis studies" + (QUICK_TITLE if meta["quick"] else "")
    lines = [title, "", RULE, "", head, "|" + "---|" * len(TABLE)]
    verdict_col = [c for c, _ in TABLE].index("verdict")
    for row in table_rows(summary):
        cells = list(row)
        cells[verdict_col] = f"{MARK.get(cells[verdict_col], '')} {cells[verdict_col]}"
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## Provenance", "", *_provenance_lines(meta), ""]
    for kind, heading in KINDS:
        mine = [s for s in sections if s["row"]["kind"] == kind]
        if mine:
            lines += [f"## {heading}", ""]
        for s in mine:
            lines += _study_md(s, meta["_out"])
    return "\n".join(lines)


def _md_inline(text: str) -> str:
    """The little Markdown the sections use (`code`, **bold**), as HTML."""
    import re

    text = html.escape(text)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    return re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", text)


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(path.stem)}">'


def _study_html(s: dict) -> list[str]:
    study, row = s["study"], s["row"]
    colour = COLOUR[row["verdict"]]
    return [
        f"<h3>{html.escape(row['hypothesis'] or '')} {html.escape(study.id)}: "
        f"<span style='color:{colour}'>{row['verdict']}</span> "
        f"({html.escape(row['classification'])})</h3>",
        f"<p><b>Claim.</b> {html.escape(study.spec.study.claim)}</p>",
        f"<p><b>Source.</b> {html.escape(study.spec.study.source or '—')}</p>",
        "<p><b>Design.</b></p><ul>",
        *[f"<li>{_md_inline(x[2:])}</li>" for x in s["design"]],
        "</ul>",
        *[f"<p><b>{html.escape(k)}.</b> {_md_inline(v)}.</p>" for k, v in s["texts"].items()],
        *[_img(p) for p in s["figures"].values()],
    ]


def render_html(summary: pd.DataFrame, sections: list[dict], meta: dict) -> str:
    verdict_col = [c for c, _ in TABLE].index("verdict")
    rows = []
    for cells in table_rows(summary):
        tds = []
        for i, cell in enumerate(cells):
            style = f' style="color:{COLOUR[cell]};font-weight:bold"' if i == verdict_col else ""
            tds.append(f"<td{style}>{html.escape(cell)}</td>")
        rows.append("<tr>" + "".join(tds) + "</tr>")
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Hypothesis studies</title>",
        "<style>body{font-family:sans-serif;max-width:70em;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;"
        "font-size:90%}img{max-width:100%}</style></head><body>",
        f"<h1>Hypothesis studies{html.escape(QUICK_TITLE if meta['quick'] else '')}</h1>",
        f"<p>{_md_inline(RULE)}</p>",
        "<table id='summary'><thead><tr>"
        + "".join(f"<th>{html.escape(h)}</th>" for _, h in TABLE)
        + "</tr></thead><tbody>",
        *rows,
        "</tbody></table><h2>Provenance</h2><ul>",
        *[f"<li>{_md_inline(x[2:])}</li>" for x in _provenance_lines(meta)],
        "</ul>",
    ]
    for kind, heading in KINDS:
        mine = [s for s in sections if s["row"]["kind"] == kind]
        if mine:
            parts.append(f"<h2>{html.escape(heading)}</h2>")
        for s in mine:
            parts += _study_html(s)
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(
    out: Path,
    studies: list[Study],
    summary: pd.DataFrame,
    reps: pd.DataFrame,
    rob: pd.DataFrame,
    meta: dict,
    extras: pd.DataFrame | None = None,
) -> tuple[Path, Path]:
    from trustsim.analysis.studies.stats import driver

    figures: dict[str, dict[str, Path]] = {}
    for study in studies:
        figs = {
            "replicates": _figure_replicates(
                study, reps, out / "figures" / f"{study.id}_replicates.png"
            )
        }
        robust = _figure_robustness(
            study, rob, driver(study, rob)[0], out / "figures" / f"{study.id}_robustness.png"
        )
        if robust is not None:
            figs["robustness"] = robust
        dose = _figure_dose(study, reps, out / "figures" / f"{study.id}_dose.png")
        if dose is not None:
            figs["dose"] = dose
        figures[study.id] = figs
    sections = _sections(studies, summary, figures, extras)
    md = render_md(summary, sections, {**meta, "_out": out})
    page = render_html(summary, sections, meta)
    atomic_write(out / "report.md", lambda p: p.write_text(md, encoding="utf-8"))
    atomic_write(out / "report.html", lambda p: p.write_text(page, encoding="utf-8"))
    return out / "report.md", out / "report.html"


def summary_from_markdown(text: str) -> pd.DataFrame:
    """The summary table of a report.md, back as strings (tests compare it to summary.csv)."""
    lines = [ln for ln in text.splitlines() if ln.startswith("| ")]
    header = [h.strip() for h in lines[0].strip("|").split("|")]
    body = [[c.strip() for c in ln.strip("|").split("|")] for ln in lines[1:]]
    frame = pd.DataFrame(body, columns=header)
    frame["verdict"] = frame["verdict"].str.replace(r"^\S+ ", "", regex=True)
    return frame
