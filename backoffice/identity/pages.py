"""The small HTML pages a resident sees around signing in, in their language
(texts in citypack/<pack>/identity.yml). No scripts, no external resources,
nothing cached, no referrer: the callback's address carries the code."""
from __future__ import annotations

from functools import lru_cache
from html import escape
from typing import Optional

from fastapi.responses import HTMLResponse

from common import citypack

HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
}

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5}"
    "button{font-size:1.1rem;padding:.6rem 1.2rem;cursor:pointer}"
)


@lru_cache(maxsize=None)
def _pack() -> dict:
    return citypack.load("identity")


def provider_name() -> str:
    return str(_pack().get("provider_name", ""))


def _text(kind: str, language: str, **values: str) -> dict:
    texts = _pack()["pages"][kind][language]
    values = {"provider": provider_name(), **values}
    return {key: text.format(**{k: escape(v) for k, v in values.items()}) for key, text in texts.items()}


def page(kind: str, language: Optional[str], status_code: int = 200, *, form_action: Optional[str] = None,
         **values: str) -> HTMLResponse:
    """One page; without a known language it says it in Spanish and English."""
    languages = [language] if language in ("es", "en") else ["es", "en"]
    sections = []
    for lang in languages:
        text = _text(kind, lang, **values)
        section = f"<section lang=\"{lang}\"><h1>{text['title']}</h1><p>{text['body']}</p>"
        if form_action is not None and "button" in text:
            section += (
                f"<form method=\"post\" action=\"{escape(form_action)}\">"
                f"<button type=\"submit\">{text['button']}</button></form>"
            )
        sections.append(section + "</section>")
    title = _text(kind, languages[0], **values)["title"]
    html = (
        f"<!doctype html><html lang=\"{languages[0]}\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<meta name=\"referrer\" content=\"no-referrer\">"
        f"<title>{title}</title><style>{_STYLE}</style></head><body>{''.join(sections)}</body></html>"
    )
    return HTMLResponse(html, status_code=status_code, headers=dict(HEADERS))
