"""W&B credentials: found the way the SDK finds them (WANDB_API_KEY, `wandb login`'s netrc entry)
without ever prompting, and kept out of everything sweeper prints."""

from __future__ import annotations

import os

from ...errors import BadInput

DEFAULT_BASE_URL = "https://api.wandb.ai"


class MissingCredentials(BadInput):
    """No W&B API key for the server."""


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
