"""Named what-if scenarios saved as JSON files in a folder (``<data dir>/scenarios/``).

One file per scenario, written atomically (a locked temporary file in the same folder,
flushed to disk, then ``os.replace``; see :func:`crm_core.data.writes.write_file_atomic`), so
a crash at any instant leaves the old or the new file, and temporary files of killed
writers are removed by the next save. A file that is not a saved scenario is never
overwritten or deleted. File names are derived from the
scenario name (a readable slug plus a short hash of the case-folded name), so any valid
name maps to a safe file name on every operating system and names differing only in case
are the same scenario. The JSON carries ``schema_version``; a file that is not valid JSON,
is not a scenario, or comes from an unknown version raises ``ValueError`` with the file
name and the reason.

Names: 1 to 60 characters, letters (any script), digits, spaces, dashes and underscores;
leading and trailing spaces are dropped.

Who saved a scenario: ``save_scenario(..., saved_by=...)``, or inside ``saving_as(user)``
(the app wraps its save button's callback in it when sign-in is on), writes ``saved_by``
into the file; :func:`scenario_provenance` reads it back with ``saved_at``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crm_core.data.writes import write_file_atomic
from crm_core.whatif.levers import Levers, Scenario

__all__ = [
    "SCENARIO_KIND",
    "SCENARIO_SCHEMA_VERSION",
    "delete_scenario",
    "list_scenarios",
    "load_scenario",
    "read_scenario_file",
    "save_scenario",
    "saving_as",
    "scenario_from_dict",
    "scenario_path",
    "scenario_provenance",
    "scenario_to_dict",
    "unreadable_scenarios",
    "validate_scenario_name",
]

SCENARIO_SCHEMA_VERSION = 1
SCENARIO_KIND = "crm-whatif-scenario"
MAX_NAME_LENGTH = 60
_NAME = re.compile(r"[\w\- ]+")
_SUFFIX = ".json"
_TEMP_PREFIX = ".scenario-"
_SAVED_BY: ContextVar[str | None] = ContextVar("crm_scenario_saved_by", default=None)
MAX_SAVED_BY_LENGTH = 200


@contextlib.contextmanager
def saving_as(user: str | None) -> Iterator[None]:
    """Scenarios saved inside this block record ``user`` as who saved them (``None``:
    nobody is recorded, as with sign-in off)."""
    token = _SAVED_BY.set(user)
    try:
        yield
    finally:
        _SAVED_BY.reset(token)


def validate_scenario_name(name: Any) -> str:
    """Return ``name`` without surrounding spaces, or raise ``ValueError`` saying why."""
    if not isinstance(name, str):
        raise ValueError(f"Scenario name must be text, got {type(name).__name__}")
    cleaned = name.strip()
    if not cleaned:
        raise ValueError("Scenario name must not be empty")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise ValueError(
            f"Scenario name must be at most {MAX_NAME_LENGTH} characters, got {len(cleaned)}"
        )
    if not _NAME.fullmatch(cleaned):
        bad = sorted({c for c in cleaned if not _NAME.fullmatch(c)})
        raise ValueError(
            f"Scenario name {cleaned!r} may only use letters, digits, spaces, dashes and "
            f"underscores; remove {' '.join(repr(c) for c in bad)}"
        )
    return cleaned


def scenario_path(folder: str | os.PathLike[str], name: str) -> Path:
    """The file a scenario called ``name`` is saved to in ``folder``."""
    cleaned = validate_scenario_name(name)
    slug = re.sub(r"[^a-z0-9]+", "-", cleaned.lower()).strip("-")[:40] or "scenario"
    key = hashlib.sha256(cleaned.casefold().encode("utf-8")).hexdigest()[:10]
    return Path(folder) / f"{slug}-{key}{_SUFFIX}"


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """The JSON-ready form of a scenario (without the file envelope)."""
    return {
        "name": scenario.name,
        "description": scenario.description,
        "horizon_years": scenario.horizon_years,
        "discount_rate": scenario.discount_rate,
        "levers": scenario.levers.to_dict(),
        "segment_levers": {name: lv.to_dict() for name, lv in scenario.segment_levers},
    }


def _levers(data: Any, where: str) -> Levers:
    if not isinstance(data, dict):
        raise ValueError(f"{where} must be an object of lever values")
    known = set(Levers().to_dict())
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{where} has unknown levers {unknown}; known: {sorted(known)}")
    return Levers(**data)


def scenario_from_dict(data: Any) -> Scenario:
    """Rebuild a scenario from :func:`scenario_to_dict` output (``ValueError`` if invalid)."""
    if not isinstance(data, dict):
        raise ValueError("a scenario must be a JSON object")
    unknown = sorted(
        set(data)
        - set(scenario_to_dict(Scenario()))
        - {"schema_version", "kind", "saved_at", "saved_by"}
    )
    if unknown:
        raise ValueError(f"unknown fields {unknown}")
    if "name" not in data:
        raise ValueError("the scenario has no name")
    segment_levers = data.get("segment_levers") or {}
    if not isinstance(segment_levers, dict):
        raise ValueError("segment_levers must map segment names to levers")
    try:
        return Scenario(
            name=validate_scenario_name(data["name"]),
            levers=_levers(data.get("levers") or {}, "levers"),
            segment_levers={
                str(seg): _levers(lv, f"segment_levers[{seg!r}]")
                for seg, lv in segment_levers.items()
            },
            horizon_years=data.get("horizon_years"),
            discount_rate=data.get("discount_rate"),
            description=data.get("description") or "",
        )
    except TypeError as exc:  # e.g. a lever value of the wrong JSON type
        raise ValueError(str(exc)) from exc


def _envelope(scenario: Scenario, saved_by: str | None) -> dict[str, Any]:
    who = {"saved_by": saved_by[:MAX_SAVED_BY_LENGTH]} if saved_by else {}
    return {
        "kind": SCENARIO_KIND,
        "schema_version": SCENARIO_SCHEMA_VERSION,
        "saved_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        **who,
        **scenario_to_dict(scenario),
    }


def save_scenario(
    folder: str | os.PathLike[str],
    scenario: Scenario,
    *,
    overwrite: bool = True,
    saved_by: str | None = None,
) -> Path:
    """Save ``scenario`` under its name in ``folder`` (created if missing), atomically.

    Parameters
    ----------
    folder
        Scenario folder, normally ``<data dir>/scenarios``.
    scenario
        The scenario; its name must pass :func:`validate_scenario_name`.
    overwrite
        Replace a saved scenario of the same name (case-insensitive); otherwise raise
        ``ValueError``.
    saved_by
        Who saves it (recorded in the file); default: the user of an enclosing
        :func:`saving_as`, else nobody.

    Returns
    -------
    Path
        The file written.
    """
    if not isinstance(scenario, Scenario):
        raise ValueError(f"scenario must be a Scenario, got {type(scenario).__name__}")
    path = scenario_path(folder, scenario.name)
    scenario = replace(scenario, name=validate_scenario_name(scenario.name))
    if path.exists() and not overwrite:
        raise ValueError(f"A scenario named {scenario.name!r} is already saved")
    who = saved_by if saved_by is not None else _SAVED_BY.get()
    text = json.dumps(_envelope(scenario, who), indent=2, ensure_ascii=False, allow_nan=False)
    return write_file_atomic(
        path, (text + "\n").encode("utf-8"), temp_prefix=_TEMP_PREFIX, may_replace=_replaceable
    )


def _replaceable(path: Path) -> None:
    """Refuse to overwrite a file that is not a saved scenario (never destroy a user's file)."""
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        data = None
    if (
        not path.is_file()
        or path.is_symlink()
        or not isinstance(data, dict)
        or (data.get("kind") != SCENARIO_KIND)
    ):
        raise ValueError(
            f"{path.name} in {path.parent} is not a saved scenario; it is left as it is: "
            "move it away or choose another name"
        )


def read_scenario_file(path: str | os.PathLike[str]) -> Scenario:
    """Read one saved scenario file; ``ValueError`` naming the file if it is not valid."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ValueError(f"Scenario file {path.name} does not exist") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"Scenario file {path.name} is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("kind") != SCENARIO_KIND:
        raise ValueError(f"Scenario file {path.name} is not a saved what-if scenario")
    version = data.get("schema_version")
    if version != SCENARIO_SCHEMA_VERSION:
        raise ValueError(
            f"Scenario file {path.name} has schema_version {version!r}; this version of "
            f"the app reads version {SCENARIO_SCHEMA_VERSION}"
        )
    try:
        return scenario_from_dict(data)
    except ValueError as exc:
        raise ValueError(f"Scenario file {path.name} is not valid: {exc}") from None


def scenario_provenance(folder: str | os.PathLike[str], name: str) -> tuple[str | None, str | None]:
    """``(saved_by, saved_at)`` of the scenario saved as ``name`` (``None`` for what the
    file does not record; ``ValueError`` if there is no such valid scenario)."""
    path = scenario_path(folder, name)
    read_scenario_file(path)  # the same checks as loading it
    data = json.loads(path.read_bytes().decode("utf-8"))
    who, when = data.get("saved_by"), data.get("saved_at")
    return (who if isinstance(who, str) else None, when if isinstance(when, str) else None)


def load_scenario(folder: str | os.PathLike[str], name: str) -> Scenario:
    """Load the scenario saved as ``name`` in ``folder`` (``ValueError`` if none/invalid)."""
    path = scenario_path(folder, name)
    if not path.exists():
        raise ValueError(f"No saved scenario named {name.strip()!r}")
    return read_scenario_file(path)


def list_scenarios(folder: str | os.PathLike[str]) -> list[str]:
    """Names of the valid scenarios saved in ``folder``, sorted case-insensitively.

    Files that cannot be read as scenarios are left out (read one with
    :func:`read_scenario_file` to see why); a missing folder gives an empty list.
    """
    root = Path(folder)
    if not root.is_dir():
        return []
    names = []
    for path in root.glob(f"*{_SUFFIX}"):
        if path.name.startswith("."):
            continue
        with contextlib.suppress(ValueError, OSError):
            names.append(read_scenario_file(path).name)
    return sorted(names, key=lambda n: (n.casefold(), n))


def unreadable_scenarios(folder: str | os.PathLike[str]) -> list[tuple[str, str]]:
    """Scenario files in ``folder`` that :func:`list_scenarios` leaves out, with why.

    Returns ``(file name, reason)`` pairs sorted by file name (empty for a missing folder),
    so an app can say which saved scenarios are damaged instead of hiding them.
    """
    root = Path(folder)
    if not root.is_dir():
        return []
    problems = []
    for path in sorted(root.glob(f"*{_SUFFIX}")):
        if path.name.startswith("."):
            continue
        try:
            read_scenario_file(path)
        except ValueError as exc:
            problems.append((path.name, str(exc)))
        except OSError as exc:
            problems.append((path.name, f"Scenario file {path.name} cannot be read ({exc})"))
    return problems


def delete_scenario(folder: str | os.PathLike[str], name: str) -> bool:
    """Delete the scenario saved as ``name``; ``True`` if a file was removed.

    Only a file that is a saved scenario (possibly damaged, but of this kind) is removed.
    """
    path = scenario_path(folder, name)
    try:
        _replaceable(path)
    except ValueError:
        return False  # missing, or not a scenario file: nothing of ours to delete
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
