"""Report figures drawn from already-aggregated tidy frames.

Every function takes one row per plotted quantity (estimates and interval bounds computed
elsewhere, design-aware) and never aggregates or bootstraps itself: a duplicated key raises.
Each returns a :class:`pipelines.render.Figure` with PNG bytes (7 in wide at 110 dpi) and alt
text that reads the key numbers out in the report language.

Figures are built with matplotlib's object-oriented API on an explicit Agg canvas, so they never
touch pyplot's global figure registry (nothing to leak, nothing to ``plt.close``) and importing
this module does not change the backend of a notebook kernel.

Percent conventions: ``percent=True`` means the estimate columns are proportions (0–1) and are
shown as percentages. ``likert_diverging`` accepts shares either as proportions or as percents
(detected from the per-item totals, which are ~1 or ~100).
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure as MplFigure
from matplotlib.image import imsave
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from pipelines.i18n import fmt_number, fmt_percent, t
from pipelines.render import Figure

WIDTH_IN = 7.0
DPI = 110
# Okabe & Ito (2008) colour-blind-safe categorical palette, ordered for contrast on white
OKABE_ITO = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#F0E442",  # yellow (last: weak contrast on white)
)
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES = ("-", "--", "-.", ":")
NEUTRAL_GREY = "#BDBDBD"
MAX_ALT_ITEMS = 20
LABEL_WRAP = 32

_RC = {
    "font.family": "DejaVu Sans",
    "font.size": 9.5,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#555555",
    "axes.labelcolor": "#222222",
    "xtick.color": "#333333",
    "ytick.color": "#333333",
    "legend.frameon": False,
    "axes.unicode_minus": True,
}


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def _new_figure(height_in: float) -> MplFigure:
    fig = MplFigure(figsize=(WIDTH_IN, max(2.2, height_in)), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _to_png(fig: MplFigure) -> bytes:
    """The figure as PNG: one draw (layout included) instead of savefig's layout pass plus draw;
    the same pixels. The figure is not registered with pyplot: it is freed with its last use."""
    fig.set_facecolor("white")
    fig.canvas.draw()
    buf = io.BytesIO()
    imsave(
        buf,
        fig.canvas.buffer_rgba(),
        format="png",
        origin="upper",
        dpi=DPI,
        metadata={"Software": None},
    )
    return buf.getvalue()


def _wrap(text: Any, width: int = LABEL_WRAP) -> str:
    return "\n".join(textwrap.wrap(str(text), width)) or str(text)


def _require(df: pd.DataFrame, cols: Sequence[str | None]) -> None:
    missing = [c for c in cols if c is not None and c not in df.columns]
    if missing:
        raise KeyError(f"chart data lacks columns {missing} (has {list(df.columns)})")


def _require_unique(df: pd.DataFrame, keys: Sequence[str]) -> None:
    if df.duplicated(list(keys)).any():
        raise ValueError(
            f"chart data must have one row per {tuple(keys)}: aggregate the estimates first "
            "(charts never summarise raw rows)."
        )


def _is_suppressed(df: pd.DataFrame, est_col: str, suppressed_col: str | None) -> pd.Series:
    flag = df[est_col].isna()
    if suppressed_col and suppressed_col in df.columns:
        flag = flag | df[suppressed_col].fillna(False).astype(bool)
    return flag


def _val(x: Any, lang: str, percent: bool, decimals: int) -> str:
    return fmt_percent(x, lang, decimals) if percent else fmt_number(x, lang, decimals)


def _tick_formatter(lang: str, suffix: str = "", absolute: bool = False) -> FuncFormatter:
    def fmt(v: float, _pos: Any) -> str:
        v = abs(v) if absolute else v
        decimals = 0 if math.isclose(v, round(v), abs_tol=1e-9) else 1
        return fmt_number(v, lang, decimals) + suffix

    return FuncFormatter(fmt)


def _join_alt(intro: str, parts: list[str], lang: str) -> str:
    shown = parts[:MAX_ALT_ITEMS]
    text = intro + " " + "; ".join(shown)
    if len(parts) > len(shown):
        text += "; " + t("chart.more_items", lang, n=len(parts) - len(shown))
    return text.rstrip() + "."


def _text_colour(face: Any) -> str:
    r, g, b = to_rgb(face)
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "black" if luminance > 0.5 else "white"


def _pad_limits(values: list[float], pad: float = 0.06) -> tuple[float, float]:
    finite = [v for v in values if v is not None and np.isfinite(v)]
    if not finite:
        return (0.0, 1.0)
    lo, hi = min(finite), max(finite)
    span = hi - lo or abs(hi) or 1.0
    return lo - pad * span, hi + pad * span


def _diverging_palette(n_levels: int) -> list[Any]:
    """ColorBrewer BrBG (brown = disagree, teal = agree); grey for a neutral midpoint."""
    # as seaborn.color_palette("BrBG", n) (n evenly spaced inner points of the colormap),
    # without importing seaborn (2 s) in every report kernel
    bins = np.linspace(0, 1, int(n_levels) + 2)[1:-1]
    colours = [tuple(c) for c in mpl.colormaps["BrBG"](bins)[:, :3]]
    if n_levels % 2 == 1:
        colours[n_levels // 2] = to_rgb(NEUTRAL_GREY)
    return colours


# ---------------------------------------------------------------------------------------------
# Likert
# ---------------------------------------------------------------------------------------------


def likert_diverging(
    df: pd.DataFrame,
    item_col: str,
    level_col: str,
    pct_col: str,
    labels: Mapping[int, str],
    lang: str,
    title: str,
    *,
    caption: str = "",
    suppressed_col: str | None = "suppressed",
    threshold: int = 10,
) -> Figure:
    """Diverging stacked bars: disagree levels left of zero, agree right, neutral split at zero.

    ``df`` has one row per (item, level) with the share of respondents in ``pct_col``
    (proportions or percents). ``labels`` maps every level code, in scale order, to its
    translated label (e.g. ``{1: t("likert.strongly_disagree", lang), ...}``). Items are drawn
    top-down in order of first appearance; an item whose shares are all missing (or flagged in
    ``suppressed_col``) is shown as "suppressed (n < threshold)".
    """
    _require(df, [item_col, level_col, pct_col])
    _require_unique(df, [item_col, level_col])
    levels = sorted(labels)
    if len(levels) < 2:
        raise ValueError("a Likert chart needs at least two levels")
    unknown = set(df[level_col].dropna().unique()) - set(levels)
    if unknown:
        raise ValueError(f"levels {sorted(unknown)} have no label; drop or label them first")
    k = len(levels)
    half = k // 2
    disagree, agree = levels[:half], levels[k - half :]
    neutral = levels[half] if k % 2 else None

    items = list(pd.unique(df[item_col]))
    wide = df.pivot(index=item_col, columns=level_col, values=pct_col).reindex(
        index=items, columns=levels
    )
    wide = wide.astype(float)
    supp_flag = wide.isna().all(axis=1)
    if suppressed_col and suppressed_col in df.columns:
        flagged = df.groupby(item_col, sort=False)[suppressed_col].any().reindex(items)
        supp_flag = supp_flag | flagged.fillna(False).astype(bool)
    totals = wide[~supp_flag].sum(axis=1)
    factor = 100.0 if len(totals) and float(totals.median()) <= 1.5 else 1.0
    wide = wide.fillna(0.0) * factor

    colours = _diverging_palette(k)
    n_items = len(items)
    with mpl.rc_context(_RC):
        fig = _new_figure(1.5 + 0.5 * n_items + 0.35 * math.ceil(k / 3))
        ax = fig.add_subplot()
        extent = 0.0
        for row, item in enumerate(items):
            y = n_items - 1 - row
            if supp_flag[item]:
                ax.text(
                    0,
                    y,
                    t("stat.suppressed", lang, k=threshold),
                    ha="center",
                    va="center",
                    style="italic",
                    color="#555555",
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 2},
                )
                continue
            shares = wide.loc[item]
            neu = shares[neutral] if neutral is not None else 0.0
            left = -(sum(shares[lv] for lv in disagree) + neu / 2)
            extent = max(extent, -left, sum(shares[lv] for lv in agree) + neu / 2)
            for lv, colour in zip(levels, colours, strict=True):
                width = shares[lv]
                if width > 0:
                    ax.barh(y, width, left=left, color=colour, edgecolor="white", height=0.7)
                    if width >= 6:
                        ax.text(
                            left + width / 2,
                            y,
                            fmt_number(width, lang, 0),
                            ha="center",
                            va="center",
                            fontsize=8.5,
                            color=_text_colour(colour),
                        )
                left += width
        limit = max(10.0, math.ceil((extent + 2) / 10) * 10)
        ax.set_xlim(-limit, limit)
        ax.set_ylim(-0.6, n_items - 0.4)
        ax.axvline(0, color="#333333", linewidth=0.8)
        ax.set_yticks(range(n_items))
        ax.set_yticklabels([_wrap(i) for i in reversed(items)])
        ax.xaxis.set_major_formatter(_tick_formatter(lang, "%", absolute=True))
        ax.set_xlabel(t("chart.percent_axis", lang))
        fig.suptitle(_wrap(title, 62), fontweight="bold", fontsize="medium")
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        handles = [
            Patch(facecolor=c, edgecolor="#999999", label=_wrap(labels[lv], 20))
            for lv, c in zip(levels, colours, strict=True)
        ]
        fig.legend(handles=handles, loc="outside lower center", ncol=min(k, 5), fontsize=8.5)
        png = _to_png(fig)

    parts = []
    for item in items:
        if supp_flag[item]:
            parts.append(t("chart.alt_suppressed", lang, label=item, k=threshold))
            continue
        shares = wide.loc[item]
        agree_s = fmt_percent(sum(shares[lv] for lv in agree), lang, 0, scale=1)
        disagree_s = fmt_percent(sum(shares[lv] for lv in disagree), lang, 0, scale=1)
        if neutral is None:
            parts.append(
                t(
                    "chart.alt_likert_item_no_neutral",
                    lang,
                    item=item,
                    agree=agree_s,
                    disagree=disagree_s,
                )
            )
        else:
            neutral_s = fmt_percent(shares[neutral], lang, 0, scale=1)
            parts.append(
                t(
                    "chart.alt_likert_item",
                    lang,
                    item=item,
                    agree=agree_s,
                    neutral=neutral_s,
                    disagree=disagree_s,
                )
            )
    alt = _join_alt(t("chart.alt_likert_intro", lang, title=title, n=n_items), parts, lang)
    return Figure(png=png, alt=alt, caption=caption)


# ---------------------------------------------------------------------------------------------
# forest / dot-and-interval
# ---------------------------------------------------------------------------------------------


def _interval_parts(
    df: pd.DataFrame,
    label_col: str,
    est_col: str,
    lo_col: str | None,
    hi_col: str | None,
    suppressed: pd.Series,
    lang: str,
    percent: bool,
    decimals: int,
    threshold: int,
) -> list[str]:
    parts = []
    for idx in df.index:
        row = df.loc[idx]
        label = df.at[idx, label_col]  # .at keeps the label's own type (iterrows would upcast)
        if suppressed[idx]:
            parts.append(t("chart.alt_suppressed", lang, label=label, k=threshold))
            continue
        est = _val(row[est_col], lang, percent, decimals)
        lo = row[lo_col] if lo_col else np.nan
        hi = row[hi_col] if hi_col else np.nan
        if pd.isna(lo) or pd.isna(hi):
            parts.append(t("chart.alt_value", lang, label=label, est=est))
        else:
            parts.append(
                t(
                    "chart.alt_value_ci",
                    lang,
                    label=label,
                    est=est,
                    lo=_val(lo, lang, percent, decimals),
                    hi=_val(hi, lang, percent, decimals),
                )
            )
    return parts


def forest(
    df: pd.DataFrame,
    label_col: str,
    est_col: str,
    lo_col: str,
    hi_col: str,
    lang: str,
    title: str,
    ref: float | None = 0,
    xlabel: str | None = None,
    *,
    caption: str = "",
    percent: bool = False,
    decimals: int = 2,
    suppressed_col: str | None = "suppressed",
    threshold: int = 10,
    annotate: bool = True,
) -> Figure:
    """Dot + 95% interval per row (model coefficients, subgroup estimates), top-down in ``df``
    order, with a dashed reference line at ``ref`` (None for none). Rows with a missing estimate
    or flagged in ``suppressed_col`` show the text "suppressed (n < threshold)" instead of a dot.
    With ``annotate`` the formatted estimate and interval are printed at the right."""
    _require(df, [label_col, est_col, lo_col, hi_col])
    _require_unique(df, [label_col])
    data = df.reset_index(drop=True)
    supp = _is_suppressed(data, est_col, suppressed_col)
    scale = 100.0 if percent else 1.0
    n = len(data)
    with mpl.rc_context(_RC):
        fig = _new_figure(1.3 + 0.42 * n)
        ax = fig.add_subplot()
        shown = data[~supp]
        xs = (
            list(shown[est_col] * scale)
            + list(shown[lo_col] * scale)
            + list(shown[hi_col] * scale)
            + ([ref * scale] if ref is not None else [])
        )
        x0, x1 = _pad_limits([float(v) for v in xs])
        ax.set_xlim(x0, x1)
        if ref is not None:
            ax.axvline(ref * scale, color="#777777", linestyle="--", linewidth=1)
        for i, row in data.iterrows():
            y = n - 1 - i
            if supp[i]:
                ax.text(
                    0.02,
                    y,
                    t("stat.suppressed", lang, k=threshold),
                    transform=ax.get_yaxis_transform(),
                    va="center",
                    style="italic",
                    color="#555555",
                )
                continue
            est = row[est_col] * scale
            lo, hi = row[lo_col] * scale, row[hi_col] * scale
            if pd.notna(lo) and pd.notna(hi):
                ax.errorbar(
                    est,
                    y,
                    xerr=[[max(est - lo, 0)], [max(hi - est, 0)]],
                    fmt="o",
                    color=OKABE_ITO[0],
                    ecolor=OKABE_ITO[0],
                    elinewidth=1.6,
                    capsize=3,
                    markersize=6,
                )
            else:
                ax.plot(est, y, "o", color=OKABE_ITO[0], markersize=6)
            if annotate:
                text = _val(row[est_col], lang, percent, decimals)
                if pd.notna(lo) and pd.notna(hi):
                    text += " [" + _val(row[lo_col], lang, percent, decimals)
                    text += "; " + _val(row[hi_col], lang, percent, decimals) + "]"
                ax.text(
                    1.02,
                    y,
                    text,
                    transform=ax.get_yaxis_transform(),
                    va="center",
                    fontsize=8.5,
                    clip_on=False,
                )
        ax.set_ylim(-0.7, n - 0.3)
        ax.set_yticks(range(n))
        ax.set_yticklabels([_wrap(v) for v in reversed(list(data[label_col]))])
        ax.tick_params(axis="y", length=0)
        ax.xaxis.set_major_formatter(_tick_formatter(lang, "%" if percent else ""))
        ax.xaxis.set_major_locator(MaxNLocator(nbins=7))
        ax.set_xlabel(xlabel or t("chart.estimate_axis", lang))
        fig.suptitle(_wrap(title, 62), fontweight="bold", fontsize="medium")
        ax.grid(axis="x", color="#e5e5e5", linewidth=0.6)
        ax.set_axisbelow(True)
        png = _to_png(fig)
    parts = _interval_parts(
        data, label_col, est_col, lo_col, hi_col, supp, lang, percent, decimals, threshold
    )
    ref_s = _val(ref, lang, percent, decimals) if ref is not None else "–"
    intro = t("chart.alt_forest_intro", lang, title=title, n=n, ref=ref_s)
    return Figure(png=png, alt=_join_alt(intro, parts, lang), caption=caption)


# ---------------------------------------------------------------------------------------------
# trend across waves
# ---------------------------------------------------------------------------------------------


def trend(
    df: pd.DataFrame,
    x_col: str,
    est_col: str,
    lo_col: str | None,
    hi_col: str | None,
    group_col: str | None,
    lang: str,
    title: str,
    *,
    caption: str = "",
    ylabel: str | None = None,
    xlabel: str | None = None,
    percent: bool = False,
    decimals: int = 1,
    suppressed_col: str | None = "suppressed",
    threshold: int = 10,
) -> Figure:
    """Lines across waves (one per group, Okabe-Ito colours plus distinct markers and dash
    styles) with shaded 95% interval bands. ``x_col`` may be numeric or labels (kept in order of
    appearance, or category order). Missing/suppressed points break the line."""
    _require(df, [x_col, est_col, lo_col, hi_col, group_col])
    _require_unique(df, [x_col] + ([group_col] if group_col else []))
    data = df.reset_index(drop=True).copy()
    supp = _is_suppressed(data, est_col, suppressed_col)
    data.loc[supp, est_col] = np.nan
    scale = 100.0 if percent else 1.0

    if isinstance(data[x_col].dtype, pd.CategoricalDtype):
        order = [c for c in data[x_col].cat.categories if c in set(data[x_col])]
    elif pd.api.types.is_numeric_dtype(data[x_col]):
        order = sorted(data[x_col].dropna().unique())
    else:
        order = list(pd.unique(data[x_col]))
    pos = {x: i for i, x in enumerate(order)}
    groups = list(pd.unique(data[group_col])) if group_col else [None]

    with mpl.rc_context(_RC):
        fig = _new_figure(3.6 + (0.3 * math.ceil(len(groups) / 3) if group_col else 0))
        ax = fig.add_subplot()
        for g_i, group in enumerate(groups):
            sub = data if group is None else data[data[group_col] == group]
            sub = sub.assign(_pos=sub[x_col].map(pos)).sort_values("_pos")
            colour = OKABE_ITO[g_i % len(OKABE_ITO)]
            x = sub["_pos"].to_numpy(dtype=float)
            y = sub[est_col].to_numpy(dtype=float) * scale
            if lo_col and hi_col:
                lo = sub[lo_col].to_numpy(dtype=float) * scale
                hi = sub[hi_col].to_numpy(dtype=float) * scale
                ok = ~np.isnan(y)
                ax.fill_between(
                    x,
                    np.where(ok, lo, np.nan),
                    np.where(ok, hi, np.nan),
                    color=colour,
                    alpha=0.15,
                    linewidth=0,
                )
            ax.plot(
                x,
                y,
                color=colour,
                marker=MARKERS[g_i % len(MARKERS)],
                linestyle=LINESTYLES[g_i % len(LINESTYLES)],
                linewidth=2,
                markersize=6,
                label=None if group is None else _wrap(group, 24),
            )
        ax.set_xticks(range(len(order)))
        ax.set_xticklabels([_wrap(o, 14) for o in order])
        ax.set_xlim(-0.3, len(order) - 0.7)
        ax.yaxis.set_major_formatter(_tick_formatter(lang, "%" if percent else ""))
        ax.set_xlabel(xlabel or t("chart.wave", lang))
        ax.set_ylabel(
            ylabel or (t("chart.percent_axis", lang) if percent else t("chart.estimate_axis", lang))
        )
        fig.suptitle(_wrap(title, 62), fontweight="bold", fontsize="medium")
        ax.grid(axis="y", color="#e5e5e5", linewidth=0.6)
        ax.set_axisbelow(True)
        if group_col:
            fig.legend(loc="outside lower center", ncol=min(len(groups), 4), fontsize=8.5)
        png = _to_png(fig)

    parts = []
    for group in groups:
        sub = data if group is None else data[data[group_col] == group]
        sub = sub.assign(_pos=sub[x_col].map(pos)).sort_values("_pos")
        points = []
        for idx in sub.index:
            row = sub.loc[idx]
            x_label = sub.at[idx, x_col]
            if supp[idx]:
                points.append(t("chart.alt_suppressed", lang, label=x_label, k=threshold))
            elif lo_col and hi_col and pd.notna(row[lo_col]) and pd.notna(row[hi_col]):
                points.append(
                    t(
                        "chart.alt_point",
                        lang,
                        x=x_label,
                        est=_val(row[est_col], lang, percent, decimals),
                        lo=_val(row[lo_col], lang, percent, decimals),
                        hi=_val(row[hi_col], lang, percent, decimals),
                    )
                )
            else:
                points.append(
                    t(
                        "chart.alt_point_plain",
                        lang,
                        x=x_label,
                        est=_val(row[est_col], lang, percent, decimals),
                    )
                )
        joined = ", ".join(points)
        parts.append(
            joined
            if group is None
            else t("chart.alt_trend_group", lang, group=group, points=joined)
        )
    intro = t("chart.alt_trend_intro", lang, title=title)
    return Figure(png=png, alt=_join_alt(intro, parts, lang), caption=caption)


# ---------------------------------------------------------------------------------------------
# horizontal bars
# ---------------------------------------------------------------------------------------------


def bars(
    df: pd.DataFrame,
    label_col: str,
    est_col: str,
    lo_col: str | None = None,
    hi_col: str | None = None,
    lang: str = "id",
    title: str = "",
    *,
    caption: str = "",
    xlabel: str | None = None,
    percent: bool = True,
    decimals: int = 1,
    sort: bool = False,
    suppressed_col: str | None = "suppressed",
    threshold: int = 10,
    color: str | None = None,
    annotate: bool = True,
) -> Figure:
    """Horizontal bars with 95% error bars, top-down in ``df`` order (or largest first with
    ``sort``). With ``percent`` (default) estimates are proportions shown as percentages.
    Suppressed rows show "suppressed (n < threshold)" instead of a bar."""
    _require(df, [label_col, est_col, lo_col, hi_col])
    _require_unique(df, [label_col])
    data = df.reset_index(drop=True)
    if sort:
        data = data.sort_values(est_col, ascending=False, na_position="last").reset_index(drop=True)
    supp = _is_suppressed(data, est_col, suppressed_col)
    scale = 100.0 if percent else 1.0
    n = len(data)
    colour = color or OKABE_ITO[0]
    with mpl.rc_context(_RC):
        fig = _new_figure(1.3 + 0.42 * n)
        ax = fig.add_subplot()
        shown = data[~supp]
        vals = [0.0] + [float(v) * scale for v in shown[est_col]]
        if hi_col:
            vals += [float(v) * scale for v in shown[hi_col] if pd.notna(v)]
        if lo_col:
            vals += [float(v) * scale for v in shown[lo_col] if pd.notna(v)]
        lo_lim, hi_lim = min(vals), max(vals)
        span = (hi_lim - lo_lim) or 1.0
        ax.set_xlim(lo_lim - (0.05 * span if lo_lim < 0 else 0), hi_lim + 0.22 * span)
        for i, row in data.iterrows():
            y = n - 1 - i
            if supp[i]:
                ax.text(
                    0.01,
                    y,
                    t("stat.suppressed", lang, k=threshold),
                    transform=ax.get_yaxis_transform(),
                    va="center",
                    style="italic",
                    color="#555555",
                )
                continue
            est = float(row[est_col]) * scale
            ax.barh(y, est, color=colour, height=0.65)
            right = est
            if lo_col and hi_col and pd.notna(row[lo_col]) and pd.notna(row[hi_col]):
                lo, hi = float(row[lo_col]) * scale, float(row[hi_col]) * scale
                ax.errorbar(
                    est,
                    y,
                    xerr=[[max(est - lo, 0)], [max(hi - est, 0)]],
                    fmt="none",
                    ecolor="#222222",
                    elinewidth=1.2,
                    capsize=3,
                )
                right = max(est, hi)
            if annotate:
                ax.text(
                    right + 0.015 * span,
                    y,
                    _val(row[est_col], lang, percent, decimals),
                    va="center",
                    fontsize=8.5,
                )
        ax.set_ylim(-0.6, n - 0.4)
        ax.set_yticks(range(n))
        ax.set_yticklabels([_wrap(v) for v in reversed(list(data[label_col]))])
        ax.tick_params(axis="y", length=0)
        ax.xaxis.set_major_formatter(_tick_formatter(lang, "%" if percent else ""))
        ax.set_xlabel(
            xlabel or (t("chart.percent_axis", lang) if percent else t("chart.estimate_axis", lang))
        )
        fig.suptitle(_wrap(title, 62), fontweight="bold", fontsize="medium")
        ax.grid(axis="x", color="#e5e5e5", linewidth=0.6)
        ax.set_axisbelow(True)
        png = _to_png(fig)
    parts = _interval_parts(
        data, label_col, est_col, lo_col, hi_col, supp, lang, percent, decimals, threshold
    )
    intro = t("chart.alt_bars_intro", lang, title=title, n=n)
    return Figure(png=png, alt=_join_alt(intro, parts, lang), caption=caption)
