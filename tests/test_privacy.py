import base64
import json
import os
import stat
from importlib.util import find_spec

import numpy as np
import pandas as pd
import pytest

from pipelines.errors import DampakError
from pipelines.privacy import (
    Finding,
    PrivacyError,
    assert_clean,
    default_secret_path,
    find_personal_data,
    identifier_keys,
    load_or_create_secret,
    mask_text,
    name_fingerprints,
    pseudonymise,
    scan_paths,
)

SECRET = b"s" * 32
OTHER = b"o" * 32


def kinds(text):
    return [k for k, _ in find_personal_data(text)]


# ---------------------------------------------------------------- detectors


@pytest.mark.parametrize(
    "text, kind, found",
    [
        ("NIK saya 1372011234560001 ya", "nik", "1372011234560001"),
        ("nik: 1372 0112 3456 0001", "nik", "1372 0112 3456 0001"),
        ("13.72.01.120345.0001", "nik", "13.72.01.120345.0001"),
        ("137201-120345-0001", "nik", "137201-120345-0001"),
        ("hp 0812-3456-7890 (wa)", "phone", "0812-3456-7890"),
        ("hubungi 081234567890.", "phone", "081234567890"),
        ("+62 812 3456 7890", "phone", "+62 812 3456 7890"),
        ("62 812-3456-7890", "phone", "62 812-3456-7890"),
        ("+6281234567890", "phone", "+6281234567890"),
        ("(0812) 3456 7890", "phone", "(0812) 3456 7890"),
        ("0812.3456.789", "phone", "0812.3456.789"),
        ("email: Budi.Santoso+survei@gmail.com.", "email", "Budi.Santoso+survei@gmail.com"),
        ("x@perpusnas.go.id", "email", "x@perpusnas.go.id"),
    ],
)
def test_detects_personal_data(text, kind, found):
    hits = find_personal_data(text)
    assert [k for k, _ in hits] == [kind]
    a, b = hits[0][1]
    assert text[a:b] == found


@pytest.mark.parametrize(
    "text",
    [
        "Rp 1.500.000",
        "pendapatan 1.500.000 per bulan, 2.500.000,00",
        "2025-11-25 14:03:22",
        "25/11/2025 14.03.22",
        "08.12.2025",
        "timestamp 1732512345678",
        "_id 628123",  # too short for a phone
        "0812345",  # too short
        "081234567890123456",  # too long
        "9912011234560001",  # 99 is not a province code
        "0012011234560001",
        "12345678901234567890",  # longer than 16 digits
        "1372011234560001234",
        "0.6369616873214543",  # float with 16 decimals
        "logo@2x.png",
        "Tel 021-5551234",  # landline, not a mobile
        "skor 8123456789",  # no 0/62 prefix
        "ID 1 0812 3456 7890",  # continues a longer digit group
    ],
)
def test_no_false_positives(text):
    assert find_personal_data(text) == []


def test_several_in_one_text_in_order():
    text = "Budi (NIK 1372011234560001) hp 0812 3456 7890, budi@x.id"
    assert kinds(text) == ["nik", "phone", "email"]


def test_grouped_nik_is_not_read_as_phone():
    # "0812 3456 0001" inside this NIK looks like a phone on its own
    assert kinds("1372 0812 3456 0001") == ["nik"]


# ---------------------------------------------------------------- masking


def test_mask_text_patterns_and_counts():
    s = pd.Series(
        [
            "NIK 1372 0112 3456 0001, hp 0812-3456-7890 / +62 813 1111 2222",
            "email saya ani@gmail.com",
            "Perpustakaan bagus, Rp 1.500.000 per tahun",
            np.nan,
            42,
        ],
        dtype=object,
    )
    masked, counts = mask_text(s)
    assert masked.iloc[0] == "NIK [NIK], hp [TELEPON] / [TELEPON]"
    assert masked.iloc[1] == "email saya [EMAIL]"
    assert masked.iloc[2] == s.iloc[2]
    assert pd.isna(masked.iloc[3]) and masked.iloc[4] == 42
    assert counts == {"nik": 1, "phone": 2, "email": 1, "name": 0}


def test_mask_text_respondent_names():
    text = pd.Series(
        [
            "Saya Budi Santoso, budi senang membaca. Pak santoso juga.",
            "Terima kasih dari Siti",
            "Budiman datang ke perpustakaan",  # not the word "Budi"
            "Jawaban tanpa nama",
            "",
        ],
        index=[5, 6, 7, 8, 9],
    )
    names = pd.Series(
        ["Budi Santoso", "Siti Nur'aini, S.Pd", "Budi", None, "Ani"], index=[5, 6, 7, 8, 9]
    )
    masked, counts = mask_text(text, names)
    assert masked.loc[5] == "Saya [NAMA], [NAMA] senang membaca. Pak [NAMA] juga."
    assert masked.loc[6] == "Terima kasih dari [NAMA]"
    assert masked.loc[7] == "Budiman datang ke perpustakaan"
    assert masked.loc[8] == "Jawaban tanpa nama"
    assert counts["name"] == 4


def test_mask_text_names_are_row_aligned():
    text = pd.Series(["Ani suka buku", "Ani suka buku"])
    masked, _ = mask_text(text, pd.Series(["Ani Lestari", "Dewi Lestari"]))
    assert masked.tolist() == ["[NAMA] suka buku", "Ani suka buku"]


def test_mask_text_short_name_parts_and_titles_not_masked():
    masked, counts = mask_text(pd.Series(["ibu guru baik"]), pd.Series(["Ibu Al"]))
    assert masked.iloc[0] == "ibu guru baik" and counts["name"] == 0


# ---------------------------------------------------------------- secret and pseudonyms


def test_secret_created_0600_and_reused(tmp_path):
    path = tmp_path / "cfg" / "pseudonym.key"
    key = load_or_create_secret(path)
    assert len(key) == 32 and path.read_bytes() == key
    if os.name == "posix":  # Windows files have no owner/group/other mode bits
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret(path) == key
    other = load_or_create_secret(tmp_path / "other.key")
    assert other != key


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_secret_tightens_loose_permissions_and_rejects_damaged_file(tmp_path):
    path = tmp_path / "k"
    path.write_bytes(os.urandom(32))
    path.chmod(0o644)
    load_or_create_secret(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    bad = tmp_path / "bad"
    bad.write_bytes(b"short")
    with pytest.raises(DampakError):
        load_or_create_secret(bad)


def test_default_secret_path(monkeypatch, tmp_path):
    monkeypatch.delenv("DAMPAK_SECRET_FILE", raising=False)
    assert default_secret_path().parts[-3:] == (".config", "dampak", "pseudonym.key")
    monkeypatch.setenv("DAMPAK_SECRET_FILE", str(tmp_path / "x.key"))
    assert default_secret_path() == tmp_path / "x.key"
    key = load_or_create_secret()
    assert (tmp_path / "x.key").read_bytes() == key


def test_pseudonymise_keyed_stable_and_normalised():
    s = pd.Series(
        ["1372 0112 3456 0001", "1372011234560001", "Ani@Gmail.com ", "ani@gmail.com", np.nan, ""],
        dtype=object,
    )
    a = pseudonymise(s, SECRET)
    b = pseudonymise(s, SECRET)
    c = pseudonymise(s, OTHER)
    assert a.equals(b)
    assert a.iloc[0] == a.iloc[1] and a.iloc[2] == a.iloc[3]
    assert a.iloc[0] != a.iloc[2]
    assert pd.isna(a.iloc[4]) and pd.isna(a.iloc[5])
    assert a.iloc[0].startswith("R") and len(a.iloc[0]) == 17
    int(a.iloc[0][1:], 16)  # hex
    assert (a.iloc[:4] != c.iloc[:4]).all()
    import hashlib

    assert hashlib.sha256(b"1372011234560001").hexdigest()[:16] not in a.iloc[0]
    assert pseudonymise(pd.Series(["x"]), SECRET, prefix="P-").iloc[0].startswith("P-")


def _reference_key(x) -> str:
    """The normalisation rule written value by value, independent of the vectorised one."""
    import re
    import unicodedata

    if isinstance(x, float) and x.is_integer():
        x = int(x)
    t = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", str(x))).strip()
    d = re.sub(r"[\s.-]", "", t)
    if not t:
        return ""
    if d.isdigit() and len(d) == 16:
        return d
    return t.lower() if "@" in t else t.casefold()


def test_identifier_keys_match_value_by_value_rule():
    values = [
        "1372 0112 3456 0001",
        "1372.0112.3456.0001",
        "１３７２０１１２３４５６０００１",  # full-width digits
        "137201123456000",  # 15 digits: not a NIK
        1372011234560001.0,
        " Ani@Gmail.COM ",
        "STRASSE  Straße",
        "İstanbul",
        "  ",
        "",
        "08-12 3456 7890",
        42.5,
    ]
    got = identifier_keys(pd.Series(values, dtype=object))
    assert list(got) == [_reference_key(v) for v in values]
    assert got.iloc[0] == got.iloc[1] == got.iloc[2] == "1372011234560001"
    assert got.iloc[6] == "strasse  strasse".replace("  ", " ")


def test_pseudonym_is_hmac_of_the_normalised_key():
    import hashlib
    import hmac

    got = pseudonymise(pd.Series(["Ani@Gmail.com", "1372 0112 3456 0001"]), SECRET)
    for value, key in zip(got, ["ani@gmail.com", "1372011234560001"], strict=True):
        mac = hmac.new(SECRET, b"dampak-pseudonym-v1\x00" + key.encode(), hashlib.sha256)
        assert value == "R" + mac.hexdigest()[:16]


def test_pseudonymise_rejects_weak_secret():
    with pytest.raises(ValueError):
        pseudonymise(pd.Series(["x"]), b"short")


def test_name_fingerprints_keyed_and_normalised():
    f1 = name_fingerprints(pd.Series(["Budi  Santoso", "budi santoso", None, "Tunggal"]), SECRET)
    f2 = name_fingerprints(pd.Series(["BUDI SANTOSO"]), SECRET)
    f3 = name_fingerprints(pd.Series(["Budi Santoso"]), OTHER)
    assert f1 == f2 and f1.isdisjoint(f3)
    assert not any("budi" in f.lower() for f in f1)


# ---------------------------------------------------------------- scanning


@pytest.fixture
def clean_dir(tmp_path):
    d = tmp_path / "out"
    d.mkdir()
    df = pd.DataFrame(
        {
            "kabupaten": ["Padang Pariaman", "Agam"],
            "pendapatan": ["Rp 1.500.000", "2.500.000"],
            "waktu": ["2025-11-25 14:03:22", "25/11/2025 14.03.22"],
            "skor": [0.6369616873214543, 4.5],
            "komentar": ["Perpustakaan sangat membantu", "Buku anak kurang"],
        }
    )
    df.to_csv(d / "ringkasan.csv", index=False)
    df.to_parquet(d / "data.parquet")
    # base64 may contain "/" and "+", so NIK- and phone-like digit runs can appear in images
    noise = base64.b64encode(os.urandom(3000)).decode()
    img = noise + "/1372011234560001/081234567890/" + noise
    (d / "laporan.html").write_text(
        f"<html><body><p>Rata-rata Rp 1.500.000</p><img src='data:image/png;base64,{img}'>"
        f"<img src='logo@2x.png'></body></html>"
    )
    nb = {"cells": [{"outputs": [{"data": {"image/png": img, "text/plain": "<Figure>"}}]}]}
    (d / "analisis.ipynb").write_text(json.dumps(nb))
    (d / "grafik.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"0812345678901 " * 10)
    (d / "catatan.md").write_text("# Catatan\nDibuat 2025-11-25, n = 1500.\n")
    return d


def test_base64_guard_is_what_keeps_images_clean(clean_dir, monkeypatch):
    import pipelines.privacy as privacy

    monkeypatch.setattr(privacy, "_strip_blobs", lambda text: text)
    found = {f.path.name for f in scan_paths([clean_dir])}
    assert found == {"laporan.html", "analisis.ipynb"}


def test_clean_outputs_have_no_findings(clean_dir):
    fps = name_fingerprints(pd.Series(["Budi Santoso", "Siti Aminah"]), SECRET)
    assert scan_paths([clean_dir], fps, SECRET) == []
    assert_clean([clean_dir], fps, SECRET)  # does not raise


def test_scan_finds_planted_phone_in_csv_parquet_html(clean_dir):
    pd.DataFrame({"a": ["ok", "hubungi 0812-3456-7890"]}).to_csv(clean_dir / "x.csv", index=False)
    pd.DataFrame({"n": [1, 2, 3], "c": pd.Categorical(["a", "a", "wa 081298765432"])}).to_parquet(
        clean_dir / "y.parquet"
    )
    (clean_dir / "z.html").write_text("<p>Kontak</p>\n<p>+62 813-1111-2222</p>")
    findings = scan_paths([clean_dir])
    by_file = {f.path.name: f for f in findings}
    assert set(by_file) == {"x.csv", "y.parquet", "z.html"}
    assert all(f.kind == "phone" for f in findings)
    assert by_file["x.csv"].location == "line 3"
    assert by_file["y.parquet"].location == "column 'c', row 2"
    assert by_file["z.html"].location == "line 2"
    for f in findings:
        digits = "".join(ch for ch in f.excerpt_masked if ch.isdigit())
        assert len(digits) <= 4, f.excerpt_masked  # value never shown in full
        assert "*" in f.excerpt_masked


def test_scan_finds_nik_and_email_in_json_and_txt(clean_dir):
    (clean_dir / "a.json").write_text(json.dumps({"resp": "NIK 1372011234560001"}))
    (clean_dir / "b.log").write_text("kirim ke ani@gmail.com\n")
    found = {(f.path.name, f.kind) for f in scan_paths([clean_dir])}
    assert found == {("a.json", "nik"), ("b.log", "email")}


def test_scan_finds_names_via_fingerprints_only(clean_dir):
    (clean_dir / "kutipan.md").write_text("Kata responden:\n> saya, siti  AMINAH, senang\n")
    pd.DataFrame({"k": ["x", "oleh Budi Santoso Wijaya"]}).to_parquet(clean_dir / "q.parquet")
    fps = name_fingerprints(pd.Series(["Siti Aminah", "Budi Santoso Wijaya", "Ani"]), SECRET)
    findings = scan_paths([clean_dir], fps, SECRET)
    assert {(f.path.name, f.kind) for f in findings} == {
        ("kutipan.md", "name"),
        ("q.parquet", "name"),
    }
    md = next(f for f in findings if f.path.name == "kutipan.md")
    assert md.location == "line 2" and "AMINAH" not in md.excerpt_masked
    # wrong secret: the fingerprints mean nothing
    assert scan_paths([clean_dir], fps, OTHER) == []
    with pytest.raises(ValueError):
        scan_paths([clean_dir], fps)


def test_name_split_across_lines_or_cells_is_not_a_name(clean_dir):
    (clean_dir / "t.csv").write_text("a,b\nSiti,Aminah\nSiti\nAminah\n")
    fps = name_fingerprints(pd.Series(["Siti Aminah"]), SECRET)
    assert scan_paths([clean_dir], fps, SECRET) == []


def test_scan_pdf(tmp_path):
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(0, 10, "Kontak petugas: 0812-3456-7890")
    pdf.output(str(tmp_path / "r.pdf"))
    [f] = scan_paths([tmp_path / "r.pdf"])
    assert f.kind == "phone" and f.location == "page 1"


def test_assert_clean_raises_readable_error(clean_dir):
    lines = "\n".join(f"hp 0812-3456-78{i:02d}" for i in range(7))
    (clean_dir / "bocor.txt").write_text(lines)
    with pytest.raises(PrivacyError) as exc:
        assert_clean([clean_dir])
    msg = str(exc.value)
    assert isinstance(exc.value, DampakError)
    assert "bocor.txt" in msg and "phone number" in msg and "and 2 more" in msg
    assert msg.count("bocor.txt") == 5
    assert "0812-3456-7800" not in msg
    assert len(exc.value.findings) == 7 and isinstance(exc.value.findings[0], Finding)
    if hasattr(exc.value, "text"):  # bilingual DampakError
        assert "data pribadi" in exc.value.text("id")


def test_missing_path_is_an_error(tmp_path):
    with pytest.raises(DampakError):
        scan_paths([tmp_path / "nope"])


PII_TOKENS = [
    "1372011234560001",
    "1372 0112 3456 0001",
    "13.72.01.123456.0001",
    "137201-123456-0001",
    "081234567890",
    "+62 812-3456-7890",
    "62812 3456 789",
    "(0812) 3456 7890",
    "0812.3456.7890",
    "6281234567890",
    "62-8123-4567-89",
    "ani.s@gmail.com",
]
NOT_PII_TOKENS = [
    "13.98",
    "18-24",
    "2025-08-14 08:12:33",
    "25/11/2025 14.03.22",
    "6250000",
    "628",
    "08:15",
    "14.03.22",
    "1372 0112",
    "13.72.01.12",
    "Rp 1.500.000",
    "99",
]


def test_fast_finder_equals_a_plain_regex_pass_on_mixed_text():
    """The NumPy pre-filter only skips places where the regexes cannot match."""
    from pipelines.privacy import PII_RE, _find_all, _kind_of

    rng = np.random.default_rng(7)
    seps = [",", " ", ";", "\n", ", ", '","']
    tokens = PII_TOKENS + NOT_PII_TOKENS * 3
    text = "".join(
        tokens[rng.integers(len(tokens))] + seps[rng.integers(len(seps))] for _ in range(5000)
    )
    plain = [(k, m.start(), m.end()) for m in PII_RE.finditer(text) if (k := _kind_of(m))]
    got = _find_all(text)
    assert got == plain
    assert {k for k, _, _ in got} == {"nik", "phone", "email"} and len(got) > 500


def test_fast_finder_equals_a_plain_regex_pass_on_digit_noise():
    """Character-level noise of digits and separators, also in small newline-aligned slices."""
    from pipelines.privacy import (
        PII_RE,
        _chunked_candidates,
        _codes,
        _find_all,
        _kind_of,
        _start_candidates,
    )

    rng = np.random.default_rng(11)
    alpha = list("0123456789" * 6 + " .-,+():/\n" * 2 + "abé") + ["08", "62", "13", "0812"]
    for _ in range(300):
        text = "".join(alpha[i] for i in rng.integers(len(alpha), size=2000))
        plain = [(k, m.start(), m.end()) for m in PII_RE.finditer(text) if (k := _kind_of(m))]
        assert _find_all(text) == plain
        codes = _codes(text)
        assert _chunked_candidates(codes, size=37) == _start_candidates(codes).tolist()


def test_scan_finds_nik_phone_and_name_deep_in_a_large_csv(tmp_path):
    """Values far past the scanner's internal slice sizes are still found, on the right line."""
    row = '"2025","Na9c604b24a59979b","tanah-sarik-v","Koto Pinang",2025-03-05 08:00:00,13.7,5\n'
    rows = [row] * 120_000  # ~10 MB, more than two 4 MB word slices
    rows[70_000] = row.replace("Koto Pinang", "NIK 1372 0112 3456 0001")
    rows[100_000] = row.replace("Koto Pinang", "oleh Budi Santoso")
    rows[-1] = row.replace("tanah-sarik-v", "hp 0812-3456-7890")
    (tmp_path / "big.csv").write_text("".join(rows))
    fps = name_fingerprints(pd.Series(["Budi Santoso"]), SECRET)
    found = {(f.kind, f.location) for f in scan_paths([tmp_path], fps, SECRET)}
    assert found == {("nik", "line 70001"), ("name", "line 100001"), ("phone", "line 120000")}


def test_scan_finds_nik_only_in_a_parquet_string_column(tmp_path):
    df = pd.DataFrame(
        {"n": range(3), "c": ["a", "b", "c"], "t": ["x", "y", "NIK 1372011234560001"]}
    )
    df.to_parquet(tmp_path / "p.parquet")
    [f] = scan_paths([tmp_path])
    assert (f.kind, f.location) == ("nik", "column 't', row 2")


TRICKY_IDS = [
    "1372 0112 3456 0001",
    "1372.0112.3456.0001",
    "1372-0112-3456-0001",
    "  Foo\tBAR  ",
    "a\x0bb\x0cc",
    "x\x1cy\x1fz",
    "Ani@Mail.COM",
    "",
    "   ",
    "12345678901234567",
    "0812-3456-7890",
    "1234567890123456 ",
    "-1372011234560001-",
    "A  B\r\nC",
]


def test_ascii_identifier_keys_equal_the_general_rule():
    """The compiled path for ASCII text gives exactly the keys of the general rule (which an
    added non-ASCII value forces)."""
    fast = identifier_keys(pd.Series(TRICKY_IDS, dtype=object))
    general = identifier_keys(pd.Series([*TRICKY_IDS, "Ñ"], dtype=object)).iloc[:-1]
    assert fast.tolist() == general.tolist()
    assert fast.iloc[0] == "1372011234560001" and fast.iloc[6] == "ani@mail.com"


def test_pseudonyms_are_the_keyed_hmac_of_the_key():
    import hashlib
    import hmac

    s = pd.Series(["1372 0112 3456 0001", "Ani@Mail.COM", "", np.nan, "1372011234560001"])
    got = pseudonymise(s, SECRET, prefix="N")
    for value, key in zip(got, identifier_keys(s.fillna("")), strict=True):
        if not key:
            assert pd.isna(value)
            continue
        msg = b"dampak-pseudonym-v1\x00" + key.encode("utf-8")
        assert value == "N" + hmac.new(SECRET, msg, hashlib.sha256).hexdigest()[:16]
    assert got.iloc[0] == got.iloc[4]


def test_mask_text_once_per_distinct_text_equals_row_by_row():
    """Masking each distinct text once gives the row-by-row texts and per-row counts."""
    from pipelines.privacy import _TAGS, PII_RE, _kind_of

    texts = [
        "hp 0812-3456-7890",
        "hp 0812-3456-7890",
        "NIK 1372 0112 3456 0001 dan ani@gmail.com",
        "",
        "foto.png@x.png",
        "Ani bilang bagus",
        "hp 0812-3456-7890",
        "tanpa data",
    ]
    names = ["Ani Lestari", None, "Budi", "Ani", "", "Ani Lestari", "Ani", None]
    counts = dict.fromkeys(["nik", "phone", "email", "name"], 0)

    def repl(m):
        kind = _kind_of(m)
        if kind is None:
            return m.group(0)
        counts[kind] += 1
        return _TAGS[kind]

    expected = [PII_RE.sub(repl, t) if t else t for t in texts]
    for dtype in ("str", object):
        got, got_counts = mask_text(pd.Series(texts, dtype=dtype))
        assert got.tolist() == expected
        assert got_counts == counts
    named, named_counts = mask_text(pd.Series(texts, dtype="str"), names=pd.Series(names))
    assert named.iloc[5] == "[NAMA] bilang bagus" and named.iloc[0] == expected[0]
    assert named_counts["phone"] == counts["phone"] == 3


# ---------------------------------------------------------------- identifiers are not personal


def _uuid_like(rng, tail: str | None = None) -> str:
    import uuid

    u = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return u if tail is None else u[:24] + tail


def test_uuids_hashes_and_submission_ids_are_never_phones_or_nik(tmp_path):
    """2,000 random uuid4 plus uuids whose last group is phone- or NIK-shaped (the 8 of 107
    Kobo exports that failed), cut uuids, hex digests and ODK instance ids: no finding, in text
    and in a restricted/source_ids.parquet like the one ingest writes."""
    import hashlib
    import random

    rng = random.Random(2026)
    ids = [_uuid_like(rng) for _ in range(2000)]
    phone_tails = [_uuid_like(rng, f"08{rng.randrange(10**10):010d}") for _ in range(50)]
    nik_like = [f"{_uuid_like(rng)[:19]}1372-{rng.randrange(10**12):012d}" for _ in range(20)]
    cut = [u[10:] for u in phone_tails]  # "…-4cac-b6dc-081755611568": a fragment of one
    hashes = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(200)]
    instance = [f"uuid:{u}" for u in phone_tails]
    values = ids + phone_tails + nik_like + cut + hashes + instance
    assert sum(bool(kinds(v)) for v in phone_tails) == 0
    assert find_personal_data("\n".join(values)) == []
    assert find_personal_data(" ".join(values)) == []
    masked = mask_text(pd.Series(values)).text
    assert masked.tolist() == values  # nothing masked inside an identifier either
    pd.DataFrame({"source_id": values}).to_parquet(tmp_path / "source_ids.parquet")
    assert scan_paths([tmp_path]) == []


@pytest.mark.parametrize(
    "text, kind",
    [
        ("id 5f0c2a7e-1b3d-4c8e-9a00-0d6e8f1a2b3c hp 081234567890", "phone"),
        ("5f0c2a7e-1b3d-4c8e-9a00-0d6e8f1a2b3c\n0812-3456-7890", "phone"),
        ("uuid:5f0c2a7e-1b3d-4c8e-9a00-0d6e8f1a2b3c, NIK 1372015501900001", "nik"),
        ("hash 9f86d081884c7d659a2feaa0c55ad015 nik 1372 0112 3456 0001", "nik"),
        ("HP:0812-3456-7890", "phone"),
        ("cafe-0812-3456-7890", "phone"),  # hex-looking word before a phone: still a phone
        ("ref-081234567890", "phone"),
        ("+62 812 3456 7890/5f0c2a7e", "phone"),
    ],
)
def test_real_phones_and_nik_beside_identifiers_are_still_found(text, kind):
    assert kinds(text) == [kind]
    assert f"[{'TELEPON' if kind == 'phone' else 'NIK'}]" in mask_text(pd.Series([text])).text[0]


# ---------------------------------------------------------------- PDF reports (the renderer's)

MARK = "Hubungi"  # the word before the data planted in the table, to tell which page it is on


def planted_report(path):
    """A report PDF from the project's renderer: an e-mail on page 1; further on, a name, a
    phone and a grouped NIK wrapped over several lines of a narrow table cell, then a paragraph
    with an e-mail and a plain NIK."""
    from pipelines.render import Document, Section, Table, render_pdf

    filler = "Perpustakaan desa membuka kelas literasi digital setiap pekan bersama warga. " * 12
    cell = f"{MARK} Siti Aminah di 0812 3456 7890 atau NIK 1372 0112 3456 0001 ya"
    notes = [f"catatan panjang nomor {j} " * 2 for j in range(7)]
    cols = {f"Kolom {j}": [notes[j], cell if j == 3 else "–"] for j in range(7)}
    doc = Document(
        "Laporan uji",
        "Gelombang 2026",
        "id",
        [
            Section("Kontak", ["Tanya jawab lewat ani.s@gmail.com setiap hari kerja."]),
            Section("Pengantar", [filler] * 6),
            Section(
                "Catatan",
                [
                    Table(pd.DataFrame(cols), caption="Catatan petugas"),
                    "Surel budi.santoso@gmail.com; NIK 1372011234560001.",
                ],
            ),
        ],
    )
    path.write_bytes(render_pdf(doc))
    return path


def pages_of(path, reader) -> list[str]:
    import pipelines.privacy as privacy

    return list(getattr(privacy, reader)(path))


def findings_with(monkeypatch, reader, paths, fps=frozenset(), secret=None):
    """:func:`scan_paths` with one PDF library's text."""
    import pipelines.privacy as privacy

    monkeypatch.setattr(privacy, "_pdf_pages_reader", lambda: getattr(privacy, reader))
    return scan_paths(paths, fps, secret)


@pytest.mark.parametrize("reader", ["_pdfium_pages", "_pypdf_pages"])
def test_scan_finds_data_planted_in_a_rendered_report_with_its_page(tmp_path, monkeypatch, reader):
    pytest.importorskip(reader.strip("_").split("_")[0].replace("pdfium", "pypdfium2"))
    pdf = planted_report(tmp_path / "laporan.pdf")
    pages = pages_of(pdf, reader)
    [at] = [i for i, text in enumerate(pages, 1) if MARK in text]
    assert at > 1 and "ani.s@gmail.com" in pages[0]
    # the cell wraps: the name, phone and NIK are each split over two lines of the text
    for value in ("Siti Aminah", "0812 3456 7890", "1372 0112 3456 0001"):
        assert value not in pages[at - 1], "the table's layout changed: re-plant the data"
        assert value.split()[0] in pages[at - 1]
    fps = name_fingerprints(pd.Series(["Siti Aminah", "Budi Santoso"]), SECRET)
    found = findings_with(monkeypatch, reader, [pdf], fps, SECRET)
    where = sorted((f.kind, f.location) for f in found)
    page = f"page {at}"
    assert where == sorted(
        [("email", "page 1"), ("name", page), ("phone", page), ("nik", page)]
        + [("email", page), ("nik", page)]
    )
    shown = {f.kind: f.excerpt_masked for f in found if f.location == page}
    assert "Aminah" not in shown["name"] and "0812 3456" not in shown["phone"]
    assert all("*" in f.excerpt_masked for f in found)


def test_pdfium_finds_everything_pypdf_finds(tmp_path, monkeypatch):
    """The same findings, page by page, from both libraries' text of one report."""
    pytest.importorskip("pypdf")
    pytest.importorskip("pypdfium2")
    pdf = planted_report(tmp_path / "laporan.pdf")
    fps = name_fingerprints(pd.Series(["Siti Aminah"]), SECRET)
    old = findings_with(monkeypatch, "_pypdf_pages", [pdf], fps, SECRET)
    new = findings_with(monkeypatch, "_pdfium_pages", [pdf], fps, SECRET)
    assert len(old) == 6
    assert sorted((f.kind, f.location, f.excerpt_masked) for f in new) == sorted(
        (f.kind, f.location, f.excerpt_masked) for f in old
    )
    assert [t.split() for t in pages_of(pdf, "_pdfium_pages")] == [
        t.split() for t in pages_of(pdf, "_pypdf_pages")
    ]


def test_line_breaks_join_only_in_pdfs_and_never_across_pages(tmp_path, monkeypatch):
    import pipelines.privacy as privacy

    texts = ["saya Siti\nAminah, hp 0812\n3456 7890", "x Siti", "Aminah 0812", "3456 7890"]
    monkeypatch.setattr(privacy, "_pdf_pages_reader", lambda: lambda path: iter(texts))
    (tmp_path / "r.pdf").write_bytes(b"%PDF-")
    (tmp_path / "r.txt").write_text(texts[0])
    fps = name_fingerprints(pd.Series(["Siti Aminah"]), SECRET)
    found = sorted((f.path.suffix, f.kind, f.location) for f in scan_paths([tmp_path], fps, SECRET))
    assert found == [(".pdf", "name", "page 1"), (".pdf", "phone", "page 1")]


def test_pdf_library_fallback_and_warning(tmp_path, monkeypatch):
    import pipelines.privacy as privacy

    pdfium, pypdf_reader = privacy._PDF_READERS
    monkeypatch.setattr(privacy, "_PDF_READERS", (("no_such_module_x", pdfium[1]), pypdf_reader))
    assert privacy._pdf_pages_reader() is (privacy._pypdf_pages if find_spec("pypdf") else None)
    monkeypatch.setattr(privacy, "_PDF_READERS", (("no_such_module_x", pdfium[1]),))
    (tmp_path / "r.pdf").write_bytes(b"%PDF-")
    with pytest.warns(UserWarning, match="install pypdfium2"):
        assert scan_paths([tmp_path / "r.pdf"]) == []


def test_pdfium_text_is_the_same_when_threads_scan_at_once(tmp_path):
    """PDFium is not thread-safe: the scan serialises it, so concurrent scans agree."""
    from concurrent.futures import ThreadPoolExecutor

    import pipelines.privacy as privacy

    pytest.importorskip("pypdfium2")
    pdf = planted_report(tmp_path / "laporan.pdf")
    with ThreadPoolExecutor(4) as ex:
        texts = list(ex.map(lambda _: privacy._pdfium_pages(pdf), range(16)))
    assert all(t == texts[0] for t in texts) and MARK in "".join(texts[0])
