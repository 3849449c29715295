"""The container's HEALTHCHECK: is the bridge in this container ready?

Reads the appservice port from the bridge's config ($BRIDGE_DATA/config.yaml, environment
overrides included) and asks ``GET http://127.0.0.1:PORT/_matrix/mau/ready``, which mautrix
answers with 200 once the bridge has started. Exit status 0 when ready, 1 otherwise, with one
line saying why (Docker keeps it in ``docker inspect``).
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

READY_PATH = "/_matrix/mau/ready"


def main() -> int:
    """Check readiness; 0 when ready, 1 with a reason on stdout otherwise."""
    from bridge.config import ConfigCreated, ConfigError, load_config

    path = Path(os.environ.get("BRIDGE_DATA", "/data")) / "config.yaml"
    if not path.exists():
        print(f"no config at {path}: the bridge has not been set up")
        return 1
    try:
        config = load_config(path, save_upgrades=False)
    except (ConfigCreated, ConfigError) as error:
        print(error)
        return 1
    url = f"http://127.0.0.1:{config['appservice.port']}{READY_PATH}"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            print(f"GET {url}: {response.status}")
            return 0
    except urllib.error.HTTPError as error:
        print(f"GET {url}: {error.code}, not ready")
    except (urllib.error.URLError, OSError) as error:
        print(f"GET {url}: {getattr(error, 'reason', error)}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
