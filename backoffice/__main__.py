"""python -m backoffice: serve the back office with uvicorn."""
from __future__ import annotations

import uvicorn

from backoffice.app import create_app
from backoffice.logging_setup import configure_logging
from common.settings import get_settings


def main() -> None:
    settings = get_settings()
    configure_logging()
    uvicorn.run(
        create_app(settings),
        host=settings.backoffice_host,
        port=settings.backoffice_port,
        # Logging is configured above; uvicorn's own config would replace it.
        log_config=None,
        # No WebSockets here, and Rasa's pinned websockets is too old for uvicorn's implementation.
        ws="none",
    )


if __name__ == "__main__":
    main()
