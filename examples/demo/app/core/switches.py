"""Feature switches and the API agent's login, straight from the environment."""

from __future__ import annotations

import os

# `AUDIT_ENABLED=false` in .env still switches auditing on: the string is not empty.
AUDIT_LOGGING = bool(os.getenv("AUDIT_ENABLED"))
EVENT_PUBLISHING = os.getenv("EVENT_PUBLISHING_ENABLED", "true").lower() in ("1", "true", "yes")

# .env.example defines DIRECTUS_API_AGENT_PASSWORD: this name never arrives.
AGENT_EMAIL = os.environ["DIRECTUS_API_AGENT_EMAIL"]
AGENT_PASSWORD = os.environ["DIRECTUS_AGENT_PASSWORD"]
