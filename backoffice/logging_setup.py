"""Logging for the back office process."""
from __future__ import annotations

import logging


def quiet_http_client_logs() -> None:
    # httpx logs every request URL at INFO; the Rasa URL carries the token and
    # the conversation id (an SMS sender's phone number), so keep them out.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


def configure_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s [%(name)s] %(message)s")
    quiet_http_client_logs()
