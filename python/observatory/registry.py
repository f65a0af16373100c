"""
The event registry as the Python tracker reads it: self-describing JSON Schemas (Iglu style: `self` names the event
and its SchemaVer version), one file per event version. Ours ship inside the package (generated from
tracker/events/ by `npm run generate`); a team's own come from a folder of the same files. The validator covers the
subset every registry is held to (flat objects of scalars, tracker/schema.ts) and words its errors as ajv does, so a
rejected row reads the same whichever language tracked it.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable, Mapping

SCHEMAS_DIR = Path(__file__).parent / "schemas"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_SCHEMAVER = re.compile(r"^[1-9]\d*-\d+-\d+$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)


@dataclass(frozen=True)
class ValidationError:
    """An error as the lake's rejected table holds it: the property's JSON pointer and what is wrong."""

    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


@dataclass(frozen=True)
class EventSchema:
    """One event version: its name, SchemaVer version and JSON Schema (the self-describing file, whole)."""

    name: str
    version: str
    schema: Mapping[str, Any] = field(repr=False)

    def validate(self, properties: Any) -> list[ValidationError]:
        return _validate_object(self.schema, properties)


def schema_ver_key(version: str) -> tuple[int, ...]:
    """SchemaVer ordered part by part, as numbers (1-0-10 after 1-0-9)."""
    return tuple(int(part) for part in version.split("-"))


class Registry:
    """Every version of every event, by name; `current(name)` is the highest SchemaVer, the one `track()` emits."""

    def __init__(self, schemas: Iterable[EventSchema]):
        self._versions: dict[str, dict[str, EventSchema]] = {}
        for schema in schemas:
            self._versions.setdefault(schema.name, {})[schema.version] = schema
        self._current = {
            name: versions[max(versions, key=schema_ver_key)]
            for name, versions in self._versions.items()
        }

    @classmethod
    def from_dir(cls, directory: str | Path) -> "Registry":
        """The registry of a folder of `<name>.<SchemaVer>.json` self-describing schemas."""
        folder = Path(directory)
        files = sorted(folder.glob("*.json"))
        if not files:
            raise ValueError(f"{folder}: no event schemas (<name>.<SchemaVer>.json) in this folder")
        return cls(load_schema(file) for file in files)

    @classmethod
    def ours(cls) -> "Registry":
        """The registry our services use, as exported into this package."""
        return cls.from_dir(SCHEMAS_DIR)

    def current(self, name: str) -> EventSchema | None:
        return self._current.get(name) if isinstance(name, str) else None

    def find(self, name: str, version: str) -> EventSchema | None:
        return self._versions.get(name, {}).get(version)

    def names(self) -> list[str]:
        return sorted(self._versions)


def load_schema(path: Path) -> EventSchema:
    """One self-describing schema file; a file whose `self` disagrees with its name, or breaks a rule, is an error."""
    document = json.loads(path.read_text(encoding="utf-8"))
    describe = document.get("self") or {}
    name, version = describe.get("name"), describe.get("version")
    where = f"{path.name}"
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"{where}: self.name must be a snake_case event name")
    if not isinstance(version, str) or not _SCHEMAVER.match(version):
        raise ValueError(f"{where}: self.version must be SchemaVer (e.g. 1-0-0)")
    if path.name != f"{name}.{version}.json":
        raise ValueError(f"{where}: the file of {name} {version} is named {name}.{version}.json")
    if document.get("type") != "object" or document.get("additionalProperties") is not False:
        raise ValueError(f"{where}: the schema must be {{type: object, additionalProperties: false, …}}")
    return EventSchema(name=name, version=version, schema=document)


def _validate_object(schema: Mapping[str, Any], value: Any) -> list[ValidationError]:
    if not isinstance(value, Mapping):
        return [ValidationError("/", "must be object")]
    properties: Mapping[str, Any] = schema.get("properties", {})
    errors = [
        ValidationError("/", f"must have required property '{required}'")
        for required in schema.get("required", [])
        if required not in value
    ]
    errors += [
        ValidationError("/", f"must NOT have additional properties ({key})")
        for key in value
        if key not in properties
    ]
    for key, rules in properties.items():
        if key in value:
            errors += _validate_scalar(f"/{key}", rules, value[key])
    return errors


def _validate_scalar(path: str, rules: Mapping[str, Any], value: Any) -> list[ValidationError]:
    kind = rules.get("type")
    if not _has_type(kind, value):
        return [ValidationError(path, f"must be {kind}")]
    errors: list[ValidationError] = []
    if kind == "string":
        if "maxLength" in rules and len(value) > rules["maxLength"]:
            errors.append(
                ValidationError(path, f"must NOT have more than {rules['maxLength']} characters")
            )
        if "format" in rules and not _has_format(rules["format"], value):
            errors.append(ValidationError(path, f'must match format "{rules["format"]}"'))
    elif kind in ("integer", "number"):
        if "minimum" in rules and value < rules["minimum"]:
            errors.append(ValidationError(path, f"must be >= {_number(rules['minimum'])}"))
        if "maximum" in rules and value > rules["maximum"]:
            errors.append(ValidationError(path, f"must be <= {_number(rules['maximum'])}"))
    if "enum" in rules and value not in rules["enum"]:
        errors.append(ValidationError(path, "must be equal to one of the allowed values"))
    return errors


def _has_type(kind: Any, value: Any) -> bool:
    # bool is an int in Python; JSON (and ajv) keep them apart.
    if kind == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) or (
            isinstance(value, float) and math.isfinite(value) and value.is_integer()
        )
    if kind == "number":
        return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))
    return False


def _has_format(name: str, value: str) -> bool:
    if name == "date":
        return _is_date(value)
    if name == "date-time":
        if not _DATE_TIME.match(value) or not _is_date(value[:10]):
            return False
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
            return True
        except ValueError:
            return False
    return True


def _is_date(value: str) -> bool:
    match = _DATE.match(value)
    if not match:
        return False
    try:
        date(int(match[1]), int(match[2]), int(match[3]))
        return True
    except ValueError:
        return False


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
