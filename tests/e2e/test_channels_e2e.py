"""The four messaging channels end to end, over real HTTP.

One stack (back office, action server, Rasa with the trained model and the
connectors of credentials.yml) runs for the module; each platform's API is a
local recorder (tests/channels/channel_harness.py) that the connectors send to.
Residents' messages are posted to /webhooks/<channel>/webhook in the platform's
own format (../shared/cases/channels samples), signed with the platform's
algorithm. Each turn is awaited by polling (the tracker, then the recorder)
with a deadline: nothing sleeps a fixed time.

Per channel: a pothole reported in text, its location shared (typed on SMS,
which cannot share one), a photo, the alcaldía, the affirm button (numbered
option "1" on SMS, a callback_query on Telegram, a quick reply on Messenger,
a quick-reply option on X) delivered twice, forged and unsigned copies
refused; the request filed with coordinates, photo, channel and conversation;
a status change by staff reaching the same resident on the same channel.
"""
from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple
from urllib.parse import urlencode

import pytest
import requests

from scripts.stack import Stack
from tests.channels import channel_harness as h

pytestmark = pytest.mark.e2e

FOLIO = re.compile(r"311-\d{6}")
STAFF = {"Authorization": "Bearer dev-staff-token"}
# A turn runs NLU, the policies, the action server and the back office.
TURN_S = 60.0

ASK_LOCATION = "¿Dónde está?"
ASK_ALCALDIA = "¿En qué alcaldía?"
CONFIRM = "¿Lo envío?"
FILED = "Listo, tu reporte quedó registrado con el folio"


# --- what the bot sent, whatever the platform -------------------------------------------


@dataclass
class Reply:
    text: str
    options: List[Tuple[str, str]]  # (title, payload) as the platform shows them
    record: h.Recorded


@dataclass
class Post:
    """One webhook call: the body as sent and its headers."""

    body: bytes
    headers: Dict[str, str]
    message_id: str


class Platform:
    """A resident on one platform: builds signed webhook calls, reads the bot's replies."""

    name = ""
    supports_location = True

    def __init__(self, stack: Stack, recorder: h.Recorder, user: str) -> None:
        self.stack = stack
        self.recorder = recorder
        self.user = user
        self.webhook = f"{stack.rasa_url}/webhooks/{self.name}/webhook"
        self._seq = 0
        # What the dialogue should hold for the last photo sent (media_url slot).
        self.photo_ref: Optional[str] = None

    def next_id(self) -> int:
        self._seq += 1
        return self._seq

    # Each platform: what the resident sends ...
    def text(self, text: str) -> Post:
        raise NotImplementedError

    def location(self, latitude: float, longitude: float) -> Post:
        raise NotImplementedError

    def photo(self, caption: Optional[str]) -> Post:
        raise NotImplementedError

    def press(self, reply: Reply, title_prefix: str) -> Post:
        """Choose the option of `reply` whose title starts with `title_prefix`, as the platform does."""
        raise NotImplementedError

    # ... how it proves a call came from the platform ...
    def sign(self, body: bytes, fields: Optional[List[Tuple[str, str]]] = None) -> Dict[str, str]:
        raise NotImplementedError

    def unsigned(self, post: Post) -> Post:
        proof = {k.lower() for k in self.sign(b"", [])}
        return Post(post.body, {k: v for k, v in post.headers.items() if k.lower() not in proof}, post.message_id)

    def tampered(self, post: Post) -> Post:
        """The same signed call with its content changed in transit."""
        raise NotImplementedError

    # ... and what the bot's replies look like.
    def replies_in(self, records: List[h.Recorded]) -> List[Reply]:
        raise NotImplementedError

    def assert_options_shape(self, reply: Reply) -> None:
        raise NotImplementedError

    # --- shared ---------------------------------------------------------------------

    def send(self, post: Post) -> requests.Response:
        return requests.post(self.webhook, data=post.body, headers=post.headers, timeout=30)

    def replies(self) -> List[Reply]:
        return self.replies_in(list(self.recorder.requests))


def _json_post(payload: Dict[str, Any], message_id: str, headers: Dict[str, str]) -> Post:
    body = h.dump(payload)
    return Post(body, {"Content-Type": "application/json", **headers}, message_id)


class Sms(Platform):
    """Twilio: form posts signed with X-Twilio-Signature; SMS out through Messages.json."""

    name = "twilio"
    supports_location = False  # an SMS cannot carry a map location: the resident types the address

    def _form(self, sid: str = "", **fields: str) -> Tuple[List[Tuple[str, str]], str]:
        sid = sid or f"SM{uuid.uuid4().hex}"
        pairs = h.twilio_form(From=self.user, MessageSid=sid, SmsMessageSid=sid, SmsSid=sid, **fields)
        return pairs, sid

    def _post(self, pairs: List[Tuple[str, str]], sid: str) -> Post:
        return Post(
            urlencode(pairs).encode(),
            {"Content-Type": "application/x-www-form-urlencoded", **self.sign(b"", pairs)},
            sid,
        )

    def sign(self, body: bytes, fields: Optional[List[Tuple[str, str]]] = None) -> Dict[str, str]:
        return {"X-Twilio-Signature": h.twilio_signature(h.TWILIO_TOKEN, self.webhook, fields or [])}

    def text(self, text: str) -> Post:
        return self._post(*self._form(Body=text))

    def photo(self, caption: Optional[str]) -> Post:
        sid = f"MM{uuid.uuid4().hex}"
        pairs, sid = self._form(
            sid,
            Body=caption or "",
            NumMedia="1",
            MediaContentType0="image/jpeg",
            MediaUrl0=f"https://api.twilio.com/2010-04-01/Accounts/{h.TWILIO_SID}/Messages/{sid}/Media/ME{sid[2:]}",
        )
        self.photo_ref = dict(pairs)["MediaUrl0"]
        return self._post(pairs, sid)

    def press(self, reply: Reply, title_prefix: str) -> Post:
        number = next(i for i, (title, _) in enumerate(reply.options, start=1) if title.startswith(title_prefix))
        return self.text(str(number))

    def tampered(self, post: Post) -> Post:
        # The answer flipped from option 1 to option 2, signature unchanged.
        assert b"&Body=1&" in post.body
        return Post(post.body.replace(b"&Body=1&", b"&Body=2&"), post.headers, post.message_id)

    def replies_in(self, records: List[h.Recorded]) -> List[Reply]:
        out = []
        for record in records:
            if record.path.endswith("/Messages.json") and record.form().get("To") == self.user:
                body = record.form()["Body"]
                options = [(m.group(2).strip(), m.group(1)) for m in re.finditer(r"(\d+)\) ([^\n]+?)(?= \d+\) |$)", body, re.M)]
                out.append(Reply(body, options, record))
        return out

    def assert_options_shape(self, reply: Reply) -> None:
        form = reply.record.form()
        assert form["From"] == h.TWILIO_NUMBER
        assert reply.record.path == f"/2010-04-01/Accounts/{h.TWILIO_SID}/Messages.json"
        # Numbered options in the text; "1" / "2" answer them.
        assert "1) Sí, envíalo" in reply.text and "2) No, corregir" in reply.text, reply.text


class Telegram(Platform):
    """Telegram: updates with X-Telegram-Bot-Api-Secret-Token; Bot API calls out."""

    name = "telegram"

    def _update(self, sample: str) -> Tuple[Dict[str, Any], str]:
        update = h.load_json(sample)
        n = self.next_id()
        update["update_id"] = int(self.user) % 10_000_000 * 100 + n
        for key in ("message", "callback_query"):
            if key in update:
                part = update[key]
                part["from"]["id"] = int(self.user)
                if key == "message":
                    part["chat"]["id"] = int(self.user)
                    part["message_id"] = 5000 + n
        return update, str(update["update_id"])

    def sign(self, body: bytes, fields=None) -> Dict[str, str]:
        return {"X-Telegram-Bot-Api-Secret-Token": h.TELEGRAM_SECRET}

    def text(self, text: str) -> Post:
        update, uid = self._update("telegram_text.json")
        update["message"]["text"] = text
        return _json_post(update, uid, self.sign(b""))

    def location(self, latitude: float, longitude: float) -> Post:
        update, uid = self._update("telegram_location.json")
        update["message"]["location"] = {"latitude": latitude, "longitude": longitude}
        return _json_post(update, uid, self.sign(b""))

    def photo(self, caption: Optional[str]) -> Post:
        update, uid = self._update("telegram_photo.json")
        if caption is None:
            update["message"].pop("caption", None)
        else:
            update["message"]["caption"] = caption
        # The largest size, as a file id (its download URL would carry the bot token).
        self.photo_ref = "telegram-file:AgACAgEAAxkBAAIBQ2large"
        return _json_post(update, uid, self.sign(b""))

    def press(self, reply: Reply, title_prefix: str) -> Post:
        data = next(payload for title, payload in reply.options if title.startswith(title_prefix))
        update, uid = self._update("telegram_callback.json")
        query = update["callback_query"]
        query["id"] = f"cb{uid}"
        query["data"] = data
        query["message"]["chat"]["id"] = int(self.user)
        query["message"]["message_id"] = 9000 + self.next_id()
        query["message"]["text"] = reply.text
        return _json_post(update, uid, self.sign(b""))

    def tampered(self, post: Post) -> Post:
        # Telegram signs nothing but the secret token: a call with a wrong one.
        return Post(post.body, {**post.headers, "X-Telegram-Bot-Api-Secret-Token": "not-the-secret"}, post.message_id)

    def replies_in(self, records: List[h.Recorded]) -> List[Reply]:
        out = []
        for record in records:
            if record.path == f"/bot{h.TELEGRAM_TOKEN}/sendMessage":
                params = record.params()
                if str(params.get("chat_id")) != self.user:
                    continue
                keyboard = (params.get("reply_markup") or {}).get("inline_keyboard") or []
                options = [(b["text"], b.get("callback_data", "")) for row in keyboard for b in row]
                out.append(Reply(params["text"], options, record))
        return out

    def assert_options_shape(self, reply: Reply) -> None:
        keyboard = reply.record.params()["reply_markup"]["inline_keyboard"]
        assert [[b["text"] for b in row] for row in keyboard] == [["Sí, envíalo", "No, corregir"]]
        assert [b["callback_data"] for row in keyboard for b in row] == ["/affirm", "/deny"]


class Messenger(Platform):
    """Messenger: page events with X-Hub-Signature-256; Send API out."""

    name = "facebook"

    def _event(self, sample: str) -> Tuple[Dict[str, Any], Dict[str, Any], str]:
        payload = h.load_json(sample)
        event = payload["entry"][0]["messaging"][0]
        event["sender"]["id"] = self.user
        mid = f"m_{self.user}_{self.next_id()}"
        event["message"]["mid"] = mid
        return payload, event, mid

    def sign(self, body: bytes, fields=None) -> Dict[str, str]:
        return {"X-Hub-Signature-256": h.messenger_signature(h.FB_SECRET, body)}

    def _post(self, payload: Dict[str, Any], mid: str) -> Post:
        body = h.dump(payload)
        return Post(body, {"Content-Type": "application/json", **self.sign(body)}, mid)

    def text(self, text: str) -> Post:
        payload, event, mid = self._event("messenger_text.json")
        event["message"]["text"] = text
        return self._post(payload, mid)

    def location(self, latitude: float, longitude: float) -> Post:
        payload, event, mid = self._event("messenger_location.json")
        event["message"]["attachments"][0]["payload"]["coordinates"] = {"lat": latitude, "long": longitude}
        return self._post(payload, mid)

    def photo(self, caption: Optional[str]) -> Post:
        # Messenger delivers an image without text (a caption would come as its own message).
        payload, event, mid = self._event("messenger_location.json")
        self.photo_ref = f"https://scontent.xx.fbcdn.net/v/t1.15752-9/{mid}.jpg?_nc_cat=1"
        event["message"]["attachments"] = [{"type": "image", "payload": {"url": self.photo_ref}}]
        return self._post(payload, mid)

    def press(self, reply: Reply, title_prefix: str) -> Post:
        title, data = next((t, p) for t, p in reply.options if t.startswith(title_prefix))
        payload, event, mid = self._event("messenger_quick_reply.json")
        event["message"]["text"] = title
        event["message"]["quick_reply"] = {"payload": data}
        return self._post(payload, mid)

    def tampered(self, post: Post) -> Post:
        payload = json.loads(post.body)
        payload["entry"][0]["messaging"][0]["message"]["quick_reply"] = {"payload": "/deny"}
        return Post(h.dump(payload), post.headers, post.message_id)

    def replies_in(self, records: List[h.Recorded]) -> List[Reply]:
        out = []
        for record in records:
            if record.path == "/v18.0/me/messages" and record.json()["recipient"]["id"] == self.user:
                message = record.json()["message"]
                options = [(q["title"], q["payload"]) for q in message.get("quick_replies") or []]
                out.append(Reply(message.get("text", ""), options, record))
        return out

    def assert_options_shape(self, reply: Reply) -> None:
        assert reply.record.query["access_token"] == [h.FB_PAGE_TOKEN]
        assert reply.record.json()["message"]["quick_replies"] == [
            {"content_type": "text", "title": "Sí, envíalo", "payload": "/affirm"},
            {"content_type": "text", "title": "No, corregir", "payload": "/deny"},
        ]


class XDirectMessages(Platform):
    """X: Account Activity events with x-twitter-webhooks-signature; DMs out signed with OAuth 1.0a."""

    name = "twitter"

    def _event(self) -> Tuple[Dict[str, Any], Dict[str, Any], str]:
        payload = h.load_json("x_dm_event.json")
        event = payload["direct_message_events"][0]
        event_id = f"{self.user}{self.next_id():04d}"
        event["id"] = event_id
        event["message_create"]["sender_id"] = self.user
        payload["users"] = {self.user: {"id": self.user, "name": "Resident", "screen_name": f"r{self.user[-4:]}"}}
        return payload, event["message_create"]["message_data"], event_id

    def sign(self, body: bytes, fields=None) -> Dict[str, str]:
        return {"x-twitter-webhooks-signature": h.x_signature(h.X_CONSUMER_SECRET, body)}

    def _post(self, payload: Dict[str, Any], event_id: str) -> Post:
        body = h.dump(payload)
        return Post(body, {"Content-Type": "application/json", **self.sign(body)}, event_id)

    def text(self, text: str) -> Post:
        payload, data, event_id = self._event()
        data["text"] = text
        return self._post(payload, event_id)

    def location(self, latitude: float, longitude: float) -> Post:
        payload, data, event_id = self._event()
        data["text"] = ""
        data["attachment"] = {
            "type": "location",
            "location": {
                "type": "shared_coordinate",
                "shared_coordinate": {"coordinates": {"type": "Point", "coordinates": [longitude, latitude]}},
            },
        }
        return self._post(payload, event_id)

    def photo(self, caption: Optional[str]) -> Post:
        payload, data, event_id = self._event()
        link = f"https://t.co/{event_id[-6:]}"
        data["text"] = f"{caption} {link}" if caption else link
        data["attachment"] = {
            "type": "media",
            "media": {
                "id": int(event_id),
                "type": "photo",
                "url": link,
                "media_url_https": f"https://ton.twitter.com/1.1/ton/data/dm/{event_id}/{event_id}/pothole.jpg",
            },
        }
        self.photo_ref = data["attachment"]["media"]["media_url_https"]
        return self._post(payload, event_id)

    def press(self, reply: Reply, title_prefix: str) -> Post:
        label, metadata = next((t, p) for t, p in reply.options if t.startswith(title_prefix))
        payload, data, event_id = self._event()
        data["text"] = label
        data["quick_reply_response"] = {"type": "options", "metadata": metadata}
        return self._post(payload, event_id)

    def tampered(self, post: Post) -> Post:
        assert b'"/affirm"' in post.body
        return Post(post.body.replace(b'"/affirm"', b'"/deny"'), post.headers, post.message_id)

    def replies_in(self, records: List[h.Recorded]) -> List[Reply]:
        out = []
        for record in records:
            if record.path != "/1.1/direct_messages/events/new.json":
                continue
            create = record.json()["event"]["message_create"]
            if create["target"]["recipient_id"] != self.user:
                continue
            data = create["message_data"]
            options = [(o["label"], o["metadata"]) for o in (data.get("quick_reply") or {}).get("options") or []]
            out.append(Reply(data.get("text", ""), options, record))
        return out

    def assert_options_shape(self, reply: Reply) -> None:
        data = reply.record.json()["event"]["message_create"]["message_data"]
        assert data["quick_reply"] == {
            "type": "options",
            "options": [{"label": "Sí, envíalo", "metadata": "/affirm"}, {"label": "No, corregir", "metadata": "/deny"}],
        }
        assert h.oauth1_signature_is_valid(
            reply.record,
            self.recorder.url + "/1.1/direct_messages/events/new.json",
            h.X_CONSUMER_KEY,
            h.X_CONSUMER_SECRET,
            h.X_ACCESS_TOKEN,
            h.X_ACCESS_SECRET,
        )


PLATFORMS = {"twilio": Sms, "telegram": Telegram, "facebook": Messenger, "twitter": XDirectMessages}

# One resident per channel and test, and places more than the back office's
# duplicate radius (50 m) apart, so no report is linked to another's.
RESIDENTS = {
    "twilio": ("+525598765432", None),
    "telegram": ("5550001111", (19.37152, -99.17843)),
    "facebook": ("6789012345678901", (19.43261, -99.13321)),
    "twitter": ("1500000000000000777", (19.41203, -99.16542)),
}
TYPED_ADDRESS = "Calle Durango 35, col. Roma Norte"


# --- the stack --------------------------------------------------------------------------


@dataclass
class ChannelStack:
    stack: Stack
    recorders: Dict[str, h.Recorder]

    def resident(self, channel: str, user: str) -> Platform:
        return PLATFORMS[channel](self.stack, self.recorders[channel], user)


@pytest.fixture(scope="module")
def channels(model_path, tmp_path_factory) -> Iterator[ChannelStack]:
    recorders = {name: h.Recorder() for name in PLATFORMS}
    stack = Stack(model=model_path, workdir=tmp_path_factory.mktemp("channels-stack"))
    stack.extra_env = {
        "REDIS_URL": "",
        "LOG_HASH_KEY": "test-log-key",
        "TWILIO_ACCOUNT_SID": h.TWILIO_SID,
        "TWILIO_AUTH_TOKEN": h.TWILIO_TOKEN,
        "TWILIO_NUMBER": h.TWILIO_NUMBER,
        "TWILIO_API_BASE": recorders["twilio"].url,
        # The URL Twilio would sign: this server's webhook, as configured at Twilio.
        "TWILIO_WEBHOOK_URL": f"{stack.rasa_url}/webhooks/twilio/webhook",
        "SMS_MAX_SEGMENTS": "3",
        "TELEGRAM_BOT_TOKEN": h.TELEGRAM_TOKEN,
        "TELEGRAM_SECRET_TOKEN": h.TELEGRAM_SECRET,
        "TELEGRAM_API_BASE": recorders["telegram"].url,
        "FACEBOOK_VERIFY_TOKEN": h.FB_VERIFY,
        "FACEBOOK_APP_SECRET": h.FB_SECRET,
        "FACEBOOK_PAGE_ACCESS_TOKEN": h.FB_PAGE_TOKEN,
        "FACEBOOK_API_BASE": recorders["facebook"].url,
        "X_CONSUMER_KEY": h.X_CONSUMER_KEY,
        "X_CONSUMER_SECRET": h.X_CONSUMER_SECRET,
        "X_ACCESS_TOKEN": h.X_ACCESS_TOKEN,
        "X_ACCESS_TOKEN_SECRET": h.X_ACCESS_SECRET,
        "X_ACCOUNT_ID": h.X_ACCOUNT_ID,
        "X_API_BASE": recorders["twitter"].url,
    }
    try:
        stack.start()
        yield ChannelStack(stack, recorders)
    finally:
        stack.stop()
        for recorder in recorders.values():
            recorder.stop()


# --- waiting without sleeping a fixed time ----------------------------------------------


def tracker_events(stack: Stack, sender: str) -> List[Dict[str, Any]]:
    # The '+' of SMS ids stays as is: Rasa's server does not decode %2B.
    response = requests.get(
        f"{stack.rasa_url}/conversations/{sender}/tracker", params={"token": stack.rasa_token}, timeout=30
    )
    response.raise_for_status()
    return response.json()["events"]


def slot(stack: Stack, sender: str, name: str) -> Any:
    response = requests.get(
        f"{stack.rasa_url}/conversations/{sender}/tracker", params={"token": stack.rasa_token}, timeout=30
    )
    response.raise_for_status()
    return response.json()["slots"].get(name)


def until(condition: Callable[[], Any], what: str, timeout: float = TURN_S) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        time.sleep(0.1)  # polling interval, not a wait for something to happen


def turn_done(stack: Stack, sender: str, message_id: str) -> bool:
    """Rasa saves the tracker once a message is fully handled (every reply sent), so
    the user event with this id followed by action_listen means the turn is over."""
    events = tracker_events(stack, sender)
    for index, event in enumerate(events):
        if event.get("event") == "user" and event.get("message_id") == message_id:
            return any(e.get("event") == "action" and e.get("name") == "action_listen" for e in events[index + 1 :])
    return False


def say(resident: Platform, post: Post, expect: str) -> List[Reply]:
    """Deliver a signed call, wait for its turn to end and for a reply containing
    `expect` to reach the recorder; returns the turn's replies."""
    before = len(resident.replies())
    answer = resident.send(post)
    assert answer.status_code == 200, answer.text
    until(lambda: turn_done(resident.stack, resident.user, post.message_id), f"turn {post.message_id} handled")

    def new_replies(records: List[h.Recorded]) -> Optional[List[Reply]]:
        replies = resident.replies_in(records)[before:]
        return replies if any(expect in r.text for r in replies) else None

    return resident.recorder.wait_until(new_replies, timeout=TURN_S, what=f"a {resident.name} reply with {expect!r}")


def text_of(replies: List[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def open311(stack: Stack, **params) -> List[Dict[str, Any]]:
    response = requests.get(f"{stack.backoffice_url}/open311/v2/requests.json", params=params, timeout=10)
    response.raise_for_status()
    return response.json()


def staff_record(stack: Stack, folio: str) -> Dict[str, Any]:
    response = requests.get(f"{stack.backoffice_url}/staff/api/requests/{folio}", headers=STAFF, timeout=10)
    response.raise_for_status()
    return response.json()


def requests_of(stack: Stack, channel: str, user: str) -> List[str]:
    """Folios of the potholes filed from this conversation."""
    folios = [r["service_request_id"] for r in open311(stack, service_code="bache")]
    records = [staff_record(stack, folio) for folio in folios]
    return [r["service_request_id"] for r in records if (r["channel"], r["conversation_id"]) == (channel, user)]


# --- the tests --------------------------------------------------------------------------


@pytest.mark.parametrize("channel", list(PLATFORMS))
def test_pothole_with_location_and_photo_is_filed_and_its_status_reaches_the_resident(channels, channel):
    stack = channels.stack
    user, point = RESIDENTS[channel]
    resident = channels.resident(channel, user)

    first = say(resident, resident.text("hay un bache enorme en mi calle"), ASK_LOCATION)
    assert not any(r.options for r in first)

    if resident.supports_location:
        asked = say(resident, resident.location(*point), ASK_ALCALDIA)
    else:
        asked = say(resident, resident.text(TYPED_ADDRESS), ASK_ALCALDIA)
    assert not any(ASK_LOCATION in r.text for r in asked)

    # A photo in the middle of the form joins the draft: the form goes on where it was
    # (the location is not asked again).
    after_photo = say(resident, resident.photo("así está"), ASK_ALCALDIA)
    assert not any(ASK_LOCATION in r.text for r in after_photo), [r.text for r in after_photo]
    assert slot(stack, user, "media_url") == resident.photo_ref
    if point:
        assert (slot(stack, user, "latitude"), slot(stack, user, "longitude")) == pytest.approx(point)

    summary = say(resident, resident.text("Coyoacán"), CONFIRM)
    # The options come with the last part of the summary (an SMS may be split).
    confirm = summary[-1]
    resident.assert_options_shape(confirm)
    where = f"{point[0]:.5f}, {point[1]:.5f}" if point else TYPED_ADDRESS
    shown = text_of(summary)
    assert f"Ubicación: {where}" in shown and "Alcaldía: Coyoacán" in shown
    assert "Descripción: hay un bache enorme en mi calle" in shown

    # Forged and unsigned copies of the answer are refused and change nothing.
    affirm = resident.press(confirm, "Sí")
    assert resident.send(resident.unsigned(affirm)).status_code == 401
    assert resident.send(resident.tampered(affirm)).status_code == 403

    # The platform delivers the answer twice (a retry): handled once.
    filed = say(resident, affirm, FILED)
    assert resident.send(affirm).status_code == 200
    folio = FOLIO.search(text_of(filed)).group(0)
    if channel == "telegram":
        # The button press was acknowledged (the spinner stops), once.
        answered = resident.recorder.to("/answerCallbackQuery$")
        assert [str(r.params()["callback_query_id"]) for r in answered] == [f"cb{affirm.message_id}"]

    # The filed request: coordinates, photo, channel and conversation.
    (record,) = open311(stack, service_request_id=folio)
    assert record["service_code"] == "bache" and record["status"] == "open"
    assert record["description"] == "hay un bache enorme en mi calle"
    if point:
        assert (record["lat"], record["long"]) == pytest.approx(point)
    else:
        assert record["address"] == TYPED_ADDRESS
    # A Telegram photo is a file id, not a URL (its download URL carries the bot
    # token): it reached the draft above, but the request is filed without it.
    assert record.get("media_url") == (None if channel == "telegram" else resident.photo_ref)
    staff = staff_record(stack, folio)
    assert staff["channel"] == channel and staff["conversation_id"] == user
    assert staff["alcaldia"] == "Coyoacán"

    # The retried answer and the refused calls left one request and one confirmation.
    until(lambda: turn_done(stack, user, affirm.message_id), "retry settled")
    user_events = [e for e in tracker_events(stack, user) if e.get("event") == "user"]
    assert [e.get("message_id") for e in user_events].count(affirm.message_id) == 1
    assert len(user_events) == 5
    assert requests_of(stack, channel, user) == [folio]
    assert sum(FILED in r.text for r in resident.replies()) == 1

    # Staff close it: the resident hears it on the same channel.
    before = len(resident.replies())
    changed = requests.post(
        f"{stack.backoffice_url}/staff/api/requests/{folio}/status",
        json={"status": "closed", "note": "Bache reparado"},
        headers=STAFF,
        timeout=30,
    )
    assert changed.status_code == 200, changed.text
    update = resident.recorder.wait_until(
        lambda records: [r for r in resident.replies_in(records)[before:] if folio in r.text],
        timeout=TURN_S,
        what=f"the status update of {folio} on {channel}",
    )
    assert len(update) == 1
    assert "cerrado" in update[0].text and "Bache reparado" in update[0].text
    assert [n["status"] for n in staff_record(stack, folio)["notifications"]] == ["sent"]
    # Nobody on another channel got it.
    for other, recorder in channels.recorders.items():
        if other != channel:
            assert not any(folio.encode() in r.body for r in recorder.requests), other


CAPTION = "bache enorme en Av. Universidad 1200, col. Xoco, alcaldía Benito Juárez"


@pytest.mark.parametrize("channel, user", [("telegram", "5550004444"), ("twitter", "1500000000000000444")])
def test_a_photo_with_a_caption_starts_a_report_from_its_caption(channels, channel, user):
    stack = channels.stack
    resident = channels.resident(channel, user)
    # Type, place, alcaldía and description all come from the caption: straight to the summary.
    summary = say(resident, resident.photo(CAPTION), CONFIRM)
    shown = text_of(summary)
    assert "Tipo: Bache" in shown and "Alcaldía: Benito Juárez" in shown
    assert "Ubicación: Av. Universidad 1200, col. Xoco" in shown
    filed = say(resident, resident.press(summary[-1], "Sí"), FILED)
    (record,) = open311(stack, service_request_id=FOLIO.search(text_of(filed)).group(0))
    assert record["description"] == CAPTION
    assert record["address"] == "Av. Universidad 1200, col. Xoco, alcaldía Benito Juárez"
    assert record.get("media_url") == (None if channel == "telegram" else resident.photo_ref)


REFUSED_USERS = {
    "twilio": "+525511110000",
    "telegram": "5550002222",
    "facebook": "6789012345670000",
    "twitter": "1500000000000000888",
}
BARRIER_USERS = {
    "twilio": "+525511110001",
    "telegram": "5550003333",
    "facebook": "6789012345670001",
    "twitter": "1500000000000000999",
}


@pytest.mark.parametrize("channel", list(PLATFORMS))
def test_unsigned_and_tampered_calls_are_refused_before_the_dialogue(channels, channel):
    stack = channels.stack
    resident = channels.resident(channel, REFUSED_USERS[channel])
    tickets = len(open311(stack))

    post = resident.text("hay un bache enorme en Insurgentes Sur 1602, col. Crédito Constructor, alcaldía Benito Juárez")
    assert resident.send(resident.unsigned(post)).status_code == 401
    forged = Post(post.body, {**post.headers, **_wrong_proof(resident, post)}, post.message_id)
    assert resident.send(forged).status_code == 403
    if channel != "telegram":  # Telegram's proof does not cover the body
        changed = Post(post.body.replace("Insurgentes".encode(), b"Periferico"), post.headers, post.message_id)
        assert resident.send(changed).status_code == 403

    # A signed message from someone else on the same channel goes through; once its
    # turn is over, anything the refused calls had started would have shown up.
    other = channels.resident(channel, BARRIER_USERS[channel])
    say(other, other.text("hola"), "")
    assert resident.replies() == []
    assert not [e for e in tracker_events(stack, resident.user) if e.get("event") == "user"]
    assert len(open311(stack)) == tickets


def _wrong_proof(resident: Platform, post: Post) -> Dict[str, str]:
    """The platform's proof header computed with a secret that is not ours."""
    return {
        "twilio": {"X-Twilio-Signature": h.twilio_signature("not-the-token", resident.webhook, [])},
        "telegram": {"X-Telegram-Bot-Api-Secret-Token": "not-the-secret"},
        "facebook": {"X-Hub-Signature-256": h.messenger_signature("not-the-secret", post.body)},
        "twitter": {"x-twitter-webhooks-signature": h.x_signature("not-the-secret", post.body)},
    }[resident.name]
