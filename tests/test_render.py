import html
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pypdf
import pytest

from pipelines import charts, render
from pipelines.render import (
    Callout,
    Document,
    Figure,
    RenderError,
    Section,
    Table,
    render_html,
    render_index,
    render_pdf,
)

SCRIPT = "<script>alert(1)</script>"


class Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> Collector:
    parser = Collector()
    parser.feed(html)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def figure() -> Figure:
    df = pd.DataFrame(
        {
            "label": ["Internet", "Buku", "Pelatihan"],
            "est": [0.55, 0.32, 0.12],
            "lo": [0.50, 0.28, 0.08],
            "hi": [0.60, 0.36, 0.16],
        }
    )
    return charts.bars(
        df, "label", "est", "lo", "hi", "id", "Layanan yang dipakai", caption="Sumber: survei 2024"
    )


def make_doc(figure: Figure, lang: str = "id", rows: int = 4) -> Document:
    table = pd.DataFrame(
        {
            "Kelompok": ["Perempuan", "Laki-laki"] * (rows // 2),
            "n": ["1.234", "987"] * (rows // 2),
            "Persentase": ["12,3%", "45,6%"] * (rows // 2),
            "IK 95%": ["10,1–14,5", "40,0–50,2"] * (rows // 2),
        }
    )
    return Document(
        title="Laporan dampak TPBIS — Kabupaten Contoh",
        subtitle="Gelombang 2024; perpustakaan desa ≥ 10 km dari kota",
        lang=lang,
        sections=[
            Section(
                "Ringkasan eksekutif",
                [
                    "Pengunjung perempuan lebih sering memakai layanan internet (± 5 poin).",
                    SCRIPT,
                    ["Butir pertama: keterampilan digital", "Butir kedua: akses informasi"],
                    Callout("Skala kepercayaan diri kurang andal (alfa = 0,52)."),
                ],
            ),
            Section(
                "Partisipasi",
                [figure, Table(table, caption="Partisipasi", note="Catatan: dibobot")],
            ),
            Section(
                "Lampiran metode",
                ["Survei memakai desain klaster bertahap.", Callout("Info", "info")],
            ),
        ],
        footer="Dibuat otomatis oleh Dampak",
        links=[("English version", "laporan_en.html")],
    )


# ---------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------


def test_html_is_self_contained_accessible_and_escaped(figure):
    html = render_html(make_doc(figure))
    parsed = parse(html)
    tags = [tag for tag, _ in parsed.tags]
    assert tags.count("html") == 1
    assert dict(parsed.tags[tags.index("html")][1])["lang"] == "id"
    assert "script" not in tags
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert SCRIPT in "".join(parsed.text)  # shown as text
    assert 'src="http' not in html and 'href="http' not in html and "<link" not in html
    # the only url() are the inline charts' references to their own clip paths
    assert not re.findall(r"url\((?!#f\d+-)", html)
    assert "@import" not in html and "@font-face" not in html
    metas = [a for t, a in parsed.tags if t == "meta"]
    assert {"name": "viewport", "content": "width=device-width, initial-scale=1"} in metas
    assert not [a for t, a in parsed.tags if t == "img"]  # charts are inline SVG, not images
    charts_ = [a for t, a in parsed.tags if t == "div" and a.get("role") == "img"]
    assert len(charts_) == 1 and "55,0%" in charts_[0]["aria-label"]
    svgs = [a for t, a in parsed.tags if t == "svg"]
    assert svgs == [{**svgs[0], "class": "chart", "aria-hidden": "true"}]
    assert "width" not in svgs[0] and "height" not in svgs[0] and "viewbox" in svgs[0]
    assert "@media print" in html and "max-width: 100%" in html
    text = "".join(parsed.text)
    for heading in ("Ringkasan eksekutif", "Partisipasi", "Lampiran metode", "Perhatian"):
        assert heading in text
    assert "12,3%" in text and "≥" in text
    assert ("a", {"href": "laporan_en.html"}) in parsed.tags


def test_html_table_markup(figure):
    parsed = parse(render_html(make_doc(figure)))
    ths = [a for t, a in parsed.tags if t == "th"]
    assert {"scope": "col"} in ths and {"scope": "row"} in ths
    wraps = [a for t, a in parsed.tags if t == "div" and "table-wrap" in a.get("class", "")]
    assert wraps and wraps[0]["class"] == "table-wrap stack"
    # each body cell names its column, so a phone can show rows as "column: value" cards
    tds = [a for t, a in parsed.tags if t == "td"]
    assert {a["data-label"] for a in tds} == {"n", "Persentase", "IK 95%"}


def test_html_english_lang(figure):
    html = render_html(make_doc(figure, lang="en"))
    assert '<html lang="en">' in html
    assert "Caution" in html


def test_escaping_everywhere(figure):
    doc = Document(
        title="<b>t</b>",
        subtitle='"x" & y',
        lang="id",
        sections=[
            Section(
                "<i>h</i>",
                [
                    ["<img src=x onerror=alert(1)>"],
                    Table(pd.DataFrame({"<c>": ["<script>"]}), caption="<u>c</u>"),
                    Callout("<script>z</script>", "<evil>"),
                ],
            )
        ],
        footer="<script>f</script>",
    )
    html = render_html(doc)
    parsed = parse(html)
    tags = {t for t, _ in parsed.tags}
    assert not tags & {"script", "b", "i", "u", "evil", "c"}
    assert [a for t, a in parsed.tags if t == "img"] == []
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_dangerous_links_refused(figure):
    doc = make_doc(figure)
    bad = Document(
        doc.title, doc.subtitle, "id", doc.sections, links=[("x", "javascript:alert(1)")]
    )
    with pytest.raises(RenderError, match="javascript"):
        render_html(bad)


def test_validation_errors(figure):
    with pytest.raises(RenderError):
        Figure(png=figure.png, alt="  ")
    with pytest.raises(RenderError, match="SVG drawing or PNG"):
        Figure(alt="a chart with nothing drawn")
    with pytest.raises(RenderError, match="PNG"):
        render_html(Document("t", "s", "id", [Section("h", [Figure(png=b"GIF89a...", alt="x")])]))
    with pytest.raises(RenderError, match="unsupported block"):
        render_html(Document("t", "s", "id", [Section("h", [42])]))
    with pytest.raises(RenderError, match="language"):
        render_html(Document("t", "s", "fr", []))


def test_table_cells_format_numbers_and_missing(figure):
    frame = pd.DataFrame({"Kelompok": ["a", "b"], "n": [2000, 15], "rata": [1234.5, np.nan]})
    html = render_html(Document("t", "s", "id", [Section("h", [Table(frame)])]))
    assert "2.000" in html and "1.234,5" in html and "–" in html
    assert 'class="num"' in html


def test_render_index():
    html = render_index(
        "Daftar laporan", "id", [("Kab. A <2024>", "a/id.html"), ("Kab. B", "b/id.html")]
    )
    parsed = parse(html)
    assert ("html", {"lang": "id"}) in parsed.tags
    assert [a["href"] for t, a in parsed.tags if t == "a"] == ["a/id.html", "b/id.html"]
    assert "Kab. A &lt;2024&gt;" in html and "<script" not in html


def test_render_html_is_a_whole_page(figure):
    assert render_html(make_doc(figure)).startswith("<!DOCTYPE html>")


# ---------------------------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------------------------


def read_pdf(data: bytes) -> tuple[pypdf.PdfReader, str]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def test_pdf_contents_and_metadata(figure):
    data = render_pdf(make_doc(figure))
    assert data.startswith(b"%PDF")
    reader, text = read_pdf(data)
    assert 1 <= len(reader.pages) <= 4
    for heading in ("Ringkasan eksekutif", "Partisipasi", "Lampiran metode"):
        assert heading in text
    assert "12,3%" in text and "Perempuan" in text
    assert "≥" in text and "±" in text and "—" in text
    assert SCRIPT in text  # plain text, never interpreted
    assert "Halaman 1 dari" in text
    assert reader.metadata.title == "Laporan dampak TPBIS — Kabupaten Contoh"
    assert reader.trailer["/Root"]["/Lang"] == "id"
    # the chart is drawn as vector graphics: its labels and ticks are text in the PDF
    assert "Pelatihan: 12,0%" in text and all(tick in text for tick in figure.ticks)
    assert [o.title for o in reader.outline] == [
        "Ringkasan eksekutif",
        "Partisipasi",
        "Lampiran metode",
    ]


def _alt_texts(node) -> list[str]:
    node = node.get_object()
    found = [str(node["/Alt"])] if "/Alt" in node else []
    kids = node.get("/K")
    if kids is None:
        return found
    for kid in kids if isinstance(kids, list) else [kids]:
        kid = kid.get_object()
        if isinstance(kid, dict):
            found += _alt_texts(kid)
    return found


def test_pdf_figure_has_alt_text(figure):
    reader, _ = read_pdf(render_pdf(make_doc(figure)))
    alts = _alt_texts(reader.trailer["/Root"]["/StructTreeRoot"])
    assert any("55,0%" in alt for alt in alts)


def test_pdf_english(figure):
    reader, text = read_pdf(render_pdf(make_doc(figure, lang="en")))
    assert reader.trailer["/Root"]["/Lang"] == "en"
    assert "Page 1 of" in text and "Caution" in text


def test_pdf_long_table_breaks_across_pages_with_header(figure):
    reader, text = read_pdf(render_pdf(make_doc(figure, rows=160)))
    assert 4 <= len(reader.pages) <= 12
    pages_with_header = sum("Kelompok" in p.extract_text() for p in reader.pages)
    assert pages_with_header >= 3  # heading row repeated on continuation pages
    assert text.count("Perempuan") >= 80


def test_pdf_wide_table_fits(figure):
    wide = pd.DataFrame({f"Kolom dengan nama panjang {i}": [f"nilai {i},5"] * 3 for i in range(12)})
    reader, text = read_pdf(render_pdf(Document("t", "s", "id", [Section("Lebar", [Table(wide)])])))
    assert "nilai 11,5" in text.replace("\n", " ")
    assert len(reader.pages) <= 3


# ---------------------------------------------------------------------------------------------
# PDF fonts: reduced DejaVu copies, cached on disk, full fonts when a document needs them
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def font_cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("DAMPAK_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "fonts"


@pytest.fixture
def fonts_added(monkeypatch) -> list[Path]:
    """The font files each rendered PDF was given, in order."""
    from fpdf import FPDF

    added: list[Path] = []
    real = FPDF.add_font

    def spy(pdf, family=None, style="", fname=None, **kw):
        added.append(Path(fname))
        real(pdf, family, style, fname, **kw)

    monkeypatch.setattr(FPDF, "add_font", spy)
    return added


OTHER_SCRIPTS = Document(
    "Отчёт Ω",
    "Жители и αβγ",
    "id",
    [Section("Ελληνικά", ["Жители: αβγ, Ω = 3"])],
)


def test_pdf_embeds_cached_reduced_fonts_with_the_same_text(font_cache, fonts_added, figure):
    doc = make_doc(figure)
    data = render_pdf(doc)
    assert fonts_added and {p.parent for p in fonts_added} == {font_cache}
    cached = sorted(font_cache.glob("DejaVuSans*.ttf"))
    assert len(cached) == 4  # one per face; the name carries the source hash + fontTools
    stamps = [p.stat().st_mtime_ns for p in cached]
    render._REDUCED.clear()  # a new process: found on disk, not rebuilt
    render_pdf(doc)
    assert [p.stat().st_mtime_ns for p in cached] == stamps
    fonts_added.clear()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(render, "_reduced_font", lambda path: None)
        full = render_pdf(doc)
    assert {p.parent for p in fonts_added} == {render._font_paths()[""].parent}
    assert read_pdf(data)[1] == read_pdf(full)[1]
    assert len(read_pdf(data)[0].pages) == len(read_pdf(full)[0].pages)


def test_characters_outside_the_reduced_fonts_use_the_full_fonts(font_cache, fonts_added):
    _, text = read_pdf(render_pdf(OTHER_SCRIPTS))
    assert "Жители: αβγ, Ω = 3" in text and "Ελληνικά" in text
    assert fonts_added and font_cache not in {p.parent for p in fonts_added}


def test_characters_missed_by_the_text_walk_still_use_the_full_fonts(font_cache, monkeypatch):
    monkeypatch.setattr(render, "_strings", lambda ctx: iter(()))  # the pre-check sees nothing
    _, text = read_pdf(render_pdf(OTHER_SCRIPTS))
    assert "Жители: αβγ, Ω = 3" in text


def test_a_cache_that_cannot_be_written_falls_back_to_the_full_fonts(
    tmp_path, monkeypatch, fonts_added, figure
):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("DAMPAK_CACHE_DIR", str(blocker))
    _, text = read_pdf(render_pdf(make_doc(figure)))
    assert "Ringkasan eksekutif" in text and "≥" in text
    assert {p.parent for p in fonts_added} == {render._font_paths()[""].parent}


def test_a_damaged_cached_font_is_rebuilt(font_cache, fonts_added, figure):
    render_pdf(make_doc(figure))
    regular = next(p for p in font_cache.glob("DejaVuSans-*.ttf") if p.stem.count("-") == 1)
    regular.write_bytes(regular.read_bytes()[:1000])  # e.g. a disk that filled up
    render._REDUCED.clear()
    fonts_added.clear()
    _, text = read_pdf(render_pdf(make_doc(figure)))
    assert "Ringkasan eksekutif" in text
    assert regular in fonts_added and regular.stat().st_size > 50_000


# ---------------------------------------------------------------------------------------------
# inline SVG, notice on every page, PDF without links, headings kept with content
# ---------------------------------------------------------------------------------------------

NOTICE = "Data SINTETIS, bukan hasil survei nyata."


def test_inline_charts_have_unique_ids_on_the_page(figure):
    doc = make_doc(figure)
    doc.sections.append(Section("Lagi", [figure]))
    html = render_html(doc)
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    refs = set(re.findall(r"url\(#([^)]+)\)", html))
    assert refs and refs <= set(ids)


@pytest.mark.parametrize(
    "bad",
    [
        '<svg viewBox="0 0 1 1"><script>alert(1)</script></svg>',
        '<svg viewBox="0 0 1 1"><rect onload="alert(1)"/></svg>',
        '<svg viewBox="0 0 1 1"><a xlink:href="https://x.example">x</a></svg>',
        "<p>no svg</p>",
    ],
)
def test_unsafe_or_broken_svg_is_refused(figure, bad):
    fig = Figure(png=figure.png, alt="x", svg=bad)
    with pytest.raises(RenderError):
        render_html(Document("t", "s", "id", [Section("h", [fig])]))


def test_notice_is_on_every_html_page_and_every_pdf_page(figure):
    doc = make_doc(figure, rows=160)
    doc = Document(**{**doc.__dict__, "notice": NOTICE})
    html = parse(render_html(doc))
    notes = [a for t, a in html.tags if t == "aside" and a.get("class") == "notice"]
    assert notes and NOTICE in "".join(html.text)
    index = parse(render.render_index("Indeks", "id", [("Kota", "city.id.html")], notice=NOTICE))
    assert NOTICE in "".join(index.text)
    reader, _ = read_pdf(render_pdf(doc))
    assert len(reader.pages) >= 3
    for page in reader.pages:
        assert NOTICE in page.extract_text().replace("\n", " ")


def test_pdf_prints_no_web_links(figure):
    reader, text = read_pdf(render_pdf(make_doc(figure)))
    assert "laporan_en" not in text and "English version" not in text
    assert not re.search(r"https?://|www\.|\.html\b", text)
    assert not any("/Annots" in page for page in reader.pages)


def _page_of(reader, needle: str) -> int:
    return next(i for i, p in enumerate(reader.pages) if needle in p.extract_text())


def test_pdf_heading_stays_with_its_content(figure):
    filler = "Kalimat pengisi halaman untuk menguji tata letak laporan PDF. " * 6
    for n in range(9, 18):  # one page of positions: the heading lands at the foot once
        doc = Document(
            "t",
            "s",
            "id",
            [
                Section("Pembuka", [filler] * n),
                Section("Bagian akhir", ["Satu kalimat pengantar.", figure]),
            ],
        )
        reader, _ = read_pdf(render_pdf(doc))
        heading = _page_of(reader, "Bagian akhir")
        assert _page_of(reader, "Satu kalimat pengantar.") == heading
        assert _page_of(reader, "Layanan yang dipakai") == heading  # the figure's title


def test_pdf_avoids_a_nearly_empty_last_page(figure):
    tall = charts.bars(
        pd.DataFrame({"label": [f"Layanan nomor {i}" for i in range(12)], "est": [0.5] * 12}),
        "label",
        "est",
        lang="id",
        title="Banyak layanan",
    )
    filler = "Kalimat pengisi halaman untuk menguji tata letak laporan PDF. " * 6
    seen = 0
    for n in range(0, 12):
        doc = Document(
            "t", "s", "id", [Section("Isi", [filler] * n + [tall, Callout("Catatan akhir.")])]
        )
        ctx = render._prepare(doc)
        fonts = render._font_paths()
        first = render._render_pdf(ctx, fonts)
        if first.page_no() < 2 or render._last_page_fill(first) >= render.MIN_LAST_PAGE_FILL:
            continue
        chosen = render._laid_out(ctx, fonts)
        fits = any(
            render._render_pdf(ctx, fonts, s).page_no() < first.page_no()
            for s in render.TIGHTER_FIGURE_SCALES
        )
        assert chosen.page_no() == first.page_no() - (1 if fits else 0)
        seen += fits
    assert seen  # some layout had a nearly empty last page, and it was avoided


def test_report_css_colours_meet_wcag_aa():
    """Text colours in the stylesheet against their backgrounds: >= 4.5:1 (the "Caution"
    label was 4.2:1), checked on the stylesheet itself so a colour edit cannot slip through."""
    css = (render.TEMPLATES_DIR / "report.css").read_text()
    var = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{3,6})", css))
    pairs = [
        (var["warning-bd"], var["warning-bg"]),  # "Perhatian" label
        (var["info-bd"], var["info-bg"]),
        (var["success-bd"], var["success-bg"]),
        (re.search(r"\.notice \{[^}]*?color: (#[0-9a-fA-F]{6})", css).group(1), var["warning-bg"]),
        (var["muted"], "#ffffff"),
        (var["accent"], "#ffffff"),
    ]
    for fg, bg in pairs:
        fg = "#" + "".join(c * 2 for c in fg[1:]) if len(fg) == 4 else fg
        assert charts.contrast_ratio(fg, bg) >= 4.5, (fg, bg)


def test_pdf_table_caption_stays_with_its_heading_row_and_first_rows():
    long_heads = {
        f"Keterampilan digital dan kerja, kepercayaan diri dan jejaring sosial nomor {i} "
        "(skor rata-rata pada skala 1–5, dibobot)": ["4,46", "4,33"]
        for i in range(6)
    }
    table = Table(pd.DataFrame({"Jenis program": ["Komputer", "Kerajinan"], **long_heads}), "Skor")
    filler = "Kalimat pengisi halaman untuk menguji tata letak laporan PDF. " * 2
    for n in range(20, 44, 2):  # move the table down the page until it would start at the foot
        doc = Document("t", "s", "id", [Section("Isi", [filler] * n + [table])])
        reader, _ = read_pdf(render_pdf(doc))
        assert _page_of(reader, "Tabel 1. Skor") == _page_of(reader, "Komputer")


def test_tables_too_wide_for_any_screen_are_cards_at_every_width():
    """Every library x every outcome is wider than a 1280 px screen: such a table reflows into
    cards at every width instead of hiding columns (the browser test measures the pages)."""
    assert render.table_layout(4) == "stack"
    assert render.table_layout(7) == "stack-wide"
    assert render.table_layout(12) == "stack-all"
    css = (render.TEMPLATES_DIR / "report.css").read_text()
    assert ".stack-all td::before" in css


# ---------------------------------------------------------------------------------------------
# PDF text lines: broken by render._wrap_lines (one pass), the same lines fpdf2's multi_cell gives
# ---------------------------------------------------------------------------------------------

WRAP_TEXTS = [
    "",
    "Satu",
    "Kalimat pengisi halaman untuk menguji tata letak laporan PDF dengan kata-kata panjang. " * 4,
    "Baris pertama\nBaris kedua yang cukup panjang untuk dipatahkan di tengah-tengah halaman ini",
    "Katayangsangatpanjangtanpaspasiyangharusdipatahkandiantarahuruf" * 3 + " lalu kata biasa",
    "Dua  spasi   di antara kata, dan angka 1.234,5 (95% IK 0,12 s.d. 0,44) − tanda minus",
    "Perpustakaan Kelurahan Pasar Pandan Air Mati: 4,02 (3,76–4,28) · kurang tepat",
]


@pytest.mark.parametrize("style,size", [("", 10), ("B", 9), ("I", 8.5), ("", 7)])
@pytest.mark.parametrize("width", [30.0, 61.5, 120.0, 0.0])
def test_wrapped_lines_equal_multi_cell_lines(style, size, width):
    pdf = render._make_pdf("id", "", render._font_paths(), "")
    pdf.add_page()
    pdf.set_font(render.FONT, style, size)
    for text in WRAP_TEXTS:
        w = width or pdf.epw
        expected = [
            line.rstrip(" ")
            for line in pdf.multi_cell(w, 5, text, dry_run=True, output="LINES", align="L")
        ]
        ours = [line.rstrip(" ") for line in render._wrap_lines(pdf, text, w - 2 * pdf.c_margin)]
        assert ours == expected, text


def test_long_table_rows_stay_above_the_bottom_margin(figure):
    """Every table row is drawn inside the text area (fpdf2's own tables let a row run into
    the footer); rows that do not fit move to a new page under a repeated heading row."""
    rows = pd.DataFrame(
        {
            "Kelompok": [
                f"Baris nomor {i} " + "dengan teks panjang yang dipatahkan " * 6 for i in range(90)
            ],
            "Nilai": [f"{i},5 (1,2–3,4)" for i in range(90)],
        }
    )
    pdf = render._render_pdf(
        render._prepare(Document("t", "s", "id", [Section("S", [Table(rows)])])),
        render._font_paths(),
    )
    data = bytes(pdf.output())
    reader = pypdf.PdfReader(io.BytesIO(data))
    bottom = pdf.h - pdf.b_margin  # mm from the top
    for page in reader.pages:
        ys: list[float] = []

        def visit(text, cm, tm, font, size, ys=ys):
            if text.strip().startswith("Baris nomor"):
                ys.append(tm[5])

        page.extract_text(visitor_text=visit)
        lowest = min(ys, default=None)
        if lowest is not None:
            assert (float(page.mediabox.height) - lowest) / pdf.k <= bottom
    pages_with_heading = sum("Kelompok" in p.extract_text() for p in reader.pages)
    assert pages_with_heading == len(reader.pages) >= 3
    assert sum(p.extract_text().count("Baris nomor") for p in reader.pages) == 90


def test_pdf_draws_every_chart_text_in_view():
    """The PDF draws a chart from its SVG: every text the SVG has (labels, ticks, axis title,
    legend) is printed, in the SVG's own sizes (fpdf2 would read "13px" as 9.75 units)."""
    df = pd.DataFrame(
        {
            "label": ["Keterampilan – Perpustakaan ini", "Keterampilan – Kota"],
            "est": [3.71, 3.85],
            "lo": [3.41, 3.76],
            "hi": [4.00, 3.95],
            "who": ["Perpustakaan ini", "Kota"],
        }
    )
    fig = charts.forest(
        df,
        "label",
        "est",
        "lo",
        "hi",
        "id",
        "Skor",
        ref=None,
        value_range=(1, 5),
        style_col="who",
        xlabel="Estimasi",
    )
    texts = [html.unescape(t) for t in re.findall(r"<text\b[^>]*>([^<]+)</text>", fig.svg)]
    assert "Perpustakaan ini" in texts and "Kota" in texts and "Estimasi" in texts  # legend
    reader, text = read_pdf(render_pdf(Document("t", "s", "id", [Section("S", [fig])])))
    flat = " ".join(text.split())
    for piece in texts:
        assert " ".join(piece.split()) in flat, piece
    pdf_svg = render._pdf_svg(fig.svg).decode()
    assert "px" not in "".join(re.findall(r"font-size: ?[0-9.]+\w*", pdf_svg))
    assert not re.search(r'<text\b[^>]*style="(?![^"]*fill:)', pdf_svg)
