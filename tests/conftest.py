pytest_plugins = ["tests.fixtures.homeserver"]
