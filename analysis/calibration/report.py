"""What a calibration leaves in its folder: posterior.parquet, calibrated.toml, figures,
report.md and a self-contained report.html (figures embedded).

The report answers the two questions of pattern-oriented modelling: how close the model
gets to each target (posterior predictive against the observed value and its interval),
and which parameters the targets pin down (prior against posterior width).
"""

from __future__ import annotations

import base64
import html
import json
import platform
import time
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from trustsim.runtime.files import atomic_write
from trustsim.runtime.provenance import provenance

if TYPE_CHECKING:
    from trustsim.analysis.calibration.posterior import Outcome

Z90 = 1.6449  # half-width of a central 90 % normal interval, in sd
PINNED, PARTLY = 0.5, 0.8  # posterior/prior width ratios of the identifiability verdicts
MIN_ESS_SHARE = 0.25  # below this share of effective particles the widths are flagged
EDGE = 0.05  # a posterior median this close to a prior bound (share of its width) is flagged


# ----------------------------------------------------------------------------- tables


def identifiability(o: Outcome) -> pd.DataFrame:
    """Per parameter: prior and weighted-posterior 90 % intervals and their width ratio."""
    from trustsim.analysis.calibration.posterior import weighted_quantile

    rows = []
    for p in o.targets.priors:
        x, w = o.posterior[p.name], o.posterior.weight
        lo, med, hi = (weighted_quantile(x, w, q) for q in (0.05, 0.5, 0.95))
        prior_width = 0.9 * (p.high - p.low)
        ratio = (hi - lo) / prior_width
        verdict = (
            "pinned down" if ratio < PINNED else "partly" if ratio < PARTLY else "not identified"
        )
        if min(med - p.low, p.high - med) < EDGE * (p.high - p.low):
            verdict += ", at the prior's edge (the targets pull beyond the prior)"
        rows.append(
            {
                "parameter": p.name,
                "prior": f"[{p.low:g}, {p.high:g}]",
                "posterior median": med,
                "posterior 90%": f"[{lo:.4g}, {hi:.4g}]",
                "width ratio": ratio,
                "verdict": verdict,
            }
        )
    return pd.DataFrame(rows)


def fit_table(o: Outcome) -> pd.DataFrame:
    """Per target: observed value and interval, defaults, calibrated and posterior predictive."""
    rows = []
    pred = o.predictive
    for x in o.targets.targets:
        screen = o.screen[x.name]

        def summary(kind: str, name: str = x.name) -> tuple[float, float]:
            v = pred.loc[pred.set == kind, name].to_numpy(dtype=float)
            v = v[np.isfinite(v)]  # the undefined ones are counted in the "undefined" column
            return (float(v.mean()), float(v.std(ddof=1))) if v.size > 1 else (np.nan, np.nan)

        dm, _ = summary("defaults")
        cm, _ = summary("calibrated")
        pm, ps = summary("posterior")
        rows.append(
            {
                "target": x.name,
                "statistic": x.statistic,
                "observed": float(x.observed),
                "sd": float(x.sd),
                "defaults": dm,
                "defaults z": (dm - x.observed) / x.sd,
                "calibrated": cm,
                "calibrated z": (cm - x.observed) / x.sd,
                "posterior predictive": f"{pm:.3g} ± {ps:.2g}",
                "fitted": "yes" if screen["movable"] else f"no: not movable ({screen['why']})",
                "undefined": undefined_counts(pred, x.name),
            }
        )
    return pd.DataFrame(rows)


def undefined_counts(pred: pd.DataFrame, name: str) -> str:
    """How many predictive replicate means of ``name`` had no value (a replicate without
    one, e.g. no departure in its window), of how many, per set: left out of the means."""
    counts = [
        f"{int((~np.isfinite(pred.loc[pred.set == kind, name].to_numpy(dtype=float))).sum())}"
        f"/{int((pred.set == kind).sum())}"
        for kind in ("defaults", "posterior", "calibrated")
    ]
    return " · ".join(counts)


def generations_table(history) -> pd.DataFrame:
    """Per ABC generation: its tolerance (sd units), draws, acceptance rate and the
    effective sample size of its particles (Kish: 1 / sum of squared weights)."""
    pops = history.get_all_populations()
    rows = []
    for row in pops[pops.t >= 0].itertuples(index=False):
        _, w = history.get_distribution(m=0, t=int(row.t))
        w = np.asarray(w, dtype=float)
        rows.append(
            {
                "generation": int(row.t),
                "tolerance": float(row.epsilon),
                "draws": int(row.samples),
                "acceptance": float(row.particles) / max(int(row.samples), 1),
                "ESS": float(1.0 / np.sum(np.square(w / w.sum()))),
                "particles": int(row.particles),
            }
        )
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- figures


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    atomic_write(path, lambda p: fig.savefig(p, dpi=100, format="png", bbox_inches="tight"))
    _plt().close(fig)
    return path


def predictive_figure(o: Outcome, path: Path) -> Path:
    """One panel per target: observed value with its 90 % interval, against the spread of
    the statistic at the defaults, across the posterior and at the calibrated point."""
    plt = _plt()
    targets = o.targets.targets
    cols = min(3, len(targets))
    rows = -(-len(targets) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    sets = (("defaults", "#999999"), ("posterior", "#1f77b4"), ("calibrated", "#d62728"))
    for ax, x in zip(axes.flat, targets):
        ax.axhspan(x.observed - Z90 * x.sd, x.observed + Z90 * x.sd, color="#2ca02c", alpha=0.15)
        ax.axhline(x.observed, color="#2ca02c", lw=2, label="observed ± 90%")
        for i, (kind, colour) in enumerate(sets):
            v = o.predictive.loc[o.predictive.set == kind, x.name].to_numpy(dtype=float)
            v = v[np.isfinite(v)]
            if v.size:
                jitter = np.linspace(-0.15, 0.15, v.size)
                ax.scatter(i + jitter, v, s=12, color=colour, alpha=0.7)
                ax.plot([i - 0.25, i + 0.25], [v.mean()] * 2, color=colour, lw=2)
        ax.set_xticks(range(3), [s for s, _ in sets])
        moved = "" if o.screen[x.name]["movable"] else " (not movable: not fitted)"
        ax.set_title(f"{x.name}{moved}", fontsize=9)
    for ax in list(axes.flat)[len(targets) :]:
        ax.axis("off")
    fig.suptitle("Targets: observed (green band) vs defaults, posterior predictive, calibrated")
    fig.tight_layout()
    return _save(fig, path)


def pairs_figure(o: Outcome, path: Path) -> Path:
    """Weighted posterior: histograms on the diagonal, particles (size ~ weight) below it,
    axes spanning the prior."""
    plt = _plt()
    priors = o.targets.priors
    k = len(priors)
    fig, axes = plt.subplots(k, k, figsize=(1.9 * k + 1, 1.9 * k + 1), squeeze=False)
    w = o.posterior.weight.to_numpy()
    for i, pi in enumerate(priors):
        for j, pj in enumerate(priors):
            ax = axes[i, j]
            if j > i:
                ax.axis("off")
                continue
            if i == j:
                ax.hist(o.posterior[pi.name], bins=15, range=(pi.low, pi.high), weights=w)
                ax.set_xlim(pi.low, pi.high)
                ax.set_yticks([])
            else:
                ax.scatter(
                    o.posterior[pj.name], o.posterior[pi.name], s=60 * w / w.max(), alpha=0.5
                )
                ax.set_xlim(pj.low, pj.high)
                ax.set_ylim(pi.low, pi.high)
            if i == k - 1:
                ax.set_xlabel(pj.name, fontsize=7)
            if j == 0 and i > 0:
                ax.set_ylabel(pi.name, fontsize=7)
            ax.tick_params(labelsize=6)
    fig.suptitle("Posterior (axes span the prior)")
    fig.tight_layout()
    return _save(fig, path)


# ----------------------------------------------------------------------------- files


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(round(v, 6))
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


def calibrated_toml(o: Outcome, header: str) -> str:
    """The base scenario with the free parameters at the posterior median, as TOML: only
    the values that differ from the schema's defaults, plus every calibrated one."""
    from trustsim.analysis.calibration.posterior import posterior_median
    from trustsim.params import Scenario

    names = [p.name for p in o.targets.priors]
    median = posterior_median(o.posterior, names)
    data = o.targets.base.model_dump()
    defaults = Scenario().model_dump()
    data["run"]["history"] = False
    for name, value in median.items():
        section, key = name.split(".")
        data[section][key] = round(float(value), 6)
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    for section, table in data.items():
        keys = [
            k for k, v in table.items() if v != defaults[section][k] or f"{section}.{k}" in median
        ]
        if not keys:
            continue
        lines += ["", f"[{section}]"]
        for key in keys:
            mark = "  # calibrated" if f"{section}.{key}" in median else ""
            lines.append(f"{key} = {_toml_value(table[key])}{mark}")
    return "\n".join(lines) + "\n"


def _header(o: Outcome, prov: dict[str, Any]) -> str:
    return (
        f"Calibrated by `trustsim calibrate {o.targets.path.name}`"
        f"{' --quick' if o.plan.quick else ''} (ABC-SMC, pyabc {_version('pyabc')}):\n"
        f"free parameters at their posterior median; everything else is the base scenario "
        f"'{o.targets.settings.scenario}'\nwith {o.targets.settings.set}. Budget {o.plan.budget} "
        f"model runs, {o.generations} generations, commit {prov.get('git_commit')}, "
        f"{time.strftime('%Y-%m-%d')}.\nSee docs/CALIBRATION.md and the report next to it."
    )


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def provenance_table(o: Outcome, history, state: dict[str, Any]) -> dict[str, Any]:
    prov = provenance()
    prov["dependencies"]["pyabc"] = _version("pyabc")
    return {
        "targets_file": str(o.targets.path),
        "targets_sha256": o.targets.sha256,
        "mode": "quick" if o.plan.quick else "full",
        "budget_runs": o.plan.budget,
        "population_size": o.plan.population_size,
        "replicates": o.plan.replicates,
        "replicates_why": o.plan.replicates_why,
        "master_seed": o.targets.settings.master_seed,
        "abc_draws": o.simulations,
        "prior_check_runs": o.check.runs,
        "model_runs": o.check.runs
        + (o.simulations + 3 * o.plan.predictive_draws) * o.plan.replicates,
        "generations": o.generations,
        "stopped": o.stopped,
        "minimum_epsilon": o.plan.minimum_epsilon,
        "min_acceptance_rate": o.plan.min_acceptance_rate,
        "final_epsilon": float(
            history.get_all_populations().set_index("t").epsilon[o.generations - 1]
        ),
        "effective_sample_size": float(1.0 / np.sum(np.square(o.posterior.weight))),
        "wall_time_s": round(o.seconds, 1),
        "sessions": state["sessions"],
        "machine": platform.node(),
        "load_average": _load(),
        **prov,
    }


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()
    except OSError:
        return "unknown"


def _md_table(df: pd.DataFrame) -> str:
    def cell(v: Any) -> str:
        return f"{v:.3g}" if isinstance(v, float) else str(v)

    head = "| " + " | ".join(df.columns) + " |"
    rule = "| " + " | ".join("---" for _ in df.columns) + " |"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def _reach_md(o: Outcome) -> list[str]:
    """The report's first lines: what the model can reach across the priors."""
    check = o.check
    lines = check.lines()
    head = (
        f"**The model cannot reach {len(check.unreachable)} of {len(check.targets)} "
        "targets** anywhere in the priors (prior check: none of the search's replicate means "
        "came within 2 sd); their fit below is the nearest the model gets, a finding about "
        "the model, not a failure of the fit."
        if check.unreachable
        else "Every target is reachable across the priors (prior check: some replicate "
        "mean within 2 sd of each)."
    )
    return [
        *lines[:-1],
        "",
        head,
        f"Prior check: {check.draws} single runs across the prior, {check.search_evaluations} "
        f"replicate means in its search; {lines[-1]} (sd units). Details in prior_check.json.",
        "",
    ]


def _report_md(o: Outcome, fit: pd.DataFrame, ident: pd.DataFrame, prov: dict, gens) -> str:
    from trustsim.analysis.calibration.posterior import STOPS

    t = o.targets
    movable = [x.name for x in t.targets if not o.screen[x.name]["movable"]]
    lines = [
        f"# Calibration of {t.settings.id}",
        "",
        *_reach_md(o),
        f"ABC-SMC (pyabc) of `{t.path.name}` on base scenario `{t.settings.scenario}` "
        f"({'quick' if o.plan.quick else 'full'} run: {prov['model_runs']} model runs of a "
        f"budget of {o.plan.budget}, {o.generations} generations of {o.plan.population_size} "
        f"particles, each draw the mean of {o.plan.replicates} replicates; final epsilon "
        f"{prov['final_epsilon']:.3g} in sd units; effective sample size of the posterior "
        f"{prov['effective_sample_size']:.0f} of {len(o.posterior)} particles: with few "
        "effective particles a posterior is less certain than its width suggests).",
        "",
        f"**Replicates per draw:** {o.plan.replicates_why}.",
        "",
        f"**Stopping rule:** {o.plan.stopping_rule()}. **Stopped:** {STOPS[o.stopped]}.",
        "",
        "## Generations",
        "",
        "Tolerance in sd units of the distance; acceptance = particles / draws; ESS = "
        "effective sample size of the generation's weighted particles.",
        "",
        _md_table(gens),
        "",
        "## Fit to each target",
        "",
        "Observed value and sd as in the targets file; *defaults* and *calibrated* are the "
        f"mean of {o.plan.predictive_draws} replicate means at the base scenario and at the "
        "posterior median; z = (model - observed) / sd.",
        "",
        _md_table(fit),
        "",
        "![posterior predictive](predictive.png)",
        "",
    ]
    if movable:
        lines += [
            "**Not movable, not fitted:** "
            + ", ".join(
                f"`{n}` ({o.screen[n]['why']}; prior-predictive sd "
                f"{o.screen[n].get('prior_sd', float('nan')):.3g} vs replicate sd "
                f"{o.screen[n].get('replicate_sd', float('nan')):.3g})"
                for n in movable
            )
            + ". No parameter of the priors changes these statistics beyond seed noise, "
            "so they were left out of the distance.",
            "",
        ]
    ess = prov["effective_sample_size"]
    lines += [
        "## Identifiability",
        "",
        f"Posterior 90 % interval against the prior's; width ratio < {PINNED}: pinned down by "
        f"the targets, < {PARTLY}: partly, otherwise the targets say little about it.",
        "",
    ]
    if ess < MIN_ESS_SHARE * len(o.posterior):
        lines += [
            f"**Caution:** the posterior rests on {ess:.0f} effective particles of "
            f"{len(o.posterior)}; its intervals are narrower than the evidence warrants. "
            "Raise the population size (and the budget) before reading widths as "
            "identifiability.",
            "",
        ]
    lines += [
        _md_table(ident),
        "",
        "![pairs](pairs.png)",
        "",
        "## Provenance",
        "",
        "```json",
        json.dumps(prov, indent=2, default=str),
        "```",
        "",
    ]
    return "\n".join(lines)


def _embed(md_html: str, folder: Path, names=("predictive.png", "pairs.png")) -> str:
    for name in names:
        data = base64.b64encode((folder / name).read_bytes()).decode()
        md_html = md_html.replace(f'src="{name}"', f'src="data:image/png;base64,{data}"')
    return md_html


def _md_to_html(md: str, title: str = "calibration") -> str:
    """Enough markdown for this report: headings, tables, images, code and paragraphs."""
    out, in_code, table = [], False, []

    def flush_table() -> None:
        if table:
            rows = [r.strip("|").split(" | ") for r in table if not set(r) <= set("|- ")]
            head, *body = rows
            out.append(
                "<table><tr>"
                + "".join(f"<th>{html.escape(c.strip())}</th>" for c in head)
                + "</tr>"
                + "".join(
                    "<tr>" + "".join(f"<td>{html.escape(c.strip())}</td>" for c in r) + "</tr>"
                    for r in body
                )
                + "</table>"
            )
            table.clear()

    for line in md.splitlines():
        if line.startswith("```"):
            out.append("</pre>" if in_code else "<pre>")
            in_code = not in_code
            continue
        if in_code:
            out.append(html.escape(line))
            continue
        if line.startswith("|"):
            table.append(line)
            continue
        flush_table()
        if line.startswith("!["):
            alt, src = line[2:-1].split("](")
            out.append(f'<p><img alt="{html.escape(alt)}" src="{src}" style="max-width:100%"></p>')
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{html.escape(line.lstrip('# '))}</h{level}>")
        elif line.strip():
            out.append(f"<p>{html.escape(line)}</p>")
    flush_table()
    style = (
        "body{font-family:sans-serif;max-width:70em;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;"
        "font-size:90%}pre{background:#f6f6f6;padding:1em;overflow:auto}"
    )
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{style}</style></head><body>{''.join(out)}</body></html>\n"
    )


def write_outputs(o: Outcome, history, state: dict[str, Any]) -> list[Path]:
    out = o.out
    prov = provenance_table(o, history, state)
    paths = [out / "posterior.parquet", out / "predictive.parquet", out / "calibrated.toml"]
    atomic_write(paths[0], lambda p: o.posterior.to_parquet(p, index=False))
    atomic_write(paths[1], lambda p: o.predictive.to_parquet(p, index=False))
    atomic_write(paths[2], lambda p: p.write_text(calibrated_toml(o, _header(o, prov))))
    paths += [predictive_figure(o, out / "predictive.png"), pairs_figure(o, out / "pairs.png")]
    fit, ident, gens = fit_table(o), identifiability(o), generations_table(history)
    md = _report_md(o, fit, ident, prov, gens)
    atomic_write(out / "report.md", lambda p: p.write_text(md, encoding="utf-8"))
    page = _embed(_md_to_html(md), out)
    atomic_write(out / "report.html", lambda p: p.write_text(page, encoding="utf-8"))
    tables = {
        "prior_check": [c.name for c in o.check.unreachable],
        "fit": fit.to_dict("records"),
        "identifiability": ident.to_dict("records"),
        "generations": gens.to_dict("records"),
    }
    atomic_write(
        out / "summary.json",
        lambda p: p.write_text(json.dumps({**tables, "provenance": prov}, indent=2, default=str)),
    )
    return [*paths, out / "report.md", out / "report.html", out / "summary.json"]
