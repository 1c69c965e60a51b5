"""Manifests: canonical bytes, strict decoding, and names that are safe on every system."""

from __future__ import annotations

import json
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from natakanu_peer.errors import LocalProtocolError, RemoteProtocolError
from natakanu_peer.protocol import limits
from natakanu_peer.protocol.manifest import (
    CHUNK_SIZE,
    MANIFEST_KEY_PREFIX,
    Manifest,
    ManifestFile,
    check_relative_path,
    decode_manifest,
    encode_manifest,
    manifest_digest_of_key,
    manifest_key,
    media_type_for,
    path_problem,
)

SYLLABICS = "ᓀᐦᐃᔭᐍᐏᐣ"


def digest(n: int) -> str:
    return f"{n:064x}"


def file(path: str, size: int, first: int = 0) -> ManifestFile:
    chunks = -(-size // CHUNK_SIZE)
    return ManifestFile(
        path, size, media_type_for(path), tuple(digest(first + i) for i in range(chunks))
    )


def folder(*files: ManifestFile, name: str = SYLLABICS) -> Manifest:
    return Manifest(name=name, folder=True, files=files)


def single(name: str, size: int = 10) -> Manifest:
    return Manifest(name=name, folder=False, files=(file(name, size),))


SAMPLE = folder(
    file("Montréal/été 2024.mp4", 2 * CHUNK_SIZE + 5, 1),
    file("empty.txt", 0),
    file("ᐃᓄᒃᑎᑐᑦ/ᑐᑭᓯᐊᕐᓂᖅ.pdf", CHUNK_SIZE, 10),
)


def as_document(manifest: Manifest) -> dict:
    return json.loads(encode_manifest(manifest))


def encoded(document: dict) -> bytes:
    text = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    # A lone surrogate cannot be UTF-8: a peer would send it as a JSON escape.
    return text.encode("utf-8", "backslashreplace")


# ----------------------------------------------------------------------------- round trip


def test_a_manifest_survives_encoding_and_decoding_unchanged():
    assert decode_manifest(encode_manifest(SAMPLE)) == SAMPLE


def test_a_single_file_manifest_survives_encoding_and_decoding_unchanged():
    manifest = single("film.mp4", 3 * CHUNK_SIZE)
    assert decode_manifest(encode_manifest(manifest)) == manifest


def test_the_encoding_is_canonical_json_with_sorted_keys_and_no_whitespace():
    data = encode_manifest(SAMPLE)
    assert data == encoded(json.loads(data))
    assert b" " not in data.replace("été 2024".encode(), b"")
    assert list(json.loads(data)) == sorted(json.loads(data))


def test_the_same_content_always_gives_the_same_bytes():
    again = folder(*SAMPLE.files)
    assert encode_manifest(again) == encode_manifest(SAMPLE)


def test_unicode_names_are_written_as_utf8_not_escapes():
    assert SYLLABICS.encode("utf-8") in encode_manifest(SAMPLE)


def test_another_spelling_of_the_same_manifest_is_refused():
    data = encode_manifest(SAMPLE)
    spaced = json.dumps(json.loads(data), ensure_ascii=False, sort_keys=True).encode()
    ascii_escaped = json.dumps(json.loads(data), sort_keys=True, separators=(",", ":")).encode()
    for other in (spaced, ascii_escaped, data + b"\n"):
        with pytest.raises(RemoteProtocolError, match="canonical"):
            decode_manifest(other)


def test_chunks_are_numbered_across_files_and_never_span_two_files():
    places = SAMPLE.chunk_places()
    assert [p.index for p in places] == list(range(SAMPLE.chunk_count))
    assert [(p.file_index, p.offset, p.length) for p in places] == [
        (0, 0, CHUNK_SIZE),
        (0, CHUNK_SIZE, CHUNK_SIZE),
        (0, 2 * CHUNK_SIZE, 5),
        (2, 0, CHUNK_SIZE),
    ]
    assert SAMPLE.total_size == 3 * CHUNK_SIZE + 5


def test_a_folder_places_its_files_under_its_name():
    assert SAMPLE.destination_parts(2) == (SYLLABICS, "ᐃᓄᒃᑎᑐᑦ", "ᑐᑭᓯᐊᕐᓂᖅ.pdf")
    assert single("film.mp4").destination_parts(0) == ("film.mp4",)


# ---------------------------------------------------------------------------------- keys


def test_a_manifest_key_is_the_prefix_then_the_digest_and_reads_back():
    raw = bytes(range(32))
    key = manifest_key(raw)
    assert key == b"NM\x01" + raw == MANIFEST_KEY_PREFIX + raw
    assert manifest_digest_of_key(key) == raw


@pytest.mark.parametrize(
    "key",
    [
        b"",
        b"NM\x01",
        b"NM\x01" + bytes(31),
        b"NM\x01" + bytes(33),
        b"NM\x02" + bytes(32),
        bytes(35),
    ],
)
def test_other_keys_advertise_no_manifest(key):
    assert manifest_digest_of_key(key) is None


def test_a_manifest_key_needs_a_32_byte_digest():
    with pytest.raises(LocalProtocolError):
        manifest_key(bytes(20))


# --------------------------------------------------------------------------- media types


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("film.mp4", "video/mp4"),
        ("FILM.MP4", "video/mp4"),
        ("photo.jpg", "image/jpeg"),
        ("notes.txt", "text/plain"),
        ("archive.tar.gz", "application/gzip"),
        ("no-extension", "application/octet-stream"),
        ("strange.qqqzz", "application/octet-stream"),
    ],
)
def test_the_media_type_is_guessed_from_the_extension(name, media_type):
    assert media_type_for(name) == media_type


# --------------------------------------------------------------------------------- names

HOSTILE_PATHS = [
    "/etc/passwd",
    "//server/share/x",
    "C:evil.exe",
    "c:/Windows/x",
    "..",
    "../escape",
    "a/../../b",
    ".",
    "a/./b",
    "",
    "a//b",
    "a/",
    "a\\..\\b",
    "a\\b",
    "nul\x00byte",
    "new\nline",
    "tab\there",
    "del\x7f",
    "c1\x85control",
    "CON",
    "con",
    "con.txt",
    "Aux.tar.gz",
    "NUL",
    "PRN.log",
    "COM1",
    "com9.txt",
    "LPT1",
    "lpt9.doc",
    "COM¹",
    "CON .txt",
    "folder/CONOUT$",
    "ends with dot.",
    "ends with space ",
    "folder./x",
    "a<b",
    "a>b",
    'a"b',
    "a|b",
    "a?b",
    "a*b",
    "a:b",
    "stream.txt:hidden",
    "x" * 256,
    "é" * 128,
    "/".join(["d"] * (limits.MAX_PATH_DEPTH + 1)),
    "/".join(["n" * 200] * 6),
    "evil\u202egpj.exe",
    "lone\ud800surrogate",
]


@pytest.mark.parametrize("path", HOSTILE_PATHS, ids=repr)
def test_every_unsafe_path_is_refused_with_a_reason(path):
    with pytest.raises(RemoteProtocolError) as refused:
        check_relative_path(path)
    assert str(refused.value)
    assert path_problem(path) == str(refused.value)


SAFE_PATHS = [
    SYLLABICS,
    f"{SYLLABICS}/ᐃᓄᒃᑎᑐᑦ.pdf",
    "Montréal/été 2024.mp4",
    "naïve café.txt",
    "日本語/ファイル.txt",
    "a b/c d",
    ".hidden",
    "con-notes.txt",
    "CONSOLE",
    "COM10",
    "x" * 255,
    "/".join(["d"] * limits.MAX_PATH_DEPTH),
    "emoji 👩‍👩‍👧.png",
]


@pytest.mark.parametrize("path", SAFE_PATHS, ids=repr)
def test_portable_names_in_any_script_are_accepted(path):
    assert check_relative_path(path) == tuple(path.split("/"))
    assert path_problem(path) is None


def test_paths_are_normalised_to_nfc():
    decomposed = unicodedata.normalize("NFD", "été/café")
    assert decomposed != "été/café"
    assert check_relative_path(decomposed) == ("été", "café")


def test_a_path_that_is_not_text_is_refused():
    with pytest.raises(RemoteProtocolError):
        check_relative_path(b"bytes")


@pytest.mark.parametrize("path", HOSTILE_PATHS, ids=repr)
def test_a_manifest_naming_an_unsafe_path_is_refused(path):
    document = as_document(folder(file("ok.txt", 1)))
    document["files"][0]["path"] = path
    with pytest.raises(RemoteProtocolError) as refused:
        decode_manifest(encoded(document))
    assert "canonical" not in str(refused.value)


@pytest.mark.parametrize("name", [*HOSTILE_PATHS, "two/parts"], ids=repr)
def test_a_manifest_with_an_unsafe_name_is_refused(name):
    document = as_document(single("ok.txt"))
    document["name"] = name
    document["files"][0]["path"] = name
    with pytest.raises(RemoteProtocolError) as refused:
        decode_manifest(encoded(document))
    assert "canonical" not in str(refused.value)


# ----------------------------------------------------------------------- hostile manifests


def mutated(change) -> bytes:
    document = as_document(SAMPLE)
    change(document)
    return encoded(document)


def set_file(index: int, field: str, value: object):
    def change(document: dict) -> None:
        document["files"][index][field] = value

    return change


HOSTILE_MANIFESTS = {
    "one chunk missing": set_file(0, "chunks", [digest(1), digest(2)]),
    "one chunk too many": set_file(1, "chunks", [digest(1)]),
    "a negative size": set_file(1, "size", -1),
    "a size that is not a number": set_file(1, "size", "0"),
    "a size that is a fraction": set_file(1, "size", 0.5),
    "a size that is a boolean": set_file(1, "size", False),
    "an absurd size": set_file(1, "size", limits.MAX_FILE_BYTES + 1),
    "an uppercase hash": set_file(2, "chunks", [digest(10).upper()]),
    "a short hash": set_file(2, "chunks", [digest(10)[:-2]]),
    "a hash that is a number": set_file(2, "chunks", [10]),
    "a media type with markup": set_file(2, "media_type", "<b>text/html</b>"),
    "a media type that is not text": set_file(2, "media_type", None),
    "an unknown field": lambda d: d.update(extra=1),
    "an unknown file field": set_file(0, "owner", "root"),
    "a missing field": lambda d: d.pop("chunk_size"),
    "a missing file field": lambda d: d["files"][0].pop("media_type"),
    "another version": lambda d: d.update(version=2),
    "a version that is text": lambda d: d.update(version="1"),
    "another chunk size": lambda d: d.update(chunk_size=1024),
    "another hash algorithm": lambda d: d.update(hash="sha1"),
    "an unknown kind": lambda d: d.update(kind="symlink"),
    "no files": lambda d: d.update(files=[]),
    "files that are not a list": lambda d: d.update(files={}),
    "a file that is not an object": lambda d: d["files"].append("x"),
    "a duplicate path": lambda d: d["files"].insert(1, dict(d["files"][0])),
    "files out of order": lambda d: d["files"].reverse(),
    "paths equal but for case": lambda d: d["files"].insert(
        0, {**d["files"][0], "path": "MONTRÉAL/été 2024.mp4"}
    ),
    "a file that is also a folder": lambda d: d["files"].insert(
        0, {"chunks": [], "media_type": "text/plain", "path": "Montréal", "size": 0}
    ),
    "a decomposed name": set_file(1, "path", unicodedata.normalize("NFD", "émpty.txt")),
}


@pytest.mark.parametrize("change", HOSTILE_MANIFESTS.values(), ids=HOSTILE_MANIFESTS.keys())
def test_a_malformed_manifest_is_refused(change):
    with pytest.raises(RemoteProtocolError):
        decode_manifest(mutated(change))


def test_a_single_file_manifest_must_name_its_one_file_by_its_name():
    document = as_document(single("film.mp4"))
    document["files"][0]["path"] = "other.mp4"
    with pytest.raises(RemoteProtocolError, match="single-file"):
        decode_manifest(encoded(document))


def test_a_manifest_repeating_a_field_is_refused():
    data = encode_manifest(single("a.txt")).replace(b'"version":1', b'"version":1,"version":1')
    with pytest.raises(RemoteProtocolError, match="repeats"):
        decode_manifest(data)


@pytest.mark.parametrize(
    "data",
    [b"", b"[]", b"null", b"\xff\xfe{}", b"{" * 10, b"[" * 100_000, "{}".encode("utf-16")],
    ids=["empty", "list", "null", "bad utf-8", "unclosed", "deep nesting", "utf-16"],
)
def test_bytes_that_are_no_manifest_are_refused(data):
    with pytest.raises(RemoteProtocolError):
        decode_manifest(data)


def test_a_manifest_over_the_size_limit_is_refused_before_decoding():
    with pytest.raises(RemoteProtocolError, match="larger"):
        decode_manifest(b" " * (limits.MAX_MANIFEST_BYTES + 1))


def test_a_manifest_listing_too_many_files_is_refused(monkeypatch):
    monkeypatch.setattr(limits, "MAX_FILES_PER_MANIFEST", 2)
    with pytest.raises(RemoteProtocolError, match="files"):
        decode_manifest(encode_manifest(SAMPLE))


def test_a_manifest_listing_too_many_chunks_is_refused(monkeypatch):
    monkeypatch.setattr(limits, "MAX_CHUNKS_PER_MANIFEST", 3)
    with pytest.raises(RemoteProtocolError, match="chunks"):
        decode_manifest(encode_manifest(SAMPLE))


# ------------------------------------------------------------------------------ fuzzing

VALID = encode_manifest(SAMPLE)


def decodes_or_is_refused(data: bytes) -> None:
    try:
        manifest = decode_manifest(data)
    except RemoteProtocolError:
        return
    assert encode_manifest(manifest) == data


def test_the_fuzzing_sample_decodes():
    assert decode_manifest(VALID) == SAMPLE


@given(st.binary(max_size=2048))
def test_arbitrary_bytes_give_a_manifest_or_a_remote_protocol_error(data):
    decodes_or_is_refused(data)


@given(st.data())
def test_a_damaged_manifest_gives_a_manifest_or_a_remote_protocol_error(data):
    damaged = bytearray(VALID)
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(damaged) - 1))
        damaged[at] = data.draw(st.integers(0, 255))
    decodes_or_is_refused(bytes(damaged))


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(), st.lists))
def test_any_json_value_gives_a_manifest_or_a_remote_protocol_error(value):
    decodes_or_is_refused(json.dumps({**as_document(SAMPLE), "files": [value]}).encode())
