"""Where live schemas come from: a Directus server or snapshot, a SQL database."""
