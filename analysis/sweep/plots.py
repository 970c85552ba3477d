"""Standard figures of a sweep: a metric against one parameter with the spread over
replicates, and a heatmap of its mean over two parameters.

The tables behind each figure are functions too (:func:`spread`, :func:`heatmap`), so a
notebook can reuse them without the drawing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from trustsim.analysis.sweep.driver import load_runs, read_manifest
from trustsim.errors import UsageError
from trustsim.runtime.files import atomic_write

HEATMAP_BINS = 8  # bins per axis when a design samples a range instead of a grid
MAX_HUES = 8  # more levels of the second parameter than this: no separate lines


def _levels(runs: pd.DataFrame, name: str, sampled: bool) -> pd.Series:
    """A parameter's value, or for sampled designs the centre of its equal-width bin."""
    values = runs[name]
    if not sampled or values.nunique() <= HEATMAP_BINS:
        return values
    bins = pd.cut(values, HEATMAP_BINS)
    return bins.map(lambda b: b.mid).astype(float)


def spread(runs: pd.DataFrame, metric: str, x: str, hue: str | None = None) -> pd.DataFrame:
    """Mean, standard deviation, min, max and count of ``metric`` per value of ``x`` (and of
    ``hue``), over replicates and every other parameter."""
    keys = [k for k in (hue, x) if k]
    table = runs.groupby(keys)[metric].agg(["mean", "std", "min", "max", "count"])
    return table.reset_index()


def point_spread(runs: pd.DataFrame, metric: str, x: str, hue: str | None = None) -> pd.DataFrame:
    """Per design point: its ``x`` (and ``hue``) value and the replicates' mean and spread
    (for sampled designs, where every point has its own value)."""
    cols = [c for c in (x, hue) if c]
    table = runs.groupby("point_id").agg(
        **{c: (c, "first") for c in cols},
        mean=(metric, "mean"),
        std=(metric, "std"),
        count=(metric, "count"),
    )
    return table.reset_index()


def heatmap(runs: pd.DataFrame, metric: str, x: str, y: str, sampled: bool = False) -> pd.DataFrame:
    """Mean of ``metric`` with ``y`` values as rows and ``x`` values as columns (sampled
    designs: means over equal-width bins)."""
    frame = pd.DataFrame(
        {"x": _levels(runs, x, sampled), "y": _levels(runs, y, sampled), "v": runs[metric]}
    )
    table = frame.pivot_table(index="y", columns="x", values="v", aggfunc="mean", observed=True)
    table.index.name, table.columns.name = y, x
    return table.sort_index().sort_index(axis=1)


def _check_names(manifest: dict, metrics: list[str], x: str, y: str | None, out: Path) -> None:
    problems = [
        f"{out}: --metric {m}: not kept by this sweep (kept: {', '.join(manifest['metrics'])})"
        for m in metrics
        if m not in manifest["metrics"]
    ]
    problems += [
        f"{out}: --{flag} {name}: not varied by this sweep (varied: "
        f"{', '.join(manifest['parameters'])})"
        for flag, name in (("x", x), ("y", y))
        if name and name not in manifest["parameters"]
    ]
    if y and y == x:
        problems.append(f"{out}: --x and --y name the same parameter")
    if problems:
        raise UsageError("\n".join(problems))


def value_label(value: object) -> str:
    """A parameter value as a legend or tick shows it: switches as off/on, numbers short."""
    if isinstance(value, (bool, np.bool_)):
        return "on" if value else "off"
    return f"{value:.3g}" if isinstance(value, (int, float, np.number)) else str(value)


def _draw_lines(
    ax, runs: pd.DataFrame, metric: str, x: str, hue: str | None, sampled: bool
) -> None:
    if sampled:
        table = point_spread(runs, metric, x, hue)
        colors = table[hue] if hue else None
        ax.errorbar(
            table[x], table["mean"], yerr=table["std"].fillna(0), fmt="none", ecolor="0.7", lw=0.8
        )
        art = ax.scatter(table[x], table["mean"], c=colors, s=14, cmap="viridis", zorder=3)
        if hue:
            ax.figure.colorbar(art, ax=ax, label=hue)
        ax.set_title("design points: mean ± sd over replicates", fontsize=9, loc="left")
        return
    use_hue = hue if hue and runs[hue].nunique() <= MAX_HUES else None
    table = spread(runs, metric, x, use_hue)
    groups = table.groupby(use_hue) if use_hue else [(None, table)]
    for k, (level, part) in enumerate(groups):
        label = value_label(level) if use_hue else "mean"
        ax.plot(part[x], part["mean"], "o-", color=f"C{k}", label=label, ms=4)
        ax.fill_between(
            part[x],
            part["mean"] - part["std"].fillna(0),
            part["mean"] + part["std"].fillna(0),
            color=f"C{k}",
            alpha=0.15,
            lw=0,
        )
        dots = runs if level is None else runs[runs[use_hue] == level]
        ax.scatter(dots[x], dots[metric], color=f"C{k}", s=5, alpha=0.35, lw=0)
    ax.legend(fontsize=7, title=use_hue, title_fontsize=7)
    ax.set_title("mean ± sd over replicates (dots: runs)", fontsize=9, loc="left")


def figure(
    runs: pd.DataFrame,
    metric: str,
    x: str,
    y: str | None,
    sampled: bool,
    path: Path,
    title: str = "",
) -> Path:
    """One PNG: ``metric`` against ``x`` (lines per ``y``), and the (x, y) heatmap beside it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2 if y else 1, figsize=(11 if y else 6, 4.2), squeeze=False)
    ax = axes[0, 0]
    _draw_lines(ax, runs, metric, x, y, sampled)
    ax.set_xlabel(x)
    ax.set_ylabel(metric)
    if pd.api.types.is_bool_dtype(runs[x]):
        ax.set_xticks([0, 1], [value_label(False), value_label(True)])
    if y:
        table = heatmap(runs, metric, x, y, sampled)
        hm = axes[0, 1]
        image = hm.imshow(
            table.to_numpy(dtype=float), origin="lower", aspect="auto", cmap="viridis"
        )
        hm.set_xticks(range(table.shape[1]), [value_label(v) for v in table.columns], fontsize=8)
        hm.set_yticks(range(table.shape[0]), [value_label(v) for v in table.index], fontsize=8)
        hm.set_xlabel(x)
        hm.set_ylabel(y)
        hm.set_title(f"mean of {metric}", fontsize=9, loc="left")
        fig.colorbar(image, ax=hm)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    atomic_write(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)
    return path


def standard_figures(
    out: str | Path, metrics: list[str] | None = None, x: str | None = None, y: str | None = None
) -> list[Path]:
    """``DIR/figures/<metric>.png`` for each kept metric (or those given)."""
    out = Path(out)
    manifest = read_manifest(out)
    params = manifest["parameters"]
    metrics = metrics or manifest["metrics"]
    x = x or params[0]
    y = y if y else next((p for p in params if p != x), None)
    _check_names(manifest, metrics, x, y, out)
    runs = load_runs(out)
    if runs.empty:
        raise UsageError(f"{out}: no finished runs yet; run `trustsim sweep` first")
    sampled = manifest["method"] != "grid"
    done = (
        f"{len(runs)} of {manifest['runs']} runs"
        if len(runs) < manifest["runs"]
        else f"{len(runs)} runs"
    )
    title = f"{Path(manifest['experiment_file']).stem}: {done}"
    return [figure(runs, m, x, y, sampled, out / "figures" / f"{m}.png", title) for m in metrics]
