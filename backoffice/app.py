"""The app factory."""
from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Optional

from fastapi import FastAPI
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from backoffice import db
from backoffice import identity
from backoffice.crime import routes as crime_routes
from backoffice.logging_setup import quiet_http_client_logs
from backoffice.open311 import errors as open311_errors
from backoffice.open311.routes import router as open311_router
from backoffice.screenings import router as screenings_router
from backoffice.screenings import staff_router as screenings_staff_router
from backoffice.staff.routes import router as staff_router
from common.settings import ROOT, Settings, get_settings


def create_app(settings: Optional[Settings] = None) -> FastAPI:
    """Build the app on settings (the environment's by default) and migrate its database."""
    settings = settings or get_settings()
    quiet_http_client_logs()
    engine = db.make_engine(settings.database_url)
    # The schema is the migrations' to manage: bring it to the latest revision first.
    db.upgrade(engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        engine.dispose()

    app = FastAPI(title="Back office (Open311 GeoReport v2)", version="1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = db.make_sessionmaker(engine)
    open311_errors.install(app)
    app.include_router(open311_router)
    app.include_router(staff_router)
    # The web chat page; it talks to Rasa's socket.io channel directly.
    app.mount("/chat/", StaticFiles(directory=ROOT / "webchat", html=True), name="webchat")

    @app.get("/chat", include_in_schema=False)
    def chat_page():
        return RedirectResponse("/chat/")
    app.include_router(screenings_router)
    app.include_router(screenings_staff_router)
    # Sign-in links, the OIDC callback, one-time codes, "my requests", the dev outbox.
    identity.install(app, settings)
    # Crime reports: the assistant's API, the prosecutor's office API, downloads and verification.
    crime_routes.install(app)

    @app.get("/health", tags=["health"])
    def health():
        # Up means the database answers too: a load balancer should not send work here otherwise.
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any database failure means "not ready"
            return JSONResponse({"status": "database unavailable"}, status_code=503)
        return {"status": "ok"}

    return app
