"""from_rows.derive: a strawberry type built from its row dataclass, and drift caught at import."""

from __future__ import annotations

import dataclasses
import enum

import pytest
import strawberry

from schema import from_rows


@dataclasses.dataclass(frozen=True, slots=True)
class _Row:
    id: int
    kind: str | None
    tags: tuple[str, ...]
    stated: str

    @property
    def shout(self) -> str:
        return self.stated.upper()


@strawberry.type
class _Thing:
    id: strawberry.ID
    kind: str | None
    tags: list[str]
    said: str
    shout: str
    row: strawberry.Private[_Row]


def test_each_field_read_renamed_converted_and_the_row_kept() -> None:
    make = from_rows.derive(
        _Thing,
        _Row,
        renamed={"said": "stated"},
        converted={"id": (str, strawberry.ID), "kind": from_rows.Nullable(str.upper), "tags": list},
    )
    row = _Row(7, "gas", ("a",), "hello")
    assert make(row) == _Thing(
        id=strawberry.ID("7"), kind="GAS", tags=["a"], said="hello", shout="HELLO", row=row
    )
    assert make(dataclasses.replace(row, kind=None)).kind is None


def test_a_field_the_row_lacks_fails_when_derived() -> None:
    with pytest.raises(TypeError, match="said: the row has no attribute 'said'"):
        from_rows.derive(_Thing, _Row)


def test_a_mapping_for_no_field_fails_when_derived() -> None:
    with pytest.raises(TypeError, match=r"_Thing has no fields \['colour'\]"):
        from_rows.derive(_Thing, _Row, renamed={"said": "stated", "colour": "kind"})


class Shade(enum.Enum):
    LIGHT = "light"
    DARK = "dark"


class Tone(enum.StrEnum):
    WARM = "WARM"


def test_an_enum_converter_looks_members_up_by_value_with_the_class_behind_it() -> None:
    shade, tone = from_rows.by_value(Shade), from_rows.by_value(Tone)
    assert shade("dark") is Shade.DARK and tone("WARM") is Tone.WARM
    assert shade(Shade.LIGHT) is Shade.LIGHT and tone(Tone.WARM) is Tone.WARM  # a member stays itself
    with pytest.raises(ValueError, match="'dusk' is not a valid Shade"):
        shade("dusk")
    with pytest.raises(ValueError):
        shade(["unhashable"])
    assert from_rows.by_value(str) is str  # anything else is kept as it is
