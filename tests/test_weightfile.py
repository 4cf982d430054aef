"""Tests for pipelines.weightfile: weights delivered as a CSV/Excel file, read with the
project's number rules and matched to respondents by key, every problem named by file, row and
column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import FIXTURES, write_config

from pipelines.stats.weights import WeightingError
from pipelines.weightfile import from_file, read_weight_file


def _spec(**kw):
    from pipelines.config import Weights

    return Weights(method="file", **{"path": "w.csv", "key": "kelurahan", "column": "bobot"} | kw)


def _people(*kel: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "kelurahan": list(kel),
            "source_file": "export.csv",
            "source_row": np.arange(2, 2 + len(kel)),
        }
    )


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "w.csv").write_bytes((FIXTURES / "weights_kelurahan.csv").read_bytes())
    return tmp_path


def test_weights_per_group_with_decimal_commas_and_unused_rows_reported(folder):
    w, info = from_file(_people("Laing", "aro iv korong", "Laing "), _spec(), folder)
    assert w.tolist() == [0.38, 1.25, 0.38]  # "0,38": decimal comma; case/spaces ignored
    assert info["n_unmatched_rows"] == 0
    assert (info["n_file_rows_unused"], info["file_rows_unused"]) == (1, "4")  # Koto Panjang
    assert "w.csv" in info["note"] and "rows 4" in info["note"]


def test_unmatched_keys_stop_the_run_naming_file_rows_and_the_fix(folder):
    df = _people("Laing", "Tanah Garam", "Tanah Garam")
    with pytest.raises(WeightingError) as e:
        from_file(df, _spec(), folder)
    en, idn = e.value.text("en"), e.value.text("id")
    assert "w.csv" in en and 'column "kelurahan"' in en and "'Tanah Garam'" in en
    assert "2 respondent(s)" in en and "export.csv, row 3" in en and "unmatched: mean" in en
    assert "berkas w.csv" in idn and "tambahkan" in idn
    w, info = from_file(df, _spec(unmatched="mean"), folder)
    assert w.tolist() == [0.38, 0.38, 0.38] and info["n_unmatched_rows"] == 2
    assert info["unmatched_keys"] == "Tanah Garam" and "mean weight" in info["note"]
    # a row without any key (an unlisted kelurahan is set missing by cleaning): mean, no stop
    w, info = from_file(_people("Laing", None, "Aro IV Korong"), _spec(), folder)
    assert w.tolist() == [0.38, (0.38 + 1.25) / 2, 1.25] and info["n_unmatched_rows"] == 0
    assert "1 row(s) without a kelurahan get the mean weight" in info["note"]


@pytest.mark.parametrize(
    "text, where",
    [
        ("kelurahan;bobot\nLaing;0,38\nAro IV Korong;nol\n", ('row 3, column "bobot"', "'nol'")),
        ("kelurahan;bobot\nLaing;0,38\nAro IV Korong;-1\n", ('row 3, column "bobot"', "'-1'")),
        ("kelurahan;bobot\nLaing;0,38\nlaing;0,5\n", ('row 2, column "kelurahan"', "2, 3")),
        ("desa;bobot\nLaing;0,38\n", ("column 'kelurahan'", "desa, bobot")),
    ],
)
def test_a_broken_weights_file_is_named_with_row_and_column(folder, text, where):
    (folder / "w.csv").write_text(text)
    with pytest.raises(WeightingError) as e:
        from_file(_people("Laing"), _spec(), folder)
    assert all(part in e.value.text("en") for part in where), e.value.text("en")
    assert "w.csv" in e.value.text("id")


def test_weights_per_respondent_id_and_file_key(folder):
    (folder / "w.csv").write_text("id_responden,weight\n007,2.5\n8,1.5\n9,1\n")
    df = pd.DataFrame({"respondent_id": ["7", "008", "9"]})
    spec = _spec(key="respondent_id", file_key="id_responden", column="weight")
    w, _ = from_file(df, spec, folder)
    assert w.tolist() == [2.5, 1.5, 1.0]  # "1.5" with a dot stays 1.5; "007" = "7"
    (folder / "w.csv").write_text('id_responden,weight\n7,"1,500"\n8,"0,5"\n9,1\n')
    assert from_file(df, spec, folder)[0].tolist() == [1.5, 0.5, 1.0]  # commas only: decimal


def test_make_weights_uses_the_file_and_config_validates_it(folder):
    import yaml

    from pipelines.analysis import make_weights
    from pipelines.config import load_config
    from pipelines.errors import ConfigError

    weights = {"method": "file", "path": "w.csv", "key": "kelurahan", "column": "bobot"}
    cfg_path = write_config(folder, design={"strata": None, "cluster": None, "weights": weights})
    cfg = load_config(cfg_path, check_files=False)
    w, info = make_weights(_people("Aro IV Korong", "Laing"), cfg)
    assert w.tolist() == [1.25, 0.38] and info["method"] == "file"

    data = yaml.safe_load(cfg_path.read_text())
    del data["design"]["weights"]["key"]
    cfg_path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"method 'file' needs key"):
        load_config(cfg_path, check_files=False)
    for w in ("2025", "2026"):
        (folder / f"solok_{w}.csv").write_text("x\n1\n")  # the raw exports exist
    for path in ("../elsewhere.csv", "missing.csv"):  # outside the survey's folder; absent
        data["design"]["weights"].update(key="kelurahan", path=path)
        cfg_path.write_text(yaml.safe_dump(data))
        with pytest.raises(ConfigError, match=r"design\.weights\.path"):
            load_config(cfg_path)


def test_read_weight_file_gives_keys_as_written_weights_and_spreadsheet_rows(folder):
    got = read_weight_file(folder / "w.csv", "kelurahan", "bobot")
    assert list(got.columns) == ["key", "weight", "row"]
    assert got["key"].tolist() == ["Laing", "Aro IV Korong", "Koto Panjang"]
    assert got["weight"].tolist() == [0.38, 1.25, 0.9]
    assert got["row"].tolist() == [2, 3, 4]  # the header is row 1, as a spreadsheet shows it


def test_an_excel_weights_file_is_read_like_a_csv(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for rec in (["id_responden", "weight"], [7, 2.5], ["008", 0.5], [9, "1,25"], [10, 0]):
        ws.append(rec)
    wb.save(tmp_path / "w.xlsx")
    spec = _spec(path="w.xlsx", key="respondent_id", file_key="id_responden", column="weight")
    with pytest.raises(WeightingError) as e:  # the zero weight on spreadsheet row 5
        from_file(pd.DataFrame({"respondent_id": ["7"]}), spec, tmp_path)
    assert 'file w.xlsx, row 5, column "weight"' in e.value.text("en")
    assert "'0'" in e.value.text("en") and "1 such row(s)" in e.value.text("en")
    ws.delete_rows(5)
    wb.save(tmp_path / "w.xlsx")
    df = pd.DataFrame({"respondent_id": ["9", "7", "8"]})
    w, info = from_file(df, spec, tmp_path)
    assert w.tolist() == [1.25, 2.5, 0.5]  # Excel's number 7 matches "7", its "008" "8"
    assert info["note"] == "weights from w.xlsx by respondent_id (3 rows)"


def test_the_data_must_have_the_key_column(folder):
    with pytest.raises(WeightingError) as e:
        from_file(pd.DataFrame({"desa": ["Laing"]}), _spec(), folder)
    en = e.value.text("en")
    assert en.startswith("In file w.csv:") and "no column 'kelurahan'" in en
    assert "design.weights.key" in en and "design.weights.key" in e.value.text("id")


def test_every_weight_maps_to_its_own_row_whatever_the_order(folder):
    (folder / "w.csv").write_text("kelurahan,bobot\nA,1\nB,2\nC,3\nD,4\n")
    rng = np.random.default_rng(3)
    keys = rng.choice(list("ABCD"), size=50)
    w, info = from_file(_people(*keys), _spec(), folder)
    assert w.tolist() == [float("ABCD".index(k) + 1) for k in keys]
    assert info["n_file_rows_unused"] == len({"A", "B", "C", "D"} - set(keys))


def test_mean_weight_for_the_unmatched_is_the_mean_of_the_matched(folder):
    (folder / "w.csv").write_text("kelurahan,bobot\nA,1\nB,4\n")
    w, info = from_file(_people("A", "B", "B", "Z"), _spec(unmatched="mean"), folder)
    assert w.tolist() == [1.0, 4.0, 4.0, 3.0]  # Z: (1 + 4 + 4) / 3 over the matched rows
    assert (info["n_unmatched_rows"], info["unmatched_keys"]) == (1, "Z")
    w, info = from_file(_people("Y", "Z"), _spec(unmatched="mean"), folder)
    assert w.tolist() == [1.0, 1.0]  # nothing matched: equal weights
    assert info["n_file_rows_unused"] == 2 and info["file_rows_unused"] == "2, 3"


def test_the_unmatched_error_names_the_file_key_column_and_lists_few_keys(folder):
    (folder / "w.csv").write_text("kode,bobot\nA,1\n")
    df = _people(*[f"K{i}" for i in range(8)], "A")
    with pytest.raises(WeightingError) as e:
        from_file(df, _spec(file_key="kode"), folder)
    en = e.value.text("en")
    assert 'column "kode"' in en and "8 respondent(s) have a kelurahan" in en
    assert "'K4'" in en and "'K5'" not in en  # five keys named, not all eight
    assert "export.csv, row 2" in en  # the first unmatched respondent's row in the export
