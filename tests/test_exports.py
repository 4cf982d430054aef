"""Real-shaped exports of one small survey, read by every reader and cleaned value by value.

The fixtures under tests/fixtures/ (made by make_fixtures.py) hold the same four made-up
respondents as Google Forms (Indonesian and English locale, one file per site), SurveyMonkey,
Kobo (read into R, and Kobo's own XLSX, with its XLSForm) and SPSS write them. Respondent 4 did
not consent; respondent 2 gave an impossible birth year and did not take part in training.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import FIXTURES, fixture_config

from pipelines import clean, ingest, multiselect, privacy
from pipelines.codebook import load_codebook
from pipelines.config import load_config
from pipelines.errors import InputError

CB = load_codebook("tpbis")
SECRET = b"f" * 32
PERSONAL_VALUES = ["Siti", "Aminah", "Budi Santoso", "Rina Marlina", "0812", "1372015501900001"]

EXPORTS = {
    "gforms_id": [{"path": "gforms_id.csv", "format": "csv"}],
    "gforms_sites": [
        {"path": "gforms_site_kota.csv", "format": "csv"},
        {"path": "gforms_site_lain.csv", "format": "csv"},
    ],
    "surveymonkey": [{"path": "surveymonkey.xlsx", "format": "xlsx", "header_rows": 2}],
    "kobo_r": [{"path": "kobo_r.csv", "format": "kobo", "xlsform": "kobo_form.xlsx"}],
    "kobo_native": [
        {
            "path": "kobo_native.xlsx",
            "format": "kobo",
            "sheet": "Survei",
            "xlsform": "kobo_form.xlsx",
        }
    ],
    "spss": [{"path": "spss.sav", "format": "sav"}],
}

# the three consenting respondents, in file order, after cleaning
EXPECTED = {
    "site": ["kota", "laing", "laing"],
    "kelurahan": ["Laing", "Aro IV Korong", "Laing"],
    "kecamatan": ["Tanjung Harapan", "Tanjung Harapan", "Tanjung Harapan"],
    "gender": ["female", "male", "female"],
    "education": ["senior", "tertiary", "senior"],
    "occupation": ["homemaker", "employee", "student"],
    "disability": [0, 0, 1],
    "participated": [1, 0, 1],
    "programme": ["marketing", None, "computer"],
    "sessions": [4.0, 0.0, 2.0],
    "age": [35.0, None, 25.0],
    "income": [1_500_000.0, 3_000_000.0, 1_500_000.0],
    "income_change": ["rose", "same", "rose"],
    "business": [1, 0, 0],
    "got_job": [0, 1, 0],
    "skill_1": [4, 3, 5],
    "skill_2": [4, 2, 4],
    "conf_4": [2, 3, 1],
    "satisfaction": [5, 3, 4],
    "services_used__borrow": [1, 0, 1],
    "services_used__read": [0, 1, 0],
    "services_used__internet": [1, 0, 0],
    "services_used__training": [0, 0, 1],
    "services_used__children": [0, 0, 1],
    "services_used__other": [0, 0, 0],
}
SKIP_IN_COMPARISON = {"source_file", "source_row", "submitted_at", "started_at", "ended_at"}
SKIP_IN_COMPARISON |= {"flag_fast", "feedback"}


def run(folder: Path, files: list[dict]):
    cfg = load_config(fixture_config(folder, files))
    got = ingest.ingest_wave(cfg, CB, cfg.waves[0], SECRET)
    data, log = clean.clean_wave(got.data, cfg, CB, cfg.waves[0])
    return got, data, log


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    out = {}
    for name, files in EXPORTS.items():
        out[name] = run(tmp_path_factory.mktemp(name), files)
    return out


def _text(frame: pd.DataFrame) -> str:
    return " ".join(str(x) for x in frame.to_numpy().ravel())


def _touched(log, rule, column=None):
    s = log.summary()
    s = s[(s["rule"] == rule) & ((s["column"] == column) if column else True)]
    return int(s["rows_touched"].sum())


@pytest.mark.parametrize("name", list(EXPORTS))
def test_each_export_gives_the_expected_values(processed, name):
    _, data, _ = processed[name]
    assert len(data) == 3
    for col, want in EXPECTED.items():
        got = [None if pd.isna(x) else x for x in data[col].tolist()]
        assert got == want, f"{name}: {col}"
    # row 3 (the third consenting respondent), cell by cell
    r3 = data.iloc[2]
    assert r3["income"] == 1_500_000.0 and r3["skill_2"] == 4 and r3["services_used__training"] == 1


@pytest.mark.parametrize("name", [n for n in EXPORTS if n != "gforms_id"])
def test_every_export_yields_identical_processed_data(processed, name):
    ref, other = processed["gforms_id"][1], processed[name][1]
    cols = [c for c in ref.columns if c not in SKIP_IN_COMPARISON]
    assert list(other.columns) == list(ref.columns)
    pd.testing.assert_frame_equal(ref[cols], other[cols], check_dtype=False)


@pytest.mark.parametrize("name", list(EXPORTS))
def test_log_counts(processed, name):
    got, data, log = processed[name]
    assert _touched(log, "rows_in") == 4 and _touched(log, "rows_out") == 3
    assert _touched(log, "no_consent") == 1
    assert _touched(log, "impossible_value", "birth_year") == 1
    assert _touched(log, "multiselect_unknown") == 0
    assert _touched(log, "multiselect_option_unknown") == 0
    assert _touched(log, "likert_out_of_scale") == 0
    assert _touched(log, "unknown_category") == 0
    rows = log.row_log()
    removed = rows[rows["rule"] == "no_consent"]
    first_row = {"spss": 1, "surveymonkey": 3}.get(name, 2)
    if name == "gforms_sites":
        assert removed[["source_file", "source_row"]].values.tolist() == [
            ["gforms_site_kota.csv", 3]
        ]
    else:
        assert removed["source_row"].tolist() == [first_row + 3]


def test_no_personal_data_survives_anywhere(processed, tmp_path):
    for name, (got, data, log) in processed.items():
        assert {v.name for v in CB.personal}.isdisjoint(data.columns)
        assert {v.name for v in CB.personal}.isdisjoint(got.data.columns)
        for frame in (got.data, data, log.summary(), log.row_log()):
            text = _text(frame)
            for value in PERSONAL_VALUES:
                assert value not in text, f"{name}: {value}"
        paths = []
        for i, frame in enumerate((got.data, data)):
            p = tmp_path / f"{name}_{i}.parquet"
            frame.to_parquet(p)
            paths.append(p)
        clean_csv = tmp_path / f"{name}.csv"
        data.to_csv(clean_csv, index=False)
        fps = privacy.name_fingerprints(pd.Series(["Siti Aminah", "Budi Santoso"]), SECRET)
        assert privacy.scan_paths([*paths, clean_csv], fingerprints=fps, secret=SECRET) == []


def test_keys_are_the_same_pseudonyms_in_every_export(processed):
    keys = {n: p[1]["respondent_key"].tolist() for n, p in processed.items()}
    assert all(k == keys["gforms_id"] for k in keys.values())
    assert all(isinstance(k, str) and "1372" not in k for k in keys["gforms_id"])


def test_free_text_is_masked_and_kobo_artefacts_removed(processed):
    for name in ("gforms_id", "kobo_r"):
        fb = processed[name][1]["feedback"]
        assert "0812" not in fb.iloc[0] and "[TELEPON]" in fb.iloc[0]
        assert "_x000D_" not in fb.iloc[0] and "\n" not in fb.iloc[0]


# --- Kobo specifics ------------------------------------------------------------------------


def test_kobo_uuid_goes_to_the_restricted_ids_only(processed):
    got, data, log = processed["kobo_r"]
    uuids = got.ids["source_id"].tolist()
    assert uuids[0] == "5f0c2a7e-1b3d-4c8e-9a00-0d6e8f1a2b3c" and len(uuids) == 4
    text = _text(data)
    assert not any(u in text for u in uuids)
    assert not any(u in _text(got.data) for u in uuids)
    assert not data["respondent_key"].isin(uuids).any()
    native = processed["kobo_native"][0].ids
    assert native["source_id"].iloc[0] == "0a1b2c3d-0000-4000-8000-000000000000"


def test_kobo_submission_time_and_device_times(processed):
    _, data, log = processed["kobo_r"]
    # _submission_time (the server's, UTC) is submitted_at; `end` is the device's end time
    assert data["submitted_at"].iloc[0] == pd.Timestamp("2025-11-25 07:03:31")
    assert data["ended_at"].iloc[0] == pd.Timestamp("2025-11-25 14:03:22.456")
    assert data["started_at"].iloc[0] == pd.Timestamp("2025-11-25 13:55:01.123")
    # respondent 3 took 100 s from start to end: flagged (kept), whatever the upload delay
    assert data["flag_fast"].tolist() == [False, False, True]
    assert processed["surveymonkey"][1]["flag_fast"].tolist() == [False, False, True]


def test_kobo_na_for_skipped_questions_is_missing_not_dont_know(processed):
    _, data, log = processed["kobo_r"]
    # respondent 2 skipped programme (NA) and sessions (n/a); respondent 4 skipped services too
    assert _touched(log, "not_applicable") >= 2
    assert pd.isna(data["programme"].iloc[1])
    s = log.summary().set_index("rule")
    assert "Tidak tahu" in s.loc["missing_codes", "description"]
    assert "N/A" in s.loc["not_applicable", "description"]


def test_kobo_without_its_xlsform_cannot_read_the_codes(tmp_path):
    cfg = load_config(fixture_config(tmp_path, [{"path": "kobo_r.csv", "format": "kobo"}]))
    got = ingest.ingest_wave(cfg, CB, cfg.waves[0], SECRET)
    assert got.data["skill_1"].iloc[0] == "a4"  # a choice code means nothing without the form
    assert "layanan.pinjam" in got.log["dropped_headers"].iloc[0]  # nor do option codes
    with pytest.raises(InputError) as e:
        clean.clean_wave(got.data, cfg, CB, cfg.waves[0])  # codes are not site names
    assert 'kobo_r.csv, row 3, column "site"' in e.value.text("en")


def test_ingest_log_counts_translation_and_option_columns(processed):
    log = processed["kobo_r"][0].log.iloc[0]
    assert log["option_columns"] == 6
    assert log["xlsform_codes_translated"] > 4 * 16
    assert "today" in log["dropped_headers"] and "X_uuid" not in log["dropped_headers"]


# --- several files per wave ----------------------------------------------------------------


def test_files_of_a_wave_are_combined_with_source_file_and_row(processed):
    got, data, _ = processed["gforms_sites"]
    src = got.data[["source_file", "source_row"]].values.tolist()
    assert src == [
        ["gforms_site_kota.csv", 2],
        ["gforms_site_kota.csv", 3],
        ["gforms_site_lain.csv", 2],
        ["gforms_site_lain.csv", 3],
    ]
    assert data["source_file"].tolist() == [
        "gforms_site_kota.csv",
        "gforms_site_lain.csv",
        "gforms_site_lain.csv",
    ]
    assert got.log["file"].tolist() == ["gforms_site_kota.csv", "gforms_site_lain.csv"]


def test_files_in_site_folders_with_the_same_name_stay_apart(tmp_path):
    for site, src in (("kota", "gforms_site_kota.csv"), ("lain", "gforms_site_lain.csv")):
        (tmp_path / site).mkdir()
        shutil.copy(FIXTURES / src, tmp_path / site / "responses.csv")
    files = [
        {"path": "kota/responses.csv", "format": "csv"},
        {"path": "lain/responses.csv", "format": "csv"},
    ]
    got, data, _ = run(tmp_path, files)
    assert (
        got.data["source_file"].tolist() == ["kota/responses.csv"] * 2 + ["lain/responses.csv"] * 2
    )


def test_dictionary_describes_option_columns(processed):
    data = processed["kobo_r"][1]
    d = clean.dictionary(CB, list(data.columns)).set_index("variable")
    row = d.loc["services_used__children"]
    assert row["type"] == "multiselect option"
    assert row["question_en"].endswith("Children's activities and storytelling")


# --- a second instrument from its own XLSForm: the real Kobo / SurveyMonkey shapes of issue 12 --

WATER = {
    "kobo_water": [{"path": "kobo_water.csv", "format": "kobo", "xlsform": "kobo_water_form.xls"}],
    "surveymonkey_water": [{"path": "surveymonkey_water.xlsx", "format": "xlsx", "header_rows": 2}],
}


def _codebook_yaml(cb, path: Path, **changes) -> Path:
    """A codebook made from the water XLSForm, written as a YAML a survey can name."""
    data = cb.model_dump(mode="python", exclude_defaults=True)
    for v in data["variables"]:
        v.update(changes)
        if "range" in v:
            v["range"] = list(v["range"])
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return path


def run_water(folder: Path, name: str):
    from pipelines.xlsform import codebook_from_xlsform

    form = codebook_from_xlsform(FIXTURES / "kobo_water_form.xlsx")
    optional = {"required": False} if name == "surveymonkey_water" else {}
    _codebook_yaml(form, folder / "water.yaml", **optional)
    cfg = load_config(fixture_config(folder, WATER[name], instrument="water.yaml"))
    cb = load_codebook("water.yaml", folder)
    got = ingest.ingest_wave(cfg, cb, cfg.waves[0], SECRET)
    data, log = clean.clean_wave(got.data, cfg, cb, cfg.waves[0])
    return got, data, log, clean.quality(got.data, data, log, cb)


@pytest.fixture(scope="module")
def water(tmp_path_factory):
    return {name: run_water(tmp_path_factory.mktemp(name), name) for name in WATER}


def _rule(log, rule, column=None):
    s = log.summary()
    s = s[s["rule"].eq(rule) & (s["column"].eq(column) if column else True)]
    return int(s["values_touched"].sum())


def test_kobo_times_with_any_utc_offset_parse_as_local_wall_clock(water):
    got, data, log, _ = water["kobo_water"]
    assert data["start"].notna().all() and data["end"].notna().all()
    assert data["start"].iloc[0] == pd.Timestamp("2021-07-05 10:58:34.147")  # +03
    assert data["start"].iloc[1] == pd.Timestamp("2021-07-05 10:08:54")  # +0700
    assert data["start"].iloc[2] == pd.Timestamp("2021-07-05 08:22:14.739")  # Z
    assert _rule(log, "parse_start") == _rule(log, "parse_end") == 0


def test_relevant_tells_not_asked_from_not_answered(water):
    _, data, log, q = water["kobo_water"]
    assert _rule(log, "not_asked", "age_hoh") == 2  # head of household: not asked
    assert _rule(log, "not_answered", "age_hoh") == 1  # asked, left blank
    assert _rule(log, "answer_not_asked", "age_hoh") == 1  # answered though not asked: removed
    assert data["age_hoh"].iloc[1] == 61 and data["age_hoh"].iloc[[0, 2, 3]].isna().all()
    assert _rule(log, "not_asked", "pay_fair") == 3
    assert data["pay_fair"].tolist()[0] == "fair" and data["pay_fair"].iloc[1:].isna().all()
    assert q["not_asked"]["age_hoh"] == 2 and q["not_asked"]["pay_amount"] == 2


def test_kobo_option_column_with_na_is_missing_not_zero(water):
    _, data, _, _ = water["kobo_water"]
    # respondent 1 answered before "dont_know" joined the form: that option is unknown, not 0
    assert pd.isna(data["sources__dont_know"].iloc[0])
    assert data["sources__piped"].iloc[0] == 1 and data["sources__well"].iloc[0] == 0
    assert data["sources__dont_know"].iloc[1:].tolist() == [0, 1, 0]


@pytest.mark.parametrize("name", list(WATER))
def test_other_please_specify_is_kept_masked_beside_its_ticked_option(water, name):
    got, data, _, _ = water[name]
    assert data["sources__other"].tolist() == [1, 0, 0, 0]  # the tick stays
    text = data["sources__other_text"]
    assert text.iloc[0] == "sumur tetangga, hp [TELEPON]" and text.iloc[1:].isna().all()
    assert "0812" not in _text(got.data) and "0812" not in _text(data)
    from pipelines.xlsform import codebook_from_xlsform

    d = clean.dictionary(
        codebook_from_xlsform(FIXTURES / "kobo_water_form.xlsx"), list(data.columns)
    )
    row = d.set_index("variable").loc["sources__other_text"]
    assert row["type"] == "text (other, specify)" and "other (please specify)" in row["question_en"]
    if name == "kobo_water":  # select_one `or_other`: its text too, the respondent's name masked
        assert data["tenure"].iloc[2] == "other"
        assert data["tenure__other_text"].iloc[2] == "gubuk di kebun Pak [NAMA]"


def test_header_and_ticks_with_different_apostrophes_still_match(water):
    got, data, log, _ = water["surveymonkey_water"]
    # header "Dont know", cells "Don’t know", codebook "Don't know": one option
    assert data["sources__dont_know"].tolist() == [0, 0, 1, 0]
    assert _rule(log, "multiselect_option_unknown") == 0
    assert got.log["columns_dropped_unknown"].iloc[0] == 3  # Respondent ID, Start/End Date


@pytest.mark.parametrize("name", list(WATER))
def test_out_of_range_unknown_options_and_impossible_dates_in_one_summary(water, name):
    from pipelines.runner import cleaning_warnings

    _, data, log, q = water[name]
    assert pd.isna(data["age"].iloc[1])  # the seeded age of 2
    assert q["flagged"]["out_of_range"] >= 1
    shown = [e for e in q["flagged_examples"]["out_of_range"] if e["column"] == "age"]
    assert shown and shown[0]["examples"] == '"2"' and shown[0]["n"] == 1
    lines = cleaning_warnings(log.summary().assign(wave="2025"))
    assert any('"age"' in line and '"2"' in line for line in lines)
    assert any(line.startswith("Flagged in wave 2025:") for line in lines)
    if name == "kobo_water":
        assert q["flagged"]["unknown_option"] == 1  # tenure "numpang"
        assert q["flagged"]["impossible_date"] == 1  # visit on 30 February
        assert q["flagged_examples"]["impossible_date"][0]["examples"] == '"2021-02-30"'
        assert "1 out-of-range value(s), 1 unknown option(s), 1 impossible date(s)" in lines[-1]


def test_kobo_uuids_with_phone_shaped_tails_pass_the_privacy_scan(water, tmp_path):
    got, data, _, _ = water["kobo_water"]
    assert got.ids["source_id"].str.endswith("081234567890").any()
    got.ids.astype(str).to_parquet(tmp_path / "source_ids.parquet", index=False)
    data.to_parquet(tmp_path / "data.parquet", index=False)
    assert privacy.scan_paths([tmp_path]) == []
    assert set(data["key_source"]) == {"phone"}  # the codebook's own phone column keys rows


@pytest.mark.parametrize(
    "header, values, is_text",
    [
        ("sources_other", ["sumur", ""], True),  # Kobo <question>_other
        ("grp/sources/other", ["sumur tetangga", "0"], True),  # Kobo /other holding text
        ("sources.other", ["TRUE", "FALSE"], False),  # the option's tick, not text
        ("Where does your water come from? - Other (please specify)", ["", ""], True),
        ("Where does your water come from? - Lainnya (sebutkan)", ["kali", ""], True),
    ],
)
def test_other_text_headers(header, values, is_text):
    from pipelines.xlsform import codebook_from_xlsform

    cb = codebook_from_xlsform(FIXTURES / "kobo_water_form.xlsx")
    df = pd.DataFrame({"source_file": "f", "source_row": [2, 3], header: values})
    out, texts = multiselect.split_other_text(df, cb, {})
    assert (texts == ["sources__other_text"]) is is_text
