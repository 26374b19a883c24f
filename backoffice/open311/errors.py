"""Open311 errors: a list of {code, description} with the matching HTTP status.

Installed for paths under /open311/ only; the rest of the app keeps FastAPI's
usual error bodies.
"""
from __future__ import annotations

from typing import List

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from backoffice.open311.render import respond

PREFIX = "/open311/"


class Open311Error(Exception):
    def __init__(self, status_code: int, description: str):
        super().__init__(description)
        self.status_code = status_code
        self.description = description


def _format_of(request: Request) -> str:
    return "xml" if request.url.path.endswith(".xml") else "json"


def error_response(request: Request, status_code: int, descriptions: List[str], headers=None):
    errors = [{"code": status_code, "description": text} for text in descriptions]
    return respond(_format_of(request), "errors", errors, status_code=status_code, headers=headers)


def _validation_text(error: dict) -> str:
    # ("query", "page_size") -> "page_size"
    where = ".".join(str(part) for part in error.get("loc", ())[1:]) or "request"
    return f"{where}: {error.get('msg', 'invalid value')}"


def install(app: FastAPI) -> None:
    @app.exception_handler(Open311Error)
    async def _open311_error(request: Request, exc: Open311Error):
        return error_response(request, exc.status_code, [exc.description])

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError):
        if not request.url.path.startswith(PREFIX):
            return await request_validation_exception_handler(request, exc)
        # The spec knows 400 for bad parameters, not FastAPI's 422.
        return error_response(request, 400, [_validation_text(e) for e in exc.errors()])

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        if not request.url.path.startswith(PREFIX):
            return await http_exception_handler(request, exc)
        return error_response(request, exc.status_code, [str(exc.detail)], headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected_error(request: Request, exc: Exception):
        # Runs in Starlette's outermost middleware; the server still logs the traceback.
        if not request.url.path.startswith(PREFIX):
            return PlainTextResponse("Internal Server Error", status_code=500)
        return error_response(request, 500, ["internal error; please try again later"])
