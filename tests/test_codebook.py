"""The bundled TPBIS codebook loads, is consistent, and matches raw headers robustly."""

import pytest

from pipelines.codebook import header_key, load_codebook
from pipelines.errors import ConfigError
from pipelines.ingest import map_headers


@pytest.fixture(scope="module")
def cb():
    return load_codebook("tpbis")


def test_instrument_covers_the_constructs(cb):
    assert set(cb.scales) == {"skills", "confidence", "social", "library_roles"}
    assert cb.scales["skills"].reverse == ["skill_4"]
    kinds = {v.personal for v in cb.personal}
    assert {"name", "phone", "nik", "email", "address"} <= kinds
    roles = {v.role for v in cb.variables if v.role}
    assert {"consent", "site", "submitted_at", "respondent_key", "treatment"} <= roles
    assert {"income", "business", "got_job", "income_change"} <= {v.name for v in cb.variables}


def test_header_key_ignores_case_spacing_punctuation_and_kobo_groups():
    assert header_key("  Jenis  Kelamin ") == header_key("jenis_kelamin")
    assert header_key("grp_demografi/jenis_kelamin") == "jenis kelamin"


def test_headers_map_by_question_alias_and_override(cb):
    headers = ["Timestamp", "Jenis kelamin ", "NIK", "pendapatan", "Kolom aneh", "Q9"]
    m = map_headers(headers, cb, {"Q9": "got_job"})
    assert m.columns == {
        "Timestamp": "submitted_at",
        "Jenis kelamin ": "gender",
        "NIK": "nik",
        "pendapatan": "income",
        "Q9": "got_job",
    }
    assert m.unmatched == ["Kolom aneh"]


def test_unknown_instrument_is_a_clear_error():
    with pytest.raises(ConfigError, match="tpbis"):
        load_codebook("nosuch")


@pytest.mark.parametrize(
    "a, b",
    [
        ("Master’s degree", "Masters degree"),  # curly apostrophe vs none
        ("master's", "MASTERS"),
        ("Ibu rumah tangga – IRT", "Ibu rumah tangga - IRT"),  # en dash
        ("Ibu rumah tangga — IRT", "ibu rumah tangga-IRT"),  # em dash
        ("Jenis\u00a0kelamin", "Jenis kelamin"),  # non-breaking space
        ("Kegiatan\u200b anak", "Kegiatan anak"),  # zero-width space
    ],
)
def test_labels_and_headers_match_across_apostrophes_dashes_and_spaces(a, b):
    from pipelines import clean, multiselect

    assert header_key(a) == header_key(b)
    assert multiselect.fold(a) == multiselect.fold(b)
    assert clean.category_key(a) == clean.category_key(b)


def test_categorical_keys_keep_meaningful_punctuation():
    from pipelines import clean

    assert clean.category_key("≥ 3.50") != clean.category_key("< 3.50")


def test_a_codebook_with_several_problems_names_every_one(tmp_path):
    """`check` reports every problem in one go, so the codebook loader lists all of them,
    in English and Indonesian."""
    import yaml

    from pipelines.codebook import INSTRUMENTS

    data = yaml.safe_load((INSTRUMENTS / "tpbis.yaml").read_text())
    data["scales"]["skills"]["items"].append("skill_9")
    data["roles"]["covariates"].append("height")
    data["roles"]["exposure"]["took_part"] = "gender"
    path = tmp_path / "cb.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    with pytest.raises(ConfigError) as err:
        load_codebook(str(path))
    text = err.value.text("en")
    assert "has 3 problems" in text
    assert "skill_9" in text and "height" in text and "must be yesno" in text
    assert err.value.text("id").startswith(f"Buku kode {path} punya 3 masalah")


def test_every_codebook_key_is_documented_with_an_example():
    """docs/codebook.md names every key a codebook may have (a new key needs its entry)."""
    from pipelines import codebook as m
    from pipelines.paths import ROOT

    doc = (ROOT / "docs" / "codebook.md").read_text()
    models = [m.Codebook, m.LabelSet, m.Variable, m.Level, m.Scale, m.Roles, m.Exposure,
              m.OutcomeRole, m.Derived]  # fmt: skip
    keys = {f.alias or name for model in models for name, f in model.model_fields.items()}
    keys |= {"optional_variables"}
    missing = sorted(k for k in keys if f"`{k}`" not in doc)
    assert missing == []
    for kind in ("scale", "likert", "yesno", "money", "count"):
        assert f"`{kind}`" in doc
    assert doc.count("```yaml") >= 14  # an example per section
    assert "docs/codebook.md" in (ROOT / "README.md").read_text()


def _reading_codebook(outcomes: list) -> dict:
    """A small questionnaire that is not TPBIS: six-point items, a yes/no and a number."""
    items = [{"name": f"q{i}", "type": "likert", "range": [1, 6]} for i in (1, 2, 3)]
    return {
        "id": "reading",
        "version": "1",
        "title": {"id": "Kebiasaan membaca", "en": "Reading habits"},
        "variables": [
            *({**v, "question": {"id": v["name"], "en": v["name"]}} for v in items),
            {"name": "member", "type": "yesno", "question": {"id": "Anggota", "en": "Member"}},
            {"name": "books", "type": "numeric", "question": {"id": "Buku", "en": "Books"}},
        ],
        "scales": {"habit": {"label": {"id": "Kebiasaan", "en": "Habit"}, "items": ["q1", "q2"]}},
        "roles": {"outcomes": outcomes},
    }


def test_an_outcome_named_alone_gets_the_kind_its_scale_or_variable_implies(tmp_path):
    """Staff write `outcomes: [habit, q3, member]` as init's advice says; a number question
    is money or a count, which only the staff can say, so it is asked for by name."""
    import yaml

    path = tmp_path / "cb.yaml"
    path.write_text(yaml.safe_dump(_reading_codebook(["habit", "q3", "member"])))
    roles = load_codebook(str(path)).roles.outcomes
    assert [(o.var, o.kind) for o in roles] == [
        ("habit", "scale"),
        ("q3", "likert"),
        ("member", "yesno"),
    ]
    path.write_text(yaml.safe_dump(_reading_codebook(["habit", {"var": "books", "kind": "count"}])))
    assert [o.kind for o in load_codebook(str(path)).roles.outcomes] == ["scale", "count"]
    path.write_text(yaml.safe_dump(_reading_codebook(["habit", "books", "nothing"])))
    with pytest.raises(ConfigError) as err:
        load_codebook(str(path))
    text = err.value.text("en")
    assert "has 1 problem" in text and "['books', 'nothing']" in text
    assert "{var: <name>, kind: money} or {var: <name>, kind: count}" in text


@pytest.mark.parametrize(
    ("band", "problem"),
    [
        ({"from": "income", "how": "bands", "cuts": [0, 1e6, 5e6], "money": True}, None),
        ({"from": "sessions", "how": "bands", "cuts": [0, 1, 4, 10]}, None),
        ({"from": "sessions", "how": "bands", "cuts": [4, 1]}, "two or more increasing numbers"),
        ({"from": "sessions", "how": "bands", "cuts": [0]}, "two or more increasing numbers"),
        ({"from": "sessions", "how": "bands", "cuts": [0, 2.5]}, "must be whole numbers"),
        ({"from": "sessions", "how": "bands"}, "bands need 'cuts'"),
        ({"from": "gender", "how": "bands", "cuts": "age_bands"}, "'gender' is categorical"),
    ],
)
def test_bands_cut_a_number_at_named_or_own_cut_points(tmp_path, band, problem):
    """`cuts` is `age_bands` / `income_bands` (the config's lists) or the codebook's own
    increasing whole numbers (any numbers for money); a band of a categorical is refused."""
    import yaml

    from pipelines.codebook import INSTRUMENTS

    data = yaml.safe_load((INSTRUMENTS / "tpbis.yaml").read_text())
    data["roles"]["derived"]["my_band"] = band
    path = tmp_path / "cb.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    if problem is None:
        assert load_codebook(str(path)).roles.derived["my_band"].cuts == band["cuts"]
        return
    with pytest.raises(ConfigError) as err:
        load_codebook(str(path))
    assert "roles.derived.my_band" in err.value.text("en") and problem in err.value.text("en")
