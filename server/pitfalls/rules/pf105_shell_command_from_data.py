"""PF105: a shell command line formatted from data."""

from __future__ import annotations

import libcst as cst

from pitfalls.core import names
from pitfalls.rules._dynamic_strings import DynamicStringRule, first_argument
from pitfalls.rules.api import Invalid, Valid

# Run their command through the shell only when called with `shell=True`.
_SHELL_IF_ASKED = frozenset(
    {
        "subprocess.run", "subprocess.call", "subprocess.check_call",
        "subprocess.check_output", "subprocess.Popen",
    }
)
# Always hand their command to the shell.
_ALWAYS_SHELL = frozenset(
    {
        "subprocess.getoutput", "subprocess.getstatusoutput", "os.system", "os.popen",
        "asyncio.create_subprocess_shell",
    }
)
# Last name of every function above: compared before resolving the qualified name.
_TAILS = frozenset(q.rpartition(".")[2] for q in _SHELL_IF_ASKED | _ALWAYS_SHELL)
_COMMAND_KEYWORDS = frozenset({"args", "cmd"})
_QUOTING_CALLS = frozenset({"shlex.quote", "shlex.join"})


class ShellCommandFromData(DynamicStringRule):
    """
    ## What it does
    Reports a command that runs through the shell (`subprocess.run`, `call`, `check_call`,
    `check_output` and `Popen` with `shell=True`; `subprocess.getoutput`,
    `getstatusoutput`, `os.system`, `os.popen` and `asyncio.create_subprocess_shell`, which
    always use it) when the command line is built from data: an f-string with placeholders,
    `.format(...)`, `%` formatting, `+` concatenation, or a name last assigned one of these
    (or extended with `+=` by one since).

    A literal command, or a name assigned one (the guide's `validate_articles_schema` keeps
    its `docker-compose exec postgres psql ...` line in a plain triple-quoted string), is
    fine. So is a placeholder holding a constant (a literal, a name assigned one, `int(...)`,
    a value formatted as a number: `%d`, `{n:d}`) or a value wrapped in `shlex.quote(...)`
    or `shlex.join(...)`: the rule stays silent when every interpolated value is one of
    those. A command passed as a list without `shell=True` never goes through a shell.

    ## Why is this bad?
    The shell parses the whole string after the values are pasted in, so a value that
    holds a quote, `;`, `&&`, `|` or `$(...)` changes the command instead of being one
    argument of it. Make the guide's `validate_articles_schema` check a table passed in
    (`f"... WHERE table_name = '{table}'"`) and a name with a quote in it breaks the
    command line:

    ```
    /bin/sh: 1: Syntax error: Unterminated quoted string
    ```

    while `articles'; docker-compose down; echo '` runs a second command with the
    service's permissions. Values that reach such helpers often come from requests, CLI
    arguments or a CMS collection.

    ## Example
    ```python
    import subprocess


    def service_logs(service: str) -> str:
        cmd = f"docker-compose logs --tail=100 {service}"
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout
    ```

    ## Use instead
    Pass the arguments as a list, without `shell=True`:
    ```python
    import subprocess


    def service_logs(service: str) -> str:
        cmd = ["docker-compose", "logs", "--tail=100", service]
        return subprocess.run(cmd, capture_output=True, text=True).stdout
    ```
    or, when shell features are really needed, quote every value with `shlex.quote()`.

    ## Fix safety
    There is no automatic fix: splitting a shell line into arguments (pipes, redirections,
    globbing) needs a human.
    """

    code = "PF105"
    name = "shell-command-from-data"
    summary = "Shell command built from data"

    VALID = [
        Valid("""
            import subprocess
            subprocess.run("ls -la", shell=True)
        """),
        # The guide's validate_articles_schema: a literal held in a name.
        Valid('''
            def validate_articles_schema():
                import subprocess

                # Check if columns exist
                cmd = """docker-compose exec postgres psql -U directus -d directus_local -c "SELECT column_name FROM information_schema.columns WHERE table_name = 'articles' AND column_name IN ('authors', 'references');" """

                result = subprocess.run(cmd, shell=True, capture_output=True, text=True)
                return "authors" in result.stdout
        '''),
        Valid("""
            import subprocess

            def changes(ref: str) -> str:
                return subprocess.run(["git", "log", ref], capture_output=True, text=True).stdout
        """),
        # Every interpolated value is quoted for the shell.
        Valid("""
            import shlex
            import subprocess

            def dump(database: str, target: str) -> None:
                subprocess.run(f"pg_dump {shlex.quote(database)} | gzip > {shlex.quote(target)}", shell=True, check=True)
        """),
        Valid("""
            import subprocess
            from shlex import quote

            def logs(service: str) -> str:
                return subprocess.check_output("docker-compose logs " + quote(service), shell=True, text=True)
        """),
        # Placeholders holding constants.
        Valid("""
            import os

            COMPOSE = "docker-compose -f docker-compose.local.yml"
            RETRIES = 3

            def restart() -> None:
                os.system(f"{COMPOSE} restart directus --timeout {RETRIES}")
        """),
        # Values formatted as numbers cannot carry shell syntax.
        Valid("""
            import os
            import subprocess

            def stop(pid: int, delay: float) -> None:
                subprocess.run("sleep %.1f && kill -TERM %d" % (delay, pid), shell=True)
                os.system(f"renice -n {10:d} -p {pid:d}")
        """),
        # No shell: the formatted string is a single argv entry.
        Valid("""
            import subprocess

            def backup(path: str) -> None:
                subprocess.run(["tar", "czf", f"{path}.tar.gz", path], check=True)
                subprocess.run(f"/usr/local/bin/backup-{path}", shell=False)
        """),
        # Other functions named run/system.
        Valid("""
            import asyncio
            import uvicorn

            def main(module: str, port: int) -> None:
                uvicorn.run(f"{module}:app", host="0.0.0.0", port=port)
                asyncio.run(serve(f"{module}:app"))
        """),
        # A command received from the caller: nothing formatted here.
        Valid("""
            import subprocess

            def run_command(cmd: str) -> int:
                return subprocess.call(cmd, shell=True)
        """),
        Valid("""
            import subprocess

            cmd = "docker-compose " + "ps"
            cmd = cmd + " --services"
            subprocess.run(cmd, shell=True)
        """),
    ]
    INVALID = [
        # Imported under another name.
        Invalid("""
            from subprocess import run as sh

            def archive(path: str) -> None:
                sh(f"tar czf {path}.tgz {path}", shell=True)
        """, line=4),
        Invalid("""
            import subprocess

            def drop(table: str) -> None:
                subprocess.run(f"psql -U directus -c 'DROP TABLE {table}'", shell=True)
        """, line=4),
        # A name assigned from an f-string.
        Invalid("""
            import subprocess

            def columns(table: str) -> str:
                cmd = f'''docker-compose exec postgres psql -U directus -t -c "SELECT column_name FROM information_schema.columns WHERE table_name = '{table}';"'''

                result = subprocess.run(cmd, shell=True, capture_output=True, text=True)
                return result.stdout
        """, line=6, message="subprocess.run"),
        Invalid("""
            import os

            def cleanup(path):
                os.system("rm -rf " + path)
        """, line=4),
        Invalid("""
            import os

            def grep(pattern):
                return os.popen("grep -r '%s' /var/log/app" % pattern).read()
        """, line=4),
        Invalid("""
            from subprocess import check_output

            def show(ref):
                template = "git show {}"
                return check_output(template.format(ref), shell=True)
        """, line=5),
        Invalid("""
            import subprocess

            def status(service):
                return subprocess.getoutput(f"docker-compose ps {service}")
        """, line=4),
        Invalid("""
            import subprocess

            def tail(path, lines):
                subprocess.Popen(
                    args="tail -n %d %s" % (lines, path),
                    shell=True,
                )
        """, line=4),
        # Extended with `+=` after a literal start.
        Invalid("""
            import subprocess

            def compose(service, follow):
                cmd = "docker-compose logs"
                if follow:
                    cmd += " -f"
                cmd += " " + service
                return subprocess.check_call(cmd, shell=True)
        """, line=8),
        # Only one of the two values is quoted.
        Invalid("""
            import asyncio
            import shlex

            async def convert(source, fmt):
                await asyncio.create_subprocess_shell(f"convert {shlex.quote(source)} out.{fmt}")
        """, line=5),
    ]

    SAFE_CALLS = _QUOTING_CALLS

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        tail = names.last_name(func)
        if tail is None:
            return
        if tail not in _TAILS and type(func) is not cst.Name:  # a plain name may be an alias
            return
        qualname = self.ctx.qualified_name(func)
        if qualname in _SHELL_IF_ASKED:
            if not any(
                arg.keyword is not None and arg.keyword.value == "shell"
                and isinstance(arg.value, cst.Name) and arg.value.value == "True"
                for arg in node.args
            ):
                return
        elif qualname not in _ALWAYS_SHELL:
            return
        command = first_argument(node, _COMMAND_KEYWORDS)
        if command is not None and self.strings.is_built_from_data(command):
            self.ctx.report(
                node,
                f"`{qualname}` runs a shell command built from data; pass the arguments as a "
                "list without `shell=True`, or `shlex.quote()` every value",
            )
