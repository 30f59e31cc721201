"""No state, trigger, record kind or document kind name of a shipped workflow is written
as a literal in the code (issue 26, "Tests"; docs/decisions.md "The literal test").

The names are read from every file under ``workflows/*/v*.toml``. The code is every
``.py`` file under ``deliberation/`` and ``api/`` (its string tokens, via ``tokenize``)
and every page template under ``templates/pages/`` (quoted names, by a regular
expression). A name found outside the allow-list below fails the test with its
``file:line`` and the name; an allow-list entry that no longer matches anything fails it
too (the list only shrinks). The declarations themselves live under ``workflows/``,
which is not scanned.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

from workflows.loader import load

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW_FILES = sorted(ROOT.glob("workflows/*/v*.toml"))
PY_FOLDERS = ("deliberation", "api")
TEMPLATES = "templates/pages"

RECORD_WIRING = (
    "the record kinds are still wired one by one in this layer (issue 26 item 7, record "
    "types): their routes, forms and tables name the kind until they are made from the "
    "declaration"
)
DOCUMENT_KINDS = (
    "the document kinds are still built one by one (their templates and content "
    "builders), and the API's DocumentKind enum and the CLI's choices list them"
)
COUNTED_FROM = (
    '"meeting" here is the TimeLimit.counted_from vocabulary word (from = "meeting"), '
    "not the state or record of that name"
)

ALLOWED: dict[str, tuple[frozenset[str], str]] = {
    # path (a file, or a folder ending in "/") → the names it may still hold, and why.
    "deliberation/piccolo_migrations/": (
        frozenset({"investigation", "meeting", "opinion", "resolution_item", "site_consultation"}),
        "migrations are history: table names as they were created, never edited",
    ),
    "deliberation/tables.py": (
        frozenset({"investigation", "meeting", "opinion", "resolution_item", "site_consultation"}),
        "SQL table names (tablename=), fixed by the migrations",
    ),
    "deliberation/demo.py": (
        frozenset(
            {
                "adopt_resolution",
                "begin_site_consultation",
                "close",
                "closed",
                "convene_meeting",
                "feedback",
                "feedback_report",
                "investigate",
                "investigated",
                "meeting",
                "minutes",
                "proposed",
                "reject",
                "rejected",
                "resolution",
                "resolution_notice",
                "site_consultation",
                "start_feedback",
                "withdraw",
                "withdrawn",
            }
        ),
        "demo data walks standard topics through named steps on purpose (it is a script "
        "of the standard workflow, like a test)",
    ),
    "deliberation/statistics.py": (frozenset({"meeting"}), COUNTED_FROM),
    "deliberation/deadlines.py": (frozenset({"meeting"}), COUNTED_FROM),
    "deliberation/workflow_catalog.py": (frozenset({"meeting"}), COUNTED_FROM),
    "deliberation/open_data.py": (
        frozenset({"progress"}),
        "the open data's file name progress.csv (a published name, not the record kind)",
    ),
    "deliberation/records.py": (
        frozenset(
            {
                "investigation",
                "meeting",
                "minutes",
                "opinion",
                "opinion_answer",
                "progress",
                "resolution_item",
                "satisfaction",
                "site_consultation",
            }
        ),
        RECORD_WIRING,
    ),
    "deliberation/record_content.py": (
        frozenset({"meeting"}),
        "MeetingAttendee.meeting, a column name (the vouched fields come from "
        "deliberation/record_types.py)",
    ),
    "deliberation/corrections.py": (
        frozenset({"minutes", "opinion"}),
        RECORD_WIRING + " (an answered opinion and unrecorded minutes are not corrected)",
    ),
    "deliberation/overview.py": (
        frozenset({"opinion"}),
        RECORD_WIRING + " (a representative's date is the opinions' closing day)",
    ),
    "deliberation/topic_opinions.py": (
        frozenset({"opinion", "opinion_answer"}),
        RECORD_WIRING + " (the topic page's opinions a page at a time, as records.py reads them)",
    ),
    "deliberation/record_types.py": (
        frozenset(
            {
                "investigation",
                "meeting",
                "minutes",
                "opinion",
                "opinion_answer",
                "progress",
                "resolution_item",
                "satisfaction",
                "site_consultation",
                "vote",
            }
        ),
        "the one description of each record type (docs/record-kinds.md): its type names "
        "are the declaration's vocabulary, and the standard kinds keep the tables, routes "
        "and operation ids they had before types (fixed by the migrations and the API)",
    ),
    "deliberation/permissions.py": (
        frozenset({"opinion", "satisfaction"}),
        RECORD_WIRING + " (VILLAGE_RECORDS: a representative adds these for their village)",
    ),
    "deliberation/changes.py": (
        frozenset({"opinion"}),
        RECORD_WIRING + " (the webhook event of an added opinion)",
    ),
    "deliberation/documents/content.py": (
        frozenset({"feedback_report", "minutes", "progress", "resolution_notice"}),
        DOCUMENT_KINDS,
    ),
    "deliberation/documents/service.py": (
        frozenset({"feedback_report", "minutes", "progress"}),
        DOCUMENT_KINDS,
    ),
    "deliberation/schemas.py": (
        frozenset({"feedback_report", "minutes", "resolution_notice"}),
        DOCUMENT_KINDS,
    ),
    "api/controllers/records.py": (
        frozenset({"minutes", "opinion_answer", "progress"}),
        RECORD_WIRING + " (the routes on a record itself: answer, minutes, progress; a topic's"
        " collections are made from the record types in api/controllers/record_routes.py)",
    ),
    "api/pages/topic.py": (
        frozenset(
            {
                "investigation",
                "meeting",
                "minutes",
                "opinion",
                "opinion_answer",
                "resolution_item",
                "resolution_notice",
                "site_consultation",
            }
        ),
        RECORD_WIRING + " (the topic page's sections by kind)",
    ),
    "templates/pages/topic.html": (
        frozenset(
            {
                "investigation",
                "meeting",
                "minutes",
                "opinion",
                "progress",
                "resolution_item",
                "resolution_notice",
                "satisfaction",
                "site_consultation",
            }
        ),
        RECORD_WIRING + " (record sections written out one kind at a time)",
    ),
    "templates/pages/opinion_item.html": (frozenset({"opinion"}), RECORD_WIRING),
}

# 四议两公开 (workflows/siyi/v1.toml) brought its vote record (named like its type, `vote`)
# and two notices: wired one by one like standard's kinds above, for the same reasons,
# until the record types of issue 26 item 7 describe each kind once. `rejected` is also the
# quorum vocabulary's `outcome` word (a vote that did not carry), read in the topic page.
_SIYI_WIRING: dict[str, frozenset[str]] = {
    "deliberation/documents/content.py": frozenset({"decision_notice", "result_notice"}),
    "deliberation/schemas.py": frozenset({"decision_notice", "result_notice"}),
    "deliberation/records.py": frozenset({"vote"}),
    "deliberation/tables.py": frozenset({"vote"}),
    "api/pages/topic.py": frozenset({"rejected"}),
}
# 微协商 (workflows/micro/v1.toml) brought one document, wired like the others.
_SIYI_WIRING["deliberation/documents/content.py"] |= {"micro_suggestion"}
_SIYI_WIRING["deliberation/schemas.py"] |= {"micro_suggestion"}
for _path, _names in _SIYI_WIRING.items():
    ALLOWED[_path] = (ALLOWED[_path][0] | _names, ALLOWED[_path][1])

# A suggestion's own words (issue 27, docs/suggestions.md) that a workflow also happens to
# use: its status `declined` and screening decision `decline` (村民说事 has a state and a
# trigger so named), and open data's yes/no column `closed` of plan.csv. They name no
# workflow's state or step, so deriving them from a workflow would be wrong.
_SUGGESTION_WORDS = (
    "a suggestion's status or screening decision (docs/suggestions.md), not a workflow's "
    "state or trigger of the same name"
)
for _path, _names in {
    "deliberation/permissions.py": frozenset({"declined"}),
    "deliberation/plans.py": frozenset({"declined"}),
    "deliberation/suggestions/schemas.py": frozenset({"declined"}),
    "deliberation/suggestions/screening.py": frozenset({"decline", "declined"}),
    "api/pages/suggestions.py": frozenset({"decline", "declined"}),
    "deliberation/open_data.py": frozenset({"closed"}),
}.items():
    _before = ALLOWED.get(_path, (frozenset(), _SUGGESTION_WORDS))
    ALLOWED[_path] = (_before[0] | _names, _before[1] if _path in ALLOWED else _SUGGESTION_WORDS)


@dataclass(frozen=True)
class Found:
    path: str
    """Relative to the repository, with forward slashes."""
    line: int
    name: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.name!r}"


def declared_names(files: list[Path] = WORKFLOW_FILES) -> dict[str, set[str]]:
    """Every state, trigger, record kind and document kind name, with what it is and in
    which workflow file."""
    found: dict[str, set[str]] = {}
    for path in files:
        workflow = load(path)
        where = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
        for what, names in (
            ("state", workflow.state_names),
            ("trigger", workflow.triggers),
            ("record", [r.name for r in workflow.records]),
            ("document", [d.name for d in workflow.documents]),
        ):
            for name in names:
                found.setdefault(name, set()).add(f"{what} of {where}")
    return found


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def python_literals(path: Path, names: set[str], root: Path = ROOT) -> list[Found]:
    """String tokens of a Python file whose value is one of ``names``."""
    found = []
    source = path.read_bytes()
    for token in tokenize.tokenize(io.BytesIO(source).readline):
        if token.type != tokenize.STRING:
            continue
        try:
            value = ast.literal_eval(token.string)
        except (ValueError, SyntaxError):
            continue  # an f-string or bytes with parts: not a plain name
        if isinstance(value, str) and value in names:
            found.append(Found(_relative(path, root), token.start[0], value))
    return found


def template_literals(path: Path, names: set[str], root: Path = ROOT) -> list[Found]:
    """Names quoted in a template ("name" or 'name')."""
    if not names:
        return []
    either = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    pattern = re.compile(r"""(["'])(""" + either + r""")\1""")
    return [
        Found(_relative(path, root), number, match.group(2))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for match in pattern.finditer(line)
    ]


def scan(root: Path, names: set[str]) -> list[Found]:
    found: list[Found] = []
    for folder in PY_FOLDERS:
        for path in sorted((root / folder).rglob("*.py")):
            found += python_literals(path, names, root)
    for path in sorted((root / TEMPLATES).glob("*.html")):
        found += template_literals(path, names, root)
    return found


def _entry_of(path: str) -> str | None:
    if path in ALLOWED:
        return path
    return next((e for e in ALLOWED if e.endswith("/") and path.startswith(e)), None)


def test_no_workflow_name_is_a_literal_outside_the_allow_list() -> None:
    names = declared_names()
    found = scan(ROOT, set(names))
    stray = [f for f in found if (e := _entry_of(f.path)) is None or f.name not in ALLOWED[e][0]]
    assert not stray, (
        "Names of a workflow written as literals; derive them from the topic's workflow "
        "(deliberation.pinning.workflow_of) or, if that cannot be done yet, add them to "
        "ALLOWED in tests/workflows/test_no_literals.py with the reason:\n"
        + "\n".join(f"{f}  ({', '.join(sorted(names[f.name]))})" for f in stray)
    )


def test_the_allow_list_has_no_stale_entry() -> None:
    names = declared_names()
    found = scan(ROOT, set(names))
    used: dict[str, set[str]] = {}
    for f in found:
        entry = _entry_of(f.path)
        if entry is not None:
            used.setdefault(entry, set()).add(f.name)
    stale = [
        f"{entry}: {name!r} is no longer there (or no longer a workflow's name): "
        "take it out of ALLOWED"
        for entry, (allowed, _) in ALLOWED.items()
        for name in sorted(allowed - used.get(entry, set()))
    ]
    assert not stale, "\n".join(stale)
    assert all(reason.strip() for _, reason in ALLOWED.values())


def test_the_scanner_finds_a_planted_literal(tmp_path: Path) -> None:
    """A state name written in a module and quoted in a page template is found, with its
    file and line; the same text in a comment, an f-string part or unquoted is not."""
    names = declared_names()
    state = next(n for n, what in names.items() if any(w.startswith("state") for w in what))
    trigger = next(n for n, what in names.items() if any(w.startswith("trigger") for w in what))
    (tmp_path / "deliberation").mkdir()
    (tmp_path / "api").mkdir()
    (tmp_path / TEMPLATES).mkdir(parents=True)
    (tmp_path / "deliberation" / "planted.py").write_text(
        f'"""Doc."""\n# {state} in a comment\nlabel = f"x{{1}}"\nSTATE = "{state}"\n',
        encoding="utf-8",
    )
    (tmp_path / "api" / "also.py").write_text(f"FIRE = ('{trigger}',)\n", encoding="utf-8")
    (tmp_path / TEMPLATES / "planted.html").write_text(
        f"<p>{state}</p>\n{{% if x == '{state}' %}}y{{% endif %}}\n", encoding="utf-8"
    )
    found = sorted(str(f) for f in scan(tmp_path, set(names)))
    assert found == sorted(
        [
            f"deliberation/planted.py:4: {state!r}",
            f"api/also.py:1: {trigger!r}",
            f"templates/pages/planted.html:2: {state!r}",
        ]
    )


def test_every_shipped_workflow_file_is_read() -> None:
    """The names come from every workflow file shipped, not only the standard one."""
    names = declared_names()
    keys = {p.parent.name for p in WORKFLOW_FILES}
    assert "standard" in keys
    for key in keys:
        assert any(f"workflows/{key}/" in w for what in names.values() for w in what), key
