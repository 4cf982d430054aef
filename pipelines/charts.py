"""Report figures drawn from already-aggregated tidy frames.

Every function takes one row per plotted quantity (estimates and interval bounds computed
elsewhere, design-aware) and never aggregates or bootstraps itself: a duplicated key raises.
Each returns a :class:`pipelines.render.Figure` with an SVG (inlined in the HTML and drawn as
vector graphics in the PDF, its text kept as text), the value-axis tick labels as shown, a caption
that says what the figure shows and alt text that reads the key numbers out in the report
language.

Phone first: figures are drawn 5 in (360 pt) wide with text of at least 12.5 pt, and the HTML
shows the SVG at most that wide, so on a 390 px phone (358 px of content) every letter is
at least 12 px tall. Row labels sit above their bars or dots, using the whole width, instead of
in a left margin. Value axes run over the scale's real range when ``value_range`` is given; an
axis cut to the data is said in the caption. Tick labels are evenly spaced and printed with as
many decimals as make them exact and distinct ("3,95", never "4,0" at 3.95).

Figures are built with matplotlib's object-oriented API on an explicit Agg canvas, so they never
touch pyplot's global figure registry and importing this module does not change the backend of a
notebook kernel.

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
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure as MplFigure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import Formatter, MaxNLocator

from pipelines.i18n import fmt_number, fmt_percent, t
from pipelines.render import FIGURE_DPI, Figure

WIDTH_IN = 5.0  # 360 pt: shown at most 480 px wide, 358 px on a 390 px phone
DPI = FIGURE_DPI  # pixels per inch the report layout assumes (the SVG itself is in points)
FONT_PT = 13.0
SMALL_PT = 12.5  # the smallest text in any figure: 12.4 px at 358 px wide
LINE_IN = FONT_PT * 1.25 / 72
MARK_IN = 0.30  # height of one row's bar or dot
GAP_IN = 0.14  # space between rows
LABEL_CHARS = 42  # wrap width of row labels at FONT_PT across the figure
# Okabe & Ito (2008) colour-blind-safe colours with at least 3:1 contrast on white (WCAG 1.4.11);
# their orange, sky blue and yellow (2.3:1 and less) are left out
OKABE_ITO = (
    "#0072B2",  # blue 5.2:1
    "#D55E00",  # vermillion 3.9:1
    "#009E73",  # bluish green 3.4:1
    "#CC79A7",  # reddish purple 3.1:1
    "#000000",  # black
)
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES = ("-", "--", "-.", ":")
NEUTRAL_GREY = "#BDBDBD"
EDGE = "#333333"  # outline of light fills, so every bar keeps 3:1 against white
TEXT_MUTED = "#555555"  # 7.5:1 on white
MAX_ALT_ITEMS = 20

_RC = {
    "font.family": "DejaVu Sans",
    "font.size": FONT_PT,
    "axes.labelsize": FONT_PT,
    "xtick.labelsize": FONT_PT,
    "ytick.labelsize": FONT_PT,
    "legend.fontsize": SMALL_PT,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#555555",
    "axes.labelcolor": "#222222",
    "xtick.color": "#333333",
    "ytick.color": "#333333",
    "legend.frameon": False,
    "axes.unicode_minus": True,
    "svg.fonttype": "none",  # text stays text: sharp, searchable, measured by the browser test
    "svg.hashsalt": "dampak",  # stable ids (render prefixes them per figure)
}


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def _new_figure(height_in: float, constrained: bool = False) -> MplFigure:
    fig = MplFigure(
        figsize=(WIDTH_IN, max(1.6, height_in)),
        dpi=DPI,
        layout="constrained" if constrained else None,
    )
    FigureCanvasAgg(fig)
    fig.set_facecolor("white")
    return fig


def _to_svg(fig: MplFigure) -> str:
    """The figure as SVG with text as ``<text>``: the one drawing the HTML inlines and the PDF
    embeds as vector graphics (one draw, no raster twin)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return buf.getvalue()


def _render(fig: MplFigure, *axes: tuple[Axes, str]) -> tuple[str, tuple[str, ...]]:
    svg = _to_svg(fig)
    return svg, _shown_ticks(*axes)


def _shown_ticks(*axes: tuple[Axes, str]) -> tuple[str, ...]:
    """The value-axis tick labels inside the axis limits, as printed (for tests and alt text)."""
    out: list[str] = []
    for ax, which in axes:
        axis = ax.xaxis if which == "x" else ax.yaxis
        lo, hi = sorted(ax.get_xlim() if which == "x" else ax.get_ylim())
        for loc, label in zip(axis.get_majorticklocs(), axis.get_majorticklabels(), strict=False):
            if lo - 1e-9 <= loc <= hi + 1e-9 and label.get_text():
                out.append(label.get_text())
    return tuple(out)


def _wrap(text: Any, width: int = LABEL_CHARS) -> str:
    return "\n".join(textwrap.wrap(str(text), width)) or str(text)


def _label_with_value(label: Any, value: str) -> str:
    """A row label and its printed value: on the label's last line when it fits, else on a
    line of its own (a value is never split across lines)."""
    text = _wrap(label)
    last = text.rsplit("\n", 1)[-1]
    if len(last) + 2 + len(value) <= LABEL_CHARS:
        return f"{text}: {value}"
    return f"{text}:\n{value}"


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


def tick_decimals(locs: Sequence[float]) -> int:
    """The fewest decimals that print every tick exactly and every two ticks differently."""
    vals = [float(v) for v in locs if np.isfinite(v)]
    for d in range(0, 5):
        exact = all(math.isclose(v, round(v, d), abs_tol=1e-9 * max(1.0, abs(v))) for v in vals)
        if exact and len({round(v, d) for v in vals}) == len(vals):
            return d
    return 4


class LocaleTicks(Formatter):
    """Tick labels in the report language's number format, with one number of decimals for the
    whole axis (see :func:`tick_decimals`); ``absolute`` prints magnitudes (diverging bars)."""

    def __init__(self, lang: str, suffix: str = "", absolute: bool = False):
        self.lang, self.suffix, self.absolute = lang, suffix, absolute
        self.decimals = 1

    def set_locs(self, locs) -> None:
        super().set_locs(locs)
        self.decimals = tick_decimals(locs)

    def __call__(self, x: float, pos: Any = None) -> str:
        v = abs(x) if self.absolute else x
        if math.isclose(v, 0.0, abs_tol=1e-12):
            v = 0.0
        return fmt_number(v, self.lang, self.decimals) + self.suffix


def _value_axis(axis: Any, lang: str, suffix: str = "", absolute: bool = False) -> None:
    axis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
    axis.set_major_formatter(LocaleTicks(lang, suffix, absolute))


def _join_alt(intro: str, parts: list[str], lang: str) -> str:
    shown = parts[:MAX_ALT_ITEMS]
    text = intro + " " + "; ".join(shown)
    if len(parts) > len(shown):
        text += "; " + t("chart.more_items", lang, n=len(parts) - len(shown))
    return text.rstrip() + "."


def relative_luminance(colour: Any) -> float:
    """WCAG 2 relative luminance of a colour."""

    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(c) for c in to_rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: Any, b: Any) -> float:
    """WCAG 2 contrast ratio of two colours (1 to 21)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _text_colour(face: Any) -> str:
    """Black or white, whichever contrasts more with ``face``."""
    return "black" if contrast_ratio(face, "black") >= contrast_ratio(face, "white") else "white"


def _limits(values: list[float], value_range: tuple[float, float] | None, pad: float = 0.06):
    """Axis limits: the scale's range when given (a little padded, so end marks show), else the
    data's padded range. The second value says whether the axis was cut to the data."""
    if value_range is not None:
        lo, hi = float(value_range[0]), float(value_range[1])
        if not lo < hi:
            raise ValueError(f"value_range must be (low, high), got {value_range!r}")
        span = hi - lo
        return (lo - 0.02 * span, hi + 0.02 * span), False
    finite = [v for v in values if v is not None and np.isfinite(v)]
    if not finite:
        return (0.0, 1.0), False
    lo, hi = min(finite), max(finite)
    span = hi - lo or abs(hi) or 1.0
    return (lo - pad * span, hi + pad * span), True


def _diverging_palette(n_levels: int) -> list[Any]:
    """ColorBrewer BrBG (brown = disagree, teal = agree); grey for a neutral midpoint."""
    bins = np.linspace(0, 1, int(n_levels) + 2)[1:-1]
    colours = [tuple(c) for c in mpl.colormaps["BrBG"](bins)[:, :3]]
    if n_levels % 2 == 1:
        colours[n_levels // 2] = to_rgb(NEUTRAL_GREY)
    return colours


def _row_layout(labels: Sequence[str]) -> tuple[list[float], list[float], float]:
    """Vertical positions (inches from the axes' bottom) of each row's label top and mark, top
    row first, and the height the rows need: a label above each mark, across the full width."""
    y = 0.0
    label_top, mark_y = [], []
    for text in labels:
        lines = text.count("\n") + 1
        label_top.append(y)
        y += lines * LINE_IN + 0.04
        mark_y.append(y + MARK_IN / 2)
        y += MARK_IN + GAP_IN
    total = y - GAP_IN + 0.05
    return [total - v for v in label_top], [total - v for v in mark_y], total


def _rows_figure(total_in: float, bottom_in: float, top_in: float = 0.12):
    """A figure whose axes are exactly ``total_in`` tall (data y = inches), ``bottom_in`` below
    for the value axis and any legend; row labels start at the axes' left edge."""
    height = top_in + total_in + bottom_in
    fig = _new_figure(height)
    left, right = 0.045, 0.05
    ax = fig.add_axes((left, bottom_in / height, 1 - left - right, total_in / height))
    ax.set_ylim(0, total_in)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    return fig, ax


def _row_label(ax: Axes, y: float, text: str, **kw: Any) -> None:
    ax.text(
        0,
        y,
        text,
        transform=ax.get_yaxis_transform(),
        ha="left",
        va="top",
        fontsize=FONT_PT,
        color="#1b1b1b",
        linespacing=1.15,
        clip_on=False,
        **kw,
    )


def _band_lines(ax: Axes, mark_y: Sequence[float], ref: float | None) -> None:
    """Grid lines at the value ticks and the reference line, drawn only beside the marks, so
    they never run through the row labels (one artist each: cheap to draw)."""
    half = MARK_IN / 2 + 0.06
    lows = [y - half for y in mark_y]
    highs = [y + half for y in mark_y]
    lo, hi = sorted(ax.get_xlim())
    ticks = [x for x in ax.xaxis.get_major_locator()() if lo <= x <= hi]
    if ticks:
        xs = [x for x in ticks for _ in mark_y]
        ax.vlines(xs, lows * len(ticks), highs * len(ticks), color="#e5e5e5", lw=0.6, zorder=0.5)
    if ref is not None:
        ax.vlines([ref] * len(mark_y), lows, highs, color="#555555", linestyles="--", lw=1.1)


def _axis_bottom_in(xlabel: str, legend_rows: int = 0) -> float:
    """Room under the rows for tick labels, the axis title and legend rows."""
    lines = xlabel.count("\n") + 1 if xlabel else 0
    return 0.42 + lines * LINE_IN + (legend_rows * (LINE_IN + 0.06) + 0.1 if legend_rows else 0)


def _cut_note(cut: bool, lo: float, hi: float, lang: str, percent: bool) -> str:
    if not cut:
        return ""
    suffix = "%" if percent else ""
    d = tick_decimals([round(lo, 2), round(hi, 2)])
    return " " + t(
        "chart.axis_cut",
        lang,
        lo=fmt_number(lo, lang, d) + suffix,
        hi=fmt_number(hi, lang, d) + suffix,
    )


def _figure(drawn: tuple[str, tuple[str, ...]], title: str, alt: str, caption: str) -> Figure:
    svg, ticks = drawn
    return Figure(svg=svg, alt=alt, caption=caption, title=title, ticks=ticks)


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
    top-down in order of first appearance, each under its own full-width label; an item whose
    shares are all missing (or flagged in ``suppressed_col``) is shown as "suppressed
    (n < threshold)".
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
    wrapped = [_wrap(i) for i in items]
    label_top, mark_y, total = _row_layout(wrapped)
    xlabel = t("chart.percent_axis", lang)
    legend_cols = 2
    with mpl.rc_context(_RC):
        fig, ax = _rows_figure(total, _axis_bottom_in(xlabel, math.ceil(k / legend_cols)))
        extent = 0.0
        for item in items:
            shares = wide.loc[item]
            neu = shares[neutral] if neutral is not None else 0.0
            extent = max(
                extent,
                sum(shares[lv] for lv in disagree) + neu / 2,
                sum(shares[lv] for lv in agree) + neu / 2,
            )
        limit = max(10.0, math.ceil((extent + 2) / 10) * 10)
        pt_per_unit = (WIDTH_IN * 72 * 0.905) / (2 * limit)
        for row, item in enumerate(items):
            _row_label(ax, label_top[row], wrapped[row])
            y = mark_y[row]
            if supp_flag[item]:
                ax.text(
                    0,
                    y,
                    t("stat.suppressed", lang, k=threshold),
                    ha="center",
                    va="center",
                    style="italic",
                    color=TEXT_MUTED,
                    fontsize=SMALL_PT,
                )
                continue
            shares = wide.loc[item]
            neu = shares[neutral] if neutral is not None else 0.0
            left = -(sum(shares[lv] for lv in disagree) + neu / 2)
            for lv, colour in zip(levels, colours, strict=True):
                width = shares[lv]
                if width > 0:
                    ax.barh(
                        y,
                        width,
                        left=left,
                        color=colour,
                        edgecolor=EDGE,
                        linewidth=0.6,
                        height=MARK_IN,
                    )
                    if width * pt_per_unit >= 22:
                        ax.text(
                            left + width / 2,
                            y,
                            fmt_number(width, lang, 0),
                            ha="center",
                            va="center",
                            fontsize=SMALL_PT,
                            color=_text_colour(colour),
                        )
                left += width
        ax.set_xlim(-limit, limit)
        _value_axis(ax.xaxis, lang, "%", absolute=True)
        ax.vlines(
            [0] * len(mark_y),
            [y - MARK_IN / 2 - 0.06 for y in mark_y],
            [y + MARK_IN / 2 + 0.06 for y in mark_y],
            color="#333333",
            linewidth=0.8,
        )
        ax.set_xlabel(xlabel)
        handles = [
            Patch(facecolor=c, edgecolor=EDGE, linewidth=0.6, label=labels[lv])
            for lv, c in zip(levels, colours, strict=True)
        ]
        fig.legend(
            handles=handles,
            loc="lower left",
            bbox_to_anchor=(0.03, 0.01),
            ncol=legend_cols,
            handlelength=1.2,
            columnspacing=1.0,
        )
        drawn = _render(fig, (ax, "x"))

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
    alt = _join_alt(t("chart.alt_likert_intro", lang, title=title, n=len(items)), parts, lang)
    auto = t("chart.caption_likert", lang)
    return _figure(drawn, title, alt, caption or auto)


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


def _interval_text(est: Any, lo: Any, hi: Any, lang: str, percent: bool, decimals: int) -> str:
    """``"0,12 (0,02 s.d. 0,22)"``: the printed value beside a row's label."""
    text = _val(est, lang, percent, decimals)
    if pd.notna(lo) and pd.notna(hi):
        text += " (" + t(
            "chart.interval_short",
            lang,
            lo=_val(lo, lang, percent, decimals),
            hi=_val(hi, lang, percent, decimals),
        )
        text += ")"
    return text


def _styles(data: pd.DataFrame, style_col: str | None) -> tuple[list[Any], dict[Any, int]]:
    if not style_col:
        return [None], {None: 0}
    groups = list(pd.unique(data[style_col]))
    return groups, {g: i for i, g in enumerate(groups)}


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
    value_range: tuple[float, float] | None = None,
    style_col: str | None = None,
) -> Figure:
    """Dot + 95% interval per row (model coefficients, subgroup estimates), top-down in ``df``
    order, each under its label, with a dashed reference line at ``ref`` (None for none).

    ``value_range`` puts the axis on the scale's real range (in the estimates' units); without
    it the axis follows the data, and for levels (``ref=None``) the caption says it was cut.
    ``style_col`` names a column whose values (e.g. "library" / "city") get their own colour
    and marker shape, explained in a legend. Rows with a missing estimate or flagged in
    ``suppressed_col`` show "suppressed (n < threshold)" instead of a dot. With ``annotate``
    the formatted estimate and interval follow the label."""
    _require(df, [label_col, est_col, lo_col, hi_col, style_col])
    _require_unique(df, [label_col])
    data = df.reset_index(drop=True)
    supp = _is_suppressed(data, est_col, suppressed_col)
    scale = 100.0 if percent else 1.0
    groups, style_of = _styles(data, style_col)
    texts = []
    for i, row in data.iterrows():
        label = str(data.at[i, label_col])
        if annotate and not supp[i]:
            value = _interval_text(row[est_col], row[lo_col], row[hi_col], lang, percent, decimals)
            texts.append(_label_with_value(label, value))
        else:
            texts.append(_wrap(label))
    label_top, mark_y, total = _row_layout(texts)
    xlabel = _wrap(xlabel or t("chart.estimate_axis", lang), LABEL_CHARS + 4)
    legend_rows = len(groups) if style_col else 0
    shown = data[~supp]
    xs = [float(v) * scale for c in (est_col, lo_col, hi_col) for v in shown[c]]
    xs += [ref * scale] if ref is not None else []
    scaled_range = None if value_range is None else tuple(v * scale for v in value_range)
    (x0, x1), cut = _limits(xs, scaled_range)
    with mpl.rc_context(_RC):
        fig, ax = _rows_figure(total, _axis_bottom_in(xlabel, legend_rows))
        ax.set_xlim(x0, x1)
        _value_axis(ax.xaxis, lang, "%" if percent else "")
        _band_lines(ax, mark_y, None if ref is None else ref * scale)
        for i, row in data.iterrows():
            _row_label(ax, label_top[i], texts[i])
            y = mark_y[i]
            if supp[i]:
                ax.text(
                    0.02,
                    y,
                    t("stat.suppressed", lang, k=threshold),
                    transform=ax.get_yaxis_transform(),
                    va="center",
                    style="italic",
                    color=TEXT_MUTED,
                    fontsize=SMALL_PT,
                )
                continue
            s = style_of[data.at[i, style_col] if style_col else None]
            colour, marker = OKABE_ITO[s % len(OKABE_ITO)], MARKERS[s % len(MARKERS)]
            est = row[est_col] * scale
            lo, hi = row[lo_col] * scale, row[hi_col] * scale
            if pd.notna(lo) and pd.notna(hi):
                ax.errorbar(
                    est,
                    y,
                    xerr=[[max(est - lo, 0)], [max(hi - est, 0)]],
                    fmt=marker,
                    color=colour,
                    ecolor=colour,
                    elinewidth=2,
                    capsize=4,
                    markersize=8,
                )
            else:
                ax.plot(est, y, marker, color=colour, markersize=8)
        ax.set_xlabel(xlabel)
        if style_col:
            handles = [
                Line2D(
                    [],
                    [],
                    color=OKABE_ITO[j % len(OKABE_ITO)],
                    marker=MARKERS[j % len(MARKERS)],
                    linestyle="none",
                    markersize=8,
                    label=_wrap(g, LABEL_CHARS - 4),
                )
                for j, g in enumerate(groups)
            ]
            fig.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.03, 0.01), ncol=1)
        drawn = _render(fig, (ax, "x"))
    parts = _interval_parts(
        data, label_col, est_col, lo_col, hi_col, supp, lang, percent, decimals, threshold
    )
    if ref is None:
        intro = t("chart.alt_forest_intro_noref", lang, title=title, n=len(data))
    else:
        ref_s = _val(ref, lang, percent, decimals)
        intro = t("chart.alt_forest_intro", lang, title=title, n=len(data), ref=ref_s)
    auto = t("chart.caption_forest", lang)
    if ref is not None:
        auto += " " + t("chart.caption_ref", lang, ref=_val(ref, lang, percent, decimals))
    if ref is None:
        auto += _cut_note(cut, x0, x1, lang, percent)
    return _figure(drawn, title, _join_alt(intro, parts, lang), caption or auto)


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
    value_range: tuple[float, float] | None = None,
) -> Figure:
    """Lines across waves (one per group, each with its own colour, marker and dash style) with
    shaded 95% interval bands. ``x_col`` may be numeric or labels (kept in order of appearance,
    or category order). Missing/suppressed points break the line. The value axis spans
    ``value_range`` (the scale's real range; 0–100% for percentages by default); without one it
    follows the data and the caption says the axis is cut."""
    _require(df, [x_col, est_col, lo_col, hi_col, group_col])
    _require_unique(df, [x_col] + ([group_col] if group_col else []))
    data = df.reset_index(drop=True).copy()
    supp = _is_suppressed(data, est_col, suppressed_col)
    data.loc[supp, est_col] = np.nan
    scale = 100.0 if percent else 1.0
    if value_range is None and percent:
        value_range = (0.0, 1.0)

    if isinstance(data[x_col].dtype, pd.CategoricalDtype):
        order = [c for c in data[x_col].cat.categories if c in set(data[x_col])]
    elif pd.api.types.is_numeric_dtype(data[x_col]):
        order = sorted(data[x_col].dropna().unique())
    else:
        order = list(pd.unique(data[x_col]))
    pos = {x: i for i, x in enumerate(order)}
    groups = list(pd.unique(data[group_col])) if group_col else [None]
    ok = ~supp
    ys = [float(v) * scale for c in (est_col, lo_col, hi_col) if c for v in data.loc[ok, c]]
    scaled_range = None if value_range is None else tuple(v * scale for v in value_range)
    (y0, y1), cut = _limits(ys, scaled_range)

    with mpl.rc_context(_RC):
        fig = _new_figure(3.4 + (len(groups) * (LINE_IN + 0.06) if group_col else 0), True)
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
                good = ~np.isnan(y)
                ax.fill_between(
                    x,
                    np.where(good, lo, np.nan),
                    np.where(good, hi, np.nan),
                    color=colour,
                    alpha=0.18,
                    linewidth=0,
                )
            ax.plot(
                x,
                y,
                color=colour,
                marker=MARKERS[g_i % len(MARKERS)],
                linestyle=LINESTYLES[g_i % len(LINESTYLES)],
                linewidth=2,
                markersize=8,
                label=None if group is None else _wrap(group, LABEL_CHARS - 4),
            )
        ax.set_xticks(range(len(order)))
        ax.set_xticklabels([_wrap(o, 16) for o in order])
        ax.set_xlim(-0.3, len(order) - 0.7)
        ax.set_ylim(y0, y1)
        _value_axis(ax.yaxis, lang, "%" if percent else "")
        ax.set_xlabel(xlabel or t("chart.wave", lang))
        ax.set_ylabel(
            ylabel or (t("chart.percent_axis", lang) if percent else t("chart.estimate_axis", lang))
        )
        ax.grid(axis="y", color="#e5e5e5", linewidth=0.6)
        ax.set_axisbelow(True)
        if group_col:
            fig.legend(loc="outside lower left", ncol=1)
        drawn = _render(fig, (ax, "y"))

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
    auto = t("chart.caption_trend", lang) + _cut_note(cut, y0, y1, lang, percent)
    return _figure(drawn, title, _join_alt(intro, parts, lang), caption or auto)


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
    value_range: tuple[float, float] | None = None,
) -> Figure:
    """Horizontal bars from zero with 95% error bars, top-down in ``df`` order (or largest
    first with ``sort``), each under its label. With ``percent`` (default) estimates are
    proportions shown as percentages on a 0–100% axis (unless ``value_range`` says otherwise).
    Suppressed rows show "suppressed (n < threshold)" instead of a bar."""
    _require(df, [label_col, est_col, lo_col, hi_col])
    _require_unique(df, [label_col])
    data = df.reset_index(drop=True)
    if sort:
        data = data.sort_values(est_col, ascending=False, na_position="last").reset_index(drop=True)
    supp = _is_suppressed(data, est_col, suppressed_col)
    scale = 100.0 if percent else 1.0
    colour = color or OKABE_ITO[0]
    if value_range is None and percent:
        value_range = (0.0, 1.0)
    texts = []
    for i in range(len(data)):
        label = str(data.at[i, label_col])
        if annotate and not supp[i]:
            texts.append(
                _label_with_value(label, _val(data.at[i, est_col], lang, percent, decimals))
            )
        else:
            texts.append(_wrap(label))
    label_top, mark_y, total = _row_layout(texts)
    xlabel = _wrap(
        xlabel or (t("chart.percent_axis", lang) if percent else t("chart.estimate_axis", lang)),
        LABEL_CHARS + 4,
    )
    shown = data[~supp]
    vals = [0.0] + [float(v) * scale for c in (est_col, lo_col, hi_col) if c for v in shown[c]]
    scaled_range = None if value_range is None else tuple(v * scale for v in value_range)
    (x0, x1), _cut = _limits(vals, scaled_range)
    if value_range is None:
        x0 = min(0.0, x0)  # bars start at zero
    with mpl.rc_context(_RC):
        fig, ax = _rows_figure(total, _axis_bottom_in(xlabel))
        ax.set_xlim(x0, x1)
        _value_axis(ax.xaxis, lang, "%" if percent else "")
        _band_lines(ax, mark_y, None)
        for i, row in data.iterrows():
            _row_label(ax, label_top[i], texts[i])
            y = mark_y[i]
            if supp[i]:
                ax.text(
                    0.01,
                    y,
                    t("stat.suppressed", lang, k=threshold),
                    transform=ax.get_yaxis_transform(),
                    va="center",
                    style="italic",
                    color=TEXT_MUTED,
                    fontsize=SMALL_PT,
                )
                continue
            est = float(row[est_col]) * scale
            ax.barh(y, est, color=colour, edgecolor=EDGE, linewidth=0.6, height=MARK_IN)
            if lo_col and hi_col and pd.notna(row[lo_col]) and pd.notna(row[hi_col]):
                lo, hi = float(row[lo_col]) * scale, float(row[hi_col]) * scale
                ax.errorbar(
                    est,
                    y,
                    xerr=[[max(est - lo, 0)], [max(hi - est, 0)]],
                    fmt="none",
                    ecolor="#222222",
                    elinewidth=1.4,
                    capsize=4,
                )
        ax.set_xlabel(xlabel)
        drawn = _render(fig, (ax, "x"))
    parts = _interval_parts(
        data, label_col, est_col, lo_col, hi_col, supp, lang, percent, decimals, threshold
    )
    intro = t("chart.alt_bars_intro", lang, title=title, n=len(data))
    auto = t("chart.caption_bars" if lo_col and hi_col else "chart.caption_bars_plain", lang)
    return _figure(drawn, title, _join_alt(intro, parts, lang), caption or auto)
