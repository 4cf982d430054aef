import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from pipelines import charts
from pipelines.i18n import t
from pipelines.render import Figure


def svg_size(svg: str) -> tuple[float, float]:
    """Width and height (pt) of a chart's SVG."""
    found = re.search(r'<svg\b[^>]*\bwidth="([0-9.]+)pt"[^>]*\bheight="([0-9.]+)pt"', svg)
    assert found, svg[:300]
    return float(found.group(1)), float(found.group(2))


def assert_valid_chart(fig: Figure) -> None:
    """A drawn chart: SVG 5 in (360 pt) wide with its text as text, no raster twin."""
    assert isinstance(fig, Figure)
    width, height = svg_size(fig.svg)
    assert width == 360
    assert 100 <= height <= 1700
    assert fig.svg.count("<text") >= 2 and fig.svg.count("<path") >= 2
    assert fig.png == b""
    assert fig.alt.strip()


def likert_labels(lang: str) -> dict[int, str]:
    keys = ["strongly_disagree", "disagree", "neutral", "agree", "strongly_agree"]
    return {i: t(f"likert.{k}", lang) for i, k in enumerate(keys, start=1)}


@pytest.fixture
def likert_df():
    shares = {
        "Perpustakaan membantu saya mencari kerja": [0.05, 0.10, 0.20, 0.40, 0.25],
        "Saya lebih percaya diri memakai internet": [0.02, 0.08, 0.15, 0.45, 0.30],
    }
    rows = [
        (item, lv, p) for item, ps in shares.items() for lv, p in zip(range(1, 6), ps, strict=True)
    ]
    return pd.DataFrame(rows, columns=["item", "level", "pct"])


def test_likert_png_and_alt_numbers(likert_df):
    fig = charts.likert_diverging(
        likert_df, "item", "level", "pct", likert_labels("id"), "id", "Manfaat"
    )
    assert_valid_chart(fig)
    assert "Manfaat" in fig.alt
    assert "65% setuju" in fig.alt and "20% netral" in fig.alt and "15% tidak setuju" in fig.alt
    assert "75% setuju" in fig.alt


def test_likert_accepts_percent_scale_and_english(likert_df):
    as_pct = likert_df.assign(pct=likert_df["pct"] * 100)
    fig = charts.likert_diverging(
        as_pct, "item", "level", "pct", likert_labels("en"), "en", "Benefits"
    )
    assert_valid_chart(fig)
    assert "65% agree" in fig.alt and "15% disagree" in fig.alt


def test_likert_even_scale_and_suppressed_item(likert_df):
    four = pd.DataFrame(
        [("A", 1, 0.1), ("A", 2, 0.2), ("A", 3, 0.3), ("A", 4, 0.4)]
        + [("B", lv, np.nan) for lv in range(1, 5)],
        columns=["item", "level", "pct"],
    )
    labels = {1: "SD", 2: "D", 3: "A", 4: "SA"}
    fig = charts.likert_diverging(four, "item", "level", "pct", labels, "en", "Four levels")
    assert_valid_chart(fig)
    assert "A: 70% agree, 30% disagree" in fig.alt
    assert "B: suppressed (n < 10)" in fig.alt


def test_likert_rejects_unlabelled_levels_and_raw_rows(likert_df):
    with pytest.raises(ValueError, match="no label"):
        charts.likert_diverging(likert_df, "item", "level", "pct", {1: "a", 2: "b"}, "en", "x")
    with pytest.raises(ValueError, match="aggregate"):
        raw = pd.concat([likert_df, likert_df])
        charts.likert_diverging(raw, "item", "level", "pct", likert_labels("en"), "en", "x")


@pytest.fixture
def forest_df():
    return pd.DataFrame(
        {
            "label": ["Perempuan", "Laki-laki", "Disabilitas", "Usia 60+"],
            "est": [0.12, -0.05, np.nan, 0.30],
            "lo": [0.02, -0.15, np.nan, 0.10],
            "hi": [0.22, 0.05, np.nan, 0.50],
            "suppressed": [False, False, True, False],
        }
    )


def test_forest(forest_df):
    fig = charts.forest(
        forest_df, "label", "est", "lo", "hi", "en", "Subgroups", ref=0, xlabel="Diff"
    )
    assert_valid_chart(fig)
    assert "Perempuan: 0.12 (95% CI 0.02 to 0.22)" in fig.alt
    assert "Laki-laki: −0.05 (95% CI −0.15 to 0.05)" in fig.alt
    assert "Disabilitas: suppressed (n < 10)" in fig.alt
    fig_id = charts.forest(forest_df, "label", "est", "lo", "hi", "id", "Subkelompok", threshold=5)
    assert "Perempuan: 0,12 (IK 95% 0,02 sampai 0,22)" in fig_id.alt
    assert "disembunyikan (n < 5)" in fig_id.alt


def test_trend_with_groups_and_gap():
    df = pd.DataFrame(
        {
            "wave": ["2022", "2023", "2024"] * 2,
            "est": [0.30, 0.35, 0.42, 0.20, 0.22, np.nan],
            "lo": [0.25, 0.30, 0.37, 0.15, 0.17, np.nan],
            "hi": [0.35, 0.40, 0.47, 0.25, 0.27, np.nan],
            "area": ["Kota"] * 3 + ["Desa"] * 3,
        }
    )
    fig = charts.trend(df, "wave", "est", "lo", "hi", "area", "id", "Partisipasi", percent=True)
    assert_valid_chart(fig)
    assert "Kota: 2022: 30,0% (IK 95% 25,0% sampai 35,0%)" in fig.alt
    assert "2024: 42,0%" in fig.alt
    assert "2024: disembunyikan (n < 10)" in fig.alt


def test_trend_single_series_numeric_waves():
    df = pd.DataFrame(
        {"wave": [2, 1, 3], "est": [5.0, 4.0, 6.5], "lo": [4.0, 3.0, 5.5], "hi": [6.0, 5.0, 7.5]}
    )
    fig = charts.trend(df, "wave", "est", "lo", "hi", None, "en", "Mean score")
    assert_valid_chart(fig)
    # sorted by wave in the description
    assert fig.alt.index("1: 4.0") < fig.alt.index("2: 5.0") < fig.alt.index("3: 6.5")


def test_bars():
    df = pd.DataFrame(
        {
            "label": ["Internet", "Buku", "Pelatihan", "Kelas bahasa"],
            "est": [0.55, 0.32, 0.12, np.nan],
            "lo": [0.50, 0.28, 0.08, np.nan],
            "hi": [0.60, 0.36, 0.16, np.nan],
        }
    )
    fig = charts.bars(df, "label", "est", "lo", "hi", "id", "Layanan", caption="Sumber: survei")
    assert_valid_chart(fig)
    assert fig.caption == "Sumber: survei"
    assert "Internet: 55,0% (IK 95% 50,0% sampai 60,0%)" in fig.alt
    assert "Kelas bahasa: disembunyikan (n < 10)" in fig.alt
    en = charts.bars(df, "label", "est", "lo", "hi", "en", "Services", sort=True)
    assert en.alt.index("Internet") < en.alt.index("Buku") < en.alt.index("Pelatihan")
    assert "Internet: 55.0% (95% CI 50.0% to 60.0%)" in en.alt


def test_bars_without_intervals_and_not_percent():
    df = pd.DataFrame({"label": ["a", "b"], "est": [1234.5, 200.0]})
    fig = charts.bars(df, "label", "est", lang="id", title="Rata-rata", percent=False)
    assert_valid_chart(fig)
    assert "a: 1.234,5" in fig.alt


def test_long_alt_text_is_capped():
    df = pd.DataFrame({"label": [f"k{i}" for i in range(30)], "est": np.linspace(0.1, 0.9, 30)})
    fig = charts.bars(df, "label", "est", lang="en", title="Many")
    assert "and 10 more" in fig.alt


def test_charts_leave_no_pyplot_figures(forest_df):
    before = plt.get_fignums()
    charts.forest(forest_df, "label", "est", "lo", "hi", "en", "x")
    assert plt.get_fignums() == before


def test_missing_columns_raise(forest_df):
    with pytest.raises(KeyError):
        charts.forest(forest_df, "label", "nope", "lo", "hi", "en", "x")


# ---------------------------------------------------------------------------------------------
# phone-first drawing: SVG text sizes, ticks, ranges, captions, marks, contrast
# ---------------------------------------------------------------------------------------------

SVG_FONT = re.compile(r"font-size:\s*([\d.]+)px")


def _tick_values(ticks: tuple[str, ...], lang: str) -> list[float]:
    out = []
    for s in ticks:
        s = s.rstrip("%").replace("−", "-")
        s = s.replace(".", "").replace(",", ".") if lang == "id" else s.replace(",", "")
        out.append(float(s))
    return out


def test_tick_decimals_print_every_tick_exactly_and_distinctly():
    assert charts.tick_decimals([3.6, 3.7, 3.8, 3.9]) == 1
    assert charts.tick_decimals([3.85, 3.9, 3.95, 4.0]) == 2  # never "4,0" at 3.95
    assert charts.tick_decimals([0, 25, 50, 75, 100]) == 0
    assert charts.tick_decimals([0.0, 0.25, 0.5]) == 2


@pytest.mark.parametrize("lang", ["id", "en"])
def test_trend_ticks_are_unique_monotone_evenly_spaced_and_exact(lang):
    # the sample's trend: 3.70 to 3.95 used to print "3,7 · 3,7 · 3,8 · 3,8" and "4,0" at 3.95
    df = pd.DataFrame(
        {
            "wave": ["W1", "W2"] * 3,
            "est": [3.70, 3.75, 3.80, 3.85, 3.78, 3.95],
            "lo": [3.66, 3.71, 3.76, 3.81, 3.74, 3.91],
            "hi": [3.74, 3.79, 3.84, 3.89, 3.82, 3.99],
            "scale": ["a", "a", "b", "b", "c", "c"],
        }
    )
    fig = charts.trend(df, "wave", "est", "lo", "hi", "scale", lang, "Skor", decimals=2)
    values = _tick_values(fig.ticks, lang)
    assert len(fig.ticks) >= 3 and len(set(fig.ticks)) == len(fig.ticks)
    assert values == sorted(values)
    steps = np.diff(values)
    assert np.allclose(steps, steps[0])
    # printed exactly: the label is the tick's value, not a rounding of it
    assert all(s.count("," if lang == "id" else ".") <= 1 for s in fig.ticks)
    # an axis cut to the data is said in the caption
    assert t("chart.axis_cut", lang, lo="X", hi="Y").split("X")[0] in fig.caption


def test_value_range_puts_the_axis_on_the_scales_real_range():
    df = pd.DataFrame(
        {"wave": ["W1", "W2"], "est": [3.70, 3.75], "lo": [3.6, 3.7], "hi": [3.8, 3.8]}
    )
    fig = charts.trend(df, "wave", "est", "lo", "hi", None, "id", "Skor", value_range=(1, 5))
    assert fig.ticks[0] == "1" and fig.ticks[-1] == "5"
    assert "sumbu" not in fig.caption.lower()  # no cut to announce
    site = pd.DataFrame(
        {
            "label": ["Skor – Perpustakaan", "Skor – Kota"],
            "est": [4.02, 3.85],
            "lo": [3.8, 3.77],
            "hi": [4.24, 3.93],
            "who": ["Perpustakaan", "Kota"],
        }
    )
    fig = charts.forest(
        site,
        "label",
        "est",
        "lo",
        "hi",
        "id",
        "Skor",
        ref=None,
        value_range=(1, 5),
        style_col="who",
    )
    assert fig.ticks == ("1", "2", "3", "4", "5")
    # library and city: different colour and different marker shape, explained in a legend
    assert ">Perpustakaan<" in fig.svg and ">Kota<" in fig.svg
    assert charts.OKABE_ITO[0].lower() in fig.svg.lower()
    assert charts.OKABE_ITO[1].lower() in fig.svg.lower()
    assert "garis acuan pada –" not in fig.alt and " pada –" not in fig.alt


def test_every_chart_has_a_title_and_a_caption_saying_what_it_shows(forest_df, likert_df):
    made = [
        charts.forest(forest_df, "label", "est", "lo", "hi", "id", "Subkelompok"),
        charts.likert_diverging(likert_df, "item", "level", "pct", likert_labels("id"), "id", "L"),
        charts.bars(forest_df, "label", "est", "lo", "hi", "id", "Batang"),
    ]
    for fig in made:
        assert fig.title and len(fig.caption) > 30
        assert not re.fullmatch(r"(Gambar|Figure) \d+\.?", fig.caption)
    assert "0,00" in made[0].caption  # the reference line is named


def test_svg_text_is_at_least_12px_on_a_390px_phone(forest_df, likert_df):
    """The SVG is 360 units wide and shown at most 358 px wide on a 390 px phone (1 rem page
    padding each side): every font size in units, scaled, must stay >= 12 px."""
    made = [
        charts.forest(forest_df, "label", "est", "lo", "hi", "id", "Subkelompok"),
        charts.likert_diverging(likert_df, "item", "level", "pct", likert_labels("id"), "id", "L"),
        charts.bars(forest_df, "label", "est", "lo", "hi", "id", "Batang"),
        charts.trend(
            pd.DataFrame({"w": ["a", "b"], "e": [1.0, 2.0], "lo": [0.5, 1.5], "hi": [1.5, 2.5]}),
            "w",
            "e",
            "lo",
            "hi",
            None,
            "id",
            "Tren",
        ),
    ]
    for fig in made:
        width = float(re.search(r'viewBox="0 0 ([\d.]+) ', fig.svg).group(1))
        sizes = [float(x) for x in SVG_FONT.findall(fig.svg)]
        assert sizes and min(sizes) * 358 / width >= 12.0
        assert "<text" in fig.svg  # text stays text (searchable, sharp, measurable)


def test_chart_colours_meet_wcag_contrast():
    for colour in charts.OKABE_ITO:
        assert charts.contrast_ratio(colour, "white") >= 3.0  # graphics: 3:1
    for k in (4, 5, 7):
        for fill in charts._diverging_palette(k):
            text = charts._text_colour(fill)
            assert charts.contrast_ratio(fill, text) >= 4.5  # numbers printed on the bars
    assert charts.contrast_ratio(charts.EDGE, "white") >= 3.0  # outline of light fills
