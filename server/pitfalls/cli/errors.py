"""The CLI's own error: bad command-line input, reported as one line on stderr, exit 2."""


class UsageError(Exception):
    pass
