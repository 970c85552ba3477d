"""Global sensitivity of the kept metrics to the varied parameters (SALib Morris or Sobol),
with bootstrap confidence intervals.

Each design point's output is the mean over its replicates, so replicate noise shrinks
instead of posing as sensitivity; with ``runs.common_seeds`` a parameter that cannot
change a metric gets an index of exactly zero.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from trustsim.analysis.sweep.design import problem, raw_design
from trustsim.analysis.sweep.experiment import Experiment
from trustsim.runtime.files import atomic_write

SENSITIVITY_METHODS = ("morris", "sobol")
COLUMNS = ["metric", "parameter", "statistic", "value", "conf"]  # statistic: S1, mu_star, ...
CONF_LEVEL = 0.95
RESAMPLES = 1000
MAX_COLUMNS = 3  # panels per row of the figure
# What each index means, for the figure and docs/SWEEPS.md.
INDEX_HELP = {
    "mu_star": "mean |elementary effect| (Morris)",
    "sigma": "spread of elementary effects",
    "mu": "mean elementary effect",
    "S1": "first-order Sobol index",
    "ST": "total-order Sobol index",
    "S2": "second-order Sobol index",
}


def main_indices(experiment: Experiment) -> tuple[str, ...]:
    """The indices a figure or summary shows for this design's method."""
    return ("mu_star",) if experiment.method == "morris" else ("S1", "ST")


def summary(table: pd.DataFrame, experiment: Experiment) -> pd.DataFrame:
    """The main indices as a wide table: one row per metric and parameter, "value ± conf"."""
    main = table[table["statistic"].isin(main_indices(experiment))]
    cells = main.assign(cell=[f"{v:.3g} ± {c:.2g}" for v, c in zip(main["value"], main["conf"])])
    wide = cells.pivot(index=["metric", "parameter"], columns="statistic", values="cell")
    return wide.reindex(pd.MultiIndex.from_frame(main[["metric", "parameter"]].drop_duplicates()))


def point_means(experiment: Experiment, runs: pd.DataFrame) -> pd.DataFrame:
    """One row per design point, in design order: each kept metric averaged over replicates."""
    means = runs.groupby("point_id")[list(experiment.metrics)].mean()
    return means.reindex(np.arange(len(raw_design(experiment))))


def _morris(experiment: Experiment, y: np.ndarray) -> list[tuple]:
    from SALib.analyze import morris

    design = experiment.spec.design
    si = morris.analyze(
        problem(experiment),
        raw_design(experiment).astype(float),
        y,
        num_resamples=RESAMPLES,
        conf_level=CONF_LEVEL,
        num_levels=design.levels,
        seed=experiment.spec.runs.master_seed,
    )
    rows = []
    for i, name in enumerate(experiment.names):
        rows.append((name, "mu_star", si["mu_star"][i], si["mu_star_conf"][i]))
        rows.append((name, "mu", si["mu"][i], np.nan))
        rows.append((name, "sigma", si["sigma"][i], np.nan))
    return rows


def _sobol(experiment: Experiment, y: np.ndarray) -> list[tuple]:
    from SALib.analyze import sobol

    second = experiment.spec.design.second_order
    si = sobol.analyze(
        problem(experiment),
        y,
        calc_second_order=second,
        num_resamples=RESAMPLES,
        conf_level=CONF_LEVEL,
        seed=experiment.spec.runs.master_seed + 1,
    )
    names = experiment.names
    rows = []
    for i, name in enumerate(names):
        rows.append((name, "S1", si["S1"][i], si["S1_conf"][i]))
        rows.append((name, "ST", si["ST"][i], si["ST_conf"][i]))
    if second:
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                rows.append((f"{names[i]} x {names[j]}", "S2", si["S2"][i, j], si["S2_conf"][i, j]))
    return rows


def indices(experiment: Experiment, y: np.ndarray, metric: str = "y") -> pd.DataFrame:
    """Sensitivity indices of one output ``y`` (one value per design point, design order)."""
    compute = {"morris": _morris, "sobol": _sobol}[experiment.method]
    with np.errstate(divide="ignore", invalid="ignore"):
        rows = compute(experiment, np.asarray(y, dtype=float))
    return pd.DataFrame([(metric, *r) for r in rows], columns=COLUMNS)


def analyze(experiment: Experiment, runs: pd.DataFrame) -> pd.DataFrame:
    """Indices for every kept metric: columns metric, parameter, index, value, conf (the
    half-width of the 95% bootstrap interval; NaN where SALib gives none).

    A metric that is undefined (NaN) at some design point is left out, with a note.
    """
    means = point_means(experiment, runs)
    tables = []
    for metric in experiment.metrics:
        y = means[metric].to_numpy(dtype=float)
        if np.isnan(y).any():
            print(
                f"note: {metric} is undefined at {int(np.isnan(y).sum())} design points; "
                f"no indices for it",
                file=sys.stderr,
            )
            continue
        tables.append(indices(experiment, y, metric))
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=COLUMNS)


def figure(table: pd.DataFrame, experiment: Experiment, path: Path) -> Path:
    """Bar chart: one panel per metric, bars per parameter with confidence intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = main_indices(experiment)
    metrics = list(dict.fromkeys(table["metric"]))
    names = experiment.names
    ncols = min(len(metrics), MAX_COLUMNS)
    nrows = -(-len(metrics) // ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        sharey=True,
        squeeze=False,
        figsize=(2.2 + 2.8 * ncols, 0.9 + (0.32 * len(names) + 0.7) * nrows),
    )
    height = 0.8 / len(shown)
    for ax, metric in zip(axes.flat, metrics):
        sub = table[table["metric"] == metric].set_index(["statistic", "parameter"])
        for k, index in enumerate(shown):
            vals = sub.loc[index].reindex(names)
            pos = np.arange(len(names)) + (k - (len(shown) - 1) / 2) * height
            ax.barh(
                pos,
                vals["value"],
                height,
                xerr=vals["conf"].fillna(0),
                capsize=2,
                color=f"C{k}",
                label=f"{index}: {INDEX_HELP[index]}",
            )
        ax.axvline(0, color="black", lw=0.6)
        ax.set_title(metric, loc="left", fontsize=9)
        ax.tick_params(labelsize=8)
    for ax in axes.flat[len(metrics) :]:
        ax.axis("off")
    axes[0, 0].set_yticks(np.arange(len(names)), names)
    axes[0, 0].invert_yaxis()
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(shown), fontsize=8, frameon=False)
    fig.suptitle(
        f"{experiment.path.stem}: {experiment.method} sensitivity "
        f"(error bars: {CONF_LEVEL:.0%} bootstrap interval)",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    atomic_write(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)
    return path


def save_outputs(table: pd.DataFrame, experiment: Experiment, out: Path) -> list[Path]:
    """sensitivity.csv, sensitivity.parquet and sensitivity.png in the sweep folder."""
    out = Path(out)
    csv, parquet = out / "sensitivity.csv", out / "sensitivity.parquet"
    atomic_write(csv, lambda p: table.to_csv(p, index=False))
    atomic_write(parquet, lambda p: table.to_parquet(p, index=False))
    return [csv, parquet, figure(table, experiment, out / "sensitivity.png")]


def sensitivity(
    experiment: Experiment | str | Path,
    out: str | Path | None = None,
    *,
    workers: int | None = None,
    cluster: str | None = None,
) -> pd.DataFrame:
    """Python API: run or resume the sweep of a morris/sobol experiment, return its indices."""
    from trustsim.analysis.sweep.driver import run_sweep
    from trustsim.analysis.sweep.load import load_experiment

    exp = experiment if isinstance(experiment, Experiment) else load_experiment(experiment)
    if exp.method not in SENSITIVITY_METHODS:
        raise ValueError(
            f"{exp.path}: sensitivity needs a morris or sobol design, not {exp.method}"
        )
    return analyze(exp, run_sweep(exp, out, workers=workers, cluster=cluster))
