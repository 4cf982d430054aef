"""One document model, two outputs: self-contained HTML (Jinja2) and PDF (fpdf2).

Build a :class:`Document` of :class:`Section` s whose blocks are plain-text paragraphs (``str``),
bullet lists (``list[str]``), :class:`Figure`, :class:`Table` and :class:`Callout`; then call
:func:`render_html` / :func:`render_pdf` (the report stage in :mod:`pipelines.steps` writes the
files). All text is treated as plain text: HTML output escapes it
(autoescape on) and the PDF never interprets markup, so nothing in survey answers can inject
code or formatting. The HTML has no scripts, no external resources (charts are inline SVG
checked for scripts and outside links, other images ``data:`` URIs, CSS is inline) and a
Content-Security-Policy that forbids both.

Phone first: tables become one card per row ("column: value") on narrow screens instead of
hiding columns in a scroll box; a document's ``notice`` (e.g. synthetic data) heads every HTML
page and every PDF page. The PDF prints no web links, keeps each heading on the page of what it
introduces, and lays out again with smaller charts when that saves a nearly empty last page.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import os
import re
import struct
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from pipelines.errors import DampakError
from pipelines.i18n import MISSING, fmt_int, fmt_number, languages, t

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FIGURE_DPI = 150  # pixels per inch of chart PNGs (pipelines.charts draws them at this density)
CALLOUT_KINDS = ("warning", "info", "note", "success")
WIDE_TABLE_COLUMNS = 5
VERY_WIDE_TABLE_COLUMNS = 9  # more columns than fit side by side even on a wide screen


def table_layout(n_columns: int) -> str:
    """How an HTML table reflows: cards on a phone ("stack"), cards until the screen is wide
    ("stack-wide"), or cards at every width ("stack-all") — never a hidden scroll box."""
    if n_columns > VERY_WIDE_TABLE_COLUMNS:
        return "stack-all"
    return "stack-wide" if n_columns > WIDE_TABLE_COLUMNS else "stack"


class RenderError(DampakError):
    """A document cannot be rendered (bad block, missing alt text, unsupported language …)."""


# ---------------------------------------------------------------------------------------------
# document model
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """A chart: an SVG drawing (inlined in the HTML, so it is drawn for the width it is shown
    at, and drawn as vector graphics in the PDF) or PNG bytes, alt text that states its key
    numbers in words, a title, a caption saying what the figure shows, and the value-axis tick
    labels as drawn."""

    png: bytes = b""
    alt: str = ""
    caption: str = ""
    svg: str = ""
    title: str = ""
    ticks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.alt, str) or not self.alt.strip():
            raise RenderError("Every figure needs alt text describing its key numbers.")
        if not self.png and not self.svg:
            raise RenderError("A figure needs an SVG drawing or PNG bytes.")


@dataclass(frozen=True)
class Table:
    """A table whose cells are already formatted strings (NaN is shown as "–")."""

    frame: pd.DataFrame
    caption: str = ""
    note: str = ""


@dataclass(frozen=True)
class Callout:
    """A highlighted box, e.g. an unreliable-scale warning. ``kind``: warning/info/note/success."""

    text: str
    kind: str = "warning"


@dataclass(frozen=True)
class Section:
    heading: str
    blocks: list = field(default_factory=list)


@dataclass(frozen=True)
class Document:
    title: str
    subtitle: str
    lang: str
    sections: list[Section]
    footer: str = ""
    links: Sequence[tuple[str, str]] = ()
    # shown on every page (HTML banner, PDF page header), e.g. "synthetic data, not real results"
    notice: str = ""


# ---------------------------------------------------------------------------------------------
# shared preparation
# ---------------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NUMERIC_CELL = re.compile(r"^[−+\-]?(Rp |IDR )?\d")


def _clean(text: Any) -> str:
    """Plain text without control characters (they break PDFs and confuse screen readers)."""
    s = str(text).replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return _CONTROL.sub("", s)


def _check_lang(lang: str) -> None:
    if lang not in languages():
        raise RenderError(f"Unsupported document language {lang!r}; use one of {languages()}.")


def _png_size(png: bytes) -> tuple[int, int]:
    if not isinstance(png, bytes | bytearray) or not png.startswith(PNG_SIGNATURE) or len(png) < 24:
        raise RenderError("Figure.png must be PNG bytes.")
    width, height = struct.unpack(">II", png[16:24])
    return width, height


_SVG_SIZE = re.compile(r'<svg\b[^>]*?\bwidth="([0-9.]+)pt"[^>]*?\bheight="([0-9.]+)pt"', re.S)


def _svg_size(svg: str) -> tuple[int, int]:
    """Pixel size of a chart's SVG at FIGURE_DPI, from its width and height in points."""
    found = _SVG_SIZE.search(svg) if isinstance(svg, str) else None
    if not found:
        raise RenderError("Figure.svg must be SVG markup with a width and height in pt.")
    return tuple(round(float(v) * FIGURE_DPI / 72) for v in found.groups())  # type: ignore[return-value]


def _safe_href(href: str) -> str:
    """Allow relative links, in-page anchors, http(s) and mailto; refuse script-ish schemes."""
    href = _clean(href).strip()
    scheme = urlsplit(href).scheme.lower()
    if scheme and scheme not in ("http", "https", "mailto"):
        raise RenderError(f"Refusing link with scheme {scheme!r}: {href!r}")
    return href


_SVG_PROLOG = re.compile(r"^\s*(<\?xml[^>]*\?>\s*)?(<!DOCTYPE[^>]*>\s*)?", re.S)
_SVG_UNSAFE = re.compile(
    r"<\s*(script|foreignObject|iframe|object|embed)\b|<[^>]*\son[a-z]+\s*=|javascript:"
    r"|(?:xlink:)?href\s*=\s*\"(?!#)",
    re.I,
)
_SVG_ID = re.compile(r'\bid="([^"]+)"')


def _inline_svg(svg: str, uid: str) -> Markup:
    """A chart's SVG ready to inline: no XML prolog, no fixed size (CSS sets it, the viewBox
    keeps the proportions), ids made unique on the page, hidden from screen readers (the
    figure's role="img" wrapper carries the alt text). Refuses anything script-like or linking
    outside the drawing, although the page's Content-Security-Policy would block it anyway."""
    if not isinstance(svg, str) or "<svg" not in svg:
        raise RenderError("Figure.svg must be SVG markup.")
    if _SVG_UNSAFE.search(svg):
        raise RenderError("Figure.svg contains script, event handlers or outside links.")
    body = _SVG_PROLOG.sub("", svg, count=1)
    body = re.sub(r"\s*<metadata>.*?</metadata>", "", body, count=1, flags=re.S)
    ids = set(_SVG_ID.findall(body))
    if ids:
        pattern = re.compile(r'(id="|url\(#|href="#)(' + "|".join(map(re.escape, ids)) + r")\b")
        body = pattern.sub(lambda m: f"{m.group(1)}{uid}-{m.group(2)}", body)
    start = body.index("<svg")
    end = body.index(">", start)
    root = re.sub(r'\s(width|height)="[^"]*"', "", body[start:end])
    root += ' class="chart" aria-hidden="true" focusable="false"'
    return Markup(body[:start] + root + body[end:])


def _cell_text(value: Any, lang: str) -> str:
    if value is None or (
        not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value)
    ):
        return MISSING
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return fmt_int(value, lang)
    if isinstance(value, float):
        return fmt_int(value, lang) if value.is_integer() else fmt_number(value, lang, 1)
    if hasattr(value, "dtype") and pd.api.types.is_number(value):  # numpy scalars
        return _cell_text(value.item(), lang)
    return _clean(value)


def table_cells(frame: pd.DataFrame, lang: str) -> tuple[list[str], list[list[str]], list[bool]]:
    """Header, body rows and a right-align flag per column for a :class:`Table` frame."""
    if not isinstance(frame, pd.DataFrame):
        raise RenderError("Table.frame must be a pandas DataFrame.")
    df = frame
    if not isinstance(df.index, pd.RangeIndex) or df.index.name is not None:
        df = df.reset_index()
    if isinstance(df.columns, pd.MultiIndex):
        head = [" – ".join(_clean(p) for p in col if str(p) != "") for col in df.columns]
    else:
        head = [_clean(c) for c in df.columns]
    rows = [[_cell_text(v, lang) for v in rec] for rec in df.itertuples(index=False, name=None)]
    numeric = []
    for j in range(len(head)):
        vals = [r[j] for r in rows if r[j] != MISSING]
        hits = sum(bool(_NUMERIC_CELL.match(v)) for v in vals)
        numeric.append(bool(vals) and hits >= 0.8 * len(vals))
    return head, rows, numeric


def _prepare(doc: Document) -> dict[str, Any]:
    _check_lang(doc.lang)
    lang = doc.lang
    fig_no = tab_no = 0
    sections = []
    for s_i, sec in enumerate(doc.sections, start=1):
        if not isinstance(sec, Section):
            raise RenderError(
                f"Document.sections[{s_i - 1}] is not a Section: {type(sec).__name__}"
            )
        blocks: list[dict[str, Any]] = []
        for block in sec.blocks:
            if isinstance(block, str):
                blocks.append({"kind": "p", "text": _clean(block)})
            elif isinstance(block, Figure):
                fig_no += 1
                w, h = _svg_size(block.svg) if block.svg else _png_size(block.png)
                uri = (
                    "data:image/png;base64," + base64.b64encode(block.png).decode("ascii")
                    if block.png
                    else ""
                )
                label = f"{t('chart.figure', lang)} {fig_no}"
                blocks.append(
                    {
                        "kind": "figure",
                        "src": uri,
                        "png": block.png,
                        "svg_source": block.svg,
                        "svg": _inline_svg(block.svg, f"f{fig_no}") if block.svg else "",
                        "width": w,
                        "height": h,
                        "alt": _clean(block.alt),
                        "title": _clean(block.title),
                        "caption": _clean(block.caption),
                        "label": label,
                        "id": f"f{fig_no}",
                    }
                )
            elif isinstance(block, Table):
                tab_no += 1
                head, rows, numeric = table_cells(block.frame, lang)
                blocks.append(
                    {
                        "kind": "table",
                        "head": head,
                        "rows": rows,
                        "numeric": numeric,
                        "caption": _clean(block.caption),
                        "note": _clean(block.note),
                        "label": f"{t('chart.table', lang)} {tab_no}",
                        # wide tables stack their rows (one card per row) on all but wide screens
                        "layout": table_layout(len(head)),
                    }
                )
            elif isinstance(block, Callout):
                kind = block.kind if block.kind in CALLOUT_KINDS else "info"
                blocks.append(
                    {
                        "kind": "callout",
                        "callout_kind": kind,
                        "label": t(f"callout.{kind}", lang),
                        "text": _clean(block.text),
                    }
                )
            elif isinstance(block, list | tuple) and all(isinstance(x, str) for x in block):
                blocks.append({"kind": "ul", "items": [_clean(x) for x in block]})
            else:
                raise RenderError(
                    f"Section {sec.heading!r}: unsupported block {type(block).__name__}; use str, "
                    "list[str], Figure, Table or Callout."
                )
        sections.append({"id": f"s{s_i}", "heading": _clean(sec.heading), "blocks": blocks})
    return {
        "lang": lang,
        "title": _clean(doc.title),
        "subtitle": _clean(doc.subtitle),
        "footer": _clean(doc.footer),
        "links": [(_clean(label), _safe_href(href)) for label, href in doc.links],
        "notice": _clean(doc.notice),
        "sections": sections,
    }


# ---------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------


@cache
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,  # every {{ value }} is HTML-escaped, whatever the template's extension
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["t"] = t
    return env


def render_html(doc: Document) -> str:
    """The document as one self-contained, script-free HTML page."""
    ctx = _prepare(doc)
    return _env().get_template("report.html.j2").render(**ctx, toc=len(ctx["sections"]) >= 3)


def render_index(
    title: str,
    lang: str,
    entries: Sequence[tuple[str, str]],
    intro: str = "",
    notice: str = "",
    *,
    headline: Sequence[str] = (),
    headline_title: str = "",
    groups: Sequence[tuple[str, Sequence[tuple[str, str]]]] = (),
) -> str:
    """An index page linking to reports: ``entries`` are ``(label, relative href)`` pairs;
    ``notice`` is shown at the top (e.g. that the data are synthetic); ``headline`` sentences
    come first, then each of ``groups`` as a heading over its links."""
    _check_lang(lang)

    def links(pairs):
        return [(_clean(label), _safe_href(href)) for label, href in pairs]

    return (
        _env()
        .get_template("index.html.j2")
        .render(
            lang=lang,
            title=_clean(title),
            intro=_clean(intro),
            notice=_clean(notice),
            entries=links(entries),
            headline=[_clean(x) for x in headline],
            headline_title=_clean(headline_title),
            groups=[(_clean(h), links(pairs)) for h, pairs in groups],
        )
    )


# ---------------------------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------------------------

FONT = "DejaVu"
BODY_PT = 10
LINE_MM = 5.0
FOOTER_PT = 7.5
MARGIN_MM = 18.0
PDF_FIGURE_SCALE = 0.7  # 13 pt chart text prints at about 9 pt, between table and body text
# a last page less full than this is laid out again with smaller charts, kept if a page goes
MIN_LAST_PAGE_FILL = 0.25
TIGHTER_FIGURE_SCALES = (0.6, 0.5)
_CALLOUT_COLOURS = {
    "warning": ((255, 244, 224), (143, 74, 0)),
    "info": ((232, 241, 251), (11, 83, 148)),
    "note": ((240, 240, 240), (90, 90, 90)),
    "success": ((230, 245, 238), (0, 112, 80)),
}


def _font_paths() -> dict[str, Path]:
    import matplotlib

    base = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    paths = {
        "": base / "DejaVuSans.ttf",
        "B": base / "DejaVuSans-Bold.ttf",
        "I": base / "DejaVuSans-Oblique.ttf",
        "BI": base / "DejaVuSans-BoldOblique.ttf",
    }
    missing = [str(p) for p in paths.values() if not p.exists()]
    if missing:
        raise RenderError(f"DejaVu Sans fonts not found (expected with matplotlib): {missing}")
    return paths


def _footer_line(pdf: Any, text: str, page_w: float) -> str:
    """The footer text as one line beside the page number, cut with "…" if too long (in the
    footer's font, which must be set)."""
    line = text.replace("\n", " ")
    room = pdf.epw - page_w - 4
    if line and pdf.get_string_width(line) > room:
        while line and pdf.get_string_width(line + "…") > room:
            line = line[:-1]
        line = line.rstrip() + "…"
    return line


def _footer_shown_whole(pdf: Any, text: str, lang: str) -> bool:
    """Whether every page's footer already prints ``text`` whole (then the PDF does not repeat
    it after the last section: a line alone on an extra page says nothing new)."""
    pdf.set_font(FONT, "", FOOTER_PT)
    page_w = pdf.get_string_width(t("render.page_of", lang, page=999, total=999)) + 2
    return "\n" not in text and _footer_line(pdf, text, page_w) == text


def _make_pdf(lang: str, footer_text: str, fonts: dict[str, Path], notice: str = ""):
    from fpdf import FPDF

    class ReportPDF(FPDF):
        def header(self) -> None:
            if not notice:
                return
            # the notice (e.g. synthetic data) on every page, above the text
            self.set_y(6)
            self.set_font(FONT, "B", 8)
            self.set_text_color(92, 51, 0)
            self.set_fill_color(255, 244, 224)
            _write_padded(self, notice, 4, self.epw, (1, 2, 1), align="C")
            self.set_y(max(self.get_y() + 2, MARGIN_MM))
            self.set_text_color(20, 20, 20)

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(FONT, "", FOOTER_PT)
            self.set_text_color(110, 110, 110)
            page = t("render.page_of", lang, page=self.page_no(), total="{nb}")
            page_w = self.get_string_width(page.replace("{nb}", "999")) + 2
            self.cell(self.epw - page_w, 5, _footer_line(self, footer_text, page_w), align="L")
            self.cell(page_w, 5, page, align="R")

        added: set[str] = set()

        def set_font(self, family=None, style="", size=0) -> None:
            # add a style on first use: fpdf2 embeds (and subsets) every added font, used or not
            if (family or self.font_family or "").lower() == FONT.lower():
                letters = getattr(style, "style", style).upper()
                key = "".join(sorted(letters.replace("U", "").replace("S", "")))
                if key in fonts and key not in self.added:
                    self.add_font(FONT, key, str(fonts[key]))
                    self.added = self.added | {key}
            super().set_font(family, style, size)

    pdf = ReportPDF(orientation="P", unit="mm", format="A4")
    pdf.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
    pdf.set_auto_page_break(True, margin=MARGIN_MM)
    return pdf


# The reduced fonts keep these code points (ranges inclusive): what the reports' languages,
# templates and Indonesian names use. Fewer glyphs make every embedding cheaper; a document
# with any other character DejaVu has is written with the full fonts (see _document_fonts).
REDUCED_RANGES = (
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x024F),  # Latin-1 Supplement, Latin Extended-A and -B
    (0x02B0, 0x02FF),  # spacing modifier letters
    (0x0300, 0x036F),  # combining diacritical marks
    (0x2000, 0x20CF),  # General Punctuation, superscripts and subscripts, currency
    (0x2116, 0x2116),  # numero sign
    (0x2122, 0x2122),  # trade mark sign
    (0x2190, 0x2199),  # simple arrows
    (0x2212, 0x2213),  # minus, minus-or-plus
    (0x2218, 0x221E),  # ring, bullet operators, square root, infinity
    (0x2248, 0x2248),  # almost equal
    (0x2260, 0x2265),  # not equal, less/greater than or equal
    (0x25A0, 0x25A1),  # black and white squares
    (0x25AA, 0x25AB),  # small squares
    (0x25B2, 0x25BC),  # triangles
    (0x25C6, 0x25CF),  # diamonds, circles
    (0x2713, 0x2717),  # check and ballot marks
    (0xFFFD, 0xFFFD),  # replacement character
)
# Tables fpdf2 drops when it embeds a font anyway (layout, colour, bitmaps) and never reads
# without text shaping (off here); decompiling GSUB/GPOS was most of the cost of each PDF.
_REDUCED_DROP = ("GSUB", "GPOS", "GDEF", "MATH", "FFTM", "kern", "hdmx", "meta", "BASE", "JSTF")
_REDUCED_SPEC = f"v1|{REDUCED_RANGES}|{_REDUCED_DROP}|cmap31"
_REDUCED: dict[tuple[Path, Path], tuple[Path, frozenset[int]] | None] = {}
_FULL_CMAPS: dict[Path, frozenset[int]] = {}


def font_cache_dir() -> Path:
    """Where reduced fonts are kept: $DAMPAK_CACHE_DIR/fonts, else the user's XDG cache."""
    own = os.environ.get("DAMPAK_CACHE_DIR")
    if own:
        return Path(own) / "fonts"
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "dampak" / "fonts"


def _reduced_font(path: Path) -> tuple[Path, frozenset[int]] | None:
    """The cached reduced copy of ``path`` and its code points; None (use the full font) when
    it cannot be built or read, e.g. a read-only cache folder."""
    key = (path, font_cache_dir())
    if key not in _REDUCED:
        try:
            _REDUCED[key] = _build_reduced(path, key[1])
        except Exception:  # noqa: BLE001 - any failure: the full font still works
            _REDUCED[key] = None
    return _REDUCED[key]


def _build_reduced(path: Path, cache_dir: Path) -> tuple[Path, frozenset[int]]:
    """The reduced copy of ``path`` in ``cache_dir``, built once per font file and fontTools
    version (both in its name), rebuilt if unreadable; and the code points it has."""
    from fontTools import version as fonttools_version

    data = path.read_bytes()
    digest = hashlib.sha256(data)
    digest.update(f"|{fonttools_version}|{_REDUCED_SPEC}".encode())
    target = cache_dir / f"{path.stem}-{digest.hexdigest()[:24]}.ttf"
    if target.exists():
        with contextlib.suppress(Exception):
            return target, _reduced_cmap(target)
    _write_reduced(data, path.stem, target)
    return target, _reduced_cmap(target)


_NEEDED_TABLES = {"head", "hhea", "maxp", "OS/2", "post", "name", "cmap", "hmtx", "loca", "glyf"}


def _reduced_cmap(target: Path) -> frozenset[int]:
    """The code points of a cached reduced font; raises if the file is damaged."""
    from fontTools import ttLib

    font = ttLib.TTFont(str(target), lazy=True)
    cmap = frozenset(font.getBestCmap() or ())
    if not cmap or not _NEEDED_TABLES.issubset(font.keys()):
        raise RenderError(f"Reduced font {target} is incomplete.")
    return cmap


def _write_reduced(data: bytes, stem: str, target: Path) -> None:
    """Subset the font to REDUCED_RANGES without layout tables; written to a temporary file and
    renamed, so concurrent workers never read half a font."""
    from fontTools import subset, ttLib

    target.parent.mkdir(parents=True, exist_ok=True)
    font = ttLib.TTFont(io.BytesIO(data), recalcTimestamp=False)
    options = subset.Options(
        notdef_outline=True,
        recommended_glyphs=True,
        glyph_names=True,
        name_IDs=["*"],
        name_languages=["*"],
        layout_features=[],
    )
    options.drop_tables += list(_REDUCED_DROP)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[u for lo, hi in REDUCED_RANGES for u in range(lo, hi + 1)])
    subsetter.subset(font)
    cmap = font["cmap"]
    # one Windows BMP subtable is all fpdf2 reads (and each one is decoded per embedding)
    bmp = [tb for tb in cmap.tables if (tb.platformID, tb.platEncID, tb.format) == (3, 1, 4)]
    if bmp:
        cmap.tables = bmp
    fd, tmp = tempfile.mkstemp(prefix=f".{stem}-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            font.save(fh)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _full_cmap(path: Path) -> frozenset[int]:
    """The code points the full font has (read only when a document needs more than Latin)."""
    if path not in _FULL_CMAPS:
        from fontTools import ttLib

        _FULL_CMAPS[path] = frozenset(ttLib.TTFont(str(path), lazy=True).getBestCmap() or ())
    return _FULL_CMAPS[path]


def _needs_full(chars: set[str], full: dict[str, Path], reduced: dict[str, frozenset[int]]) -> bool:
    """Whether some character is drawn by a full font but not by its reduced copy."""
    for style, path in full.items():
        outside = {ord(c) for c in chars if c >= " "} - reduced[style]
        if outside and outside & _full_cmap(path):
            return True
    return False


def _document_fonts(chars: set[str]) -> dict[str, Path]:
    """The font files for a document with these characters: the reduced copies (fast to
    embed) when they cover every character the full fonts can draw, else the full fonts."""
    full = _font_paths()
    found = {style: _reduced_font(path) for style, path in full.items()}
    if any(f is None for f in found.values()):
        return full
    cmaps = {style: f[1] for style, f in found.items() if f is not None}
    if _needs_full(chars, full, cmaps):
        return full
    return {style: f[0] for style, f in found.items() if f is not None}


def _strings(value: Any) -> Iterator[str]:
    """Every string in a prepared document (text drawn in the PDF, and a little more)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


# ---------------------------------------------------------------------------------------------
# Text lines. fpdf2's multi_cell re-measures the whole line at every character it adds
# (quadratic in line length) and its tables measure each cell two or three times: most of a
# report's PDF time. Lines are broken here once, with word widths from the font's own
# advance widths (what fpdf2 sums), and drawn as single-line cells.

_WORD_UNITS: dict[tuple[str, str], float] = {}
_WORD_CACHE_MAX = 200_000


def _units(font: Any, word: str) -> float:
    """Advance width of ``word`` in the font's units (1/1000 of the font size)."""
    key = (font.fontkey, word)
    units = _WORD_UNITS.get(key)
    if units is None:
        if len(_WORD_UNITS) > _WORD_CACHE_MAX:
            _WORD_UNITS.clear()
        cw = font.cw
        units = _WORD_UNITS[key] = float(sum(map(cw.__getitem__, map(ord, word))))
    return units


def _text_width(pdf: Any, text: str) -> float:
    """Width (mm) of ``text`` in the current font and size, as ``get_string_width`` gives."""
    return _units(pdf.current_font, text) * pdf.font_size_pt * 0.001 / pdf.k


def _wrap_lines(pdf: Any, text: str, width: float) -> list[str]:
    """``text`` broken into lines no wider than ``width`` mm in the current font: at spaces,
    at every newline, and a word longer than a line between characters (as multi_cell)."""
    font = pdf.current_font
    limit = width / (pdf.font_size_pt * 0.001 / pdf.k) + 1e-6
    space = font.cw[32]
    lines: list[str] = []
    for para in text.split("\n"):
        line: list[str] = []
        used = 0.0
        for word in para.split(" "):
            units = _units(font, word)
            if line and used + space + units > limit:
                lines.append(" ".join(line))
                line, used = [], 0.0
            if not line and units > limit:
                head, word, units = _split_long(font, word, limit)
                lines.extend(head)
            if line:
                used += space + units
            else:
                used = units
            line.append(word)
        lines.append(" ".join(line))
    return lines


def _split_long(font: Any, word: str, limit: float) -> tuple[list[str], str, float]:
    """A word wider than a line: the full lines it fills, and its rest with its width."""
    full: list[str] = []
    start, used = 0, 0.0
    for i, ch in enumerate(word):
        w = font.cw[ord(ch)]
        if used + w > limit and i > start:
            full.append(word[start:i])
            start, used = i, 0.0
        used += w
    return full, word[start:], used


def _text_height(pdf: Any, text: str, line_h: float, width: float = 0.0) -> float:
    """Height (mm) ``_write`` would take for ``text`` (``width`` 0: to the right margin)."""
    width = width or pdf.w - pdf.r_margin - pdf.get_x()
    return len(_wrap_lines(pdf, text, width - 2 * pdf.c_margin)) * line_h


def _write(pdf: Any, text: str, line_h: float, width: float = 0.0, **cell: Any) -> None:
    """Left-aligned ``text`` wrapped to ``width`` mm from the current position (0: to the right
    margin); a page break between lines keeps the left edge; ends at the left margin. ``cell``
    goes to every line's cell (``fill``, ``align``)."""
    x = pdf.get_x()
    width = width or pdf.w - pdf.r_margin - x
    for line in _wrap_lines(pdf, text, width - 2 * pdf.c_margin):
        pdf.set_x(x)
        pdf.cell(width, line_h, line, new_x="LEFT", new_y="NEXT", **{"align": "L", **cell})
    pdf.set_x(pdf.l_margin)


def _write_padded(
    pdf: Any, text: str, line_h: float, width: float, pad: tuple[float, float, float], **cell: Any
) -> None:
    """``_write`` in a filled box with ``pad`` = (top, sides, bottom) mm around the text."""
    top, side, bottom = pad
    x, margin = pdf.get_x(), pdf.c_margin
    if top:
        pdf.cell(width, top, "", fill=True, new_x="LEFT", new_y="NEXT")
    pdf.c_margin = side
    try:
        _write(pdf, text, line_h, width, fill=True, **cell)
    finally:
        pdf.c_margin = margin
    if bottom:
        pdf.set_x(x)
        pdf.cell(width, bottom, "", fill=True, new_x="LEFT", new_y="NEXT")
    pdf.set_x(pdf.l_margin)


def _ensure_space(pdf: Any, height: float) -> None:
    """Start a new page unless ``height`` mm still fit (keeps headings with what follows)."""
    if pdf.get_y() + height > pdf.page_break_trigger:
        pdf.add_page()


def _pdf_paragraph(pdf: Any, text: str) -> None:
    pdf.set_font(FONT, "", BODY_PT)
    pdf.set_text_color(20, 20, 20)
    _write(pdf, text, LINE_MM)
    pdf.ln(2)


def _pdf_bullets(pdf: Any, items: list[str]) -> None:
    pdf.set_font(FONT, "", BODY_PT)
    pdf.set_text_color(20, 20, 20)
    indent = 6.0
    for item in items:
        _ensure_space(pdf, LINE_MM)
        pdf.set_x(pdf.l_margin + 1.5)
        pdf.cell(indent - 1.5, LINE_MM, "•")
        _write(pdf, item, LINE_MM, pdf.epw - indent)
        pdf.ln(0.8)
    pdf.ln(1.5)


def _pdf_small(pdf: Any, text: str, style: str = "I", size: float = 8.5) -> None:
    pdf.set_font(FONT, style, size)
    pdf.set_text_color(80, 80, 80)
    _write(pdf, text, size * 0.45)
    pdf.set_text_color(20, 20, 20)


def _col_widths(
    pdf: Any, head: list[str], rows: list[list[str]], size: float, pad: float
) -> tuple[list[float], float]:
    """Natural column widths, squeezed towards each column's longest word if too wide."""
    sample = rows[:300]
    natural, minimum = [], []
    for j, h in enumerate(head):
        pdf.set_font(FONT, "B", size)
        nat = _text_width(pdf, h)
        mini = max((_text_width(pdf, w) for w in h.split()), default=0)
        pdf.set_font(FONT, "", size)
        for r in sample:
            cell = r[j]
            nat = max(nat, _text_width(pdf, cell))
            mini = max(mini, max((_text_width(pdf, w) for w in cell.split()), default=0))
        extra = 2 * pad + 1
        natural.append(min(nat, pdf.epw * 0.6) + extra)
        minimum.append(min(mini, pdf.epw * 0.35) + extra)
    total_nat = sum(natural)
    if total_nat <= pdf.epw:
        return natural, total_nat
    total_min = sum(minimum)
    if total_min >= pdf.epw:
        return minimum, pdf.epw  # long words will be broken by fpdf2
    spare = pdf.epw - total_min
    slack = [n - m for n, m in zip(natural, minimum, strict=True)]
    total_slack = sum(slack) or 1.0
    return [m + spare * s / total_slack for m, s in zip(minimum, slack, strict=True)], pdf.epw


def _row_height(pdf: Any, cells: list[str], widths: list[float], size: float, pad: float) -> float:
    """Height (mm) of one table row as fpdf2 will wrap it."""
    pdf.set_font(FONT, "B", size)  # bold is the wider face: a safe estimate for any row
    lines = max(len(_wrap_lines(pdf, c, w - 2 * pad)) for c, w in zip(cells, widths, strict=True))
    return lines * size * 0.47 + 2 * pad


def _table_row(pdf: Any, cells: list[str], widths: list[float], style: dict[str, Any]) -> None:
    """One table row drawn at the current position: cell borders, fill, wrapped text centred
    vertically, aligned per column (a new page, with the heading row, if it does not fit)."""
    pdf.set_font(FONT, style["font"], style["size"])
    wrapped = [
        _wrap_lines(pdf, c, w - 2 * style["pad"]) for c, w in zip(cells, widths, strict=True)
    ]
    line_h = style["line_h"]
    height = max(len(lines) for lines in wrapped) * line_h + 2 * style["pad"]
    if style.get("head") is not None and pdf.get_y() + height > pdf.page_break_trigger:
        pdf.add_page()
        _table_row(pdf, style["head"], widths, style["head_style"])
        pdf.set_font(FONT, style["font"], style["size"])
    x, y = pdf.l_margin, pdf.get_y()
    fill = style["fill"]
    if fill:
        pdf.set_fill_color(*fill)
    margin = pdf.c_margin
    pdf.c_margin = style["pad"]
    try:
        for lines, w, align in zip(wrapped, widths, style["aligns"], strict=True):
            pdf.rect(x, y, w, height, style="DF" if fill else "D")
            ty = y + (height - len(lines) * line_h) / 2
            for i, line in enumerate(lines):
                pdf.set_xy(x, ty + i * line_h)
                pdf.cell(w, line_h, line, align=align)
            x += w
    finally:
        pdf.c_margin = margin
    pdf.set_xy(pdf.l_margin, y + height)


def _pdf_table(pdf: Any, block: dict[str, Any]) -> None:
    head, rows = block["head"], block["rows"]
    size = 8.5 if len(head) <= 7 else 7.0
    pad = 1.2
    caption = f"{block['label']}. {block['caption']}" if block["caption"] else block["label"]
    widths, total = _col_widths(pdf, head, rows, size, pad)
    widths = [w * total / sum(widths) for w in widths]  # squeezed to the page when too wide
    aligns = ["R" if num else "L" for num in block["numeric"]]
    base = {"size": size, "pad": pad, "line_h": size * 0.47, "aligns": aligns}
    head_style = {**base, "font": "B", "fill": (232, 236, 240)}
    shaded = {**base, "font": "", "fill": (248, 249, 250), "head": head, "head_style": head_style}
    plain = {**shaded, "fill": None}
    pdf.set_font(FONT, "B", 9)
    caption_h = _text_height(pdf, caption, 4.6) + 1
    # the caption, the heading row and the first two rows stay together
    start = sum(_row_height(pdf, r, widths, size, pad) for r in [head, *rows[:2]])
    _ensure_space(pdf, caption_h + min(start, pdf.eph * 0.5))
    pdf.set_font(FONT, "B", 9)
    _write(pdf, caption, 4.6)
    pdf.ln(1)
    pdf.set_draw_color(190, 196, 204)
    _table_row(pdf, head, widths, head_style)
    for i, record in enumerate(rows):
        _table_row(pdf, record, widths, shaded if i % 2 == 0 else plain)
    pdf.set_fill_color(255, 255, 255)
    pdf.ln(1.5)
    if block["note"]:
        _pdf_small(pdf, block["note"])
    pdf.ln(2.5)


def _figure_size(pdf: Any, block: dict[str, Any]) -> tuple[float, float]:
    """Printed width and height (mm) of a chart: its text at about the body's size."""
    w_px, h_px = block["width"], block["height"]
    width = min(pdf.epw, w_px / FIGURE_DPI * 25.4 * getattr(pdf, "fig_scale", PDF_FIGURE_SCALE))
    height = width * h_px / w_px
    max_h = pdf.eph - 24
    if height > max_h:
        height = max_h
        width = height * w_px / h_px
    return width, height


def _figure_title(block: dict[str, Any]) -> str:
    return f"{block['label']}. {block['title']}" if block["title"] else f"{block['label']}."


_SVG_FONT_SIZE = re.compile(r"font-size: ?([0-9.]+)px")
_SVG_TEXT_NO_FILL = re.compile(r'(<text\b[^>]*?\bstyle=")(?![^"]*\bfill:)')


def _pdf_svg(svg: str) -> bytes:
    """A chart's SVG for fpdf2: text in the embedded font; sizes in the drawing's own units
    (a browser reads "13px" in a viewBox as 13 units, fpdf2 as 13 x 0.75)."""
    svg = svg.replace("'DejaVu Sans'", FONT).replace("DejaVu Sans", FONT)
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.S)
    svg = _SVG_TEXT_NO_FILL.sub(r"\1fill: #000000; ", svg)  # SVG's default, not fpdf2's
    return _SVG_FONT_SIZE.sub(r"font-size: \1", svg).encode("utf-8")


def _pdf_figure(pdf: Any, block: dict[str, Any]) -> None:
    width, height = _figure_size(pdf, block)
    pdf.set_font(FONT, "B", 9)
    title_h = _text_height(pdf, _figure_title(block), 4.6)
    _ensure_space(pdf, title_h + height + 10)
    pdf.set_text_color(20, 20, 20)
    _write(pdf, _figure_title(block), 4.6)
    pdf.ln(1)
    y = pdf.get_y()
    x = pdf.l_margin + (pdf.epw - width) / 2
    pdf.image(
        io.BytesIO(_pdf_svg(block["svg_source"]) if block["svg_source"] else block["png"]),
        x=x,
        y=y,
        w=width,
        h=height,
        alt_text=block["alt"],
        title=block["title"] or block["caption"] or block["label"],
    )
    pdf.set_y(y + height + 1.5)
    if block["caption"]:
        _pdf_small(pdf, block["caption"])
    pdf.ln(3)


def _opening_height(pdf: Any, blocks: list[dict[str, Any]]) -> float:
    """What must stay on a heading's page: its first block, and the next one too when the
    first is a short lead-in paragraph (a heading and one sentence alone at a page's foot say
    nothing); at most what a fresh page holds under the heading."""
    height = _block_height(pdf, blocks[0] if blocks else None)
    if len(blocks) > 1 and blocks[0]["kind"] == "p" and height <= 3 * LINE_MM:
        height += 2 + _block_height(pdf, blocks[1])
    return min(height, pdf.eph - 12)


def _block_height(pdf: Any, block: dict[str, Any] | None) -> float:
    """About how tall (mm) the start of a block is: what must fit under a heading."""
    if block is None:
        return 0.0
    kind = block["kind"]
    if kind == "figure":
        return _figure_size(pdf, block)[1] + 12
    if kind == "table":
        return 28.0
    pdf.set_font(FONT, "", BODY_PT)
    if kind == "p":
        text = block["text"]
    elif kind == "ul":
        text = block["items"][0] if block["items"] else ""
    else:
        text = block["text"]
        return min(_text_height(pdf, text, LINE_MM, pdf.epw - 6) + 12, 40.0)
    return min(_text_height(pdf, text, LINE_MM), 3 * LINE_MM)


def _pdf_callout(pdf: Any, block: dict[str, Any]) -> None:
    fill, bar = _CALLOUT_COLOURS[block["callout_kind"]]
    bar_w, pad = 1.6, 2.5
    inner_w = pdf.epw - bar_w
    pdf.set_font(FONT, "", BODY_PT)
    body_h = len(_wrap_lines(pdf, block["text"], inner_w - 2 * pad)) * LINE_MM + pad
    total_h = body_h + LINE_MM + pad
    if total_h < pdf.eph:
        _ensure_space(pdf, total_h + 2)
    y0, page0 = pdf.get_y(), pdf.page_no()
    pdf.set_fill_color(*fill)
    pdf.set_text_color(*bar)
    pdf.set_font(FONT, "B", BODY_PT)
    pdf.set_x(pdf.l_margin + bar_w)
    _write_padded(pdf, block["label"], LINE_MM, inner_w, (pad, pad, 0))
    pdf.set_text_color(20, 20, 20)
    pdf.set_font(FONT, "", BODY_PT)
    pdf.set_x(pdf.l_margin + bar_w)
    _write_padded(pdf, block["text"], LINE_MM, inner_w, (0, pad, pad))
    if pdf.page_no() == page0:
        pdf.set_fill_color(*bar)
        pdf.rect(pdf.l_margin, y0, bar_w, pdf.get_y() - y0, style="F")
    pdf.ln(3)


def render_pdf(doc: Document) -> bytes:
    """The document as PDF bytes (A4, DejaVu Sans, outline, page numbers, language metadata)."""
    ctx = _prepare(doc)
    chars = set("".join(_strings(ctx))) | set(t("render.page_of", ctx["lang"], page=0, total=0))
    fonts = _document_fonts(chars | set("•…0123456789"))
    pdf = _laid_out(ctx, fonts)
    full = _font_paths()
    if fonts != full:
        # safety net: text drawn but not walked above, missing from a reduced font (checked
        # before output(), which warns about missing glyphs; the last footer, drawn then, was
        # walked above)
        missing = {chr(u) for f in pdf.fonts.values() for u in getattr(f, "missing_glyphs", ())}
        if missing and _document_fonts(missing) == full:
            pdf = _laid_out(ctx, full)
    return bytes(pdf.output())


def _last_page_fill(pdf: Any) -> float:
    """How much of the last page's text area is used (0 to 1)."""
    return (pdf.get_y() - pdf.t_margin) / pdf.eph


def _laid_out(ctx: dict[str, Any], fonts: dict[str, Path]) -> Any:
    """The laid-out PDF; a nearly empty last page is avoided by smaller charts when that saves
    the page (otherwise the first layout is kept)."""
    pdf = _render_pdf(ctx, fonts)
    if pdf.page_no() < 2 or _last_page_fill(pdf) >= MIN_LAST_PAGE_FILL:
        return pdf
    for scale in TIGHTER_FIGURE_SCALES:
        tighter = _render_pdf(ctx, fonts, scale)
        if tighter.page_no() < pdf.page_no():
            return tighter
    return pdf


def _render_pdf(
    ctx: dict[str, Any], fonts: dict[str, Path], fig_scale: float = PDF_FIGURE_SCALE
) -> Any:
    """Lay the prepared document out on an ``FPDF`` with these font files (not yet output)."""
    lang = ctx["lang"]
    pdf = _make_pdf(lang, ctx["footer"], fonts, ctx["notice"])
    pdf.fig_scale = fig_scale
    pdf.set_lang(lang)
    pdf.set_title(ctx["title"])
    if ctx["subtitle"]:
        pdf.set_subject(ctx["subtitle"])
    pdf.set_creator("Dampak")
    pdf.set_display_mode(zoom="fullwidth")
    pdf.add_page()

    pdf.set_font(FONT, "B", 18)
    pdf.set_text_color(11, 83, 148)
    _write(pdf, ctx["title"], 8)
    if ctx["subtitle"]:
        pdf.ln(1)
        pdf.set_font(FONT, "", 11.5)
        pdf.set_text_color(85, 85, 85)
        _write(pdf, ctx["subtitle"], 6)
    # the HTML's links (other language, back to the index) are not printed: a PDF is read on
    # paper or forwarded alone, where a relative web link leads nowhere
    pdf.ln(2)
    pdf.set_draw_color(200, 205, 212)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + pdf.epw, pdf.get_y())
    pdf.ln(4)

    for sec in ctx["sections"]:
        _ensure_space(pdf, 7 + 1.5 + _opening_height(pdf, sec["blocks"]))
        pdf.start_section(sec["heading"], level=0)
        pdf.set_font(FONT, "B", 13.5)
        pdf.set_text_color(11, 83, 148)
        _write(pdf, sec["heading"], 7)
        pdf.set_text_color(20, 20, 20)
        pdf.ln(1.5)
        for block in sec["blocks"]:
            kind = block["kind"]
            if kind == "p":
                _pdf_paragraph(pdf, block["text"])
            elif kind == "ul":
                _pdf_bullets(pdf, block["items"])
            elif kind == "table":
                _pdf_table(pdf, block)
            elif kind == "figure":
                _pdf_figure(pdf, block)
            elif kind == "callout":
                _pdf_callout(pdf, block)
        pdf.ln(3)

    if ctx["footer"] and not _footer_shown_whole(pdf, ctx["footer"], lang):
        _ensure_space(pdf, 12)
        pdf.ln(2)
        _pdf_small(pdf, ctx["footer"], style="", size=8)
    return pdf
