"""Run a compiled workflow locally with mocked job outcomes (see engine and mock_config)."""
