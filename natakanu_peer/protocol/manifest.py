"""Manifests: what one shared file or folder is made of, as canonical bytes and back.

A manifest names the whole (the file's or folder's name), says whether it is one file or a
folder, and lists every file with its relative path, size, media type and the hashes of its
4 MiB chunks. Each file's chunks start at offset 0 of that file, so a chunk never spans two
files. The encoding is canonical JSON (UTF-8, sorted keys, no whitespace, names in Unicode
normal form C, files in path order): the same content always gives the same bytes, and the
manifest's hash, hence its gossip key, names the content alone.

``decode_manifest`` turns any byte string into a ``Manifest`` or raises
``RemoteProtocolError``, nothing else: a manifest comes from a peer and its names become
files on this disk, so every name is checked to be a plain, portable name (see
``check_relative_path``) before anything can use it.

This module must never touch files, import a hashing library (callers hand in digests) or
accept a name it could not write safely on Windows, macOS and Linux alike.
"""

from __future__ import annotations

import functools
import json
import mimetypes
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from ..errors import LocalProtocolError, RemoteProtocolError
from . import limits

#: Version of the manifest format; a manifest of another version is refused.
FORMAT_VERSION = 1
#: Size of every chunk but the last of each file.
CHUNK_SIZE = 4 * 1024 * 1024
#: The one hash algorithm chunks and manifests are named by.
HASH_ALGORITHM = "blake3"
#: Size of a BLAKE3 digest.
DIGEST_BYTES = 32
#: Gossip keys that advertise a manifest: this prefix, then the manifest's BLAKE3 digest.
MANIFEST_KEY_PREFIX = b"NM\x01"
DEFAULT_MEDIA_TYPE = "application/octet-stream"

KIND_FILE = "file"
KIND_FOLDER = "folder"

_TOP_FIELDS = frozenset({"chunk_size", "files", "hash", "kind", "name", "version"})
_FILE_FIELDS = frozenset({"chunks", "media_type", "path", "size"})
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
# RFC 6838 restricted names, lowercase only so one media type has one spelling.
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}")
_DRIVE = re.compile(r"[A-Za-z]:")
# Refused anywhere in a name: separators, and what Windows reserves.
_RESERVED_CHARACTERS = frozenset('<>:"|?*\\/')
# Text direction controls make "evil\u202egpj.exe" show as "evilexe.jpg".
_DIRECTION_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
# Windows opens a device instead of a file for these, whatever the extension or case.
_DEVICE_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{port}{n}" for port in ("COM", "LPT") for n in (*"0123456789", "¹", "²", "³")}
)
_COMPRESSED = {"gzip": "application/gzip", "bzip2": "application/x-bzip2", "xz": "application/x-xz"}


@dataclass(frozen=True, slots=True)
class ManifestFile:
    """One file of a manifest."""

    #: Relative POSIX path ("a/b/c.mp4"); for a single-file manifest, the file's name.
    path: str
    size: int
    media_type: str
    #: Lowercase hex BLAKE3 digests of the file's chunks, in order.
    chunks: tuple[str, ...]

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.path.split("/"))


@dataclass(frozen=True, slots=True)
class ChunkPlace:
    """Where one chunk of a manifest lives: its global index, file, offset and length."""

    index: int
    file_index: int
    offset: int
    length: int
    hash: str


@dataclass(frozen=True, slots=True)
class Manifest:
    """A shared file or folder: its name, and the files and chunks that make it."""

    #: The whole's name: the file's name, or the folder's. A single name, never a path.
    name: str
    #: True for a folder (files are relative to it), False for a single file.
    folder: bool
    files: tuple[ManifestFile, ...]
    chunk_size: int = CHUNK_SIZE
    hash_algorithm: str = HASH_ALGORITHM
    version: int = FORMAT_VERSION

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def chunk_count(self) -> int:
        return sum(len(f.chunks) for f in self.files)

    def chunk_places(self) -> list[ChunkPlace]:
        """Every chunk in order; the index is global across files."""
        places: list[ChunkPlace] = []
        for file_index, entry in enumerate(self.files):
            for n, digest in enumerate(entry.chunks):
                offset = n * self.chunk_size
                length = min(self.chunk_size, entry.size - offset)
                places.append(ChunkPlace(len(places), file_index, offset, length, digest))
        return places

    def destination_parts(self, file_index: int) -> tuple[str, ...]:
        """Where a file goes relative to the download folder: the name, then its path."""
        if not self.folder:
            return (self.name,)
        return (self.name, *self.files[file_index].parts)


# ------------------------------------------------------------------------------ keys


def manifest_key(digest: bytes) -> bytes:
    """The gossip key that advertises the manifest whose BLAKE3 digest is ``digest``."""
    if len(digest) != DIGEST_BYTES:
        raise LocalProtocolError(f"a manifest digest has {DIGEST_BYTES} bytes, not {len(digest)}")
    return MANIFEST_KEY_PREFIX + digest


def manifest_digest_of_key(key: bytes) -> bytes | None:
    """The manifest digest a gossip key advertises, or None if it advertises something else."""
    if len(key) != len(MANIFEST_KEY_PREFIX) + DIGEST_BYTES:
        return None
    if not key.startswith(MANIFEST_KEY_PREFIX):
        return None
    return key[len(MANIFEST_KEY_PREFIX) :]


def chunk_count_for(size: int) -> int:
    """How many chunks a file of ``size`` bytes has (none for an empty file)."""
    return -(-size // CHUNK_SIZE)


@functools.cache
def _media_types() -> mimetypes.MimeTypes:
    # Built-in tables only: the system's own (/etc/mime.types, the Windows registry) differ
    # from machine to machine, and the media type is part of the bytes that name the content.
    # Made on first use, not at import: the mimetypes module reads those system tables then.
    return mimetypes.MimeTypes()


def media_type_for(name: str) -> str:
    """The media type guessed from a file name's extension, the same on every machine."""
    guessed, encoding = _media_types().guess_type(name, strict=False)
    if encoding is not None:
        # "a.tar.gz" is gzip data, whatever it holds once unpacked.
        return _COMPRESSED.get(encoding, DEFAULT_MEDIA_TYPE)
    if guessed is None or not _MEDIA_TYPE.fullmatch(guessed.lower()):
        return DEFAULT_MEDIA_TYPE
    return guessed.lower()


# ----------------------------------------------------------------------------- names


def name_problem(name: str) -> str | None:
    """Why ``name`` is not a safe, portable file name, or None if it is one."""
    if name == "":
        return "a name is empty"
    if name in (".", ".."):
        return f"{name!r} is not a name"
    if len(name.encode("utf-8", "surrogatepass")) > limits.MAX_NAME_BYTES:
        return f"a name is longer than {limits.MAX_NAME_BYTES} bytes"
    for character in name:
        if character in _RESERVED_CHARACTERS:
            return f"the name {name!r} has the character {character!r}, reserved on Windows"
        category = unicodedata.category(character)
        if category == "Cc":
            return f"the name {name!r} has a control character"
        if category == "Cs":
            return f"the name {name!r} is not valid Unicode"
        if character in _DIRECTION_CONTROLS:
            return f"the name {name!r} has a text direction control character"
    if name[-1] in ". ":
        return f"the name {name!r} ends with a dot or a space, which Windows drops"
    if name.split(".", 1)[0].rstrip(" ").upper() in _DEVICE_NAMES:
        return f"the name {name!r} is a device name on Windows"
    return None


class PortablePaths:
    """File paths that can live side by side in one folder on every system.

    Compared case-folded: on Windows and macOS "A.txt" and "a.txt" are one file, and two
    files written into one would each overwrite the other's verified chunks.
    """

    def __init__(self) -> None:
        self._files: set[tuple[str, ...]] = set()
        self._folders: set[tuple[str, ...]] = set()

    def add(self, parts: tuple[str, ...]) -> str | None:
        """Take the file path ``parts``; or say why it clashes with one taken before."""
        path = "/".join(parts)
        key = tuple(part.casefold() for part in parts)
        if key in self._files:
            return f"the path {path!r} names the same file as another one"
        if key in self._folders:
            return f"the path {path!r} is both a file and a folder"
        prefixes = [key[:depth] for depth in range(1, len(key))]
        if any(prefix in self._files for prefix in prefixes):
            return f"a folder in the path {path!r} is also a file"
        self._files.add(key)
        self._folders.update(prefixes)
        return None


def path_problem(text: str) -> str | None:
    """Why ``text`` is not a safe relative path, or None if it is one (checked as NFC)."""
    try:
        check_relative_path(text)
    except RemoteProtocolError as exc:
        return str(exc)
    return None


def check_relative_path(text: object) -> tuple[str, ...]:
    """The NFC-normalised components of a safe relative POSIX path; ``RemoteProtocolError``
    saying why for anything else (absolute, ``..``, devices, reserved characters...)."""
    if not isinstance(text, str):
        raise RemoteProtocolError("a path is not text")
    if "\\" in text:
        raise RemoteProtocolError(f"the path {text!r} has a backslash")
    if text.startswith("/"):
        raise RemoteProtocolError(f"the path {text!r} is absolute")
    if _DRIVE.match(text):
        raise RemoteProtocolError(f"the path {text!r} starts with a drive letter")
    normal = unicodedata.normalize("NFC", text)
    if len(normal.encode("utf-8", "surrogatepass")) > limits.MAX_PATH_BYTES:
        raise RemoteProtocolError(f"a path is longer than {limits.MAX_PATH_BYTES} bytes")
    parts = tuple(normal.split("/"))
    if len(parts) > limits.MAX_PATH_DEPTH:
        raise RemoteProtocolError(f"a path is deeper than {limits.MAX_PATH_DEPTH} folders")
    for part in parts:
        problem = name_problem(part)
        if problem is not None:
            raise RemoteProtocolError(problem if len(parts) == 1 else f"in {text!r}: {problem}")
    return parts


# -------------------------------------------------------------------------- encoding


def encode_manifest(manifest: Manifest) -> bytes:
    """The canonical bytes of ``manifest``: what its hash is computed over."""
    document = {
        "chunk_size": manifest.chunk_size,
        "files": [
            {"chunks": list(f.chunks), "media_type": f.media_type, "path": f.path, "size": f.size}
            for f in manifest.files
        ],
        "hash": manifest.hash_algorithm,
        "kind": KIND_FOLDER if manifest.folder else KIND_FILE,
        "name": manifest.name,
        "version": manifest.version,
    }
    text = json.dumps(
        document, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    )
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise LocalProtocolError("a manifest holds text that is not valid Unicode") from exc


def decode_manifest(data: bytes) -> Manifest:
    """The manifest ``data`` encodes; ``RemoteProtocolError`` if it is malformed or unsafe."""
    if len(data) > limits.MAX_MANIFEST_BYTES:
        raise RemoteProtocolError(
            f"a manifest of {len(data):,} bytes is larger than {limits.MAX_MANIFEST_BYTES:,}"
        )
    try:
        text = bytes(data).decode("utf-8")
        document = json.loads(text, object_pairs_hook=_refuse_duplicate_fields)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise RemoteProtocolError(f"a manifest is not valid UTF-8 JSON: {exc}") from None
    manifest = _manifest_of(document)
    check_manifest(manifest)
    try:
        canonical = encode_manifest(manifest)
    except LocalProtocolError as exc:
        raise RemoteProtocolError(str(exc)) from None
    if canonical != data:
        # Another spelling of the same content would get another hash, hence another key.
        raise RemoteProtocolError("a manifest is not in canonical form")
    return manifest


def check_manifest(manifest: Manifest) -> None:
    """``RemoteProtocolError`` unless every name, size, count and hash of ``manifest`` is sound.

    Files must be in strictly increasing path order, and no two may clash on a file system
    that ignores case, nor one be a folder of another.
    """
    if manifest.version != FORMAT_VERSION:
        raise RemoteProtocolError(f"manifest version {manifest.version!r} is not supported")
    if manifest.hash_algorithm != HASH_ALGORITHM:
        raise RemoteProtocolError(f"manifest hash algorithm {manifest.hash_algorithm!r} unknown")
    if manifest.chunk_size != CHUNK_SIZE:
        raise RemoteProtocolError(f"manifest chunk size {manifest.chunk_size!r} is not supported")
    name = check_relative_path(manifest.name)
    if len(name) != 1:
        raise RemoteProtocolError(f"the manifest name {manifest.name!r} is a path, not a name")
    _check_normal(manifest.name, name)
    count = len(manifest.files)
    if count == 0:
        raise RemoteProtocolError("a manifest lists no file")
    if count > limits.MAX_FILES_PER_MANIFEST:
        raise RemoteProtocolError(
            f"a manifest lists {count:,} files, more than {limits.MAX_FILES_PER_MANIFEST:,}"
        )
    if not manifest.folder and (count != 1 or manifest.files[0].path != manifest.name):
        raise RemoteProtocolError("a single-file manifest must list that one file by its name")
    chunks = 0
    previous: tuple[str, ...] | None = None
    taken = PortablePaths()
    for entry in manifest.files:
        parts = check_relative_path(entry.path)
        _check_normal(entry.path, parts)
        if previous is not None and parts <= previous:
            raise RemoteProtocolError(f"the path {entry.path!r} is repeated or out of order")
        previous = parts
        clash = taken.add(parts)
        if clash is not None:
            raise RemoteProtocolError(clash)
        _check_file(entry)
        chunks += len(entry.chunks)
        if chunks > limits.MAX_CHUNKS_PER_MANIFEST:
            raise RemoteProtocolError(
                f"a manifest lists more than {limits.MAX_CHUNKS_PER_MANIFEST:,} chunks"
            )


def _check_normal(text: str, parts: tuple[str, ...]) -> None:
    if "/".join(parts) != text:
        raise RemoteProtocolError(f"the name {text!r} is not in Unicode normal form C")


def _check_file(entry: ManifestFile) -> None:
    size = entry.size
    if type(size) is not int or size < 0 or size > limits.MAX_FILE_BYTES:
        raise RemoteProtocolError(f"the size of {entry.path!r} is {size!r}, not a sound size")
    expected = chunk_count_for(size)
    if len(entry.chunks) != expected:
        raise RemoteProtocolError(
            f"{entry.path!r} has {size:,} bytes, so {expected:,} chunks, "
            f"but {len(entry.chunks):,} are listed"
        )
    for digest in entry.chunks:
        if not isinstance(digest, str) or not _HEX_DIGEST.fullmatch(digest):
            raise RemoteProtocolError(f"a chunk hash of {entry.path!r} is not 64 lowercase hex")
    if not isinstance(entry.media_type, str) or not _MEDIA_TYPE.fullmatch(entry.media_type):
        raise RemoteProtocolError(f"the media type of {entry.path!r} is not a media type")


def _refuse_duplicate_fields(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        raise RemoteProtocolError("a manifest object repeats a field")
    return document


def _manifest_of(document: object) -> Manifest:
    """The fields of a decoded JSON document, checked for presence and type only."""
    if not isinstance(document, dict):
        raise RemoteProtocolError("a manifest is not a JSON object")
    # The version first, so a newer format is reported as such rather than as odd fields.
    version = document.get("version")
    if type(version) is not int or version != FORMAT_VERSION:
        raise RemoteProtocolError(f"manifest version {version!r} is not supported")
    _check_fields(document, _TOP_FIELDS, "a manifest")
    kind = document["kind"]
    if kind not in (KIND_FILE, KIND_FOLDER):
        raise RemoteProtocolError(f"manifest kind {kind!r} is neither file nor folder")
    files = document["files"]
    if not isinstance(files, list):
        raise RemoteProtocolError("the files of a manifest are not a list")
    if len(files) > limits.MAX_FILES_PER_MANIFEST:
        raise RemoteProtocolError(
            f"a manifest lists {len(files):,} files, more than {limits.MAX_FILES_PER_MANIFEST:,}"
        )
    chunk_size = document["chunk_size"]
    if type(chunk_size) is not int:
        raise RemoteProtocolError("the chunk size of a manifest is not a whole number")
    algorithm = document["hash"]
    if not isinstance(algorithm, str):
        raise RemoteProtocolError("the hash algorithm of a manifest is not text")
    return Manifest(
        name=_text(document["name"], "the name of a manifest"),
        folder=kind == KIND_FOLDER,
        files=tuple(_file_of(entry) for entry in files),
        chunk_size=chunk_size,
        hash_algorithm=algorithm,
        version=version,
    )


def _file_of(entry: object) -> ManifestFile:
    if not isinstance(entry, dict):
        raise RemoteProtocolError("a file of a manifest is not a JSON object")
    _check_fields(entry, _FILE_FIELDS, "a file of a manifest")
    chunks = entry["chunks"]
    if not isinstance(chunks, list):
        raise RemoteProtocolError("the chunks of a file are not a list")
    if len(chunks) > limits.MAX_CHUNKS_PER_MANIFEST:
        raise RemoteProtocolError(
            f"a manifest lists more than {limits.MAX_CHUNKS_PER_MANIFEST:,} chunks"
        )
    size = entry["size"]
    if type(size) is not int:
        raise RemoteProtocolError("the size of a file is not a whole number")
    return ManifestFile(
        path=_text(entry["path"], "a file path"),
        size=size,
        media_type=_text(entry["media_type"], "a media type"),
        chunks=tuple(_text(digest, "a chunk hash") for digest in chunks),
    )


def _check_fields(document: dict[str, Any], expected: frozenset[str], what: str) -> None:
    missing = sorted(expected - document.keys())
    if missing:
        raise RemoteProtocolError(f"{what} lacks the fields {', '.join(missing)}")
    unknown = sorted(str(k) for k in document.keys() - expected)
    if unknown:
        raise RemoteProtocolError(f"{what} has unknown fields {', '.join(unknown)}")


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise RemoteProtocolError(f"{what} is not text")
    return value
