"""Everyone who ever answers: latent attributes, then made-up personal data (no real person)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from . import coefficients as C
from .places import Places
from .pools import _Pool, load_pool
from .text import _cat, _null, _pick_from, _s, _where, _z

AGE_WIDTH = np.array([10, 10, 10, 15, 1])  # years per AGE_BANDS band (60+ drawn apart)


@dataclass
class _People:
    """Fixed attributes of everyone who ever answers (both waves)."""

    site: np.ndarray
    kel: np.ndarray  # residence kelurahan index (into places.kel_names)
    female: np.ndarray
    birth_year: np.ndarray
    edu: np.ndarray
    occ: np.ndarray
    disab: np.ndarray
    person: np.ndarray  # (P, 4) person effects per scale
    mu_inc: np.ndarray  # log income level
    zero_inc: np.ndarray
    strings: dict  # full_name, phone, nik, email, address (Arrow arrays)
    kel_answer: np.ndarray  # kelurahan pool index answered
    site_answer: np.ndarray  # site pool index answered


def _choice_rows(rng: np.random.Generator, p: np.ndarray) -> np.ndarray:
    """One categorical draw per row of the (n, k) probability matrix ``p``."""
    c = np.cumsum(p, axis=1)
    c /= c[:, -1:]
    return np.minimum((rng.random(len(p))[:, None] >= c).sum(axis=1), p.shape[1] - 1)


def _residence(rng: np.random.Generator, site: np.ndarray, pl: Places) -> np.ndarray:
    """Kelurahan index: the site's own mostly, else a neighbour in its kecamatan, else any."""
    n = len(site)
    site_kel = np.array(
        [pl.kel_names.index(s["kelurahan"]) if s.get("kelurahan") else -1 for s in pl.sites]
    )
    sk = site_kel[site]
    anywhere = rng.choice(len(pl.kel_names), size=n, p=pl.kel_p)
    kec_sizes = np.bincount(pl.kel_kec)
    kec_start = np.r_[0, np.cumsum(kec_sizes)[:-1]]
    kec_of = pl.kel_kec[np.maximum(sk, 0)]
    neighbour = kec_start[kec_of] + (rng.random(n) * kec_sizes[kec_of]).astype(int)
    u = rng.random(n)
    own, near = C.RESIDENCE_CUM
    return np.where(
        sk < 0, anywhere, np.where(u < own, sk, np.where(u < near, neighbour, anywhere))
    )


def _occupation_p(band: np.ndarray, female: np.ndarray) -> np.ndarray:
    """(n, 8) occupation probabilities by age band, adjusted for men and women."""
    occ_p = C.OCC_P[band].copy()
    occ = {name: j for j, name in enumerate(C.OCCUPATION)}
    occ_p[~female, occ["homemaker"]] = 0.0
    occ_p[~female, occ["not_working"]] += C.OCC_MALE_SHIFT["not_working"]
    occ_p[~female, occ["farmer"]] += C.OCC_MALE_SHIFT["farmer"]
    occ_p[female, occ["civil_servant"]] *= C.OCC_FEMALE_CIVIL_SERVANT
    return occ_p


def _attributes(
    rng: np.random.Generator, entry_year: np.ndarray, pl: Places, site_p: np.ndarray
) -> dict:
    """Site, residence, demography, person effects and income level of each person."""
    n = len(entry_year)
    site = rng.choice(len(pl.sites), size=n, p=site_p)
    kel = _residence(rng, site, pl)
    female = rng.random(n) < C.SAMPLE_FEMALE_SHARE
    band = rng.choice(5, size=n, p=C.SAMPLE_AGE_SHARE)
    age = np.array(C.AGE_EDGES)[band] + (rng.random(n) * AGE_WIDTH[band]).astype(int)
    old = band == 4
    age[old] = 60 + np.minimum(
        rng.exponential(C.OLD_AGE_MEAN_YEARS, size=old.sum()).astype(int), 30
    )
    edu = _choice_rows(rng, C.EDU_P[band])
    occ = _choice_rows(rng, _occupation_p(band, female))
    disab = rng.random(n) < np.array(C.DISABILITY_BY_AGE)[band]

    g = rng.standard_normal(n)
    shared = C.PERSON_SHARED
    person = C.PERSON_SD * (
        shared * g[:, None] + np.sqrt(1 - shared**2) * rng.standard_normal((n, 4))
    )
    edu_inc = np.array(C.INCOME_EDUCATION)[edu]
    occ_inc = np.array(C.INCOME_OCCUPATION)[occ]
    mu_inc = (
        np.log(C.INCOME_MEDIAN)
        + edu_inc
        + occ_inc
        + C.INCOME_MALE * ~female
        + C.INCOME_PERSON_SD * rng.standard_normal(n)
    )
    zero_inc = rng.random(n) < np.array(C.ZERO_INCOME)[occ]
    return {
        "site": site,
        "kel": kel,
        "female": female,
        "birth_year": entry_year - age,
        "edu": edu,
        "occ": occ,
        "disab": disab,
        "person": person,
        "mu_inc": mu_inc,
        "zero_inc": zero_inc,
    }


def _names(rng: np.random.Generator, female: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """Full names (3 casings) and e-mail handles; every name shares pool strings."""
    n = len(female)
    names = load_pool("names")
    first_f, first_m = names["first_female"], names["first_male"]
    fi = np.where(
        female,
        rng.integers(0, len(first_f), n),
        len(first_f) + rng.integers(0, len(first_m), n),
    )
    li = rng.integers(0, len(names["last"]), n)
    single = rng.random(n) < 0.2
    firsts = np.array(first_f + first_m, dtype=object)
    lasts = np.array(names["last"], dtype=object)
    # all first x last (+ single) combinations, 3 casings
    combos = (firsts[:, None] + " " + lasts[None, :]).ravel()
    combos = [str(c) for c in np.concatenate([combos, firsts])]
    case = rng.choice(3, size=n, p=[0.9, 0.06, 0.04])
    name_pool = pa.array(combos + [c.lower() for c in combos] + [c.upper() for c in combos])
    combo_idx = np.where(single, len(firsts) * len(lasts) + fi, fi * len(lasts) + li)
    full_name = name_pool.take(pa.array(combo_idx + case * len(combos)))
    handle = pa.array([c.lower().replace(" ", ".") for c in combos]).take(pa.array(combo_idx))
    return full_name, handle


def _phones(rng: np.random.Generator, n: int) -> pa.Array:
    """Indonesian mobile numbers in six writing styles ("0812-3456-7890", "+62 812...")."""
    operators = load_pool("contact")["phone_operators"]
    op = _pick_from(operators, rng.integers(0, len(operators), n))
    num = rng.integers(10_000_000, 100_000_000, n)
    a, b = _s(num // 10_000), _z(num % 10_000, 4)
    style = rng.choice(6, size=n, p=[0.55, 0.10, 0.10, 0.05, 0.10, 0.10])
    # one join: prefix, operator, separator, 4 digits, separator, 4 digits
    pre = pa.array(["08", "+62 8", "+628", "628", "08", "08"]).take(pa.array(style))
    sep = pa.array(["", "-", "", "", " ", "-"]).take(pa.array(style))
    return _cat(pre, op, sep, a, sep, b)


def _niks(
    rng: np.random.Generator, kec_code: np.ndarray, birth_year: np.ndarray, female: np.ndarray
) -> pa.Array:
    """NIK: 13 72 KK DDMMYY SSSS; women's day + 40; serial unique per (kecamatan, birth date)."""
    n = len(kec_code)
    month = rng.integers(1, 13, n)
    dim = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[month - 1]
    day = 1 + (rng.random(n) * dim).astype(int)
    key = ((kec_code * 100 + (birth_year % 100)) * 100 + month) * 100 + day
    order = np.argsort(key, kind="stable")
    sk_ = key[order]
    start = np.r_[True, sk_[1:] != sk_[:-1]]
    grp = np.cumsum(start) - 1
    pos = np.arange(n) - np.flatnonzero(start)[grp]
    serial = np.empty(n, dtype=int)
    serial[order] = pos + 1
    nik = _cat(
        "1372", _z(kec_code, 2), _z(day + 40 * female, 2), _z(month, 2), _z(birth_year % 100, 2)
    )
    return _cat(nik, _z(serial, 4))


def _emails(rng: np.random.Generator, handle: pa.Array) -> pa.Array:
    """name.surname[NN]@domain, missing for a fifth of people."""
    n = len(handle)
    domains = load_pool("contact")["mail_domains"]
    email = _cat(
        handle,
        _where(rng.random(n) < 0.6, rng.integers(1, 100, n), ""),
        "@",
        _pick_from(domains, rng.integers(0, len(domains), n)),
    )
    return _null(email, rng.random(n) < 0.2)


def _addresses(rng: np.random.Generator, kel: np.ndarray, pl: Places) -> pa.Array:
    """Street, number, RT/RW and kelurahan; missing for 5% of people."""
    n = len(kel)
    streets = load_pool("contact")["streets"]
    address = _cat(
        _pick_from(streets, rng.integers(0, len(streets), n)),
        " No. ",
        rng.integers(1, 200, n),
        ", RT ",
        _z(rng.integers(1, 8, n), 3),
        "/RW ",
        _z(rng.integers(1, 6, n), 3),
        ", ",
        pa.array(pl.kel_names).take(pa.array(kel)),
    )
    return _null(address, rng.random(n) < 0.05)


def _identities(rng: np.random.Generator, a: dict, pl: Places) -> dict:
    """Made-up personal data of each person: name, phone, NIK, e-mail, address."""
    full_name, handle = _names(rng, a["female"])
    phone = _phones(rng, len(full_name))
    nik = _niks(rng, (pl.kel_kec[a["kel"]] % 99) + 1, a["birth_year"], a["female"])
    email = _emails(rng, handle)
    address = _addresses(rng, a["kel"], pl)
    return {"full_name": full_name, "phone": phone, "nik": nik, "email": email, "address": address}


def _draw_people(
    rng: np.random.Generator,
    entry_year: np.ndarray,
    pl: Places,
    site_p: np.ndarray,
    kel_pool: _Pool,
    site_pool: _Pool,
) -> _People:
    """Everyone who ever answers, with the kelurahan and library names they write."""
    a = _attributes(rng, entry_year, pl, site_p)
    strings = _identities(rng, a, pl)
    n = len(entry_year)
    kel_answer = kel_pool.draw(a["kel"], rng.random(n))
    site_answer = site_pool.draw(a["site"], rng.random(n))
    return _People(**a, strings=strings, kel_answer=kel_answer, site_answer=site_answer)
