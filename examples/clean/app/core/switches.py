"""Feature switches and the API agent's login, from the environment."""

from __future__ import annotations

import os

AUDIT_LOGGING = os.getenv("AUDIT_ENABLED", "false").lower() in ("1", "true", "yes")
EVENT_PUBLISHING = os.getenv("EVENT_PUBLISHING_ENABLED", "true").lower() in ("1", "true", "yes")

AGENT_EMAIL = os.environ["DIRECTUS_API_AGENT_EMAIL"]
AGENT_PASSWORD = os.environ["DIRECTUS_API_AGENT_PASSWORD"]
