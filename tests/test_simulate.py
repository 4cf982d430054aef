"""Tests for the synthetic-data generator (pipelines/simulate/)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from pipelines import simulate as sm

ROOT = Path(__file__).resolve().parents[1]
CODEBOOK = ROOT / "pipelines" / "instruments" / "tpbis.yaml"
CONFIG = ROOT / "data" / "raw" / "solok" / "solok_2025.yaml"
N = 400

LIKERT_CODE = {
    "sangat tidak setuju": 1,
    "sts": 1,
    "tidak setuju": 2,
    "ts": 2,
    "netral": 3,
    "ragu-ragu": 3,
    "rr": 3,
    "setuju": 4,
    "s": 4,
    "agree": 4,
    "sangat setuju": 5,
    "ss": 5,
    "strongly agree": 5,
}


@pytest.fixture(scope="module")
def sim():
    return sm.simulate(n_per_wave=N, seed=11)


@pytest.fixture(scope="module")
def codebook():
    return yaml.safe_load(CODEBOOK.read_text(encoding="utf-8"))


def _col(frame: pd.DataFrame, codebook: dict, name: str) -> pd.Series:
    names = [v["name"] for v in codebook["variables"] if v["name"] != "started_at"]
    return frame.iloc[:, names.index(name)]


def _likert(frame, codebook, name):
    s = _col(frame, codebook, name).str.strip().str.lower()
    return s.map(LIKERT_CODE).astype(float)


def test_headers_follow_codebook(sim, codebook):
    expected = ["Timestamp"]
    for v in codebook["variables"]:
        if v["name"] in ("submitted_at", "started_at"):
            continue
        q = v["question"]["id"]
        expected.append(q + " " if v["name"] == "got_job" else q)
    for frame in sim.waves.values():
        assert list(frame.columns) == expected
        assert len(frame) == N
    assert list(sim.waves) == ["2025", "2026"]
    cfg = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    assert sm.GOT_JOB_HEADER in cfg["columns"]


def test_places_match_config():
    cfg = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    assert cfg["places"]["kecamatan"] == sm.KECAMATAN
    assert cfg["places"]["aliases"] == sm.PLACE_ALIASES
    assert cfg["design"]["weights"]["margins"]["kelurahan"] == sm.KELURAHAN_POP
    pl = sm.make_places(None, 1)
    assert [s["name"] for s in pl.sites] == [s["name"] for s in cfg["sites"]]


def test_deterministic_csv(tmp_path):
    a = sm.simulate(300, seed=5)
    b = sm.simulate(300, seed=5)
    c = sm.simulate(300, seed=6)
    sm.write(a, tmp_path / "a", formats=("csv",))
    sm.write(b, tmp_path / "b", formats=("csv",))
    sm.write(c, tmp_path / "c", formats=("csv",))
    for w in ("2025", "2026"):
        fa = (tmp_path / "a" / f"solok_{w}.csv").read_bytes()
        assert fa == (tmp_path / "b" / f"solok_{w}.csv").read_bytes()
        assert fa != (tmp_path / "c" / f"solok_{w}.csv").read_bytes()
    assert (tmp_path / "a" / "truth.json").read_bytes() == (
        tmp_path / "b" / "truth.json"
    ).read_bytes()


def _norm(df: pd.DataFrame, rstrip: bool = False) -> list[list]:
    """Cells as text, missing / empty as None, whole-number floats without ".0"."""

    def cell(x):
        if x is None or x is pd.NA or (isinstance(x, float) and np.isnan(x)) or x == "":
            return None
        if isinstance(x, float) and x.is_integer():
            return str(int(x))
        return str(x).rstrip() if rstrip else str(x)

    return [[cell(x) for x in row] for row in df.astype(object).itertuples(index=False)]


def test_formats_hold_the_same_table(sim, tmp_path):
    pyreadstat = pytest.importorskip("pyreadstat")
    sm.write(sim, tmp_path, formats=("csv", "xlsx", "sav"))
    for wid, frame in sim.waves.items():
        ref = _norm(frame)
        csv = pd.read_csv(tmp_path / f"solok_{wid}.csv", dtype=str, keep_default_na=False)
        xl = pd.read_excel(tmp_path / f"solok_{wid}.xlsx", sheet_name=sm.SHEET_NAME, dtype=str)
        sav, meta = pyreadstat.read_sav(
            str(tmp_path / f"solok_{wid}.sav"), apply_value_formats=True
        )
        # SPSS pads labels with blanks, so readstat drops the got-job header's trailing space
        # (the header then matches the codebook question text directly)
        assert meta.column_labels == [h.rstrip() for h in frame.columns]
        sav.columns = frame.columns
        for other in (csv, xl):
            assert list(other.columns) == list(frame.columns)
            assert _norm(other) == ref
        # SPSS strings are blank-padded: trailing spaces ("setuju ") do not survive SAV
        assert _norm(sav, rstrip=True) == _norm(frame, rstrip=True)


def test_mess_counts_match_frame(sim, codebook):
    for wid, frame in sim.waves.items():
        m = sim.truth["mess"][wid]
        nik = _col(frame, codebook, "nik")
        assert (nik.value_counts() > 1).sum() == m["duplicate_keys"]
        assert nik.dropna().duplicated().sum() == m["duplicate_rows"]
        assert nik.isna().sum() == m["no_consent_blank"]
        assert nik.dropna().str.fullmatch(r"1372\d{12}").all()
        consent = _col(frame, codebook, "consent")
        assert (consent == "Tidak").sum() == m["no_consent"]
        ok = consent != "Tidak"
        by = _col(frame, codebook, "birth_year")
        num = pd.to_numeric(by, errors="coerce")
        bad = by.notna() & ~num.between(1920, 2015)
        assert bad.sum() == m["birth_year_impossible"]
        assert (by.isna() & ok).sum() == m["birth_year_blank"]
        inc = _col(frame, codebook, "income")
        assert inc.str.match(r"-\d").fillna(False).sum() == m["income_negative"]
        assert (inc.isna() & ok).sum() == m["income_blank"]
        kel = _col(frame, codebook, "kelurahan")
        assert kel.isin(sm.answers("junk_kelurahan")).sum() == m["kelurahan_unmatched"]
        lik = frame[[frame.columns[i] for i in _likert_positions(codebook)]]
        same = lik.notna().all(axis=1) & lik.nunique(axis=1).eq(1)
        assert same.sum() == m["straightliners"]
        fb = _col(frame, codebook, "feedback").fillna("")
        assert (fb == sm.load_pool("feedback")["script_text"]).sum() == m["script_injection"]
        assert fb.str.startswith("=").sum() == m["formula_injection"]
        name = _col(frame, codebook, "full_name").fillna("#")
        phone = _col(frame, codebook, "phone").fillna("#")
        email = _col(frame, codebook, "email").fillna("#")
        own = [
            a in f or b in f or c in f for f, a, b, c in zip(fb, name, phone, email, strict=True)
        ]
        assert sum(own) == m["pii_in_feedback"]
        assert m["pii_in_feedback"] >= 3


def _likert_positions(codebook):
    names = [v["name"] for v in codebook["variables"] if v["name"] != "started_at"]
    return [i for i, v in enumerate(names) if v in sm.LIKERT_ITEMS]


def test_sample_skew_and_participation(sim, codebook):
    cfg = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    g = cfg["design"]["weights"]["margins"]["gender"]
    pop_female = g["female"] / (g["female"] + g["male"])
    for frame in sim.waves.values():
        gender = _col(frame, codebook, "gender").dropna().str.lower()
        female = gender.isin(["perempuan", "p", "wanita", "female", "f"])
        assert female.mean() > pop_female + 0.05
        part = _col(frame, codebook, "participated").dropna().str.lower() == "ya"
        assert 0.3 < part.mean() < 0.55
        sess = _col(frame, codebook, "sessions")
        assert sess.dropna().between(1, 24).all()
        assert (sess.notna() == (_col(frame, codebook, "participated").str.lower() == "ya")).all()
        ts = frame["Timestamp"]
        assert ts.notna().all()


def test_panel(sim, codebook):
    p = sim.truth["panel"]
    resp1 = sim.truth["mess"]["2025"]["respondents"]
    assert abs(p["n_persons"] / resp1 - 0.5) < 0.01
    nik1 = _col(sim.waves["2025"], codebook, "nik")
    nik2 = _col(sim.waves["2026"], codebook, "nik")
    pairs = np.array(p["pairs"])
    assert len(pairs) == p["n_persons"]
    a, b = nik1.to_numpy()[pairs[:, 0]], nik2.to_numpy()[pairs[:, 1]]
    known = pd.notna(a) & pd.notna(b)  # refusals leave the NIK blank
    assert known.mean() > 0.95
    assert (a[known] == b[known]).all()
    assert set(nik2[nik2.isin(set(nik1.dropna()))].index) <= set(p["rows_wave_2"])
    text = json.dumps(sim.truth)
    assert not any(n in text for n in nik1.dropna().head(20))


def test_truth_effects(sim):
    eff = sim.truth["effects"]["2025"]
    assert eff["skills"]["att"] > eff["social"]["att"] > 0
    assert eff["library_roles"]["att"] == 0 and eff["got_job"]["att"] == 0
    assert (
        eff["skills"]["by"]["disability"]["no"]["att"]
        > eff["skills"]["by"]["disability"].get("yes", {"att": -1})["att"]
    )
    conf = eff["confidence"]["by"]["gender"]
    assert conf["female"]["att"] > conf["male"]["att"]
    assert abs(eff["log_income"]["att"] - 0.10) < 0.03
    assert set(sim.truth["nulls"]) == {"library_roles", "satisfaction", "got_job"}


def test_regression_recovers_skills_sign(codebook):
    s = sm.simulate(500, seed=3)
    frame = s.waves["2025"]
    items = [_likert(frame, codebook, i) for i in sm.SCALE_ITEMS["skills"]]
    items[3] = 6 - items[3]  # skill_4 is reverse-keyed
    y = pd.concat(items, axis=1).mean(axis=1)
    d = (_col(frame, codebook, "participated").str.lower() == "ya").astype(float)
    by = pd.to_numeric(_col(frame, codebook, "birth_year"), errors="coerce")
    age = 2025 - by
    fem = _col(frame, codebook, "gender").str.lower().isin(["perempuan", "p", "wanita", "female"])
    edu = _col(frame, codebook, "education").str.lower()
    tert = edu.str.contains(r"^(?:d\d|s\d|diploma|sarjana)", regex=True).fillna(False)
    X = pd.DataFrame(
        {"c": 1.0, "d": d, "age": age, "f": fem.astype(float), "t": tert.astype(float)}
    )
    ok = y.notna() & X.notna().all(axis=1) & by.between(1920, 2015)
    beta = np.linalg.lstsq(X[ok].to_numpy(float), y[ok].to_numpy(float), rcond=None)[0]
    assert beta[1] > 0.2
    assert re.match(r"\d{1,2}/\d{1,2}/2025 \d{1,2}:\d{2}:\d{2}$", frame["Timestamp"].iloc[0])
    assert re.match(
        r"\d{1,2}/\d{1,2}/2026 \d{2}\.\d{2}\.\d{2}$", s.waves["2026"]["Timestamp"].iloc[0]
    )


def test_write_config_scaled(tmp_path):
    s = sm.simulate(300, seed=9, sites=40)
    paths = sm.write_config(tmp_path, s, prefix="big")
    base = yaml.safe_load(paths[0].read_text(encoding="utf-8"))
    follow = yaml.safe_load(paths[1].read_text(encoding="utf-8"))
    assert follow["extends"] == paths[0].name
    assert len(base["sites"]) == 40
    kels = [k for ks in base["places"]["kecamatan"].values() for k in ks]
    margins = base["design"]["weights"]["margins"]
    assert set(margins["kelurahan"]) == set(kels)
    total = sum(margins["kelurahan"].values())
    assert sum(margins["gender"].values()) == total == sum(margins["age_band"].values())
    assert {s_["kecamatan"] for s_ in base["sites"]} <= set(base["places"]["kecamatan"])
    site_names = {x["name"] for x in base["sites"]}
    answered = _col(s.waves["2025"], yaml.safe_load(CODEBOOK.read_text()), "site")
    assert answered.isin(site_names).mean() > 0.6
    with pytest.raises(FileExistsError):
        sm.write_config(tmp_path, s, prefix="big")


def test_cli(tmp_path):
    assert sm.main(["--n", "200", "--seed", "1", "--out", str(tmp_path), "--formats", "csv"]) == 0
    assert (tmp_path / "solok_2025.csv").exists() and (tmp_path / "truth.json").exists()


# ---------------------------------------------------------------- data files, places, coefficients


def test_places_all_from_the_place_list(sim, codebook):
    from pipelines.simulate.places import kelurahan_names, real_sites

    kels = kelurahan_names()
    assert sim.truth["places"]["sites"] == [s["id"] for s in real_sites()]
    assert sim.truth["places"]["kecamatan"] == list(sm.KECAMATAN)
    for frame in sim.waves.values():
        # every address ends with a kelurahan of the list; answers match it (or are junk)
        town = _col(frame, codebook, "address").dropna().str.rsplit(", ", n=1).str[1]
        assert town.isin(kels).all()
        kel = _col(frame, codebook, "kelurahan").dropna()
        exact = kel.isin(kels)
        assert exact.mean() > 0.6
        assert kel.str.strip().str.lower().isin([k.lower() for k in kels]).mean() > 0.75
        site = _col(frame, codebook, "site").dropna()
        assert site.isin([s["name"] for s in real_sites()]).mean() > 0.6


def test_pools_come_from_the_data_files(sim, codebook):
    names, contact = sm.load_pool("names"), sm.load_pool("contact")
    feedback = sm.load_pool("feedback")["feedback"]
    firsts = {n.lower() for n in names["first_female"] + names["first_male"]}
    spellings = {s for level in sm.answers("likert").values() for s in level}
    spellings.add(sm.answers("likert_unknown"))
    for frame in sim.waves.values():
        first = _col(frame, codebook, "full_name").dropna().str.split(" ").str[0].str.lower()
        assert first.isin(firsts).all() and first.nunique() > 20
        street = _col(frame, codebook, "address").dropna().str.split(" No. ").str[0]
        assert street.isin(contact["streets"]).all()
        fb = _col(frame, codebook, "feedback").dropna()
        from_pool = fb.map(lambda t: any(t.startswith(s) for s in feedback))
        assert from_pool.mean() > 0.99
        lik = frame[[frame.columns[i] for i in _likert_positions(codebook)]]
        assert set(lik.stack().dropna()) <= spellings


def test_named_coefficients_drive_the_truth(monkeypatch):
    from pipelines.simulate import coefficients as C

    eff = sm.simulate(400, seed=2).truth["effects"]["2025"]
    assert eff["confidence"]["att"] > 0.05 and eff["confidence"]["latent_att"] > 0.2
    monkeypatch.setitem(C.TAU, "confidence", 0.0)
    monkeypatch.setattr(C, "CONF_FEMALE", 0.0)
    monkeypatch.setattr(C, "TAU_LOG_INCOME", 0.0)
    eff = sm.simulate(400, seed=2).truth["effects"]["2025"]
    assert eff["confidence"]["att"] == 0 and eff["confidence"]["latent_att"] == 0
    assert eff["log_income"]["att"] == 0
    assert eff["skills"]["att"] > 0.05  # untouched


def test_data_files_are_package_data():
    import tomllib

    spec = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pkg = ROOT / "pipelines"
    shipped = {
        p for g in spec["tool"]["setuptools"]["package-data"]["pipelines"] for p in pkg.glob(g)
    }
    files = set((pkg / "simulate").rglob("*.yaml"))
    assert len(files) >= 6  # places.yaml and the pools
    assert files <= shipped
