"""Verified identity for conversations (identity.md): sign-in links and the
OpenID Connect callback (the relying party itself is backoffice/oidc.py),
conversations linked to verified people, one-time codes, "my requests", and
the development outbox. ``install(app)`` adds it all to the back office."""
from __future__ import annotations

import logging

from fastapi import FastAPI

from common.settings import Settings

log = logging.getLogger(__name__)

# Paths whose tail is a secret (link tokens) or whose query is (code, state).
_SECRET_PATHS = ("/identity/",)


class RedactIdentityPaths(logging.Filter):
    """Keep sign-in link tokens and callback codes/states out of access logs:
    uvicorn logs each request's path with its query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path = args[2]
            if path.startswith(_SECRET_PATHS):
                first = path.split("?", 1)[0].split("/")[:3]  # "", "identity", "<route>"
                record.args = args[:2] + ("/".join(first) + "/…",) + args[3:]
        return True


_filter = RedactIdentityPaths()


def install(app: FastAPI, settings: Settings) -> None:
    from backoffice.identity.codes import CodeRateLimiter
    from backoffice.identity.routes import api, browser, dev

    app.state.code_limiter = CodeRateLimiter.from_settings(settings)
    app.include_router(api)
    app.include_router(browser)
    app.include_router(dev)
    access = logging.getLogger("uvicorn.access")
    if _filter not in access.filters:
        access.addFilter(_filter)
    if settings.dev_outbox:
        log.warning("DEV_OUTBOX is on: SMS and e-mails are kept at /dev/outbox, never sent. Turn it off in production.")
