"""App tests: a package like tests/engine, so helpers import as tests.app.<module> under plain `pytest`."""
