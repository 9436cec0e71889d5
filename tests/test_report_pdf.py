"""Reading the PDFs the deck and the print stylesheet produce, without a PDF library.

Chromium writes PDF 1.4 with plain objects, Flate-compressed content streams and Type0
fonts carrying a ToUnicode map; :func:`pdf_lines` decodes that much: the text of every
page, line by line (runs sharing a baseline joined), so a test can tell a label printed
on one line from one broken over two. :func:`page_count` counts the page objects.
"""

from __future__ import annotations

import re
import zlib

import pytest

_OBJ = re.compile(rb"(\d+) 0 obj\s*(.*?)endobj", re.S)
_STREAM = re.compile(rb"^(.*?)stream\r?\n(.*)\r?\nendstream", re.S)
_TOKEN = re.compile(rb"<([0-9A-Fa-f\s]*)>|\[|\]|/[^\s/\[\]()<>]+|-?\d*\.?\d+|[A-Za-z'\"*]+")


def _objects(data: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    """Object number -> (dictionary text, decoded stream or None)."""
    out = {}
    for match in _OBJ.finditer(data):
        body = match.group(2)
        stream = _STREAM.match(body)
        if stream is None:
            out[int(match.group(1))] = (body, None)
            continue
        head, raw = stream.group(1), stream.group(2)
        decoded = zlib.decompress(raw) if b"FlateDecode" in head else raw
        out[int(match.group(1))] = (head, decoded)
    return out


def _cmap(text: bytes) -> dict[int, str]:
    """A ToUnicode CMap: glyph code -> text."""
    out: dict[int, str] = {}

    def chars(hexes: bytes) -> str:
        raw = bytes.fromhex(hexes.decode())
        return raw.decode("utf-16-be", errors="replace")

    for block in re.findall(rb"beginbfchar(.*?)endbfchar", text, re.S):
        for code, uni in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            out[int(code, 16)] = chars(uni)
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", text, re.S):
        for lo, hi, uni in re.findall(
            rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block
        ):
            start = int(uni, 16)
            for i, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                out[code] = chr(start + i)
    return out


def _ref(text: bytes, key: bytes) -> int | None:
    match = re.search(rb"/" + key + rb"\s+(\d+) 0 R", text)
    return int(match.group(1)) if match else None


def _names(head: bytes, key: bytes) -> dict[str, int]:
    """A resource dictionary (``/Font``, ``/XObject``): name -> object number."""
    block = re.search(rb"/" + key + rb"\s*<<(.*?)>>", head, re.S)
    if block is None:
        return {}
    return {n.decode(): int(o) for n, o in re.findall(rb"/([^\s/]+)\s+(\d+) 0 R", block.group(1))}


Font = tuple[dict[int, str], int]  # code -> text, bytes per code


def _fonts(head: bytes, objects) -> dict[str, Font]:
    fonts: dict[str, Font] = {}
    for name, number in _names(head, b"Font").items():
        font_head, _ = objects[number]
        unicode_ref = _ref(font_head, b"ToUnicode")
        mapping = _cmap(objects[unicode_ref][1] or b"") if unicode_ref else {}
        fonts[name] = (mapping, 2 if b"/Type0" in font_head else 1)
    return fonts


Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _times(m: Matrix, n: Matrix) -> Matrix:
    """``m`` then ``n`` (PDF row-vector convention: m x n)."""
    a, b, c, d, e, f = m
    p, q, r, s, t, u = n
    return (a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s,
            e * p + f * r + t, e * q + f * s + u)  # fmt: skip


def _runs(
    content: bytes, head: bytes, objects, ctm: Matrix = _IDENTITY
) -> list[tuple[float, float, str]]:
    """(y, x, text) in page units of every piece of text of a content stream and the
    forms it draws: the glyphs one text object shows on one baseline, concatenated
    (Chromium places glyph by glyph and writes spaces as glyphs)."""
    fonts, forms = _fonts(head, objects), _names(head, b"XObject")
    runs: list[tuple[float, float, str]] = []
    stack: list[object] = []
    saved: list[Matrix] = []
    font: Font = ({}, 2)
    x = y = 0.0
    run: list[object] = []  # [y, x, text] of the piece being read

    def flush() -> None:
        if run and str(run[2]):
            runs.append((float(run[0]), float(run[1]), str(run[2])))
        run.clear()

    def show(text: str) -> None:
        a, b, c, d, e, f = ctm
        px, py = a * x + c * y + e, b * x + d * y + f
        if run and abs(float(run[0]) - py) >= 0.5:
            flush()
        if not run:
            run.extend([py, px, ""])
        run[2] = str(run[2]) + text

    in_array: list[object] | None = None
    for match in _TOKEN.finditer(content):
        token = match.group(0)
        if match.group(1) is not None:
            hexes = re.sub(rb"\s", b"", match.group(1))
            mapping, width = font
            step = 2 * width
            codes = [int(hexes[i : i + step], 16) for i in range(0, len(hexes), step)]
            value = "".join(mapping.get(c, "") for c in codes)
            (in_array if in_array is not None else stack).append(value)
        elif token == b"[":
            in_array = []
        elif token == b"]":
            stack.append(in_array or [])
            in_array = None
        elif token.startswith(b"/") or re.fullmatch(rb"-?\d*\.?\d+", token):
            if in_array is not None:
                if not token.startswith(b"/"):
                    in_array.append(float(token))
            else:
                stack.append(token.decode() if token.startswith(b"/") else float(token))
        else:
            op = token.decode()
            numbers = [v for v in stack if isinstance(v, float)]
            if op == "q":
                saved.append(ctm)
            elif op == "Q" and saved:
                ctm = saved.pop()
            elif op == "cm" and len(numbers) >= 6:
                ctm = _times(tuple(numbers[-6:]), ctm)  # type: ignore[arg-type]
            elif op == "Do" and stack and str(stack[-1]).lstrip("/") in forms:
                form_head, form_body = objects[forms[str(stack[-1]).lstrip("/")]]
                if b"/Form" in form_head and form_body is not None:
                    matrix = re.search(rb"/Matrix\s*\[([^\]]*)\]", form_head)
                    own = tuple(float(v) for v in matrix.group(1).split()) if matrix else _IDENTITY
                    runs += _runs(form_body, form_head, objects, _times(own, ctm))  # type: ignore[arg-type]
            elif op == "Tf" and len(stack) >= 2:
                font = fonts.get(str(stack[-2]).lstrip("/"), ({}, 2))
            elif op == "Tm" and len(numbers) >= 6:
                flush()
                x, y = numbers[-2], numbers[-1]
            elif op in ("Td", "TD") and len(numbers) >= 2:
                x, y = x + numbers[-2], y + numbers[-1]
            elif op == "Tj" and stack:
                show(str(stack[-1]))
            elif op == "TJ" and stack and isinstance(stack[-1], list):
                show("".join(p for p in stack[-1] if isinstance(p, str)))
            elif op in ("ET", "BT"):
                flush()
            stack = []
    flush()
    return runs


def pdf_lines(data: bytes) -> list[list[str]]:
    """Per page, its lines of text (pieces on one baseline joined by a space), top to
    bottom."""
    objects = _objects(data)
    pages = []
    for head, _ in objects.values():
        if not re.search(rb"/Type\s*/Page\b(?!s)", head):
            continue
        runs = []
        for number in (int(n) for n in re.findall(rb"(\d+) 0 R", _contents(head))):
            runs += _runs(objects[number][1] or b"", head, objects)
        lines: dict[float, list[tuple[float, str]]] = {}
        for y, x, text in runs:
            key = next((k for k in lines if abs(k - y) < 1.0), y)
            lines.setdefault(key, []).append((x, text))
        ordered = [
            " ".join(t for _, t in sorted(v)) for _, v in sorted(lines.items(), reverse=True)
        ]
        pages.append([" ".join(line.split()) for line in ordered if line.strip()])
    return pages


def _contents(head: bytes) -> bytes:
    match = re.search(rb"/Contents\s*(\[[^\]]*\]|\d+ 0 R)", head)
    return match.group(1) if match else b""


def page_count(data: bytes) -> int:
    """Pages of a PDF (its page objects)."""
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", data))


# ----------------------------------------------------------------------------- the reader itself


def test_reader_decodes_a_hand_made_page() -> None:
    """A page as Chromium writes one: a Flate content stream, a ToUnicode map with a
    single code and a range; two runs on one baseline, one below, one in a form."""
    cmap = (
        b"begincmap 2 beginbfchar <0003> <0020> <0010> <0041> endbfchar "
        b"1 beginbfrange <0011> <0013> <0062> endbfrange endcmap"
    )
    content = (
        b"1 0 0 -1 0 100 cm "  # Chromium's flip: y grows downwards
        b"BT /F1 12 Tf 1 0 0 -1 10 20 Tm <0010> Tj 7 0 Td <0011> Tj ET "
        b"BT /F1 12 Tf 1 0 0 -1 40 20 Tm [<0012> -20 <0013>] TJ ET "
        b"BT /F1 12 Tf 1 0 0 -1 10 40 Tm <00100003> Tj 9 0 Td <0010> Tj ET "
        b"q 1 0 0 1 0 30 cm /X1 Do Q"
    )
    packed = zlib.compress(content)
    pdf = (
        b"%PDF-1.4\n1 0 obj\n<</Type /Pages /Kids [2 0 R]>>\nendobj\n"
        b"2 0 obj\n<</Type /Page /Resources <</Font <</F1 3 0 R>> /XObject <</X1 6 0 R>>>> "
        b"/Contents 4 0 R>>\nendobj\n"
        b"3 0 obj\n<</Type /Font /Subtype /Type0 /ToUnicode 5 0 R>>\nendobj\n"
        b"4 0 obj\n<</Filter /FlateDecode /Length "
        + str(len(packed)).encode()
        + b">> stream\n"
        + packed
        + b"\nendstream\nendobj\n"
        b"5 0 obj\n<</Length "
        + str(len(cmap)).encode()
        + b">> stream\n"
        + cmap
        + b"\nendstream\nendobj\n"
        b"6 0 obj\n<</Type /XObject /Subtype /Form /Resources <</Font <</F2 7 0 R>>>>>> stream\n"
        b"BT /F2 10 Tf 1 0 0 -1 10 30 Tm <1011> Tj ET\nendstream\nendobj\n"
        b"7 0 obj\n<</Type /Font /Subtype /Type3 /ToUnicode 5 0 R>>\nendobj\n"
    )
    assert page_count(pdf) == 1
    assert pdf_lines(pdf) == [["Ab cd", "A A", "Ab"]]  # the form's one-byte codes too


@pytest.mark.parametrize("pages", [1, 3])
def test_page_count_ignores_the_page_tree(pages: int) -> None:
    body = b"<</Type /Pages /Count 3>>" + b"<</Type /Page /Parent 1 0 R>>" * pages
    assert page_count(body) == pages
