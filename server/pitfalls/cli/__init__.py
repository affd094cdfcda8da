"""``pitfalls`` on the command line: commands, output formats, doctor, rule docs."""
