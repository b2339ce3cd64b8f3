"""W&B credentials: found the way the SDK finds them (WANDB_API_KEY, `wandb login`'s netrc entry)
without ever prompting, and kept out of everything sweeper prints."""

from __future__ import annotations

import base64
import os
import sys

from ...errors import BadInput

DEFAULT_BASE_URL = "https://api.wandb.ai"
# With these on, wandb-core (0.31) logs the settings it receives verbatim, API key included
# (core-debug-*.log and each run's debug-internal.log); see wandb/wandb#12384.
DEBUG_SWITCHES = ("WANDB_DEBUG", "WANDB_CORE_DEBUG")


class MissingCredentials(BadInput):
    """No W&B API key for the server."""


def disarm_debug_logs(env=os.environ) -> list[str]:
    """Turn off the W&B debug switches that would write the API key into log files, for this
    process and every agent and run it starts; say so once. SWEEPER_ALLOW_WANDB_DEBUG=1 keeps
    them (the logs then hold the key)."""
    if env.get("SWEEPER_ALLOW_WANDB_DEBUG") == "1":
        return []
    removed = [name for name in DEBUG_SWITCHES
               if env.get(name, "").strip().lower() not in ("", "0", "false", "no")]
    for name in DEBUG_SWITCHES:
        env.pop(name, None)
    if removed:
        print(f"sweeper: {' and '.join(removed)} turned off: wandb-core's debug logs would hold "
              "the API key (SWEEPER_ALLOW_WANDB_DEBUG=1 keeps them)", file=sys.stderr)
    return removed


def base_url() -> str:
    """The W&B server the SDK talks to (WANDB_BASE_URL, `wandb login --host`, or W&B cloud)."""
    from wandb.sdk import wandb_setup

    return (os.environ.get("WANDB_BASE_URL") or wandb_setup.singleton().settings.base_url
            or DEFAULT_BASE_URL).rstrip("/")


def require_credentials(url: str) -> str:
    """The API key the SDK will use for ``url``; MissingCredentials (exit 2) when there is none.

    The key is returned for scrubbing only: never print or log it.
    """
    from wandb.errors import AuthenticationError
    from wandb.sdk.lib.wbauth import authenticate

    try:
        auth = authenticate.authenticate_session(host=url, source="sweeper", prompt=False,
                                                 update_session=False)
    except AuthenticationError as exc:
        raise MissingCredentials(f"W&B credentials for {url} are not usable: {exc} Run "
                                 "`wandb login` or set WANDB_API_KEY") from None
    key = getattr(auth, "api_key", None) if auth is not None else None
    if auth is None:
        raise MissingCredentials(f"no W&B credentials for {url}: run `wandb login` or set "
                                 "WANDB_API_KEY")
    return key or ""


def scrub(text: str, key: str) -> str:
    """``text`` with the API key (and the Basic-auth header made from it) blanked out."""
    if not key:
        return text
    for secret in (key, base64.b64encode(f"api:{key}".encode()).decode()):
        text = text.replace(secret, "***")
    return text
