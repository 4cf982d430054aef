"""Quotes: only masked, personal-data-free answers from libraries large enough to publish."""

import pandas as pd

from pipelines.quotes import select_quotes

LONG = "Perpustakaan sangat membantu saya belajar komputer dan internet."


def _df():
    rows = [("big", f"{LONG} ({i})") for i in range(12)]
    rows += [("small", "Di perpustakaan kecil ini saya belajar membuat kue untuk dijual.")]
    rows += [("big", "Hubungi saya di 0812-3456-7890 kalau ada pelatihan baru ya, terima kasih.")]
    rows += [("big", "Saya [NAMA] senang sekali mengikuti pelatihan menjahit di perpustakaan.")]
    rows += [("big", "Bagus")]
    return pd.DataFrame(
        {
            "wave": "2026",
            "site": [r[0] for r in rows],
            "respondent_key": [f"k{i}" for i in range(len(rows))],
            "feedback": [r[1] for r in rows],
        }
    )


def test_quotes_skip_small_sites_masks_personal_data_and_short_answers():
    q = select_quotes(_df(), threshold=10, k=20, column="feedback")
    assert len(q) == 12
    assert set(q["site"]) == {"big"}
    assert not q["text"].str.contains(r"NAMA|0812|Bagus").any()


def test_quotes_are_reproducible_and_limited():
    a, b = (select_quotes(_df(), 10, k=3, column="feedback") for _ in range(2))
    assert len(a) == 3 and a.equals(b)


def test_site_themes_count_keywords_in_large_libraries_and_leave_out_small_counts():
    import pandas as pd

    from pipelines import quotes

    rows = [("big", f"k{i}", "Wifi sering lambat, perlu buku baru") for i in range(12)]
    rows += [("big", f"j{i}", "Mohon jam buka diperpanjang") for i in range(3)]
    rows += [("small", f"s{i}", "Wifi lambat") for i in range(12)]
    df = pd.DataFrame(rows, columns=["site", "respondent_key", "feedback"])
    got = quotes.site_themes(df, min_n=15, threshold=10, column="feedback").set_index("theme")
    assert set(got["site"]) == {"big"}  # 12 respondents at "small": below min_n
    assert (
        got.loc["computers_internet", "n_theme"] == 12 and got.loc["collection", "n_answers"] == 15
    )
    assert "opening_hours" not in got.index  # 3 mentions: suppressed


def test_site_quotes_look_past_answers_with_personal_data_until_k_clean_ones():
    from pipelines import quotes

    phone = "Hubungi saya di 0812-3456-{:04d} kalau ada pelatihan baru ya, terima kasih."
    rows = [("a", f"k{i}", phone.format(i)) for i in range(40)]  # 40 answers with a phone
    rows += [("a", "c1", f"{LONG} satu"), ("a", "c2", f"{LONG} dua")]
    rows += [("b", f"b{i}", f"{LONG} ({i})") for i in range(20)]
    rows += [("c", f"s{i}", f"{LONG} [{i}]") for i in range(5)]  # too few respondents
    df = pd.DataFrame(rows, columns=["site", "respondent_key", "feedback"]).assign(wave="2026")
    got = quotes.site_quotes(df, min_n=10, threshold=5, k=2, column="feedback")
    assert got.groupby("site").size().to_dict() == {"a": 2, "b": 2}
    assert set(got.loc[got["site"] == "a", "text"]) == {f"{LONG} satu", f"{LONG} dua"}
    assert not got["text"].str.contains("0812").any()
    assert got.equals(
        quotes.site_quotes(df, min_n=10, threshold=5, k=2, column="feedback")
    )  # reproducible


def test_quotes_come_from_the_questionnaires_own_free_text_question():
    """Not a fixed column name: the visitor survey's free text is 'suggestion'."""
    from pathlib import Path

    from pipelines import quotes
    from pipelines.codebook import load_codebook

    fixtures = Path(__file__).parent / "fixtures"
    visitors = load_codebook("other_instrument.yaml", fixtures)
    df = _df().rename(columns={"feedback": "suggestion"})
    assert quotes.answer_column(visitors, df.columns) == "suggestion"
    assert quotes.answer_column(load_codebook("tpbis"), df.columns) is None  # not asked
    got = select_quotes(df, 10, k=20, column=quotes.answer_column(visitors, df.columns))
    assert len(got) == 12
    assert select_quotes(df, 10, k=20, column=None).empty


def test_a_survey_that_names_no_library_is_one_group():
    """Without a site column the whole survey is the group a quote may come from: quoted when
    it reaches the threshold, never when it does not; no library quotes or themes."""
    from pipelines.quotes import site_quotes, site_themes

    df = _df().drop(columns="site")
    q = select_quotes(df, threshold=10, k=20, column="feedback")
    assert len(q) == 13 and q["site"].isna().all()  # the small library's answer counts now
    assert not q["text"].str.contains(r"NAMA|0812|Bagus").any()
    assert select_quotes(df, threshold=len(df) + 1, k=20, column="feedback").empty
    assert site_quotes(df, 5, 5, column="feedback").empty
    assert site_themes(df, 5, 5, column="feedback").empty
