"""PF000: the file could not be analysed."""

from __future__ import annotations

from pitfalls.rules.api import Rule


class ParseError(Rule):
    """
    ## What it does
    Reports a file that pitfalls could not analyse:
    - a syntax error: exactly what CPython's `compile()` refuses, with its message and
      position (judged by the Python pitfalls runs on, like pyflakes and pylint);
    - a file that is not valid in its encoding, or that cannot be read (a FIFO or a device
      named `*.py` is never read);
    - "not checked": code Python compiles that pitfalls does not analyse, and says why:
      nested more than 1,000 levels deep, larger than `max-file-size` (3 MB by default),
      or beyond libcst's grammar (more than 3,000 implicitly concatenated strings).

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
