"""Turn one Rasa bot message into what each platform is sent.

A bot message is Rasa's dict: `text`, `buttons` / `quick_replies`
([{title, payload}], a button may carry `url` instead of a payload), `image`
(a URL) and `custom`. `custom` may hold a ready-made payload for one channel
under the channel's name (`{"telegram": {"method": "sendLocation", ...}}`,
`{"facebook": {message}}`, `{"twitter": {message_data}}`, `{"twilio": {"body": ...}}`)
or a plain `{"text": ...}`; other custom payloads are not shown.

Pure functions only: no I/O, no clock, no randomness. The connectors add
the recipient and send.
"""
from __future__ import annotations

import hashlib
import base64
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from common.sms import segment_count

# Platform limits.
SMS_DEFAULT_MAX_SEGMENTS = 3
TELEGRAM_TEXT_LIMIT = 4096
TELEGRAM_CALLBACK_DATA_BYTES = 64
MESSENGER_TEXT_LIMIT = 2000
MESSENGER_TEMPLATE_TEXT_LIMIT = 640
MESSENGER_MAX_QUICK_REPLIES = 13
MESSENGER_TITLE_LIMIT = 20
MESSENGER_PAYLOAD_LIMIT = 1000
MESSENGER_TEMPLATE_BUTTONS = 3
X_TEXT_LIMIT = 10000
X_MAX_OPTIONS = 20
X_LABEL_LIMIT = 36
X_DESCRIPTION_LIMIT = 72
X_METADATA_LIMIT = 1000

ELLIPSIS = "…"
# Text of a message that only exists to carry buttons.
BUTTONS_ONLY_TEXT = "…"


# --- shared helpers ------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    title: str
    payload: str
    url: Optional[str] = None


def options_of(message: Dict[str, Any]) -> List[Option]:
    """Buttons or quick replies of a bot message, in order."""
    raw = message.get("buttons") or message.get("quick_replies") or []
    options = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        title = str(item.get("title") or item.get("payload") or "").strip()
        url = item.get("url")
        payload = str(item.get("payload") or title)
        if title:
            options.append(Option(title=title, payload=payload, url=url))
    return options


def custom_for(message: Dict[str, Any], channel: str) -> List[Any]:
    """Ready-made payloads a response carries for `channel` (a dict or a list of them)."""
    custom = message.get("custom")
    if not isinstance(custom, dict):
        return []
    value = custom.get(channel)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _text_of(message: Dict[str, Any]) -> str:
    text = message.get("text") or ""
    custom = message.get("custom")
    if not text and isinstance(custom, dict) and isinstance(custom.get("text"), str):
        text = custom["text"]
    return text.strip()


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# Coarse to fine: paragraphs, lines, sentences, words. Characters come last.
_LEVELS: Tuple[Tuple["re.Pattern[str]", str], ...] = (
    (re.compile(r"\n\s*\n"), "\n\n"),
    (re.compile(r"\n"), "\n"),
    (re.compile(r"(?<=[.!?…])\s+"), " "),
    (re.compile(r"\s+"), " "),
)


def _atoms(text: str, level: int, fits: Callable[[str], bool]) -> List[Tuple[str, str]]:
    """(separator, piece) pairs, as coarse as possible while each piece fits alone."""
    if level == len(_LEVELS):
        return [("", ch) for ch in text]
    pattern, joiner = _LEVELS[level]
    result: List[Tuple[str, str]] = []
    for part in (p.strip() for p in pattern.split(text)):
        if not part:
            continue
        if fits(part):
            result.append((joiner, part))
        else:
            finer = _atoms(part, level + 1, fits)
            if finer:
                result.append((joiner, finer[0][1]))
                result.extend(finer[1:])
    return result


def pack(atoms: Sequence[Tuple[str, str]], fits: Callable[[str], bool]) -> List[str]:
    """Greedily join (separator, piece) pairs into as few chunks as fit."""
    chunks: List[str] = []
    current = ""
    for separator, piece in atoms:
        candidate = current + separator + piece if current else piece
        if not current or fits(candidate):
            current = candidate
        else:
            chunks.append(current)
            current = piece
    if current:
        chunks.append(current)
    return chunks


def split_text(text: str, fits: Callable[[str], bool]) -> List[str]:
    """Split on paragraph, then sentence, then word boundaries so each chunk fits."""
    text = text.strip()
    if not text:
        return []
    if fits(text):
        return [text]
    return pack(_atoms(text, 0, fits), fits)


# --- SMS -----------------------------------------------------------------------------

# Typographic characters that would force a whole SMS into UCS-2 (70 characters a
# segment) for no benefit; accents stay, they are the language.
_SMS_PLAIN = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u00a0": " ",
        "\u2022": "-",
    }
)


@dataclass
class SmsReply:
    bodies: List[str]
    # What "1", "2"... stand for in the resident's next SMS ([] if nothing was offered).
    options: List[Option] = field(default_factory=list)


def sms_plain(text: str) -> str:
    return text.translate(_SMS_PLAIN)


def sms_options_line(options: Sequence[Option]) -> List[str]:
    return [f"{index}) {sms_plain(option.title)}" for index, option in enumerate(options, start=1)]


def render_sms(message: Dict[str, Any], max_segments: int = SMS_DEFAULT_MAX_SEGMENTS) -> SmsReply:
    """SMS bodies for one bot message, each at most `max_segments` segments long.

    Buttons become numbered options ("1) Sí 2) No") after the text, kept whole
    and in the last body, so the resident sees them together.
    """
    max_segments = max(1, max_segments)

    def fits(body: str) -> bool:
        return segment_count(body) <= max_segments

    options = options_of(message)
    paragraphs = [sms_plain(_text_of(message))]
    if message.get("image"):
        paragraphs.append(str(message["image"]))
    for raw in custom_for(message, "twilio"):
        if isinstance(raw, dict) and raw.get("body"):
            paragraphs.append(sms_plain(str(raw["body"])))

    atoms: List[Tuple[str, str]] = []
    for paragraph in paragraphs:
        atoms.extend(_atoms(paragraph.strip(), 0, fits))
    lines = sms_options_line(options)
    block = " ".join(lines)
    if lines and fits(block):
        # The options travel together, in one SMS.
        atoms.append(("\n", block))
    else:
        for index, line in enumerate(lines):
            # An option longer than a whole SMS is cut rather than split over two.
            atoms.append((" " if index else "\n", line if fits(line) else _cut_to_fit(line, fits)))
    return SmsReply(bodies=pack(atoms, fits), options=options)


def _cut_to_fit(text: str, fits: Callable[[str], bool]) -> str:
    while text and not fits(text + "..."):
        text = text[:-1]
    return text + "..."


# --- Telegram ------------------------------------------------------------------------


def telegram_callback_data(payload: str) -> str:
    """callback_data for a button: the payload, or a short alias when it exceeds
    Telegram's 64 bytes (the connector remembers alias -> payload)."""
    if len(payload.encode("utf-8")) <= TELEGRAM_CALLBACK_DATA_BYTES:
        return payload
    digest = hashlib.sha256(payload.encode("utf-8")).digest()
    return "~" + base64.urlsafe_b64encode(digest).decode("ascii")[:22]


def telegram_aliases(message: Dict[str, Any]) -> Dict[str, str]:
    """Aliases render_telegram used for long payloads: alias -> payload."""
    aliases = {}
    for option in options_of(message):
        data = telegram_callback_data(option.payload)
        if data != option.payload:
            aliases[data] = option.payload
    return aliases


def _inline_keyboard(options: Sequence[Option]) -> Dict[str, Any]:
    buttons = []
    for option in options:
        if option.url:
            buttons.append({"text": option.title, "url": option.url})
        else:
            buttons.append({"text": option.title, "callback_data": telegram_callback_data(option.payload)})
    # Short choices (Sí / No) side by side, anything longer one per row.
    if len(buttons) <= 3 and sum(len(o.title) for o in options) <= 30:
        rows = [buttons]
    else:
        rows = [[button] for button in buttons]
    return {"inline_keyboard": rows}


def render_telegram(message: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Bot API calls ({"method", "params"} without chat_id) for one bot message."""
    calls: List[Dict[str, Any]] = []
    options = options_of(message)
    chunks = split_text(_text_of(message), lambda t: utf16_len(t) <= TELEGRAM_TEXT_LIMIT)
    if options and not chunks:
        chunks = [BUTTONS_ONLY_TEXT]
    for index, chunk in enumerate(chunks):
        params: Dict[str, Any] = {"text": chunk}
        if options and index == len(chunks) - 1:
            params["reply_markup"] = _inline_keyboard(options)
        calls.append({"method": "sendMessage", "params": params})
    if message.get("image"):
        calls.append({"method": "sendPhoto", "params": {"photo": str(message["image"])}})
    for raw in custom_for(message, "telegram"):
        if isinstance(raw, dict) and raw.get("method"):
            params = {k: v for k, v in raw.items() if k != "method"}
            calls.append({"method": raw["method"], "params": params})
    return calls


# --- Messenger -----------------------------------------------------------------------


def _messenger_button(option: Option) -> Dict[str, Any]:
    title = truncate(option.title, MESSENGER_TITLE_LIMIT)
    if option.url:
        return {"type": "web_url", "url": option.url, "title": title}
    return {"type": "postback", "title": title, "payload": option.payload[:MESSENGER_PAYLOAD_LIMIT]}


def render_messenger(message: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Send API `message` objects for one bot message.

    Up to 13 plain choices become quick replies (titles cut to 20 characters);
    link buttons or more choices become button templates of three buttons each.
    """
    out: List[Dict[str, Any]] = []
    options = options_of(message)
    text = _text_of(message)
    use_quick_replies = (
        bool(options) and len(options) <= MESSENGER_MAX_QUICK_REPLIES and not any(o.url for o in options)
    )
    if not options or use_quick_replies:
        chunks = split_text(text, lambda t: utf16_len(t) <= MESSENGER_TEXT_LIMIT)
        if options and not chunks:
            chunks = [BUTTONS_ONLY_TEXT]
        for chunk in chunks:
            out.append({"text": chunk})
        if use_quick_replies:
            out[-1]["quick_replies"] = [
                {
                    "content_type": "text",
                    "title": truncate(o.title, MESSENGER_TITLE_LIMIT),
                    "payload": o.payload[:MESSENGER_PAYLOAD_LIMIT],
                }
                for o in options
            ]
    else:
        chunks = split_text(text, lambda t: utf16_len(t) <= MESSENGER_TEMPLATE_TEXT_LIMIT) or [BUTTONS_ONLY_TEXT]
        out.extend({"text": chunk} for chunk in chunks[:-1])
        groups = [options[i : i + MESSENGER_TEMPLATE_BUTTONS] for i in range(0, len(options), MESSENGER_TEMPLATE_BUTTONS)]
        for index, group in enumerate(groups):
            out.append(
                {
                    "attachment": {
                        "type": "template",
                        "payload": {
                            "template_type": "button",
                            "text": chunks[-1] if index == 0 else BUTTONS_ONLY_TEXT,
                            "buttons": [_messenger_button(o) for o in group],
                        },
                    }
                }
            )
    if message.get("image"):
        out.append({"attachment": {"type": "image", "payload": {"url": str(message["image"]), "is_reusable": True}}})
    out.extend(raw for raw in custom_for(message, "facebook") if isinstance(raw, dict))
    return out


# --- X direct messages ---------------------------------------------------------------


def _x_option(option: Option) -> Dict[str, Any]:
    item: Dict[str, Any] = {"label": truncate(option.title, X_LABEL_LIMIT), "metadata": option.payload[:X_METADATA_LIMIT]}
    if len(option.title) > X_LABEL_LIMIT:
        # The whole title still reaches the resident, under the label.
        item["description"] = truncate(option.title, X_DESCRIPTION_LIMIT)
    return item


def render_x(message: Dict[str, Any]) -> List[Dict[str, Any]]:
    """`message_data` objects of DM events for one bot message; buttons become a
    quick reply of type options (at most 20)."""
    out: List[Dict[str, Any]] = []
    options = [o for o in options_of(message) if not o.url]
    links = [o for o in options_of(message) if o.url]
    text = _text_of(message)
    extra = [f"{o.title}: {o.url}" for o in links]
    if message.get("image"):
        # Attaching media needs an upload first; the link does the job.
        extra.append(str(message["image"]))
    if extra:
        text = "\n\n".join([t for t in [text] + extra if t])
    chunks = split_text(text, lambda t: len(t) <= X_TEXT_LIMIT)
    if options and not chunks:
        chunks = [BUTTONS_ONLY_TEXT]
    for chunk in chunks:
        out.append({"text": chunk})
    if options:
        out[-1]["quick_reply"] = {"type": "options", "options": [_x_option(o) for o in options[:X_MAX_OPTIONS]]}
    out.extend(raw for raw in custom_for(message, "twitter") if isinstance(raw, dict))
    return out
