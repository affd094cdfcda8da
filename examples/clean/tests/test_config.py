"""Credentials in tests are fixtures, not secrets: PF102 skips tests unless
`[tool.pitfalls.secrets] check-tests = true`."""

from app.core.config import DirectusConfig

TEST_PASSWORD = "SecureApiPassword123!"


def test_config_takes_the_password() -> None:
    config = DirectusConfig(api_agent_password=TEST_PASSWORD)
    assert config.api_agent_password == TEST_PASSWORD
