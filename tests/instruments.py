"""Seeded test instruments for issue 11: four surveys that are not the bundled TPBIS one.

Each instrument is a codebook under ``tests/fixtures/instruments/`` (with a ``roles:`` block)
and a generator here that writes, into a folder, the export(s) as the tool writes them, a
survey config and the codebook, and returns a :class:`Built` holding the planted truth:

* ``kobo4``   - TPBIS variant from KoboToolbox: ``;`` CSV, ``group/question`` headers, ``_uuid``,
  ``_submission_time``, 4-point agreement labels, programme as "tick all that apply" (one
  1/0 column per option), phone-linked respondents (no NIK), no income-change question,
  8 libraries, 2 waves;
* ``reading`` - a reading-habit survey (not TPBIS): 4-point upper-case labels, age in bands,
  no participation or programme question, 1 wave;
* ``spss6``   - SPSS .sav with value labels, a 6-point scale, numeric ``age``, took part yes/no,
  single-choice programme and sessions, 1 wave;
* ``monkey``  - SurveyMonkey XLSX with a two-row header, a 0-4 frequency scale, a 0-10 item,
  took part yes/no and no programme question, e-mail-linked, 2 waves.

The latent model is the same for all: per person a covariate part, a site effect and a person
effect; item answers are ``clip(round(centre + latent + noise))`` on the item's range and
reversed items are written as ``lo + hi - answer``. Planted effects are added to the latent
score; the truth of a scale effect is the mean over the exposed of ``score(exposed) -
score(not exposed)`` with the same noise (the observed-scale ATT), so clipping is accounted
for. ``Built.items`` keeps every kept row's true codes (by file and row) so a test can check
the pipeline's codes and scores against them, and ``Built.hand`` lists rows with reversed
items answered off the midpoint, for a hand computation from the raw text.

All data are synthetic: names, phones and e-mails are made up.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

FIXTURES = Path(__file__).parent / "fixtures" / "instruments"

__all__ = ["Built", "build", "INSTRUMENTS", "codebook_path", "hand_score"]


@dataclass
class Built:
    """A generated survey: its config, codebook copy and the truth the tests check."""

    name: str
    folder: Path
    config: Path
    codebook: dict  # the codebook YAML as data (independent of pipelines.codebook)
    waves: list[str]
    sites: list[str]
    ranges: dict[str, tuple[int, int]]  # scale / likert outcome -> declared (lo, hi)
    items: dict[str, pd.DataFrame]  # wave -> source_file, source_row, processed columns' truth
    hand: list[dict] = field(default_factory=list)  # raw rows to hand-score
    effects: dict = field(default_factory=dict)  # planted truths (see each generator)
    skipped: dict[str, str] = field(default_factory=dict)  # analysis -> why (English words)
    runs: set[str] = field(default_factory=set)  # analyses the plan must run


def codebook_path(name: str) -> Path:
    return FIXTURES / f"{name}.yaml"


def hand_score(raw: dict[str, str], labels: dict[str, int], reverse: list[str], rng) -> float:
    """A scale score by hand: each answer's code from the label set, reversed items as
    ``lo + hi - x`` on the declared range ``rng``, the mean of the answered items."""
    lo, hi = rng
    vals = []
    for item, text in raw.items():
        if text is None or text == "":
            continue
        x = labels[text] if text in labels else int(float(text))
        vals.append(lo + hi - x if item in reverse else x)
    return float(np.mean(vals))


# ----------------------------------------------------------------------------- shared model
CITY_KEC = {
    "Kediri": ["Banyumulek", "Gelogor", "Jagaraga", "Kediri Selatan"],
    "Labuapi": ["Bagik Polak", "Merembu", "Perampuan", "Terong Tawah"],
}
FIRST = ["Siti", "Rina", "Dewi", "Ayu", "Nur", "Baiq", "Lalu", "Ahmad", "Budi", "Rizki", "Fajar"]
LAST = ["Hidayat", "Saputra", "Wahyuni", "Rahman", "Lestari", "Pratama", "Hasanah", "Putra"]


def _sites(k: int, strata: bool) -> list[dict]:
    kel = [(kec, k_) for kec, ks in CITY_KEC.items() for k_ in ks]
    out = []
    for i in range(k):
        kec, name = kel[i % len(kel)]
        out.append(
            {
                "id": f"lib-{i + 1}",
                "name": f"Perpustakaan Desa {name}",
                "kecamatan": kec if strata else "Kediri",
            }
        )
    return out


def _people(rng: np.random.Generator, n: int, n_sites: int) -> pd.DataFrame:
    """Covariates, site, a person effect and a propensity to take part."""
    female = rng.random(n) < 0.6
    age = np.clip(rng.gamma(4.0, 9.0, n) + 15, 15, 80).round()
    disability = rng.random(n) < 0.08
    site = rng.integers(0, n_sites, n)
    edu = rng.choice(3, n, p=[0.3, 0.45, 0.25])
    z = (age - 40) / 15
    p_take = 1 / (1 + np.exp(-(-0.5 + 0.4 * female - 0.3 * z + 0.3 * (edu == 2))))
    return pd.DataFrame(
        {
            "female": female,
            "age": age,
            "age_z": z,
            "disability": disability,
            "site": site,
            "edu": edu,
            "person": rng.normal(0, 0.35, n),
            "p_take": p_take,
        }
    )


def _answers(
    rng: np.random.Generator,
    latent: np.ndarray,
    effect: np.ndarray,
    n_items: int,
    rng_: tuple[int, int],
    reverse: list[int],
    item_sd: float = 0.55,
    blank: float = 0.02,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Item codes as written (reversed items reversed), the true positively-keyed codes, and
    the ATT (mean over rows with ``effect != 0`` of the score with minus without it)."""
    lo, hi = rng_
    centre = (lo + hi) / 2
    spread = (hi - lo) / 3  # a latent unit is a third of the range
    noise = rng.normal(0, item_sd, (len(latent), n_items))
    step = rng.normal(0, 0.15, n_items)  # item difficulty

    def codes(lat):
        x = centre + spread * (lat[:, None] + step[None, :] + noise)
        return np.clip(np.rint(x), lo, hi).astype(int)

    with_ = codes(latent + effect)
    without = codes(latent)
    miss = rng.random(with_.shape) < blank
    miss[:, 0] = False  # every row answers the first item (a score exists)
    true = np.where(miss, -1, with_)
    exposed = effect != 0
    s1 = np.nanmean(np.where(miss, np.nan, with_), axis=1)
    s0 = np.nanmean(np.where(miss, np.nan, without), axis=1)
    att = float(np.mean(s1[exposed] - s0[exposed])) if exposed.any() else 0.0
    written = true.copy()
    for j in reverse:
        ok = written[:, j] >= 0
        written[ok, j] = lo + hi - written[ok, j]
    return written, true, att


def _phone(rng, n) -> np.ndarray:
    body = rng.choice(10**8, n, replace=False)
    return np.array([f"0812{b:08d}" for b in body])


def _names(rng, n) -> np.ndarray:
    return np.array(
        [f"{a} {b}" for a, b in zip(rng.choice(FIRST, n), rng.choice(LAST, n), strict=True)]
    )


def _panel(
    rng, first: pd.DataFrame, n: int, n_sites: int, share: float = 0.5
) -> tuple[pd.DataFrame, np.ndarray]:
    """Wave-2 people: ``share`` of wave 1 again (a year older), the rest new."""
    k = int(n * share)
    back = rng.choice(len(first), k, replace=False)
    again = first.iloc[back].copy()
    again["age"] += 1
    again["age_z"] = (again["age"] - 40) / 15
    new = _people(rng, n - k, n_sites)
    new["phone"] = [f"0813{b:08d}" for b in rng.choice(10**8, n - k, replace=False)]
    new["email"] = [f"baru{i}.{b}@contoh.id" for i, b in enumerate(rng.integers(0, 10**6, n - k))]
    new["name"] = _names(rng, n - k)
    both = pd.concat([again, new], ignore_index=True)
    origin = np.concatenate([back, np.full(n - k, -1)])
    order = rng.permutation(n)
    return both.iloc[order].reset_index(drop=True), origin[order]


def _linked(origin: np.ndarray | None, consent: np.ndarray, consent_1) -> int:
    """Respondents of wave 2 who answered wave 1 too, with consent both times: the pairs a
    working link (phone, e-mail) finds."""
    if origin is None:
        return 0
    back = origin >= 0
    return int((consent[back] & consent_1[origin[back]]).sum())


def _config(
    survey_id: str,
    title: str,
    codebook: str,
    waves: list[dict],
    sites: list[dict],
    strata: bool,
    weights: dict,
    formats=("html",),
    **extra,
) -> dict:
    kec = sorted({s["kecamatan"] for s in sites})
    cfg = {
        "survey": {
            "id": survey_id,
            "title": {"id": f"{title} (sintetis)", "en": f"{title} (synthetic)"},
            "city": "Kabupaten Lombok Barat",
            "synthetic": True,
        },
        "instrument": codebook,
        "messages_language": "en",
        "waves": waves,
        "places": {"kecamatan": {k: CITY_KEC[k] for k in kec}},
        "sites": [{k: s[k] for k in ("id", "name", "kecamatan")} for s in sites],
        "design": {
            "strata": "kecamatan" if strata else None,
            "cluster": "site",
            "fpc": None,
            "weights": weights,
        },
        "analysis": {"age_bands": [15, 25, 40, 60], "income_bands": [0, 1e6, 3e6]},
        "cleaning": {"duplicates": "keep_last", "min_seconds": 60, "straightline_min_items": 6},
        "report": {
            "languages": ["id", "en"],
            "formats": list(formats),
            "suppression_threshold": 10,
        },
    }
    cfg.update(extra)
    return cfg


def _write_common(name: str, folder: Path, cfg: dict) -> tuple[Path, dict]:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(codebook_path(name), folder / f"{name}.yaml")
    path = folder / f"{name}_survey.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path, yaml.safe_load(codebook_path(name).read_text(encoding="utf-8"))


def _label_maps(cb: dict, set_name: str) -> tuple[dict[int, str], dict[str, int], tuple]:
    labels = {int(k): v["id"] for k, v in cb["label_sets"][set_name]["labels"].items()}
    return labels, {v: k for k, v in labels.items()}, (min(labels), max(labels))


def _hand_rows(
    frame: pd.DataFrame, file: str, first_row: int, cb: dict, scale: str, header, k: int = 5
) -> list[dict]:
    """Up to ``k`` rows whose reversed items are answered away from the midpoint (where a
    wrong reversal would show), with the raw texts of the scale's items."""
    s = cb["scales"][scale]
    rev = s.get("reverse", [])
    rows = []
    for i in range(len(frame)):
        raw = {it: frame.iloc[i][header(it)] for it in s["items"]}
        vals = [raw[r] for r in rev]
        answered = all(isinstance(v, str) and v not in ("", "Tidak menjawab") for v in raw.values())
        if answered and vals and all(v != raw[s["items"][0]] for v in vals):
            rows.append({"file": file, "row": first_row + i, "scale": scale, "raw": raw})
        if len(rows) == k:
            break
    return rows


# ----------------------------------------------------------------------------- 2. kobo4
KOBO_GROUP = {
    "consent": "grp_awal",
    "full_name": "grp_profil",
    "phone": "grp_profil",
    "site": "grp_awal",
    "gender": "grp_profil",
    "birth_year": "grp_profil",
    "disability": "grp_profil",
    "programme": "grp_kegiatan",
    "income": "grp_ekonomi",
    "business": "grp_ekonomi",
}
KOBO_NAME = {
    "consent": "persetujuan",
    "full_name": "nama",
    "phone": "no_hp",
    "site": "perpustakaan",
    "gender": "jenis_kelamin",
    "birth_year": "tahun_lahir",
    "disability": "disabilitas",
    "programme": "kegiatan",
    "income": "pendapatan",
    "business": "usaha",
}
KOBO_OPTIONS = ("komputer", "wirausaha", "literasi")


def _kobo_header(var: str) -> str:
    if var in KOBO_NAME:
        return f"{KOBO_GROUP[var]}/{KOBO_NAME[var]}"
    return f"grp_skala/{var}"  # Likert items keep their codebook names


def kobo4(folder: Path, n: int = 400, seed: int = 4) -> Built:
    """Planted: taking part (any option) raises the skills latent so the observed skills
    score rises by ``effects['skills_att']`` (about 0.4 points on 1-4); the wirausaha option
    raises log income by 0.30; confidence and satisfaction: no effect."""
    rng = np.random.default_rng(seed)
    sites = _sites(8, strata=True)
    cb = yaml.safe_load(codebook_path("kobo4").read_text(encoding="utf-8"))
    labels, _, rng4 = _label_maps(cb, "agree4")
    w1 = _people(rng, n, len(sites))
    w1["phone"] = _phone(rng, n)
    w1["email"] = ""
    w1["name"] = _names(rng, n)
    frames, items, effects = {}, {}, {"skills_att": {}, "log_income_wirausaha": 0.30}
    waves = ["2025", "2026"]
    hand = []
    for t, wave in enumerate(waves):
        people, origin = (w1, None) if t == 0 else _panel(rng, w1, n, len(sites))
        m = len(people)
        took = rng.random(m) < people["p_take"].to_numpy()
        first = rng.choice(3, m, p=[0.45, 0.3, 0.25])
        ticks = np.zeros((m, 3), dtype=int)
        ticks[np.arange(m), first] = 1
        ticks[rng.random((m, 3)) < 0.2] = 1  # overlap: some tick a second option
        ticks[~took] = 0
        site_eff = np.random.default_rng(seed + 100).normal(0, 0.1, len(sites))
        base = (
            people["person"].to_numpy()
            + 0.15 * people["age_z"].to_numpy()
            - 0.2 * people["disability"].to_numpy()
            + site_eff[people["site"].to_numpy()]
        )
        sk_w, sk_true, att = _answers(rng, base, 0.45 * took, 4, rng4, [3])
        cf_w, cf_true, _ = _answers(rng, base * 0.8, np.zeros(m), 3, rng4, [2])
        sat_w, sat_true, _ = _answers(rng, base * 0.5, np.zeros(m), 1, rng4, [])
        effects["skills_att"][wave] = att
        log_inc = (
            14.4
            + 0.30 * ticks[:, 1]
            - 0.08 * people["age_z"].to_numpy() ** 2
            + rng.normal(0, 0.45, m)
        )
        income = np.round(np.exp(log_inc) / 50_000) * 50_000
        business = rng.random(m) < 1 / (1 + np.exp(-(-1.0 + 0.6 * ticks[:, 1])))
        consent = rng.random(m) > 0.02
        effects["linked"] = _linked(origin, consent, effects.get("consent_1"))
        effects["consent_1"] = consent
        ts = pd.Timestamp(f"{wave}-03-03 08:00") + pd.to_timedelta(
            np.sort(rng.integers(0, 20 * 86400, m)), unit="s"
        )
        dur = rng.integers(300, 1500, m)
        site_names = [sites[i]["name"] for i in people["site"]]
        yes_no = np.array(["Tidak", "Ya"])
        rows = {
            "start": [
                (a - pd.Timedelta(seconds=int(d))).strftime("%Y-%m-%dT%H:%M:%S.000+08:00")
                for a, d in zip(ts, dur, strict=True)
            ],
            "end": [a.strftime("%Y-%m-%dT%H:%M:%S.000+08:00") for a in ts],
            "today": [a.strftime("%Y-%m-%d") for a in ts],
            "deviceid": [f"collect:{s:016x}" for s in rng.integers(0, 2**62, m)],
            _kobo_header("consent"): np.where(consent, "Ya", "Tidak"),
            _kobo_header("full_name"): people["name"].to_numpy(),
            _kobo_header("phone"): people["phone"].to_numpy(),
            _kobo_header("site"): site_names,
            _kobo_header("gender"): np.where(people["female"], "Perempuan", "Laki-laki"),
            _kobo_header("birth_year"): (int(wave) - people["age"]).astype(int).astype(str),
            _kobo_header("disability"): yes_no[people["disability"].astype(int)],
            # Kobo: the question's own column (space-separated codes) then one 1/0 per option
            _kobo_header("programme"): [
                " ".join(o for o, x in zip(KOBO_OPTIONS, r, strict=True) if x) for r in ticks
            ],
        }
        for j, o in enumerate(KOBO_OPTIONS):
            rows[f"{_kobo_header('programme')}/{o}"] = ticks[:, j].astype(str)
        for block, names_ in (
            (sk_w, [f"skill_{i}" for i in range(1, 5)]),
            (cf_w, ["conf_1", "conf_2", "conf_3"]),
            (sat_w, ["satisfaction"]),
        ):
            for j, item in enumerate(names_):
                rows[_kobo_header(item)] = [labels.get(c, "") for c in block[:, j]]
        rows[_kobo_header("income")] = income.astype(int).astype(str)
        rows[_kobo_header("business")] = yes_no[business.astype(int)]
        rows["_id"] = (np.arange(m) + 1000 * (t + 1)).astype(str)
        rows["_uuid"] = [f"{u:032x}" for u in rng.integers(0, 2**62, m)]
        rows["_submission_time"] = [
            (a - pd.Timedelta(hours=8, seconds=-30)).strftime("%Y-%m-%dT%H:%M:%S") for a in ts
        ]
        rows["_index"] = (np.arange(m) + 1).astype(str)
        frame = pd.DataFrame(rows)
        file = f"kobo_{wave}.csv"
        frames[wave] = (file, frame)
        keep = consent
        codes = {f"skill_{i + 1}": sk_w[:, i] for i in range(4)}
        codes |= {f"conf_{i + 1}": cf_w[:, i] for i in range(3)}
        codes["satisfaction"] = sat_w[:, 0]
        items[wave] = _items_frame(file, 2, codes, keep)
        for j, o in enumerate(KOBO_OPTIONS):  # one 0/1 column per option, as processed
            items[wave][f"programme__{o}"] = ticks[keep, j]
        if t == 0:
            kept = np.flatnonzero(keep)
            got = _hand_rows(frame.iloc[kept], file, 0, cb, "skills", _kobo_header, k=5)
            hand += [dict(h, row=int(kept[h["row"]] + 2)) for h in got]
    effects.pop("consent_1")
    cfg = _config(
        "kobo4",
        "Survei Dampak TPBIS dari Kobo (skala 4)",
        "kobo4.yaml",
        [_wave(w, [{"path": frames[w][0], "format": "kobo"}]) for w in waves],
        sites,
        strata=True,
        weights=_rake(gender={"female": 51000, "male": 49000}),
        formats=("html", "pdf"),
    )
    path, cbdata = _write_common("kobo4", folder, cfg)
    for wave in waves:
        file, frame = frames[wave]
        frame.to_csv(folder / file, sep=";", index=False)
    return Built(
        "kobo4",
        folder,
        path,
        cbdata,
        waves,
        [s["id"] for s in sites],
        {"skills": rng4, "confidence": rng4, "satisfaction": rng4},
        items,
        hand,
        effects,
        skipped={"dose_response": "session"},
        runs={"participation", "programme", "ordinal", "ipw", "inclusion", "paired_change", "did"},
    )


def _rake(**margins: dict[str, float]) -> dict:
    return {"method": "rake", "trim_ratio": 5, "margins": margins}


def _wave(wave: str, files: list[dict]) -> dict:
    return {
        "id": wave,
        "label": {"id": f"Gelombang {wave}", "en": f"Wave {wave}"},
        "reference_date": f"{wave}-03-31",
        "files": files,
    }


def _items_frame(file: str, first_row: int, codes: dict, keep: np.ndarray) -> pd.DataFrame:
    rows = np.arange(len(keep)) + first_row
    out = pd.DataFrame({"source_file": file, "source_row": rows[keep]})
    for k, v in codes.items():
        v = np.asarray(v, dtype="float64")[keep]
        out[k] = np.where(np.isnan(v) | (v < 0), np.nan, v)
    return out.reset_index(drop=True)


# ----------------------------------------------------------------------------- 3. reading
READING_AGE = {
    "15-28": "15-28 Tahun",
    "29-42": "29-42 Tahun",
    "43-56": "43-56 Tahun",
    "57+": "Lebih dari 56 Tahun",
}
READING_EDU = (["SD/MI", "SMP/MTs"], ["SMA/SMK/MA"], ["Diploma-D1/D2/D3", "Sarjana-D4/S1"])


def reading(folder: Path, n: int = 400, seed: int = 7) -> Built:
    """Planted: women's reading motivation latent is 0.35 higher (``effects['motivation_
    female']`` is the observed-scale difference among women); higher education raises the
    strategy latent; no exposure at all."""
    rng = np.random.default_rng(seed)
    sites = _sites(6, strata=False)
    cb = yaml.safe_load(codebook_path("reading").read_text(encoding="utf-8"))
    labels, _, r4 = _label_maps(cb, "setuju4")
    p = _people(rng, n, len(sites))
    female = p["female"].to_numpy()
    base = p["person"].to_numpy() + 0.1 * p["age_z"].to_numpy()
    mot_w, mot_true, att = _answers(rng, base, 0.35 * female, 4, r4, [3])
    str_w, str_true, _ = _answers(
        rng, base + 0.3 * (p["edu"].to_numpy() == 2), np.zeros(n), 4, r4, [2]
    )
    ben_w, ben_true, _ = _answers(rng, base, np.zeros(n), 3, r4, [])
    sat_w, sat_true, _ = _answers(rng, base * 0.5, np.zeros(n), 1, r4, [])
    age_lv = np.digitize(p["age"].to_numpy(), [29, 43, 57])
    ts = pd.Timestamp("2025-05-02 08:00") + pd.to_timedelta(
        np.sort(rng.integers(0, 25 * 86400, n)), unit="s"
    )
    edu_txt = [rng.choice(READING_EDU[e]) for e in p["edu"]]
    rows = {
        "No": (np.arange(n) + 1).astype(str),
        "Tanggal Isi": [a.strftime("%Y-%m-%d %H:%M:%S") for a in ts],
        "Kontak pengisi kuesioner (WhatsApp)": _phone(rng, n),
        "Perpustakaan yang paling sering dikunjungi": [sites[i]["name"] for i in p["site"]],
        "Usia (Tahun)": [list(READING_AGE.values())[i] for i in age_lv],
        "Jenis Kelamin (L/P)": np.where(female, "Perempuan", "Laki-laki"),
        "Pendidikan Terakhir": edu_txt,
        "Saya memiliki waktu khusus untuk membaca": np.where(
            rng.random(n) < 1 / (1 + np.exp(-(0.8 * base + 0.3 * female))), "Ya", "Tidak"
        ),
        "Dalam sebulan terakhir berapa buku tercetak yang Anda baca?": rng.poisson(
            np.exp(0.6 + 0.4 * base)
        ).astype(str),
    }
    q = {v["name"]: v["question"]["id"] for v in cb["variables"]}
    for block, names_ in (
        (mot_w, ["mot_1", "mot_2", "mot_3", "mot_4"]),
        (str_w, ["str_1", "str_2", "str_3", "str_4"]),
        (ben_w, ["ben_1", "ben_2", "ben_3"]),
        (sat_w, ["library_sat"]),
    ):
        for j, item in enumerate(names_):
            rows[q[item]] = [labels.get(c, "") for c in block[:, j]]
    frame = pd.DataFrame(rows)
    file = "tkm_2025.csv"
    codes = {f"mot_{i + 1}": mot_w[:, i] for i in range(4)}
    codes |= {f"str_{i + 1}": str_w[:, i] for i in range(4)}
    codes |= {f"ben_{i + 1}": ben_w[:, i] for i in range(3)}
    codes["library_sat"] = sat_w[:, 0]
    keep = np.ones(n, dtype=bool)
    items = {"2025": _items_frame(file, 2, codes, keep)}
    items["2025"]["reading_time"] = rows["Saya memiliki waktu khusus untuk membaca"] == "Ya"
    hand = _hand_rows(frame, file, 2, cb, "motivation", lambda it: q[it], k=5)
    hand += _hand_rows(frame, file, 2, cb, "strategy", lambda it: q[it], k=5)
    age_pop = {"15-28": 31000, "29-42": 28000, "43-56": 24000, "57+": 17000}
    cfg = _config(
        "reading",
        "Survei Kegemaran Membaca",
        "reading.yaml",
        [_wave("2025", [{"path": file, "format": "csv"}])],
        sites,
        strata=False,
        weights=_rake(gender={"female": 50500, "male": 49500}, age_group=age_pop),
    )
    path, cbdata = _write_common("reading", folder, cfg)
    frame.to_csv(folder / file, index=False)
    return Built(
        "reading",
        folder,
        path,
        cbdata,
        ["2025"],
        [s["id"] for s in sites],
        {"motivation": r4, "strategy": r4, "benefit": r4, "library_sat": r4},
        items,
        hand,
        {"motivation_female": att},
        skipped={
            "participation": "took part",
            "programme": "took part",
            "paired_change": "one wave",
        },
        runs={"descriptive", "reliability", "site", "likert_distribution"},
    )


# ----------------------------------------------------------------------------- 4. spss6
SPSS_PROG = {1.0: "Literasi digital", 2.0: "Kewirausahaan", 3.0: "Bahasa Inggris"}


def spss6(folder: Path, n: int = 400, seed: int = 6) -> Built:
    """Planted: the digital-skills latent rises by 0.25 per log(1 + sessions) among
    participants (``effects['digital_att']`` is the observed ATT on 1-6); the
    Kewirausahaan programme raises log income by 0.25; well-being: no effect."""
    import pyreadstat

    rng = np.random.default_rng(seed)
    sites = _sites(6, strata=False)
    cb = yaml.safe_load(codebook_path("spss6").read_text(encoding="utf-8"))
    labels, _, r6 = _label_maps(cb, "agree6")
    p = _people(rng, n, len(sites))
    took = rng.random(n) < p["p_take"].to_numpy()
    prog = np.where(took, rng.choice([1.0, 2.0, 3.0], n, p=[0.45, 0.35, 0.2]), np.nan)
    sessions = np.where(took, np.clip(rng.poisson(6, n), 1, 30), 0).astype(float)
    dose = 0.25 * np.log1p(sessions)
    base = p["person"].to_numpy() - 0.25 * p["age_z"].to_numpy()
    dig_w, dig_true, att = _answers(rng, base, dose, 5, r6, [2, 4])
    wel_w, wel_true, _ = _answers(rng, base * 0.6, np.zeros(n), 3, r6, [2])
    log_inc = 14.5 + 0.25 * (prog == 2.0) + 0.1 * p["edu"].to_numpy() + rng.normal(0, 0.4, n)
    income = np.round(np.exp(log_inc) / 10_000) * 10_000
    got_job = (rng.random(n) < 0.15).astype(float)
    # SPSS "no answer" code 99 (value label "Tidak menjawab") in a few Likert cells
    dig_w = dig_w.astype(float)
    dig_w[dig_w < 0] = np.nan
    dig_w[rng.random(dig_w.shape) < 0.01] = 99.0
    wel_w = np.where(wel_w < 0, np.nan, wel_w).astype(float)
    ts = pd.Timestamp("2025-08-04 09:00") + pd.to_timedelta(
        np.sort(rng.integers(0, 14 * 86400, n)), unit="s"
    )
    q = {v["name"]: v["question"]["id"] for v in cb["variables"]}
    site_codes = {float(i + 1): s["name"] for i, s in enumerate(sites)}
    cols, vlabels = {}, {}
    yn = {1.0: "Ya", 0.0: "Tidak"}
    agree = {float(k): v for k, v in labels.items()} | {99.0: "Tidak menjawab"}

    def add(var, values, name, vl=None):
        cols[name] = (var, values)
        if vl:
            vlabels[name] = vl

    add("submitted_at", list(ts), "tgl")
    add("full_name", list(_names(rng, n)), "nama")
    add("site", p["site"].to_numpy() + 1.0, "lokasi", site_codes)
    add("gender", np.where(p["female"], 2.0, 1.0), "jk", {1.0: "Laki-laki", 2.0: "Perempuan"})
    add("age", p["age"].to_numpy().astype(float), "umur")
    add(
        "education",
        p["edu"].to_numpy() + 1.0,
        "pend",
        {1.0: "SD/SMP", 2.0: "SMA/SMK", 3.0: "Perguruan tinggi"},
    )
    add("took_part", took.astype(float), "ikut", yn)
    add("programme", prog, "jenis", SPSS_PROG)
    add("sessions", np.where(took, sessions, np.nan), "sesi")
    for j in range(5):
        add(f"dig_{j + 1}", dig_w[:, j], f"d{j + 1}", agree)
    for j in range(3):
        add(f"well_{j + 1}", wel_w[:, j], f"w{j + 1}", agree)
    add("income", income, "penghasilan")
    add("got_job", got_job, "kerja", yn)
    df = pd.DataFrame({name: vals for name, (_, vals) in cols.items()})
    file = "evaluasi_2025.sav"
    path, cbdata = _write_common(
        "spss6",
        folder,
        _config(
            "spss6",
            "Evaluasi Pelatihan Digital",
            "spss6.yaml",
            [_wave("2025", [{"path": file, "format": "sav"}])],
            sites,
            strata=False,
            weights={"method": "none"},
        ),
    )
    pyreadstat.write_sav(
        df,
        str(folder / file),
        column_labels=[q[var] for var, _ in cols.values()],
        variable_value_labels=vlabels,
    )
    codes = {f"dig_{i + 1}": np.where(dig_w[:, i] == 99, -1, dig_w[:, i]) for i in range(5)}
    codes |= {f"well_{i + 1}": wel_w[:, i] for i in range(3)}
    items = {"2025": _items_frame(file, 1, codes, np.ones(n, dtype=bool))}
    raw_text = pd.DataFrame(
        {
            q[f"dig_{j + 1}"]: [agree.get(x, "") if x == x else "" for x in dig_w[:, j]]
            for j in range(5)
        }
    )
    hand = _hand_rows(raw_text, file, 1, cb, "digital", lambda it: q[it], k=5)
    return Built(
        "spss6",
        folder,
        path,
        cbdata,
        ["2025"],
        [s["id"] for s in sites],
        {"digital": r6, "wellbeing": r6},
        items,
        hand,
        {"digital_att": att, "digital_dose": 0.25, "log_income_business": 0.25},
        skipped={"paired_change": "one wave", "did": "one wave"},
        runs={"participation", "programme", "dose_response", "ipw", "inclusion", "mixed"},
    )


# ----------------------------------------------------------------------------- 5. monkey
MONKEY_META = [
    "Respondent ID",
    "Collector ID",
    "Start Date",
    "End Date",
    "IP Address",
    "Email Address",
    "First Name",
    "Last Name",
    "Custom Data 1",
]
MONKEY_SERVICES = {
    "borrow": "Meminjam buku",
    "wifi": "Wifi dan komputer",
    "events": "Acara dan kelas",
}


def _monkey_time(t: pd.Timestamp) -> str:
    return f"{t.month}/{t.day}/{t.year} {t:%I:%M:%S %p}".replace(" 0", " ")


def _two_row_header(cols: list[tuple[str, str, list]]) -> pd.DataFrame:
    """SurveyMonkey's sheet: question on row 1 (once per multi-option question), "Response"
    or the option's label on row 2, then the answers."""
    top, sub = [c[0] for c in cols], [c[1] for c in cols]
    return pd.DataFrame([top, sub, *zip(*(list(c[2]) for c in cols), strict=True)])


def monkey(folder: Path, n: int = 400, seed: int = 5) -> Built:
    """Planted: taking part raises the digital-use latent (``effects['digital_use_att']``,
    observed ATT on 0-4), the visits count by 1.5 a month and the odds of using e-services
    (logit +0.9, ``effects['eservice_rd']`` the risk difference among participants)."""
    rng = np.random.default_rng(seed)
    sites = _sites(6, strata=False)
    cb = yaml.safe_load(codebook_path("monkey").read_text(encoding="utf-8"))
    labels, _, r5 = _label_maps(cb, "often5")
    q = {v["name"]: v["question"]["id"] for v in cb["variables"]}
    w1 = _people(rng, n, len(sites))
    w1["email"] = [f"pengguna{i}.{s}@contoh.id" for i, s in enumerate(rng.integers(0, 10**6, n))]
    w1["name"] = _names(rng, n)
    w1["phone"] = ""
    waves = ["2025", "2026"]
    items, effects, files = {}, {"digital_use_att": {}, "visits": 1.5, "eservice_rd": {}}, {}
    hand = []
    for t, wave in enumerate(waves):
        people, origin = (w1, None) if t == 0 else _panel(rng, w1, n, len(sites))
        m = len(people)
        took = rng.random(m) < people["p_take"].to_numpy()
        base = people["person"].to_numpy() - 0.3 * people["age_z"].to_numpy()
        use_w, use_true, att = _answers(rng, base, 0.5 * took, 4, r5, [2])
        rec = np.clip(np.rint(7 + 2 * base + 0.5 * took + rng.normal(0, 1.5, m)), 0, 10)
        lin = -0.6 + 0.5 * base
        p1 = 1 / (1 + np.exp(-(lin + 0.9)))
        p0 = 1 / (1 + np.exp(-lin))
        u = rng.random(m)
        eserv = np.where(took, u < p1, u < p0)
        effects["eservice_rd"][wave] = float(np.mean(p1[took] - p0[took]))
        visits = rng.poisson(np.clip(2 + 1.5 * took + 0.5 * base, 0.2, None))
        effects["digital_use_att"][wave] = att
        consent = rng.random(m) > 0.02
        effects["linked"] = _linked(origin, consent, effects.get("consent_1"))
        effects["consent_1"] = consent
        end = pd.Timestamp(f"{wave}-04-01 08:00") + pd.to_timedelta(
            np.sort(rng.integers(0, 20 * 86400, m)), unit="s"
        )
        start = end - pd.to_timedelta(rng.integers(200, 900, m), unit="s")
        first_last = [nm.split(" ", 1) for nm in people["name"]]
        age_lv = np.digitize(people["age"].to_numpy(), [30, 50])
        meta = [
            [114_000_000_000 + 1000 * t + i for i in range(m)],
            [4_321_987] * m,
            [_monkey_time(s) for s in start],
            [_monkey_time(e) for e in end],
            [f"36.68.{i % 250}.{i % 200 + 10}" for i in range(m)],
            list(people["email"]),
            [f[0] for f in first_last],
            [f[1] for f in first_last],
            [""] * m,
        ]
        cols = [(h, "", v) for h, v in zip(MONKEY_META, meta, strict=True)]
        answers = {
            "consent": np.where(consent, "Ya", "Tidak"),
            "site": [sites[i]["name"] for i in people["site"]],
            "gender": np.where(people["female"], "Perempuan", "Laki-laki"),
            "age_group": [["15-29 tahun", "30-49 tahun", "50 tahun ke atas"][i] for i in age_lv],
            "took_part": np.where(took, "Ya", "Tidak"),
        }
        cols += [(q[var], "Response", v) for var, v in answers.items()]
        ticked = rng.random((m, 3)) < [0.7, 0.4, 0.2]
        for j, label in enumerate(MONKEY_SERVICES.values()):  # merged header: text once
            top = q["services"] if j == 0 else ""
            cols.append((top, label, [label if x else "" for x in ticked[:, j]]))
        answers = {f"use_{j + 1}": [labels.get(c, "") for c in use_w[:, j]] for j in range(4)}
        answers |= {
            "recommend": rec.astype(int),  # a number cell
            "eservice": np.where(eserv, "Ya", "Tidak"),
            "visits": visits,
        }
        cols += [(q[var], "Response", v) for var, v in answers.items()]
        file = f"surveymonkey_{wave}.xlsx"
        files[wave] = (file, _two_row_header(cols))
        keep = consent
        codes = {f"use_{i + 1}": use_w[:, i] for i in range(4)}
        codes["recommend"] = rec.astype(int)
        items[wave] = _items_frame(file, 3, codes, keep)
        items[wave]["took_part"] = took[keep].astype(int)
        none = ~ticked[keep].any(axis=1)  # all blank: SurveyMonkey's "not answered"
        for j, o in enumerate(MONKEY_SERVICES):
            items[wave][f"services__{o}"] = np.where(none, np.nan, ticked[keep, j])
        if t == 0:
            raw = pd.DataFrame(
                {q[f"use_{j + 1}"]: [labels.get(c, "") for c in use_w[:, j]] for j in range(4)}
            )
            rows = np.flatnonzero(keep)
            got = _hand_rows(
                raw.iloc[rows].reset_index(drop=True),
                file,
                0,
                cb,
                "digital_use",
                lambda it: q[it],
                k=6,
            )
            hand += [dict(h, row=int(rows[h["row"]] + 3)) for h in got]
    effects.pop("consent_1")
    cfg = _config(
        "monkey",
        "Survei Pemanfaatan Perpustakaan",
        "monkey.yaml",
        [_wave(w, [{"path": files[w][0], "format": "xlsx", "header_rows": 2}]) for w in waves],
        sites,
        strata=False,
        weights=_rake(gender={"female": 50000, "male": 50000}),
    )
    path, cbdata = _write_common("monkey", folder, cfg)
    for wave in waves:
        file, frame = files[wave]
        frame.to_excel(folder / file, index=False, header=False, sheet_name="Sheet")
    return Built(
        "monkey",
        folder,
        path,
        cbdata,
        waves,
        [s["id"] for s in sites],
        {"digital_use": r5, "recommend": (0, 10)},
        items,
        hand,
        effects,
        skipped={"programme": "programme", "dose_response": "session"},
        runs={"participation", "ordinal", "ipw", "inclusion", "paired_change", "did"},
    )


def kobo4_replicate(folder: Path, n: int = 400, seed: int = 4) -> Built:
    """``kobo4`` as a national round ships it: every export carries a final weight
    (``bobot_akhir``, a codebook variable) and JK1 replicate weights ``repw_1..repw_8`` (one
    library dropped per replicate, the others x 8/7); the config selects them
    (``design.replicate: {columns: "repw_*", type: JK1}``) instead of raking. Same people,
    answers and planted effects as ``kobo4``."""
    b = kobo4(folder, n=n, seed=seed)
    rng = np.random.default_rng(seed + 500)
    names = [f"Perpustakaan Desa {k}" for ks in CITY_KEC.values() for k in ks]
    header = _kobo_header("site")
    for wave in b.waves:
        path = folder / f"kobo_{wave}.csv"
        frame = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
        site = frame[header].map({nm: i for i, nm in enumerate(names)}).to_numpy()
        w = 100 * np.exp(rng.normal(0, 0.25, len(frame)))
        frame["bobot_akhir"] = [f"{x:.4f}" for x in w]
        k = len(b.sites)
        for j in range(k):
            frame[f"repw_{j + 1}"] = [f"{x:.6f}" for x in np.where(site == j, 0.0, w * k / (k - 1))]
        frame.to_csv(path, sep=";", index=False)
    cb_path = folder / "kobo4.yaml"
    cb = yaml.safe_load(cb_path.read_text(encoding="utf-8"))
    cb["variables"].append(
        {
            "name": "final_weight",
            "type": "numeric",
            "question": {"id": "Bobot akhir", "en": "Final weight"},
            "aliases": ["bobot_akhir"],
        }
    )
    cb_path.write_text(yaml.safe_dump(cb, allow_unicode=True, sort_keys=False), encoding="utf-8")
    cfg = yaml.safe_load(b.config.read_text(encoding="utf-8"))
    cfg["survey"]["id"] = "kobo4-replicate"
    cfg["design"]["weights"] = {"method": "column", "column": "final_weight"}
    cfg["design"]["replicate"] = {"columns": "repw_*", "type": "JK1"}
    b.config.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    b.name, b.codebook = "kobo4_replicate", cb
    return b


INSTRUMENTS = {"kobo4": kobo4, "reading": reading, "spss6": spss6, "monkey": monkey}


def build(name: str, folder: Path, n: int = 400) -> Built:
    """Write instrument ``name`` into ``folder`` (created) and return its truth."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return INSTRUMENTS[name](folder, n=n)
