"""Reading a file: its encodings, delimiters and every way it can be unreadable, each
refusal naming the row and the column."""

import pytest

from imports.reading import UTF8, UTF8_BOM, WINDOWS_1252, FileRefused, read_table

HEADER = "code,name,address\r\n"


def test_utf8_with_and_without_a_bom_and_windows_1252_read_the_same():
    text = HEADER + 'CAFE,Café Müller,"Rue 1\nMontréal"\r\n'
    plain = read_table(text.encode("utf-8"))
    bom = read_table(b"\xef\xbb\xbf" + text.encode("utf-8"))
    windows = read_table(text.encode("cp1252"))
    assert (plain.encoding, bom.encoding, windows.encoding) == (UTF8, UTF8_BOM, WINDOWS_1252)
    assert plain.headers == bom.headers == windows.headers == ("code", "name", "address")
    assert plain.rows == bom.rows == windows.rows
    assert plain.rows[0].cells == ("CAFE", "Café Müller", "Rue 1\nMontréal")


def test_rows_are_numbered_as_a_spreadsheet_numbers_them():
    table = read_table(b"code,name\nA,One\n\nB,Two\n,\n")
    assert [(row.number, row.cells) for row in table.rows] == [
        (2, ("A", "One")),
        (4, ("B", "Two")),
    ]


@pytest.mark.parametrize(
    ("content", "delimiter"),
    [(b"code;name\nA;Un\n", ";"), (b"code\tname\nA\tUn\n", "\t"), (b"code,name\nA,Un\n", ",")],
)
def test_the_delimiter_is_the_headers(content, delimiter):
    table = read_table(content)
    assert (table.delimiter, table.rows[0].cells) == (delimiter, ("A", "Un"))


def test_a_cell_we_neutralised_reads_back_as_typed():
    table = read_table(b"code,name\nA,'=SUM(1)\nB,'plain\n")
    assert [row.cells[1] for row in table.rows] == ["=SUM(1)", "'plain"]


def test_a_mixed_encoding_is_refused_naming_both_places():
    content = HEADER.encode() + "A,Café,x\r\n".encode() + "B,Müller,y\r\n".encode("cp1252")
    with pytest.raises(FileRefused) as refused:
        read_table(content)
    message = refused.value.message
    assert "row 2, column “name” is UTF-8" in message
    assert "row 3, column “name” is not" in message
    assert (refused.value.row, refused.value.column) == (3, "name")


def test_a_bom_then_windows_1252_is_refused_at_its_byte():
    content = b"\xef\xbb\xbf" + HEADER.encode() + "A,Zoë,x\r\n".encode("cp1252")
    with pytest.raises(FileRefused) as refused:
        read_table(content)
    assert refused.value.message.startswith("Row 2, column “name”: the file starts as UTF-8")


def test_a_byte_windows_1252_does_not_have_is_refused():
    with pytest.raises(FileRefused) as refused:
        read_table(HEADER.encode() + b"A,B\x81,x\r\n")
    assert "Row 2, column “name”" in refused.value.message and "0x81" in refused.value.message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "The file is empty"),
        (b"\n\n", "The file is empty"),
        (b"code,name,code\nA,B,C\n", "Row 1: columns 1 and 3 are both named “code”"),
        (b"code,name\nA,B,C\n", "Row 2 has 3 cells, the header 2"),
        (b'code,name\nA,"open\n', "Row 2:"),
        (b"code,name\nA," + b"x" * 10_001 + b"\n", "Row 2, column “name”: more than 10000"),
    ],
)
def test_an_unreadable_file_is_refused_naming_where(content, expected):
    with pytest.raises(FileRefused) as refused:
        read_table(content)
    assert expected in refused.value.message


def test_an_unnamed_column_gets_a_name_and_trailing_empty_headers_go():
    table = read_table(b"code,,name,,\nA,x,B\n")
    assert table.headers == ("code", "Column 2", "name")


def test_a_nul_byte_anywhere_is_refused():
    content = HEADER.encode() + b"A,B,x\r\n" * 3000 + b"C,D\x00,y\r\n"
    with pytest.raises(FileRefused, match="UTF-16 text"):
        read_table(content)


def test_a_header_too_long_is_refused():
    with pytest.raises(FileRefused, match="Row 1, column 2: a header of more than 10000"):
        read_table(b"code," + b"h" * 10_001 + b"\nA,B\n")


def test_a_misplaced_quote_is_named_by_row():
    with pytest.raises(FileRefused, match="Row 3: a quote is misplaced or left open"):
        read_table(b'code,name\nA,B\nC,"D"x\n')
