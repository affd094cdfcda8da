"""PF001: a `# noqa` code that silences nothing (Ruff's RUF100)."""

from __future__ import annotations

from collections.abc import Mapping, Set

from pitfalls.core.diagnostics import Diagnostic, Edit, Fix, Position
from pitfalls.core.noqa import NoqaComments, removal, unused_codes
from pitfalls.rules.api import Applicability, Invalid, Rule, Severity, Valid


class UnusedNoqa(Rule):
    """
    ## What it does
    Checks for PF codes in `# noqa` comments that silence nothing: a code no pitfalls rule
    has, or the code of a rule that ran on the file and found nothing on that line (or on
    the lines whose `# noqa` goes there: a multi-line string or a backslash-continued line
    takes its `# noqa` at its last line).

    Only pitfalls' own codes are judged: the codes of other tools (`# noqa: E501` for
    flake8 or Ruff) and a bare `# noqa` are left alone, and so are the codes of rules that
    were not selected or do not apply to the file (their findings are unknown).

    ## Why is this bad?
    A `# noqa` outlives the finding it was written for: once the code is fixed it keeps
    silencing the line, and a new, real finding there goes unseen. A misspelt code
    (`# noqa: PF10`) silences nothing and misleads the reader into thinking it does.

    ## Example
    ```python
    import requests

    response = requests.get(url, timeout=10)  # noqa: PF103
    ```

    ## Use instead
    ```python
    import requests

    response = requests.get(url, timeout=10)
    ```

    ## Fix safety
    The fix is safe: it removes the unused codes from the list, or the whole `# noqa`
    comment when none is left, and keeps the other codes and comments of the line. Only
    codes that silence nothing are removed, so no finding appears.
    """

    code = "PF001"
    name = "unused-noqa"
    summary = "`# noqa` code that silences nothing"
    severity = Severity.WARNING
    fix_applicability = Applicability.SAFE

    VALID = [
        # The codes silence findings, also at the end of a multi-line string.
        Valid('''
            import requests

            requests.get(url)  # noqa: PF103
            requests.post(url, data="""
            partner""")  # noqa: PF103
        ''', config={"select": ["PF103"]}),
        # Other tools' codes, bare `# noqa`, a `# noqa` inside a string, and codes of
        # rules that did not run (only PF001 is selected here).
        Valid('''
            import requests

            LONG = "https://example.com/a/very/long/url"  # noqa: E501
            x = 1  # noqa
            HELP = "write # noqa: PF999 to silence a line"
            requests.get(url, timeout=10)  # noqa: PF103
        '''),
    ]
    INVALID = [
        # The finding is gone: the whole comment goes.
        Invalid("""
            import requests

            requests.get(url, timeout=10)  # noqa: PF103
        """, config={"select": ["PF103"]}, line=3, message="unused: `PF103`", fixed="""
            import requests

            requests.get(url, timeout=10)
        """),
        # One code of two silences nothing; other tools' codes and comments stay.
        Invalid("""
            import requests

            requests.get(url)  # noqa: PF103, PF404
            requests.get(url, timeout=10)  # type: ignore  # noqa: E501,PF103
        """, config={"select": ["PF103", "PF404"]}, count=2, fixed="""
            import requests

            requests.get(url)  # noqa: PF103
            requests.get(url, timeout=10)  # type: ignore  # noqa: E501
        """),
        # A code no rule has; text after the directive stays a comment.
        Invalid("""
            user_id = legacy_id  # noqa: PF10 -- kept for the import job
        """, line=1, message="unknown: `PF10`", fixed="""
            user_id = legacy_id  # -- kept for the import job
        """),
    ]

    @classmethod
    def check_noqa(
        cls, path: str, comments: NoqaComments, silenced: Mapping[int, Set[str]], ran: Set[str]
    ) -> list[Diagnostic]:
        from pitfalls.rules import RULES_BY_CODE  # the catalog imports this module

        found = []
        # PF001's own code silences PF001: it is never reported as unused.
        for unused in unused_codes(comments, silenced, ran - {cls.code}, RULES_BY_CODE.keys()):
            directive, line = unused.directive, unused.line
            parts = [f"{label}: {', '.join(f'`{c}`' for c in codes)}"
                     for label, codes in (("unused", unused.unused), ("unknown", unused.unknown)) if codes]
            start, end, text = removal(comments.lines[line - 1], directive, {*unused.unused, *unused.unknown})
            edit = Edit(Position(line, start), Position(line, end), text)
            found.append(Diagnostic(
                code=cls.code,
                message=f"Unused `noqa` directive ({'; '.join(parts)})",
                path=path,
                start=Position(line, directive.start),
                end=Position(line, directive.codes_end),
                severity=cls.severity,
                fix=Fix("Remove unused `noqa` codes", (edit,), Applicability.SAFE),
            ))
        return found
