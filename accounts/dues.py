"""What a reader owes for requests waiting for payment, asked of the app above the ledger.

The ledger knows nothing of ILL requests (it sits below them, README "Architecture"). The
requests app registers a source here when it starts (`requests_app.payments`): it lists a
reader's requests awaiting payment with their totals, and moves one on once it is paid for.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class Due:
    request_number: int
    title: str
    amount: Decimal
    url: str


class DueSource(Protocol):
    def dues(self, reader) -> list[Due]: ...

    def proceed(self, *, reader, request_number: int, actor) -> tuple[bool, str]:
        """Charge and move on the reader's request once paid: (done, what happened in words)."""
        ...


_sources: list[DueSource] = []


def register_due_source(source: DueSource) -> None:
    if source not in _sources:
        _sources.append(source)


def dues_for(reader) -> list[Due]:
    return [due for source in _sources for due in source.dues(reader)]


def due_proceed(*, reader, request_number: int, actor) -> tuple[bool, str]:
    for source in _sources:
        if any(due.request_number == request_number for due in source.dues(reader)):
            return source.proceed(reader=reader, request_number=request_number, actor=actor)
    return False, ""
