"""Survey config validation: good configs load, bad ones name the file, the key and the fix."""

import shutil
from pathlib import Path

import pytest
import yaml

from pipelines.config import load_config
from pipelines.errors import ConfigError, set_language
from pipelines.paths import RAW

SAMPLE = RAW / "solok"


@pytest.fixture
def survey_dir(tmp_path) -> Path:
    d = tmp_path / "solok"
    shutil.copytree(SAMPLE, d, ignore=shutil.ignore_patterns("*.sav", "*.xlsx", "truth.json"))
    return d


def _edit(path: Path, change) -> Path:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return path


def test_sample_config_extends_baseline_and_appends_the_wave():
    cfg = load_config(SAMPLE / "solok_2026.yaml", check_files=False)
    assert cfg.survey.id == "solok-2026"
    assert [w.id for w in cfg.waves] == ["2025", "2026"]
    assert len(cfg.sites) >= 10
    assert cfg.kelurahan["Tanah Garam"] == "Lubuk Sikarah"
    assert cfg.design.weights.method == "rake"
    assert cfg.report.suppression_threshold == 10


def test_typo_key_names_file_key_and_suggestion(survey_dir):
    p = _edit(survey_dir / "solok_2025.yaml", lambda d: d.update(sitess=d.pop("sites")))
    with pytest.raises(ConfigError) as e:
        load_config(p, check_files=False)
    msg = e.value.text("en")
    assert "solok_2025.yaml" in msg and "sitess" in msg and "did you mean 'sites'" in msg


def test_wrong_type_is_named(survey_dir):
    p = _edit(
        survey_dir / "solok_2025.yaml", lambda d: d["report"].update(suppression_threshold="ten")
    )
    with pytest.raises(ConfigError, match=r"report\.suppression_threshold"):
        load_config(p, check_files=False)


def test_unknown_weight_method(survey_dir):
    p = _edit(survey_dir / "solok_2025.yaml", lambda d: d["design"]["weights"].update(method="rak"))
    with pytest.raises(ConfigError, match=r"design\.weights\.method"):
        load_config(p, check_files=False)


def test_missing_raw_file_is_named(survey_dir):
    p = _edit(
        survey_dir / "solok_2025.yaml",
        lambda d: d["waves"][0]["files"][0].update(path="missing.csv"),
    )
    with pytest.raises(ConfigError, match="missing.csv"):
        load_config(p)


def test_path_outside_the_survey_folder_is_refused(survey_dir):
    p = _edit(
        survey_dir / "solok_2025.yaml",
        lambda d: d["waves"][0]["files"][0].update(path="../../etc/passwd"),
    )
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert "outside the survey's folder" in e.value.text("en")
    assert "di luar folder survei" in str(e.value)  # the sample config speaks Indonesian


def test_site_in_unknown_kecamatan(survey_dir):
    p = _edit(survey_dir / "solok_2025.yaml", lambda d: d["sites"][0].update(kecamatan="Nowhere"))
    with pytest.raises(ConfigError, match="Nowhere"):
        load_config(p, check_files=False)


def test_margins_must_cover_every_kelurahan(survey_dir):
    p = _edit(
        survey_dir / "solok_2025.yaml",
        lambda d: d["design"]["weights"]["margins"]["kelurahan"].pop("Laing"),
    )
    with pytest.raises(ConfigError, match="Laing"):
        load_config(p, check_files=False)


def test_not_yaml_and_not_a_mapping(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("survey: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    bad.write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(bad)


def test_messages_in_indonesian(tmp_path):
    set_language("id")
    try:
        with pytest.raises(ConfigError) as e:
            load_config(tmp_path / "nope.yaml")
        assert "tidak ada" in str(e.value)
    finally:
        set_language("en")


# --- duplicate keys: every YAML Dampak loads refuses them -------------------------------------


def test_config_with_a_key_given_twice_names_file_line_and_key(survey_dir):
    p = survey_dir / "solok_2025.yaml"
    text = p.read_text()
    p.write_text(text + "\nreport:\n  suppression_threshold: 5\n")  # `report:` is already there
    with pytest.raises(ConfigError) as e:
        load_config(p, check_files=False)
    msg = e.value.text("en")
    line = len(text.splitlines()) + 2
    assert "solok_2025.yaml" in msg and f"line {line}" in msg and "'report'" in msg
    assert "given twice" in msg and "ditulis dua kali" in e.value.text("id")


def test_nested_duplicate_key_in_a_config_is_refused(survey_dir):
    p = survey_dir / "solok_2025.yaml"
    p.write_text(
        p.read_text().replace("  strata: kecamatan", "  strata: kecamatan\n  strata: site")
    )
    with pytest.raises(ConfigError, match=r"'strata' is given twice"):
        load_config(p, check_files=False)


def test_codebook_with_a_variable_key_given_twice_is_refused(tmp_path):
    from pipelines.codebook import INSTRUMENTS, load_codebook

    text = (INSTRUMENTS / "tpbis.yaml").read_text(encoding="utf-8")
    assert "  agree4:\n    points: 4\n" in text
    bad = text.replace("  agree4:\n    points: 4\n", "  agree4:\n    points: 4\n    points: 5\n")
    (tmp_path / "cb.yaml").write_text(bad, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_codebook(str(tmp_path / "cb.yaml"))
    msg = e.value.text("en")
    assert "cb.yaml" in msg and "'points' is given twice" in msg and "lines" in msg


def test_yaml_merge_keys_and_distinct_keys_still_load():
    from pipelines.config import read_yaml

    data = read_yaml("base: &b {k: 1, j: 2}\nchild:\n  <<: *b\n  k: 3\n1: x\n'1': y\n")
    assert data == {"base": {"k": 1, "j": 2}, "child": {"k": 3, "j": 2}, 1: "x", "1": "y"}


def test_duplicate_key_error_without_a_source_is_a_yaml_error():
    from pipelines.config import DuplicateKeyError, read_yaml

    with pytest.raises(DuplicateKeyError) as e:
        read_yaml("a: 1\nb: 2\na: 3\n")
    assert (e.value.key, e.value.first_line, e.value.line) == ("a", 1, 3)
    assert isinstance(e.value, yaml.YAMLError)


def test_weight_variance_defaults_to_calibrated_and_is_validated(survey_dir):
    cfg = load_config(SAMPLE / "solok_2026.yaml", check_files=False)
    assert cfg.design.weights.variance == "calibrated"
    p = _edit(
        survey_dir / "solok_2025.yaml", lambda d: d["design"]["weights"].update(variance="exact")
    )
    with pytest.raises(ConfigError, match=r"design\.weights\.variance"):
        load_config(p, check_files=False)


def test_multistage_design_config(survey_dir):
    """design.cluster and design.fpc take one column per stage; mismatches are named."""
    path = survey_dir / "solok_2025.yaml"
    p = _edit(
        path,
        lambda d: d["design"].update(
            cluster=["site", "respondent_key"], fpc=["n_sites", "n_members"]
        ),
    )
    cfg = load_config(p, check_files=False)
    assert cfg.design.stage_ids == ["site", "respondent_key"] and cfg.design.site == "site"
    p = _edit(path, lambda d: d["design"].update(fpc=["n_sites"]))
    with pytest.raises(ConfigError, match="one fpc per stage"):
        load_config(p, check_files=False)
    p = _edit(path, lambda d: d["design"].update(fpc="n_sites"))
    with pytest.raises(ConfigError, match="one\\s+column per stage"):
        load_config(p, check_files=False)
    p = _edit(path, lambda d: d["design"].update(cluster=["site", "site"], fpc=None))
    with pytest.raises(ConfigError, match="twice"):
        load_config(p, check_files=False)


def test_small_group_rules_validated(survey_dir):
    cfg = load_config(SAMPLE / "solok_2026.yaml", check_files=False)
    assert (cfg.analysis.min_group_size, cfg.analysis.min_events_per_variable) == (30, 5.0)
    p = _edit(
        survey_dir / "solok_2025.yaml",
        lambda d: d["analysis"].update(min_group_size=50, min_events_per_variable=10),
    )
    cfg = load_config(p, check_files=False)
    assert (cfg.analysis.min_group_size, cfg.analysis.min_events_per_variable) == (50, 10)
    for bad in (
        {"min_group_size": 1, "min_events_per_variable": 5},
        {"min_group_size": 30, "min_events_per_variable": 0},
    ):
        p = _edit(survey_dir / "solok_2025.yaml", lambda d, b=bad: d["analysis"].update(b))
        with pytest.raises(
            ConfigError, match=r"analysis\." + next(k for k, v in bad.items() if v < 2)
        ):
            load_config(p, check_files=False)


def _replicate(d, **rep):
    d["design"]["weights"] = {"method": "column", "column": "wt"}
    d["design"]["replicate"] = rep


def test_replicate_weights_load_and_match_columns_in_natural_order(survey_dir):
    path = _edit(
        survey_dir / "solok_2025.yaml", lambda d: _replicate(d, columns="repw_*", type="JK1")
    )
    rep = load_config(path).design.replicate
    headers = ["wt", "repw_10", "repw_2", "repw_1", "other"]
    assert rep.match(headers) == ["repw_1", "repw_2", "repw_10"]
    assert rep.missing(headers) == [] and rep.missing(["wt"]) == ["repw_*"]
    assert rep.design_options(["a", "b"])["type"] == "JK1"


@pytest.mark.parametrize(
    ("rep", "weights", "en", "id_"),
    [
        ({"columns": "r*"}, None, "needs 'type'", "memerlukan 'type'"),
        ({"columns": "r*", "type": "JKn"}, None, "needs 'rscales'", "memerlukan 'rscales'"),
        ({"columns": "r*", "type": "Fay"}, None, "needs 'rho'", "memerlukan 'rho'"),
        ({"columns": "r*", "type": "BRR", "scale": 2}, None, "remove 'scale'", "hapus 'scale'"),
        ({"columns": "r*", "create": "JK1"}, None, "not both", "tidak keduanya"),
        ({"create": "JK1"}, None, "use create: JKn", "pakai create: JKn"),
        ({"create": "JKn", "type": "JK1"}, None, "type belong only", "type hanya dipakai"),
        ({"columns": "r*", "type": "JK1"}, {"method": "none"}, "main weight", "bobot utama"),
        (
            {"columns": "r*", "type": "JK1"},
            "rake",
            "method: rake with column",
            "method: rake dengan",
        ),
    ],
)
def test_replicate_config_errors_name_the_key_in_both_languages(survey_dir, rep, weights, en, id_):
    """Each wrong replicate block is refused once, by validation, naming design.replicate."""

    def change(d):
        if weights != "rake":
            d["design"]["weights"] = weights or {"method": "column", "column": "wt"}
        d["design"]["replicate"] = rep

    for lang, fragment in (("en", en), ("id", id_)):
        path = _edit(
            survey_dir / "solok_2025.yaml",
            lambda d, lang=lang: d.update(messages_language=lang) or change(d),
        )
        with pytest.raises(ConfigError) as e:
            load_config(path, check_files=False)
        assert "design.replicate" in str(e.value) or "design" in str(e.value)
        assert fragment in str(e.value), str(e.value)
    set_language("en")


def test_raking_with_replicates_loads_with_a_base_weight_for_given_columns(survey_dir):
    """Raking and replicates go together (each replicate is raked): created replicates start
    from 1, given ones need the weight they were made from as the raking's ``column``."""
    path = _edit(
        survey_dir / "solok_2025.yaml", lambda d: d["design"].update(replicate={"create": "JKn"})
    )
    cfg = load_config(path, check_files=False)
    assert cfg.design.weights.method == "rake" and cfg.design.replicate.create == "JKn"

    def given(d):
        d["design"]["weights"]["column"] = "wt"
        d["design"]["replicate"] = {"columns": "repw_*", "type": "JK1"}

    cfg = load_config(_edit(survey_dir / "solok_2025.yaml", given), check_files=False)
    assert (cfg.design.weights.method, cfg.design.weights.column) == ("rake", "wt")


def test_every_replicate_key_is_documented_with_an_example():
    """docs/codebook.md names every key of design.replicate (a new key needs its entry)."""
    from pipelines.config import Replicate
    from pipelines.paths import ROOT

    doc = (ROOT / "docs" / "codebook.md").read_text()
    assert "`design.replicate`" in doc and 'replicate: {columns: "repw_*", type: JK1}' in doc
    assert [k for k in Replicate.model_fields if f"`{k}`" not in doc] == []


def test_a_config_read_again_is_reused_until_one_of_its_files_changes(survey_dir):
    """A warm kernel writing one report per library loads the config once; a change to the
    file itself or to the config it extends (even of the same size) is read."""
    child, parent = survey_dir / "solok_2026.yaml", survey_dir / "solok_2025.yaml"
    first = load_config(child, check_files=False)
    assert load_config(child, check_files=False) is first
    text = parent.read_text()
    parent.write_text(text.replace("suppression_threshold: 10", "suppression_threshold: 12"))
    assert "suppression_threshold: 12" in parent.read_text()  # a same-size edit of the parent
    second = load_config(child, check_files=False)
    assert second is not first and second.report.suppression_threshold == 12
    child.write_text(child.read_text() + "\n")
    third = load_config(child, check_files=False)
    assert third is not second and third.report.suppression_threshold == 12
    _edit(child, lambda d: d.update(bogus_key=1))
    with pytest.raises(ConfigError, match="bogus_key"):  # reported, never an older config reused
        load_config(child, check_files=False)
