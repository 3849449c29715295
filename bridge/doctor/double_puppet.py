"""Doctor's double puppeting line: the homeserver knows ``bridge.double_puppet.as_token``.

whoami with that token and no ``?user_id=``: the homeserver answers with the registration's
own user when it loaded the registration, 401 when it did not. Whether its namespace covers a
member's account is seen when the bridge first acts as it (one error naming the key).
"""

from __future__ import annotations

from mautrix.appservice import IntentAPI
from mautrix.errors import MatrixRequestError

from ..config import Config
from .result import CheckResult

LABEL = "double puppeting"


async def double_puppeting(intent: IntentAPI, config: Config) -> CheckResult:
    """✓ when the homeserver knows the token, ✗ when it refuses it (401: the registration is
    not loaded), – when double puppeting is off. ``intent``: doctor's bot intent."""
    token = config["bridge.double_puppet.as_token"]
    if not token:
        return CheckResult.skip(LABEL, "off (bridge.double_puppet.as_token is empty)")
    puppet = intent.user(intent.mxid, token)  # a plain token: no ?user_id=
    try:
        whoami = await puppet.whoami()
    except MatrixRequestError as error:
        found = f"{error.errcode or error.http_status}: {error.message}"
        if error.http_status == 401:
            return CheckResult.fail(
                LABEL,
                f"the homeserver does not know bridge.double_puppet.as_token ({found})",
                "load double-puppet-registration.yaml (-g writes it beside the registration) "
                "into the homeserver with the same as_token, then restart the homeserver",
            )
        raise
    return CheckResult.ok(
        LABEL,
        f"the homeserver knows bridge.double_puppet.as_token (its registration's user is "
        f"{whoami.user_id}): linked members of this server act from their own accounts",
    )
