"""Live plots of the classroom: the metric panels the issue names, plus the lesson's own."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from trustsim.classroom.text import metric_label, text
from trustsim.metrics import COUNTERS

# (title key in locale.toml, metrics from trustsim.metrics) for each standard panel.
PANELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("panel_trust", ("mean_instrumental_trust", "mean_emotional_trust", "mean_trust")),
    ("panel_insiders", ("insider_share",)),
    ("panel_events", ("trades", "failures", "complaints", "forgiven")),
    ("panel_wom", ("wom_positive", "wom_negative", "referrals")),
)


def panels(extra: list[str] | tuple[str, ...] = ()) -> list[tuple[str, tuple[str, ...]]]:
    """The standard panels, plus one for a lesson's own metrics when it names any."""
    return list(PANELS) + ([("panel_lesson", tuple(extra))] if extra else [])


def plotted_metrics(extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    return [m for _, names in panels(extra) for m in names]


def draw_plots(
    fig: Figure, frame: pd.DataFrame, lang: str, extra: list[str] | tuple[str, ...] = ()
) -> None:
    """One small panel per group of metrics against the step (``frame``: one row per step)."""
    fig.clear()
    groups = panels(extra)
    cols = 2 if len(groups) <= 4 else 3
    rows = -(-len(groups) // cols)
    # the Mesa model's DataCollector has a step column (from step 0); a simulate() table too
    steps = frame["step"] if "step" in frame else range(1, len(frame) + 1)
    for i, (title, names) in enumerate(groups):
        ax = fig.add_subplot(rows, cols, i + 1)
        counts = [n for n in names if n in COUNTERS]
        levels = [n for n in names if n not in COUNTERS]
        # Counts and shares on one panel: shares get their own (right) axis, dashed.
        level_ax = ax.twinx() if counts and levels else ax
        lines = []
        for j, name in enumerate(names):
            target, style = (level_ax, "--") if name in levels and level_ax is not ax else (ax, "-")
            lines += target.plot(
                steps,
                frame[name].to_numpy() if len(frame) else [],
                style,
                color=f"C{j}",
                label=metric_label(name, lang),
                linewidth=1.4,
            )
        if level_ax is not ax:
            level_ax.tick_params(labelsize=7)
        ax.set_title(text(lang, title), fontsize=10)
        if i >= len(groups) - cols:
            ax.set_xlabel(text(lang, "step_axis"), fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_xlim(0, max(len(frame), 10))
        ax.legend(handles=lines, fontsize=7, loc="best", frameon=False)
        ax.grid(alpha=0.3)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.1, top=0.93, wspace=0.22, hspace=0.42)
