"""PF000: the file could not be analysed."""

from __future__ import annotations

from pitfalls.rules.api import Rule


class ParseError(Rule):
    """
    ## What it does
    Reports a file that pitfalls could not analyse: a syntax error (at the position the
    parser stopped), a file that is not valid UTF-8, or one that cannot be read.

    ## Why is this bad?
    Python refuses to import a module with a syntax error:

    ```
    SyntaxError: invalid syntax
    ```

    and every other rule is blind to a file it cannot parse, so a clean report would be a
    false reassurance. The other files of the project are still checked.

    ## Example
    ```python
    def create_partner(data:
        ...
    ```

    ## Use instead
    ```python
    def create_partner(data: dict) -> None:
        ...
    ```

    ## Fix safety
    There is no automatic fix.
    """

    code = "PF000"
    name = "parse-error"
    summary = "File could not be parsed or read"
