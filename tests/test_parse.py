import time

import numpy as np
import pandas as pd
import pytest

from pipelines.parse import (
    _NUMERIC_DATE,
    _UNDECIDED,
    DEFAULT_MISSING_CODES,
    Parsed,
    _already_normal,
    _dayfirst_evidence,
    _fast_dates,
    _norm,
    _parse_date_text,
    age_from_birth_year,
    dates,
    likert,
    match_places,
    missing_codes,
    normalise_text,
    numeric,
    rupiah,
    yes_no,
)
from pipelines.simulate.places import kelurahan_names


def one(fn, value, **kw):
    p = fn(pd.Series([value], dtype=object), **kw)
    assert isinstance(p, Parsed)
    return p.values.iloc[0], bool(p.invalid.iloc[0])


# ---------------------------------------------------------------- normalise_text


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("  Perpustakaan   desa ", "Perpustakaan desa"),
        ("baris satu_x000D_\nbaris dua", "baris satu baris dua"),
        ("buku\u00a0baru", "buku baru"),
        ("zero\u200bwidth\ufeff", "zerowidth"),
        ("ｆｕｌｌ　width", "full width"),  # NFKC
        ("tab\tand\nnewline", "tab and newline"),
    ],
)
def test_normalise_text(raw, expected):
    assert normalise_text(pd.Series([raw])).iloc[0] == expected


def test_normalise_text_blank_and_non_strings():
    out = normalise_text(pd.Series(["   ", np.nan, 5, "\u200b"], dtype=object))
    assert out.isna().tolist() == [True, True, False, True]
    assert out.iloc[2] == 5
    kept = normalise_text(pd.Series(["  "]), empty_as_na=False)
    assert kept.iloc[0] == ""


# ---------------------------------------------------------------- likert


@pytest.mark.parametrize(
    "raw, code5, code4",
    [
        ("SS", 5, 4),
        ("Sangat setuju", 5, 4),
        ("SANGAT SETUJU", 5, 4),
        ("sangat stju", 5, 4),
        ("Strongly agree", 5, 4),
        ("S", 4, 3),
        ("Setuju", 4, 3),
        ("setuju.", 4, 3),
        ("Agree", 4, 3),
        ("TS", 2, 2),
        ("Tidak setuju", 2, 2),
        ("tdk setuju", 2, 2),
        ("Kurang setuju", 2, 2),
        ("Disagree", 2, 2),
        ("STS", 1, 1),
        ("Sangat tidak setuju", 1, 1),
        ("Strongly disagree", 1, 1),
        ("1", 1, 1),
        ("2", 2, 2),
        (4.0, 4, 4),
        ("4 - Setuju", 4, None),  # on a 4-point item "4" is SS, contradicting "Setuju"
        ("5 - Sangat setuju", 5, None),
        ("(5) Sangat setuju", 5, None),
        ("Sangat Setuju (5)", 5, None),
    ],
)
def test_likert_agreement(raw, code5, code4):
    v5, bad5 = one(likert, raw)
    assert v5 == code5 and not bad5
    v4, bad4 = one(likert, raw, points=4)
    if code4 is None:
        assert pd.isna(v4) and bad4
    else:
        assert v4 == code4 and not bad4


@pytest.mark.parametrize(
    "raw", ["N", "Netral", "RR", "Ragu-ragu", "ragu ragu", "Neutral", "Biasa saja"]
)
def test_likert_neutral_is_3_on_five_points_and_invalid_on_four(raw):
    assert one(likert, raw) == (3, False)
    v, bad = one(likert, raw, points=4)
    assert pd.isna(v) and bad


@pytest.mark.parametrize(
    "raw", ["6", "0", "5 - Tidak setuju", "setuju banget mungkin", "Tidak", "x"]
)
def test_likert_invalid(raw):
    v, bad = one(likert, raw)
    assert pd.isna(v) and bad


def test_likert_five_is_invalid_on_four_point_scale():
    v, bad = one(likert, "5", points=4)
    assert pd.isna(v) and bad


def test_likert_blank_is_not_invalid_and_dtype_is_nullable_int():
    p = likert(pd.Series(["SS", np.nan, "  ", None], dtype=object))
    assert str(p.values.dtype) == "Int64"
    assert p.values.isna().tolist() == [False, True, True, True]
    assert not p.invalid.any()


def test_likert_custom_codebook_scale():
    scale = {1: ["Tidak pernah"], 2: ["Jarang"], 3: ["Kadang-kadang", "Kadang"], 4: ["Sering"]}
    p = likert(pd.Series(["SERING", "kadang kadang", "Jarang ", "3", "Setuju", "5"]), scale=scale)
    assert p.values.tolist()[:4] == [4, 3, 2, 3]
    # the built-in agreement words are not used with a custom scale; 5 is not a code in it
    assert p.invalid.tolist() == [False, False, False, False, True, True]


def test_likert_rejects_bad_points():
    with pytest.raises(ValueError):
        likert(pd.Series(["SS"]), points=7)


# ---------------------------------------------------------------- yes/no and missing codes


@pytest.mark.parametrize(
    "raw, code",
    [
        ("Ya", 1),
        ("iya", 1),
        ("Y", 1),
        ("YES", 1),
        ("True", 1),
        ("1", 1),
        (1.0, 1),
        ("Benar", 1),
        ("Tidak", 0),
        ("tdk", 0),
        ("T", 0),
        ("no", 0),
        ("FALSE", 0),
        ("0", 0),
        ("Bukan", 0),
    ],
)
def test_yes_no(raw, code):
    assert one(yes_no, raw) == (code, False)


@pytest.mark.parametrize("raw", ["Mungkin", "Tidak tahu", "2"])
def test_yes_no_invalid(raw):
    v, bad = one(yes_no, raw)
    assert pd.isna(v) and bad


def test_missing_codes_default_and_custom():
    s = pd.Series(
        ["99", " tidak TAHU ", "n/a", "NA", "-", "", "TT", "tt", "98", "Ya", np.nan, 99.0]
    )
    assert missing_codes(s).tolist() == [
        True,
        True,
        True,
        True,
        True,
        True,
        True,
        True,
        False,
        False,
        False,  # real NaN is not an *explicit* code
        True,
    ]
    assert missing_codes(pd.Series(["98", "99"]), codes=["98"]).tolist() == [True, False]


# ---------------------------------------------------------------- rupiah


@pytest.mark.parametrize(
    "raw, amount",
    [
        ("Rp 1.500.000", 1_500_000),
        ("Rp1.500.000", 1_500_000),
        ("Rp1,500,000.00", 1_500_000),
        ("1.500.000,00", 1_500_000),
        ("IDR 1.500.000", 1_500_000),
        ("1,5 juta", 1_500_000),
        ("1.5jt", 1_500_000),
        ("1,5 jt", 1_500_000),
        ("1,5 Jt.", 1_500_000),
        ("2,5jt", 2_500_000),
        ("500 ribu", 500_000),
        ("500rb", 500_000),
        ("500 rb", 500_000),
        ("500k", 500_000),
        ("2 juta-an", 2_000_000),
        ("2jtan", 2_000_000),
        ("2 jutaan", 2_000_000),
        ("Rp. 750.000,-", 750_000),
        ("Rp 1.500.000,-", 1_500_000),
        ("750000", 750_000),
        (750000.0, 750_000),
        ("1.2 M", 1_200_000_000),
        ("1,2 miliar", 1_200_000_000),
        ("dua juta", 2_000_000),
        ("sejuta", 1_000_000),
        ("lima ratus ribu", 500_000),
        ("seratus lima puluh ribu", 150_000),
        ("dua setengah juta", 2_500_000),
        ("± 3 juta", 3_000_000),
        ("sekitar 3 juta", 3_000_000),
        ("kurang lebih 3jt", 3_000_000),
        ("1 juta 500 ribu", 1_500_000),
        ("Rp 500.000/bulan", 500_000),
        # ranges → midpoint
        ("3-4 juta", 3_500_000),
        ("3 - 4 juta", 3_500_000),
        ("3 s/d 4 juta", 3_500_000),
        ("500rb-1jt", 750_000),
        ("Rp 1.000.000 - Rp 2.000.000", 1_500_000),
        # separator rule: dot + exactly 3 digits = thousands unless a unit follows
        ("1.500", 1_500),
        ("1,500", 1_500),
        ("1.5", 1.5),
        ("1.500 juta", 1_500_000),
        # negatives parse to negative
        ("-500.000", -500_000),
        ("(500.000)", -500_000),
        ("minus 500 ribu", -500_000),
    ],
)
def test_rupiah_spellings(raw, amount):
    v, bad = one(rupiah, raw)
    assert not bad
    assert v == pytest.approx(amount)


@pytest.mark.parametrize(
    "raw",
    ["abc", "1.50.000", "4-3 juta", "500 ribu 2 juta", "-", "Rp", "1 juta 500", "banyak", "1-2-3"],
)
def test_rupiah_invalid(raw):
    v, bad = one(rupiah, raw)
    assert np.isnan(v) and bad


def test_rupiah_blank_not_invalid():
    p = rupiah(pd.Series([np.nan, "", "  "], dtype=object))
    assert p.values.isna().all() and not p.invalid.any()
    assert p.values.dtype == "float64"


# ---------------------------------------------------------------- numeric and age


@pytest.mark.parametrize(
    "raw, value",
    [("3,5", 3.5), ("3.5", 3.5), ("1.500", 1500), ("1.500.000", 1_500_000), ("-2", -2),
     (" 12 ", 12), ("1 500", 1500), (7, 7), ("0", 0)],
)  # fmt: skip
def test_numeric(raw, value):
    assert one(numeric, raw) == (pytest.approx(value), False)


@pytest.mark.parametrize("raw", ["x", "3,5,1", "1.5.0", "12a", "--1"])
def test_numeric_invalid(raw):
    v, bad = one(numeric, raw)
    assert np.isnan(v) and bad


def test_age_from_birth_year():
    by = pd.Series(["1985", 1990.0, " 2000 ", "45", "2030", "abc", np.nan, "1800"], dtype=object)
    p = age_from_birth_year(by, pd.Timestamp("2025-11-25"))
    assert p.values.iloc[:3].tolist() == [40, 35, 25]
    assert p.values.iloc[3:].isna().all()
    assert p.invalid.tolist() == [False, False, False, True, True, True, False, True]


def test_age_with_row_survey_dates():
    by = pd.Series(["1990", "1990", "1990"])
    sd = pd.Series(pd.to_datetime(["2024-01-01", "2025-06-01", None]))
    p = age_from_birth_year(by, sd)
    assert p.values.iloc[:2].tolist() == [34, 35]
    assert np.isnan(p.values.iloc[2]) and not p.invalid.iloc[2]


# ---------------------------------------------------------------- dates


def ts(x):
    return pd.Timestamp(x)


@pytest.mark.parametrize(
    "column, expected",
    [
        # English Google Forms: M/D/YYYY, colon time; 25 > 12 decides month-first
        (
            ["11/25/2025 14:03:22", "1/2/2025 9:03:22"],
            ["2025-11-25 14:03:22", "2025-01-02 09:03:22"],
        ),
        # Indonesian Google Forms: D/M/YYYY with dotted time
        (
            ["25/11/2025 14.03.22", "1/2/2025 9.03.22"],
            ["2025-11-25 14:03:22", "2025-02-01 09:03:22"],
        ),
        # no field > 12: the time style decides
        (["1/2/2025 9.03.22"], ["2025-02-01 09:03:22"]),
        (["1/2/2025 9:03:22"], ["2025-01-02 09:03:22"]),
        # date only, no evidence: Indonesian day-first
        (["3/4/2025"], ["2025-04-03"]),
        (["25-11-2025", "25.11.25"], ["2025-11-25", "2025-11-25"]),
    ],
)
def test_dates_day_month_order_detected_per_column(column, expected):
    p = dates(pd.Series(column))
    assert p.values.tolist() == [ts(e) for e in expected]
    assert not p.invalid.any()


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("2025-11-25T14:03:22.123+07:00", "2025-11-25 14:03:22.123"),
        ("2025-11-25T14:03:22Z", "2025-11-25 14:03:22"),
        ("2025-11-25", "2025-11-25"),
        ("2025-11-25 14:03:22", "2025-11-25 14:03:22"),
        ("45986", "2025-11-25"),
        (45986.5, "2025-11-25 12:00"),
        ("25 November 2025", "2025-11-25"),
        ("25 Nov 2025", "2025-11-25"),
        ("1 Januari 2025", "2025-01-01"),
        ("14 Februari 2025", "2025-02-14"),
        ("3 Maret 2025", "2025-03-03"),
        ("25 Mei 2025", "2025-05-25"),
        ("17 Agustus 2025", "2025-08-17"),
        ("17 Agu 2025", "2025-08-17"),
        ("1 Okt 2025", "2025-10-01"),
        ("24 Des 2025", "2025-12-24"),
        ("Selasa, 25 Nopember 2025", "2025-11-25"),
        ("November 25, 2025", "2025-11-25"),
    ],
)
def test_dates_formats(raw, expected):
    v, bad = one(dates, raw)
    assert v == ts(expected) and not bad


@pytest.mark.parametrize("raw", ["31/02/2025", "abc", "2025", "32 Januari 2025", "25 Foo 2025"])
def test_dates_invalid(raw):
    v, bad = one(dates, raw)
    assert pd.isna(v) and bad


def test_dates_forced_order_and_formats_and_dtype():
    p = dates(pd.Series(["01/02/2025"]), dayfirst=False)
    assert p.values.iloc[0] == ts("2025-01-02")
    p = dates(pd.Series(["2025|11|25"]), formats=["%Y|%m|%d"])
    assert p.values.iloc[0] == ts("2025-11-25")
    assert str(p.values.dtype) == "datetime64[ns]"
    # mixed column: the first field > 12 makes it day-first; "11/25/2025" is then invalid
    p = dates(pd.Series(["25/11/2025", "11/25/2025", np.nan], dtype=object))
    assert p.invalid.tolist() == [False, True, False]
    aware = pd.Series(pd.to_datetime(["2025-11-25 14:00"]).tz_localize("Asia/Jakarta"))
    assert dates(aware).values.dt.tz is None


# ---------------------------------------------------------------- places

CANON = kelurahan_names()  # the 13 Kota Solok kelurahan (pipelines/simulate/places.yaml)
ALIASES = {"PPA Mati": "Pasar Pandan Air Mati", "PPAM": "Pasar Pandan Air Mati"}


@pytest.mark.parametrize(
    "raw, name, rule",
    [
        ("Tanah Garam", "Tanah Garam", "exact"),
        ("aro 4 korong", "Aro IV Korong", "exact"),
        ("Aro IV Korong.", "Aro IV Korong", "exact"),
        ("Tanah  garam", "Tanah Garam", "exact"),
        ("Simpang rumbio ", "Simpang Rumbio", "exact"),
        ("ktk", "KTK", "exact"),
        ("9 Korong", "IX Korong", "exact"),
        ("Nagari Tanjung Paku", "Tanjung Paku", "exact"),
        ("PPA Mati", "Pasar Pandan Air Mati", "alias"),
        ("ppa-mati", "Pasar Pandan Air Mati", "alias"),
        ("Tnjung Paku", "Tanjung Paku", "fuzzy"),
        ("Kmpung Jawa", "Kampung Jawa", "fuzzy"),
        ("Koto Panjng", "Koto Panjang", "fuzzy"),
        ("Simpang Rumbyo", "Simpang Rumbio", "fuzzy"),
        ("Sinapa Pilinag", "Sinapa Piliang", "fuzzy"),  # transposition counts once
    ],
)
def test_match_places(raw, name, rule):
    p = match_places(pd.Series([raw]), CANON, ALIASES)
    assert p.values.iloc[0] == name
    assert p.rule.iloc[0] == rule
    assert not p.invalid.iloc[0]


@pytest.mark.parametrize(
    "raw",
    [
        "KTB",  # short name: no fuzzy at all
        "Lain",  # an ordinary word one letter from "Laing"
        "Padang",
        "Tanjung",
        "Kampung Baru",
        "Pasar",
    ],
)
def test_match_places_unmatched_never_guessed(raw):
    p = match_places(pd.Series([raw]), CANON, ALIASES)
    assert pd.isna(p.values.iloc[0]) and p.invalid.iloc[0]
    assert p.rule.iloc[0] == "unmatched"


def test_match_places_ambiguous_is_not_guessed():
    p = match_places(pd.Series(["Koto Bau", "Koto Baru"]), ["Koto Baru", "Koto Batu"])
    assert pd.isna(p.values.iloc[0]) and p.invalid.iloc[0]
    assert p.rule.iloc[0] == "ambiguous"
    assert p.values.iloc[1] == "Koto Baru"


def test_match_places_rule_counts_and_blank():
    s = pd.Series(["Laing", "laing", "PPA Mati", "Tnjung Paku", "Padang", np.nan, ""], dtype=object)
    p = match_places(s, CANON, ALIASES)
    assert p.rule_counts() == {"exact": 2, "alias": 1, "fuzzy": 1, "unmatched": 1}
    assert p.invalid.tolist() == [False, False, False, False, True, False, False]


def test_match_places_validates_inputs():
    with pytest.raises(ValueError):
        match_places(pd.Series(["x"]), CANON, {"X": "Not A Place"})
    with pytest.raises(ValueError):
        match_places(pd.Series(["x"]), ["VI Suku", "6 suku"])


# ---------------------------------------------------------------- general behaviour


def test_index_and_name_preserved():
    s = pd.Series(["500rb", "x"], index=[10, 20], name="biaya")
    p = rupiah(s)
    assert list(p.values.index) == [10, 20] and p.values.name == "biaya"
    assert list(p.invalid.index) == [10, 20]
    assert p.invalid_examples(s) == ["x"]


def test_million_rows_under_a_second():
    rng = np.random.default_rng(0)
    raw = ["Rp 1.500.000", "1,5 juta", "500rb", "3-4 juta", "x", np.nan]
    s = pd.Series(rng.choice(np.array(raw, dtype=object), 1_000_000), dtype=object)
    likert_s = pd.Series(rng.choice(np.array(["SS", "S", "N", "TS", "STS"]), 1_000_000))
    for fn, col in [(rupiah, s), (likert, likert_s), (lambda x: match_places(x, CANON), s)]:
        t0 = time.perf_counter()
        p = fn(col)
        assert time.perf_counter() - t0 < 1.0
        assert len(p.values) == 1_000_000
    assert rupiah(s).invalid.sum() == (s == "x").sum()


FAST_DATE_CORPUS = [
    "25/11/2025 14.03.22",
    "5/1/2025 9.03.22",
    "11/25/2025 14:03:22",
    "1/2/2025 0:00:00",
    "31/02/2025 10:00:00",  # no such day
    "25/11/2025 24.00.00",  # no such hour
    "13/13/2025 10:00:00",
    "2025-11-25T14:03:22.123+07:00",
    "2025-11-25 14:03:22",
    "2025-11-25T14:03:22Z",
    "2025-11-25T14:03:22.5-0500",
    "2025-02-30T10:00:00",
    " 25/11/2025  14.03.22 ",  # odd spacing: the value-by-value rules handle it
    "25 Nopember 2025",
    "45986",
    "",
]


@pytest.mark.parametrize("dayfirst", [True, False])
def test_fast_timestamp_path_equals_value_by_value_rules(dayfirst):
    """The vectorised path for common timestamp shapes gives exactly what the rules give."""
    s = pd.Series(FAST_DATE_CORPUS * 3, dtype=object)
    got = dates(s, dayfirst=dayfirst)
    expected = []
    for x in s:
        t = _norm(x)
        r = _parse_date_text(t, dayfirst, None) if t else None
        expected.append(pd.NaT if r is None else pd.Timestamp(r))
    pd.testing.assert_series_equal(
        got.values, pd.Series(expected, dtype="datetime64[ns]"), check_names=False
    )
    assert got.invalid.tolist() == [
        bool(_norm(x)) and e is pd.NaT for x, e in zip(s, expected, strict=True)
    ]
    fast = _fast_dates(np.array(FAST_DATE_CORPUS, dtype=object), dayfirst)
    assert sum(v is not _UNDECIDED for v in fast) == 7  # 3 valid numeric + 4 valid ISO


def test_normalise_text_fast_path_equals_value_by_value_rule():
    """Values the compiled check passes are exactly those the rule leaves unchanged."""
    corpus = [
        "ok text",
        "a  b",
        " lead",
        "trail ",
        "tab\there",
        "x\x1cy",
        "v\x0bw",
        "",
        "ñ",
        "nbsp\u00a0x",
        "_x000D_y",
        "_x000Z_",
        "zero\u200bwidth",
        "Ａ",
        "plain",
        np.nan,
    ]
    s = pd.Series(corpus * 2, dtype="str")
    got = normalise_text(s)
    expected = [None if not isinstance(x, str) or not _norm(x) else _norm(x) for x in s]
    assert got.astype(object).where(got.notna(), None).tolist() == expected
    assert _already_normal(s).sum() == 2 * 2  # "ok text" and "plain": the rest go value by value


def test_missing_codes_compiled_path_equals_value_by_value_rule():
    corpus = [
        "99",
        "Tidak Tahu",
        " tidak  tahu ",
        "N/A",
        "n/a",
        "NA",
        "-",
        "",
        "TT",
        "tt",
        "99.0",
        "answer",
        "Ｎ/Ａ",
        "tidak\u00a0tahu",
        np.nan,
        "999",
    ]
    s = pd.Series(corpus * 2, dtype="str")
    wanted = {_norm(c).casefold() for c in DEFAULT_MISSING_CODES}
    expected = [isinstance(x, str) and _norm(x).casefold() in wanted for x in s]
    assert missing_codes(s).tolist() == expected
    assert missing_codes(s.astype(object)).tolist() == expected
    assert sum(expected) == 2 * 12


@pytest.mark.parametrize(
    "shapes",
    [
        ["{d}/{m}/2025 14.03.22"],
        ["{m}/{d}/2025 14:03:22"],
        ["{m}/{m}/2025 9:03:22 PM", "{m}-{m}-25"],
        ["{m}/{m}/2025 10.00.00", "{m}/{m}/2025 10:00:00", "2025-11-25", "25 Nov 2025"],
    ],
)
def test_dayfirst_clues_in_compiled_code_equal_the_rule(shapes):
    """Above 1,000 distinct timestamps the clues are read with Arrow: same clues."""
    rng = np.random.default_rng(1)
    texts = [
        shapes[i % len(shapes)].format(d=rng.integers(13, 29), m=rng.integers(1, 13))
        for i in range(1500)
    ]
    clues = [False] * 4
    for t in texts:
        m = _NUMERIC_DATE.match(t.casefold())
        if m:
            clues[0] |= int(m.group(1)) > 12
            clues[1] |= int(m.group(2)) > 12
            if m.group(4) is not None:
                rest = t[m.end(3) :]
                clues[2] |= "." in rest and ":" not in rest
                clues[3] |= ":" in rest
    assert list(_dayfirst_evidence(texts)) == clues


TRICKY_DATES = [
    "29/2/2024 23.59.59",  # leap day
    "29/2/2025 10.00.00",  # no leap day in 2025
    "31/4/2025 10:00:00",  # April has 30 days
    "30/4/2025 10:00:60",  # no 60th second
    "1/1/2025 09:60:00",
    "0/1/2025 10:00:00",
    "1/0/2025 10:00:00",
    "31/12/1677 10:00:00",  # outside the nanosecond range: left to the rules
    "1/1/2262 00:00:00",
    "1/1/0000 00:00:00",
    "12/31/1999 23:59:59",
    "1/1/2025 7.05.09",
    "1/1/2025 7:05.09",
    "٣/١/2025 10:00:00",  # Arabic-Indic digits
    "2024-02-29T23:59:59.999999",
    "2023-02-29T00:00:00",
    "2025-12-31 23:59:59.1",
    "2025-06-01T00:00:00+0700",
    "2025-06-01T00:00:00.1234567",
    "2025-13-01T00:00:00",
    "2025-06-01T24:00:00",
]


@pytest.mark.parametrize("dayfirst", [True, False])
def test_compiled_timestamp_fields_equal_value_by_value_rules(dayfirst):
    """Impossible, leap and out-of-range timestamps: the compiled path decides exactly as the
    rules do, or leaves the value to them."""
    s = pd.Series(TRICKY_DATES * 2, dtype="str")
    got = dates(s, dayfirst=dayfirst)
    expected = []
    for x in s:
        r = _parse_date_text(_norm(x), dayfirst, None)
        expected.append(pd.NaT if r is None else pd.Timestamp(r))
    pd.testing.assert_series_equal(
        got.values, pd.Series(expected, dtype="datetime64[ns]"), check_names=False
    )
    fast = _fast_dates(np.array(TRICKY_DATES, dtype=object), dayfirst)
    for x, v in zip(TRICKY_DATES, fast, strict=True):
        if v is not _UNDECIDED:
            assert pd.Timestamp(v) == pd.Timestamp(_parse_date_text(x, dayfirst, None)), x
    assert sum(v is not _UNDECIDED for v in fast) == 6  # 3 valid numeric + 3 valid ISO


def test_timestamps_all_on_the_compiled_path_equal_value_by_value_rules():
    """A column whose every timestamp takes the compiled path (built in one conversion)."""
    texts = ["29/2/2024 23.59.59", "2025-12-31 23:59:59.1", "1/1/2025 7:05:09", np.nan, ""]
    s = pd.Series(texts * 2, dtype="str")
    got = dates(s, dayfirst=True)
    expected = [
        pd.NaT if not isinstance(x, str) or not x else pd.Timestamp(_parse_date_text(x, True, None))
        for x in s
    ]
    pd.testing.assert_series_equal(
        got.values, pd.Series(expected, dtype="datetime64[ns]"), check_names=False
    )
    assert not got.invalid.any()


def test_foreign_likert_names_answers_of_a_wider_scale():
    s = pd.Series(["Netral", "5", "5 - Sangat setuju", "Setuju", "Sangat mantap", None, "3", "RR"])
    from pipelines import parse

    assert parse.foreign_likert(s, [1, 2, 3, 4]).tolist() == [
        True,  # a neutral word on a set without a middle
        True,  # a code above the set
        True,
        False,
        False,  # unknown, but not of another scale: a warning, not a misfit
        False,
        False,
        True,
    ]
    assert not parse.foreign_likert(s, [1, 2, 3, 4, 5]).any()


@pytest.mark.parametrize(
    "raw",
    [
        "2018-03-07T09:20:54.819+03",  # Kobo: an offset without minutes
        "2018-03-07T09:20:54.819+0300",
        "2018-03-07T09:20:54.819+03:00",
        "2018-03-07T09:20:54.819Z",
        "2018-03-07T09:20:54.819-05",
        "2018-03-07 09:20:54.819 +07",
    ],
)
def test_dates_keep_the_wall_clock_time_whatever_the_utc_offset(raw):
    want = pd.Timestamp("2018-03-07 09:20:54.819")
    assert dates(pd.Series([raw])).values.iloc[0] == want  # value by value
    many = pd.Series([raw] * 3 + ["2018-03-08T10:00:00+0700"])
    got = dates(many)
    assert got.values.iloc[0] == want and got.n_invalid == 0
    fast = _fast_dates(np.array([raw], dtype=object), True)[0]  # the compiled path agrees
    assert fast is _UNDECIDED if " +" in raw else pd.Timestamp(fast) == want


def test_missing_codes_of_any_composition():
    s = pd.Series(["N/A", "x", "n/a", "99"])
    assert missing_codes(s, codes=[]).tolist() == [False] * 4  # was ArrowTypeError
    assert missing_codes(s, codes=["N/A"]).tolist() == [True, False, True, False]
    assert missing_codes(s, codes=[99]).tolist() == [False, False, False, True]


def test_likert_custom_labels_of_any_number_of_points():
    """A six-point custom set (and numbers on a 0-10 range) are read; the built-in agreement
    words still know only 4 and 5 points."""
    six = {1: ["Sangat tidak setuju"], 2: ["Tidak setuju"], 3: ["Agak tidak setuju"],
           4: ["Agak setuju"], 5: ["Setuju"], 6: ["Sangat setuju"]}  # fmt: skip
    got = likert(pd.Series(["Agak setuju", "sangat setuju", "6", "7", None]), six, 6)
    assert got.values.tolist()[:3] == [4, 6, 6] and got.invalid.tolist() == [0, 0, 0, 1, 0]
    eleven = {c: [] for c in range(11)}
    got = likert(pd.Series(["0", "10", "7.0", "11", "tujuh"]), eleven, 11)
    assert got.values.tolist()[:3] == [0, 10, 7] and got.invalid.tolist() == [0, 0, 0, 1, 1]
    with pytest.raises(ValueError, match="4 or 5"):
        likert(pd.Series(["Setuju"]), None, 6)
