"""Sniff a text export: its encoding and its delimiter, and say what is wrong in one line.

The encoding is read off byte-order marks (UTF-8, UTF-16, UTF-32) or the zero bytes of
UTF-16 text; otherwise the text must be valid UTF-8, or the encoding is given: a byte such
as 0xE9 is é in cp1252 but č in cp1250, so it is never guessed. The delimiter is the one of
``, ; tab |`` that splits every sampled line into the header's number of fields.
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

from crm_core.data.problems import Fix, Problem
from crm_core.errors import SnapshotError

__all__ = [
    "DELIMITERS",
    "SAMPLE_BYTES",
    "csv_error",
    "delimiter_name",
    "detect_delimiter",
    "detect_encoding",
    "transcode",
]

SAMPLE_BYTES = 64 * 1024
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def delimiter_name(delimiter: str | None) -> str:
    """Words for a delimiter (``"semicolon"``)."""
    return DELIMITERS.get(delimiter or "", repr(delimiter))


def detect_encoding(head: bytes, source: str) -> str:
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    sample = head[:4096]
    zeros_even, zeros_odd = sample[0::2].count(0), sample[1::2].count(0)
    if len(sample) >= 4 and max(zeros_even, zeros_odd) > len(sample) // 4:
        return "utf-16-le" if zeros_odd > zeros_even else "utf-16-be"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the sample's end
            raise _not_utf8(source, head, exc.start) from None
    return "utf-8"


def _not_utf8(source: str, data: bytes, at: int, line_offset: int = 0) -> SnapshotError:
    line_start = data.rfind(b"\n", 0, at) + 1
    line_end = data.find(b"\n", at)
    raw = data[line_start : line_end if line_end >= 0 else len(data)].rstrip(b"\r")
    line = line_offset + data.count(b"\n", 0, at) + 1
    snippet = raw[max(0, at - line_start - 20) : at - line_start + 20]
    western = snippet.decode("cp1252", errors="replace")
    return Problem(
        source,
        None,
        f"is not UTF-8 text (byte 0x{data[at]:02X} on line {line:,}: {snippet!r})",
        fix=Fix(
            "encoding",
            ("cp1252",),
            f"if it was saved by Excel or Windows (it then reads {western!r}), or the "
            "encoding it was saved in (latin-1, cp1250, ...)",
        ),
    ).error()


def transcode(file: Path, source: str, encoding: str, workdir: Path) -> Path:
    """The file re-encoded as UTF-8 in ``workdir`` (strict: undecodable bytes are refused)."""
    out = workdir / f"{file.stem}.utf8.csv"
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    lines, first = 0, True
    with file.open("rb") as src, out.open("w", encoding="utf-8", newline="") as dst:
        while chunk := src.read(16 * 1024 * 1024):
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                near = lines + chunk.count(b"\n", 0, exc.start) + 1
                raise SnapshotError(
                    source,
                    f"cannot be read as {encoding}: byte 0x{chunk[exc.start]:02X} near line "
                    f"{near:,}; pass the encoding it was saved in with --encoding",
                ) from None
            lines += text.count("\n")
            dst.write(text.lstrip("\ufeff") if first else text)
            first = False
        dst.write(decoder.decode(b"", final=True))
    return out


def detect_delimiter(text: str, source: str, suffix: str, truncated: bool) -> tuple[str, list[str]]:
    """The delimiter splitting every sampled line into the header's fields, and the header."""
    lines = text.splitlines()
    if truncated and len(lines) > 1:
        lines = lines[:-1]  # the last sampled line may be cut
    lines = [line for line in lines if line.strip()]
    counts: dict[str, list[int]] = {}
    for d in DELIMITERS:
        records = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=d))
        counts[d] = [len(r) for r in records if r]
    consistent = [d for d, n in counts.items() if n and n[0] >= 2 and len(set(n)) == 1]
    if len(consistent) > 1 and suffix == ".tsv" and "\t" in consistent:
        consistent = ["\t"]
    if len(consistent) == 1:
        d = consistent[0]
        return d, next(csv.reader(io.StringIO(lines[0]), delimiter=d))
    if len(consistent) > 1:
        names = " or ".join(f"{delimiter_name(d)} ({d!r})" for d in consistent)
        raise Problem(
            source, None, f"could be separated by {names}",
            fix=Fix("delimiter", tuple(repr(d) for d in consistent)),
        ).error()  # fmt: skip
    best = max(DELIMITERS, key=lambda d: counts[d][0] if counts[d] else 0)
    header = counts[best][0] if counts[best] else 0
    if header < 2:
        raise Problem(
            source, None, "has a single column (no comma, semicolon, tab or pipe in the header)",
            fix=Fix("delimiter", (), "with the character that separates the columns"),
        ).error()  # fmt: skip
    bad = [i + 1 for i, n in enumerate(counts[best]) if n != header]
    raise Problem(
        source,
        None,
        f"has lines with another number of fields than the header's {header} "
        f"({delimiter_name(best)}-separated)",
        rows=len(bad),
        where=tuple(bad[:5]),
        unit="line",
        fix=Fix(
            "delimiter",
            (),
            f"if another character separates the columns, or quote the values holding a "
            f"{delimiter_name(best)} (a decimal comma needs quotes or ; as delimiter)",
        ),
    ).error()


def csv_error(file: Path, source: str, exc: Exception, delimiter: str) -> SnapshotError:
    text = str(exc)
    if "utf-8" in text.lower() or "utf8" in text.lower():
        with file.open("rb") as handle:
            lines = 0
            while chunk := handle.read(16 * 1024 * 1024):
                try:
                    chunk.decode("utf-8")
                except UnicodeDecodeError as bad:
                    if bad.start < len(chunk) - 3:
                        return _not_utf8(source, chunk, bad.start, lines)
                lines += chunk.count(b"\n")
        return SnapshotError(source, "is not valid UTF-8 text: pass its --encoding")
    if "more fields" in text or "fields" in text:
        return SnapshotError(
            source,
            f"has lines with more fields than the header ({delimiter_name(delimiter)}-"
            "separated): quote values holding the delimiter, or pass --delimiter",
        )
    return SnapshotError(source, f"cannot be read as CSV: {' '.join(str(exc).split())[:160]}")
