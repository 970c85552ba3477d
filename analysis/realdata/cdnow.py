"""The CDNOW panel: where its files are, how they are read, what they hold.

The files ship inside the ``lifetimes`` wheel (the ``trustsim[data]`` extra); they are
found with :func:`importlib.util.find_spec`, never by importing ``lifetimes.datasets``
(which needs ``pkg_resources``). Two layouts are read: the 1/10 sample
(``CDNOW_sample.txt``: master id, sample id, date YYYYMMDD, CDs, dollars; no header) and
the master file (``CDNOW_master.txt``: a header line, then id, date, CDs, dollars). A
line that does not fit is one :class:`~trustsim.errors.DamagedFile` naming file and line.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from trustsim.analysis.measures.cohort import CALIBRATION_WEEKS, TOTAL_WEEKS, Cohort, from_occasions
from trustsim.errors import DamagedFile, MissingExtra, UsageError

START = dt.date(1997, 1, 1)  # day 0, the first day of week 1
SPLIT = START + dt.timedelta(days=7 * CALIBRATION_WEEKS)  # first hold-out day: 1 October 1997
END = START + dt.timedelta(days=7 * TOTAL_WEEKS - 1)  # 30 June 1998, the last day of week 78
FILES = {"sample": "CDNOW_sample.txt", "master": "CDNOW_master.txt"}
# each layout's fields: "id" whole numbers (the first "id" of the sample is the master
# file's id, the second the customer's), "date" YYYYMMDD, "count" whole, "amount" a number
LAYOUT = {
    "sample": ("master id", "customer id", "date", "count", "amount"),
    "master": ("customer id", "date", "count", "amount"),
}
MASTER_HEADER = "customer_id"


def wheel_folder() -> Path:
    """The ``datasets`` folder of the installed ``lifetimes`` wheel."""
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtra(
            "trustsim data cdnow needs the 'data' extra (lifetimes, which ships the CDNOW "
            "files, is not installed): pip install 'trustsim[data]', or give --data DIR"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "datasets"


def data_file(folder: Path | None, which: str = "sample") -> Path:
    """The panel file ``which`` in ``folder`` (default: the wheel's copy)."""
    base = wheel_folder() if folder is None else Path(folder)
    path = base / FILES[which]
    if folder is not None and not base.is_dir():
        what = "is a file, not a folder" if base.exists() else "no such folder"
        raise UsageError(f"--data {folder}: {what} (give the folder that holds {FILES[which]})")
    if not path.is_file():
        raise UsageError(f"{path}: no such file (--data names a folder holding {FILES[which]})")
    return path


@dataclass(frozen=True)
class Panel:
    """One row per transaction: ``customer``, ``day`` (0 = 1 January 1997)."""

    path: Path
    which: str
    transactions: pd.DataFrame

    @property
    def customers(self) -> int:
        return int(self.transactions.customer.nunique())

    def cohort(self) -> Cohort:
        """Repeat purchases by week: one occasion per customer-day, the first is the trial."""
        t = self.transactions
        day = t.day.to_numpy()
        return from_occasions(t.customer.to_numpy(), day // 7 + 1, day)

    def calibration(self) -> Panel:
        """The transactions of weeks 1-39 only."""
        t = self.transactions
        return Panel(self.path, self.which, t[t.day < 7 * CALIBRATION_WEEKS])

    def calibration_sha256(self) -> str:
        """Hash of the weeks 1-39 transactions (customer, day), in file order: the same
        for the whole panel and for the panel cut at 30 September 1997."""
        t = self.calibration().transactions
        rows = np.column_stack([t.customer.to_numpy(), t.day.to_numpy()]).astype("<i8")
        return hashlib.sha256(rows.tobytes()).hexdigest()


def _parse_date(text: str) -> dt.date:
    if len(text) != 8 or not text.isdigit():
        raise ValueError
    return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))


def _damaged(path: Path, line: int, what: str) -> DamagedFile:
    return DamagedFile(
        f"{path}: line {line}: {what}; fix or remove that line (or give --data a folder "
        f"with an intact copy)"
    )


def _check_field(path: Path, number: int, kind: str, value: str) -> None:
    if kind == "date":
        try:
            date = _parse_date(value)
        except ValueError:
            raise _damaged(path, number, f"date {value!r} is not a YYYYMMDD date") from None
        if not START <= date <= END:
            raise _damaged(path, number, f"date {date} is outside the panel ({START} to {END})")
    elif kind == "amount":
        try:
            float(value)
        except ValueError:
            raise _damaged(path, number, f"amount {value!r} is not a number") from None
    elif not value.isdigit():
        raise _damaged(path, number, f"{kind} {value!r} is not a whole number")


def _parse_line(path: Path, number: int, fields: list[str], layout: tuple[str, ...]):
    if len(fields) != len(layout):
        raise _damaged(path, number, f"{len(fields)} fields, expected {len(layout)}")
    for kind, value in zip(layout, fields):
        _check_field(path, number, kind, value)
    customer, date = fields[layout.index("customer id")], fields[layout.index("date")]
    return int(customer), (_parse_date(date) - START).days


def read_panel(path: Path, which: str = "sample") -> Panel:
    """Read a panel file of layout ``which``; any damaged line is one error naming it."""
    layout = LAYOUT[which]
    ids, days = [], []
    try:
        with path.open(encoding="ascii") as fh:
            for number, line in enumerate(fh, start=1):
                fields = line.split()
                if not fields or (number == 1 and which == "master" and fields[0] == MASTER_HEADER):
                    continue
                customer, day = _parse_line(path, number, fields, layout)
                ids.append(customer)
                days.append(day)
    except UnicodeDecodeError as exc:
        raise DamagedFile(
            f"{path}: not a text panel file (byte {exc.start} is not ASCII); "
            f"give --data a folder with the CDNOW files"
        ) from None
    if not ids:
        raise DamagedFile(f"{path}: no transactions in the file; give --data an intact copy")
    frame = pd.DataFrame({"customer": np.array(ids), "day": np.array(days)})
    return Panel(path, which, frame)


def load(folder: Path | None = None, which: str = "sample") -> Panel:
    return read_panel(data_file(folder, which), which)


def describe(panel: Panel) -> list[str]:
    """What the panel holds, in lines for the terminal."""
    t = panel.transactions
    first, last = (START + dt.timedelta(days=int(d)) for d in (t.day.min(), t.day.max()))
    cal = panel.calibration().transactions
    cohort = panel.cohort()
    weekly = cohort.weekly()
    return [
        f"{panel.path}: CDNOW {panel.which} panel",
        f"customers: {panel.customers:,}; transactions: {len(t):,}, {first} to {last}",
        f"calibration: weeks 1-{CALIBRATION_WEEKS} ({START} to {SPLIT - dt.timedelta(days=1)}), "
        f"{len(cal):,} transactions, {weekly[:CALIBRATION_WEEKS].sum():,.0f} repeat purchases",
        f"hold-out: weeks {CALIBRATION_WEEKS + 1}-{TOTAL_WEEKS} ({SPLIT} to {END}), "
        f"{len(t) - len(cal):,} transactions, {weekly[CALIBRATION_WEEKS:].sum():,.0f} repeat "
        f"purchases",
    ]
