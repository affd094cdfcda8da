"""Does the Directus `articles` table match the DirectusArticle model?"""

from __future__ import annotations

import subprocess

from app.schemas import DirectusArticle


def database_columns(table: str) -> dict[str, str]:
    # No shell: the table name reaches psql as a variable, quoted by psql (:'table').
    result = subprocess.run(
        [
            "docker-compose", "exec", "-T", "postgres",
            "psql", "-U", "directus", "-d", "directus_local", "-t", "-v", f"table={table}",
        ],
        input="SELECT column_name, data_type FROM information_schema.columns WHERE table_name = :'table';",
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"Database query failed: {result.stderr}")
    columns: dict[str, str] = {}
    for line in result.stdout.strip().split("\n"):
        if "|" in line:
            name, data_type = [x.strip() for x in line.split("|")]
            columns[name] = data_type
    return columns


def validate_articles_schema() -> bool:
    db_fields = set(database_columns("articles"))
    model_fields = set(DirectusArticle.model_fields.keys())

    missing_in_db = model_fields - db_fields
    missing_in_model = db_fields - model_fields
    if missing_in_db:
        print(f"Fields in model but missing in DB: {missing_in_db}")
    if missing_in_model:
        print(f"Fields in DB but missing in model: {missing_in_model}")
    return not missing_in_db and not missing_in_model
