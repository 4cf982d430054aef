"""Dampak's exceptions: one root, a sentence in the staff member's language, file/row/column."""

from __future__ import annotations

import pytest

from pipelines import errors
from pipelines.errors import ConfigError, DampakError, InputError, RunError, located, say


def test_every_error_is_a_dampak_error_the_cli_catches():
    for cls in (ConfigError, InputError, RunError):
        assert issubclass(cls, DampakError)
    with pytest.raises(DampakError):
        raise InputError("In file a.csv, row 3: bad.")


def test_message_follows_the_messages_language():
    e = RunError("Run the 'ingest' stage first.", id_text="Jalankan tahap 'ingest' dulu.")
    assert e.text("en") == "Run the 'ingest' stage first."
    assert e.text("id") == "Jalankan tahap 'ingest' dulu."
    errors.set_language("id")
    assert errors.current_language() == "id"
    assert str(e) == "Jalankan tahap 'ingest' dulu." and say("yes", "ya") == "ya"
    assert str(InputError("Only English.")) == "Only English."  # no translation: English
    errors.set_language("en")
    assert str(e) == "Run the 'ingest' stage first." and say("yes", "ya") == "yes"


def test_located_names_file_row_and_column_in_both_languages():
    assert located("a.csv") == ("file a.csv", "berkas a.csv")
    assert located("a.csv", 7, "umur") == (
        'file a.csv, row 7, column "umur"',
        'berkas a.csv, baris 7, kolom "umur"',
    )
    assert located("a.csv", column="x")[0] == 'file a.csv, column "x"'
