"""Numbers from CSV text, with errors that point at the offending row and column.

Rows are the file's line numbers (1-based, as a spreadsheet shows them); blank lines
and lines starting with ``#`` are skipped. The delimiter is the first of ``,`` ``;``
tab found in the first row, else runs of whitespace. The first row is a header when
none of its cells is a number.
"""
from __future__ import annotations

import csv
import math

import numpy as np


def _delimiter(line: str) -> str | None:
    return next((d for d in ",;\t" if d in line), None)


def _split(rows: list[tuple[int, str]], delimiter: str | None) -> list[tuple[int, list[str]]]:
    if delimiter is None:
        return [(n, line.split()) for n, line in rows]
    cells = csv.reader([line for _, line in rows], delimiter=delimiter)
    return [(n, [c.strip() for c in row]) for (n, _), row in zip(rows, cells)]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _column(j: int, header: list[str] | None) -> str:
    return f"column {j + 1}" + (f" ({header[j]!r})" if header else "")


def _number(cell: str, row: int, j: int, header: list[str] | None) -> float:
    try:
        value = float(cell)
    except ValueError:
        shown = f"{cell!r}" if cell else "empty"
        raise ValueError(f"row {row}, {_column(j, header)} must be a number; it is {shown}") \
            from None
    if not math.isfinite(value):
        raise ValueError(f"row {row}, {_column(j, header)} must be finite; it is {cell!r}")
    return value


def _check_shape(rows: list[tuple[int, list[str]]], n_data: int, max_rows: int,
                 max_columns: int) -> None:
    first_row, width = rows[0][0], len(rows[0][1])
    if width > max_columns:
        raise ValueError(f"the table must have at most {max_columns} columns; it has {width}")
    for row, cells in rows:
        if len(cells) != width:
            raise ValueError(f"every row must have {width} cells like row {first_row}; "
                             f"row {row} has {len(cells)} (ragged rows)")
    if n_data > max_rows:
        raise ValueError(f"the table must have at most {max_rows} rows of data; it has {n_data}")


def parse_csv(text: str, max_rows: int, max_columns: int) -> tuple[np.ndarray, list[str] | None]:
    """The ``(rows, columns)`` float64 matrix of ``text`` and its header, if any.

    Raises ValueError with a message saying where the text breaks a rule (the caller
    prefixes the function and argument).
    """
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise ValueError("the file must hold rows of numbers; it is empty")
    if len(lines) > max_rows + 1:  # fail before splitting a huge file
        raise ValueError(f"the table must have at most {max_rows} rows of data; "
                         f"it has {len(lines)} rows")
    rows = _split(lines, _delimiter(lines[0][1]))
    has_header = not any(_is_number(c) for c in rows[0][1])
    if has_header and len(rows) == 1:
        raise ValueError("the file must hold rows of numbers; it has only a header")
    _check_shape(rows, len(rows) - has_header, max_rows, max_columns)
    header = rows.pop(0)[1] if has_header else None
    values = [[_number(c, row, j, header) for j, c in enumerate(cells)] for row, cells in rows]
    return np.array(values, dtype=np.float64), header
