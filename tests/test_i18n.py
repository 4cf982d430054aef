import math
import re
import string

import numpy as np
import pandas as pd
import pytest

from pipelines.errors import DampakError
from pipelines.i18n import (
    MISSING,
    TranslationError,
    catalog,
    fmt_ci,
    fmt_est_ci,
    fmt_int,
    fmt_number,
    fmt_percent,
    fmt_rupiah,
    languages,
    t,
)


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_language_has_every_key_report_and_staff_messages_alike():
    assert {"id", "en"} <= set(languages()) and languages()[0] == "id"
    base = set(catalog("id"))
    assert any(k.startswith("msg.") for k in base) and any(k.startswith("report.") for k in base)
    for lang in languages():
        keys = set(catalog(lang))
        assert keys == base, f"{lang}: missing {base - keys}; extra {keys - base}"


def test_locale_entries_are_non_empty_and_share_placeholders():
    for lang in languages():
        for key, text in catalog("id").items():
            other = catalog(lang)[key]
            assert text.strip() and other.strip(), (lang, key)
            assert _fields(text) == _fields(other), (lang, key)


@pytest.mark.parametrize(
    ("key", "id_text", "en_text"),
    [
        ("section.executive_summary", "Ringkasan eksekutif", "Executive summary"),
        ("section.who_surveyed", "Siapa yang disurvei", "Who was surveyed"),
        ("section.participation", "Partisipasi", "Participation"),
        (
            "section.outcomes_by_programme",
            "Hasil menurut jenis kegiatan",
            "Outcomes by programme type",
        ),
        (
            "section.change_since_last_wave",
            "Perubahan sejak gelombang sebelumnya",
            "Change since the last wave",
        ),
        ("section.inclusion_lens", "Siapa yang manfaatnya lebih kecil", "Who gains less"),
        ("section.data_quality", "Kualitas data", "Data quality"),
        ("section.methods_appendix", "Lampiran metode", "Methods appendix"),
        ("stat.associated_with", "berhubungan dengan", "associated with"),
        ("stat.ci95", "IK 95%", "95% CI"),
    ],
)
def test_seeded_strings(key, id_text, en_text):
    assert t(key, "id") == id_text
    assert t(key, "en") == en_text


def test_official_indicators_heading_mentions_iplm():
    assert "IPLM" in t("section.official_indicators", "id")
    assert "TGM/TKM" in t("section.official_indicators", "en")


def test_default_language_is_indonesian():
    assert t("section.data_quality") == "Kualitas data"


def test_formatting_placeholders():
    assert t("stat.suppressed", "id", k=10) == "disembunyikan (n < 10)"
    assert t("stat.suppressed", "en", k=5) == "suppressed (n < 5)"


def test_missing_key_raises_clear_error():
    with pytest.raises(TranslationError, match="no.such.key") as info:
        t("no.such.key", "en")
    assert isinstance(info.value, DampakError)
    assert "locales/en/" in str(info.value)


def test_missing_placeholder_value_raises():
    with pytest.raises(TranslationError, match="'k'"):
        t("stat.suppressed", "id")


def test_unknown_language_raises():
    with pytest.raises(TranslationError, match="fr"):
        t("section.data_quality", "fr")


@pytest.mark.parametrize(
    ("x", "lang", "decimals", "expected"),
    [
        (1234.5, "id", 1, "1.234,5"),
        (1234.5, "en", 1, "1,234.5"),
        (1234567.891, "id", 2, "1.234.567,89"),
        (1234567.891, "en", 2, "1,234,567.89"),
        (0.05, "id", 1, "0,1"),  # half up, not banker's rounding
        (2.25, "en", 1, "2.3"),
        (-1234.5, "id", 1, "−1.234,5"),
        (-0.04, "en", 1, "0.0"),  # no "negative zero"
        (12, "id", 0, "12"),
        (np.float64(999.95), "en", 1, "1,000.0"),
        (np.int64(5), "id", 1, "5,0"),
    ],
)
def test_fmt_number(x, lang, decimals, expected):
    assert fmt_number(x, lang, decimals) == expected


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA])
@pytest.mark.parametrize("lang", ["id", "en"])
def test_missing_values_format_as_dash(missing, lang):
    assert MISSING == "–"
    assert fmt_number(missing, lang) == "–"
    assert fmt_percent(missing, lang) == "–"
    assert fmt_int(missing, lang) == "–"
    assert fmt_rupiah(missing, lang) == "–"
    assert fmt_ci(missing, 1.0, lang) == "–"


@pytest.mark.parametrize(
    ("n", "lang", "expected"),
    [(2000, "id", "2.000"), (2000, "en", "2,000"), (1234567, "id", "1.234.567"), (7, "en", "7")],
)
def test_fmt_int(n, lang, expected):
    assert fmt_int(n, lang) == expected


@pytest.mark.parametrize(
    ("p", "lang", "decimals", "expected"),
    [
        (0.123, "id", 1, "12,3%"),
        (0.123, "en", 1, "12.3%"),
        (0.0125, "id", 1, "1,3%"),
        (1.0, "en", 0, "100%"),
        (0.5, "id", 0, "50%"),
    ],
)
def test_fmt_percent(p, lang, decimals, expected):
    assert fmt_percent(p, lang, decimals) == expected


def test_fmt_percent_scale_for_values_already_in_percent():
    assert fmt_percent(12.3, "id", scale=1) == "12,3%"


@pytest.mark.parametrize(
    ("x", "lang", "expected"),
    [
        (1_500_000, "id", "Rp 1,5 juta"),
        (750_000, "id", "Rp 750 ribu"),
        (1_200_000_000, "id", "Rp 1,2 miliar"),
        (2_000_000, "id", "Rp 2 juta"),
        (3_400_000_000_000, "id", "Rp 3,4 triliun"),
        (500, "id", "Rp 500"),
        (999_960, "id", "Rp 1 juta"),  # not "1.000 ribu"
        (1_500_000, "en", "IDR 1.5 million"),
        (750_000, "en", "IDR 750 thousand"),
        (1_200_000_000, "en", "IDR 1.2 billion"),
        (-2_500_000, "en", "−IDR 2.5 million"),
    ],
)
def test_fmt_rupiah(x, lang, expected):
    assert fmt_rupiah(x, lang) == expected


def test_fmt_ci():
    assert fmt_ci(10.23, 14.5, "id") == "10,2–14,5"
    assert fmt_ci(10.23, 14.5, "en") == "10.2–14.5"
    assert fmt_ci(0.102, 0.145, "id", percent=True) == "10,2%–14,5%"
    # a negative bound makes the dash ambiguous: use words
    assert fmt_ci(-1.23, 3.4, "id") == "−1,2 s.d. 3,4"
    assert fmt_ci(-1.23, 3.4, "en") == "−1.2 to 3.4"
    assert fmt_ci(1, math.nan, "en") == "–"


def test_fmt_est_ci():
    assert fmt_est_ci(0.123, 0.1, 0.15, "id", percent=True) == "12,3% (IK 95% 10,0%–15,0%)"
    assert fmt_est_ci(1.5, 1.0, 2.0, "en") == "1.5 (95% CI 1.0–2.0)"
    assert fmt_est_ci(1.5, None, None, "en") == "1.5"


def test_formatting_ignores_os_locale(monkeypatch):
    import locale

    monkeypatch.setattr(locale, "localeconv", lambda: {"decimal_point": "#", "thousands_sep": "!"})
    assert fmt_number(1234.5, "id") == "1.234,5"


def test_non_numeric_raises():
    with pytest.raises(TypeError):
        fmt_number("abc", "id")


def test_no_stray_placeholders_in_plain_strings():
    # every "{...}" must be a proper named placeholder
    for text in catalog("id").values():
        assert not re.search(r"\{\s*\}", text)


# --- the locale files load through the duplicate-refusing loader ------------------------------


def test_locale_files_have_no_key_given_twice():
    """A second top-level `quality:` once hid the first (`quality.unreliable_scale` vanished and
    the report crashed on any scale with alpha < 0.70): the loader refuses duplicates."""
    from pipelines.config import read_yaml
    from pipelines.i18n import LOCALES_DIR

    for lang in languages():
        for path in (LOCALES_DIR / lang).glob("*.yaml"):
            read_yaml(path.read_text(encoding="utf-8"), source=path)  # raises on a duplicate
        for key in ("quality.unreliable_scale", "quality.intro", "quality.reliable"):
            assert key in catalog(lang), (lang, key)


def test_a_duplicate_key_in_a_locale_file_is_an_error(tmp_path, monkeypatch):
    from pipelines import i18n
    from pipelines.errors import ConfigError

    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "report.yaml").write_text(
        "quality:\n  a: x\nother:\n  b: y\nquality:\n  c: z\n"
    )
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    i18n.catalog.cache_clear()
    try:
        with pytest.raises(ConfigError, match=r"report\.yaml, line 5: the key 'quality'"):
            i18n.catalog("en")
    finally:
        monkeypatch.undo()
        i18n.catalog.cache_clear()


@pytest.mark.parametrize(
    ("lang", "words"), [("en", "not very reliable (Cronbach's alpha = 0.55)"), ("id", "0,55")]
)
def test_report_warns_of_a_scale_with_alpha_below_070(lang, words):
    """The data-quality section of a survey with an unreliable scale renders its warning."""
    from pipelines import render, report
    from pipelines.codebook import load_codebook
    from pipelines.config import load_config
    from pipelines.paths import SAMPLE_CONFIG

    cfg, cb = load_config(SAMPLE_CONFIG, check_files=False), load_codebook("tpbis")
    quality = {
        w.id: {"rows_in": 10, "rows_out": 9, "removed": {}, "flagged": {}} for w in cfg.waves
    }
    rel = pd.DataFrame(
        {
            "wave": cfg.waves[-1].id,
            "scale": ["skills", "social"],
            "alpha": [0.55, 0.81],
            "alpha_ci_low": [0.45, 0.77],
            "alpha_ci_high": [0.63, 0.85],
            "omega": [0.57, 0.82],
            "n": [400, 400],
            "reliable": [False, True],
        }
    )
    section = report.data_quality({"reliability": rel}, cfg, report.Labels(cfg, cb, lang), quality)
    callouts = [b for b in section.blocks if isinstance(b, render.Callout)]
    assert len(callouts) == 1 and words in callouts[0].text
    assert cb.scales["skills"].label(lang) in callouts[0].text


def test_p_values_never_print_as_zero():
    from pipelines.i18n import fmt_p

    assert fmt_p(0.0004, "id") == "< 0,001" and fmt_p(0.0004, "en") == "< 0.001"
    assert fmt_p(0.0, "id") == "< 0,001"
    assert fmt_p(0.0183, "id") == "0,018" and fmt_p(0.386, "en") == "0.386"
    assert fmt_p(float("nan"), "id") == "–"


def test_dates_in_words_day_first():
    import datetime as dt

    from pipelines.i18n import fmt_date

    assert fmt_date(dt.date(2026, 12, 2), "id") == "2 Desember 2026"
    assert fmt_date(dt.date(2026, 12, 2), "en") == "2 December 2026"
    assert fmt_date(dt.date(2025, 3, 15), "id") == "15 Maret 2025"


def test_income_bands_use_the_locales_decimal_mark():
    from pipelines.clean import band_labels
    from pipelines.i18n import fmt_rupiah_band

    codes = list(band_labels(pd.Series([5e5, 2e6, 3e6, 9e6]), [0, 1e6, 2.5e6, 5e6], money=True))
    assert [fmt_rupiah_band(c, "id") for c in codes] == [
        "Rp 0–1 jt",
        "Rp 1–2,5 jt",
        "Rp 2,5–5 jt",
        "Rp 5 jt ke atas",
    ]
    assert fmt_rupiah_band(codes[1], "en") == "IDR 1–2.5 m"
    assert fmt_rupiah_band("lainnya", "id") == "lainnya"


# --- adding a language is adding a folder -------------------------------------------------


def _prefixed(tree, prefix: str):
    """Every text of a catalogue subtree with ``prefix`` in front."""
    if isinstance(tree, dict):
        return {k: _prefixed(v, prefix) for k, v in tree.items()}
    return prefix + tree


@pytest.fixture
def with_language_xx(tmp_path, monkeypatch):
    """A catalogue with a third language 'xx': a copy of the English folder, its section
    heading, the plan command's texts and one staff message reworded so they can be told apart."""
    import shutil

    import yaml

    from pipelines import i18n

    for lang in i18n.languages():
        shutil.copytree(i18n.LOCALES_DIR / lang, tmp_path / lang)
    shutil.copytree(i18n.LOCALES_DIR / "en", tmp_path / "xx")
    for name, key in (("report.yaml", "section"), ("messages.yaml", "msg")):
        path = tmp_path / "xx" / name
        tree = yaml.safe_load(path.read_text(encoding="utf-8"))
        node = tree[key]
        if key == "section":
            node["data_quality"] = "XX data quality"
            tree["planning"] = _prefixed(tree["planning"], "XX ")
        else:
            node["config"]["not_found"] = "XX no config {path}."
            del node["config"]["not_utf8"]  # missing in xx: printed in English
        path.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    i18n.catalog.cache_clear()
    yield "xx"
    monkeypatch.undo()
    i18n.catalog.cache_clear()


def test_a_language_added_as_a_folder_is_used_for_reports_and_staff_messages(
    with_language_xx, tmp_path
):
    from pipelines import errors
    from pipelines.config import load_config

    assert "xx" in languages()
    assert t("section.data_quality", "xx") == "XX data quality"
    assert fmt_number(1234.5, "xx") == "1,234.5"  # number words come from its format.yaml
    errors.set_language("xx")
    try:
        with pytest.raises(errors.ConfigError) as info:
            load_config(tmp_path / "missing.yaml")
        assert str(info.value) == f"XX no config {tmp_path / 'missing.yaml'}."
        # a key the language lacks falls back to English
        assert errors.msg("config.not_utf8", path="a.yaml").startswith("Config file a.yaml is not")
        assert info.value.text("id").startswith("Berkas konfigurasi")
    finally:
        errors.set_language("en")


def test_the_plan_command_speaks_a_language_added_as_a_folder(with_language_xx):
    """Every sentence of `python -m pipelines plan` comes from the language's own files."""
    from pipelines import errors, planning

    inp = planning.Inputs(0.05, 1.0, 1.3, 0.4, 3, 20.0, "skills", "pp", 0.3)
    for effect in (5, 90):  # detectable with enough respondents; not possible at 30% yes
        en = planning.report(inp, effect, "2026", ("en",))
        xx = planning.report(inp, effect, "2026", ("xx",))
        assert xx.startswith("XX Planning the next wave from 2026 (skills)")
        assert f"XX {effect:g} percentage points" in xx and "(XX percentage points)" in xx
        assert "XX " not in en and xx.replace("XX ", "") == en
        table = ("per_library", "libraries", *"0123456789")
        prose = [line for line in xx.splitlines() if line and not line.startswith(table)]
        assert len(prose) >= 4 and all(s.startswith("XX ") for s in prose), prose
    assert "XX - : not detectable" in xx
    errors.set_language("xx")
    try:
        with pytest.raises(errors.RunError, match=r"given in XX percentage points"):
            planning.parse_effect("3sd", "pp")
    finally:
        errors.set_language("en")


def test_a_config_may_choose_a_language_found_in_the_catalogue(with_language_xx):
    from pipelines.config import SurveyConfig

    assert SurveyConfig.model_fields["messages_language"].default == "id"
    from pipelines.config import _known_language

    assert _known_language("xx") == "xx"
    with pytest.raises(ValueError, match="'id' or 'en' or 'xx'"):
        _known_language("fr")


def test_a_key_in_two_files_of_one_language_is_an_error(tmp_path, monkeypatch):
    from pipelines import i18n

    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "a.yaml").write_text("quality:\n  a: x\n")
    (tmp_path / "en" / "b.yaml").write_text("quality:\n  a: y\n")
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    i18n.catalog.cache_clear()
    try:
        with pytest.raises(TranslationError, match="quality.a"):
            i18n.catalog("en")
    finally:
        monkeypatch.undo()
        i18n.catalog.cache_clear()
