"""``pitfalls server``: the language server, a thin layer over what the CLI calls."""
