"""channels/render.py: one bot message, four platforms' payloads (pure functions)."""
from __future__ import annotations

import pytest

from channels.render import (
    render_messenger,
    render_sms,
    render_telegram,
    render_x,
    split_text,
    telegram_aliases,
    telegram_callback_data,
)
from common.sms import segment_count, sms_info

YES_NO = {
    "text": "¿Confirmas el reporte?",
    "buttons": [{"title": "Sí", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}],
}
SENTENCES = " ".join(f"Paso {i}: revisa que la dirección sea correcta antes de enviar." for i in range(1, 9))


# --- SMS -----------------------------------------------------------------------------


def test_sms_numbered_options_follow_the_text():
    reply = render_sms(YES_NO)
    assert reply.bodies == ["¿Confirmas el reporte?\n1) Sí 2) No"]
    assert [o.payload for o in reply.options] == ["/affirm", "/deny"]


def test_sms_quick_replies_are_options_too():
    message = {"text": "¿Confirmas?", "quick_replies": YES_NO["buttons"]}
    assert render_sms(message).bodies == ["¿Confirmas?\n1) Sí 2) No"]


def test_sms_without_buttons_offers_no_options():
    assert render_sms({"text": "Gracias."}).options == []


@pytest.mark.parametrize("max_segments", [1, 2, 3, 5])
def test_sms_bodies_stay_within_the_segment_budget_and_split_on_sentences(max_segments):
    bodies = render_sms({"text": SENTENCES}, max_segments=max_segments).bodies
    assert all(segment_count(body) <= max_segments for body in bodies)
    assert all(body.endswith(".") for body in bodies)
    assert " ".join(bodies) == SENTENCES


def test_accents_make_ucs2_segments_of_70():
    # "á" is not in GSM-7: the body is UCS-2, so 3 segments hold 201 characters, not 459.
    reply = render_sms({"text": SENTENCES})
    assert all(sms_info(body).encoding == "UCS-2" for body in reply.bodies)
    assert all(sms_info(body).units <= 3 * 67 for body in reply.bodies)
    plain = render_sms({"text": "Paso uno. " * 40})
    assert sms_info(plain.bodies[0]).encoding == "GSM-7"
    assert sms_info(plain.bodies[0]).units > 3 * 67


def test_typographic_quotes_do_not_force_ucs2():
    body = render_sms({"text": "Escribe “ALTO” – sin comillas…"}).bodies[0]
    assert body == 'Escribe "ALTO" - sin comillas...'
    assert sms_info(body).encoding == "GSM-7"


def test_options_stay_together_in_the_last_body():
    long_text = "Revisaremos la ubicación antes de enviarlo a la alcaldía. " * 5
    bodies = render_sms({**YES_NO, "text": long_text}).bodies
    assert len(bodies) >= 2
    assert bodies[-1].endswith("1) Sí 2) No")
    assert all("1) Sí" not in body for body in bodies[:-1])


def test_a_word_longer_than_an_sms_is_cut_not_lost():
    word = "x" * 500
    bodies = render_sms({"text": word}, max_segments=1).bodies
    assert "".join(bodies) == word
    assert all(segment_count(b) == 1 for b in bodies)


def test_image_on_sms_is_sent_as_its_link():
    assert render_sms({"text": "Mira:", "image": "https://x.example/m.png"}).bodies == [
        "Mira:\n\nhttps://x.example/m.png"
    ]


def test_split_text_prefers_paragraphs_then_sentences():
    text = "Primero. Segundo.\n\nTercero largo que no cabe."
    assert split_text(text, lambda t: len(t) <= 20) == ["Primero. Segundo.", "Tercero largo que no", "cabe."]


# --- Telegram ------------------------------------------------------------------------


def test_telegram_inline_keyboard_on_the_message():
    assert render_telegram(YES_NO) == [
        {
            "method": "sendMessage",
            "params": {
                "text": "¿Confirmas el reporte?",
                "reply_markup": {
                    "inline_keyboard": [
                        [{"text": "Sí", "callback_data": "/affirm"}, {"text": "No", "callback_data": "/deny"}]
                    ]
                },
            },
        }
    ]


def test_telegram_long_titles_go_one_per_row_and_links_are_url_buttons():
    message = {
        "text": "Elige",
        "buttons": [
            {"title": "Fuga de agua potable", "payload": "/a"},
            {"title": "Bache en la calle", "payload": "/b"},
            {"title": "Ver el mapa", "url": "https://mapa.example"},
        ],
    }
    keyboard = render_telegram(message)[0]["params"]["reply_markup"]["inline_keyboard"]
    assert [len(row) for row in keyboard] == [1, 1, 1]
    assert keyboard[2][0] == {"text": "Ver el mapa", "url": "https://mapa.example"}


def test_telegram_callback_data_over_64_bytes_becomes_an_alias():
    payload = '/inform{"service_code": "alumbrado-publico-luminaria-apagada-en-la-calle"}'
    data = telegram_callback_data(payload)
    assert data.startswith("~") and len(data.encode()) <= 64
    assert telegram_callback_data("/affirm") == "/affirm"
    assert telegram_aliases({"text": "?", "buttons": [{"title": "Luz", "payload": payload}]}) == {data: payload}


def test_telegram_long_text_splits_with_keyboard_on_the_last_message():
    calls = render_telegram({**YES_NO, "text": "Una oración corta. " * 400})
    assert len(calls) == 2
    assert all(len(c["params"]["text"]) <= 4096 for c in calls)
    assert "reply_markup" not in calls[0]["params"] and "reply_markup" in calls[1]["params"]


def test_telegram_image_and_custom_calls():
    calls = render_telegram(
        {
            "image": "https://x.example/a.jpg",
            "custom": {"telegram": {"method": "sendLocation", "latitude": 19.4, "longitude": -99.1}},
        }
    )
    assert calls == [
        {"method": "sendPhoto", "params": {"photo": "https://x.example/a.jpg"}},
        {"method": "sendLocation", "params": {"latitude": 19.4, "longitude": -99.1}},
    ]


# --- Messenger -----------------------------------------------------------------------


def test_messenger_quick_replies_with_titles_cut_to_20():
    message = {"text": "¿Qué reportas?", "buttons": [{"title": "Luminaria apagada en mi calle", "payload": "/luz"}]}
    (out,) = render_messenger(message)
    (quick_reply,) = out["quick_replies"]
    assert len(quick_reply["title"]) <= 20 and quick_reply["title"].endswith("…")
    assert quick_reply == {"content_type": "text", "title": quick_reply["title"], "payload": "/luz"}


def test_messenger_at_most_13_quick_replies_then_templates():
    buttons = [{"title": f"Opción {i}", "payload": f"/o{i}"} for i in range(13)]
    assert len(render_messenger({"text": "Elige", "buttons": buttons})[0]["quick_replies"]) == 13
    out = render_messenger({"text": "Elige", "buttons": buttons + [{"title": "Otra", "payload": "/x"}]})
    assert all(m["attachment"]["payload"]["template_type"] == "button" for m in out)
    assert [len(m["attachment"]["payload"]["buttons"]) for m in out] == [3, 3, 3, 3, 2]


def test_messenger_link_buttons_need_a_button_template():
    (out,) = render_messenger({"text": "Consulta", "buttons": [{"title": "Mapa", "url": "https://mapa.example"}]})
    assert out["attachment"]["payload"] == {
        "template_type": "button",
        "text": "Consulta",
        "buttons": [{"type": "web_url", "url": "https://mapa.example", "title": "Mapa"}],
    }


def test_messenger_text_over_2000_characters_is_split():
    out = render_messenger({"text": "Una oración más. " * 200})
    assert len(out) == 2 and all(len(m["text"]) <= 2000 for m in out)


def test_messenger_image_attachment():
    assert render_messenger({"image": "https://x.example/a.jpg"}) == [
        {"attachment": {"type": "image", "payload": {"url": "https://x.example/a.jpg", "is_reusable": True}}}
    ]


# --- X -------------------------------------------------------------------------------


def test_x_quick_reply_options():
    assert render_x(YES_NO) == [
        {
            "text": "¿Confirmas el reporte?",
            "quick_reply": {
                "type": "options",
                "options": [{"label": "Sí", "metadata": "/affirm"}, {"label": "No", "metadata": "/deny"}],
            },
        }
    ]


def test_x_long_labels_keep_the_title_in_the_description():
    title = "Luminaria apagada o intermitente en la vía pública"
    (option,) = render_x({"text": "?", "buttons": [{"title": title, "payload": "/luz"}]})[0]["quick_reply"]["options"]
    assert len(option["label"]) <= 36
    assert option["description"] == title


def test_x_at_most_20_options_and_links_in_text():
    buttons = [{"title": str(i), "payload": f"/{i}"} for i in range(25)] + [{"title": "Mapa", "url": "https://m.example"}]
    (out,) = render_x({"text": "Elige", "buttons": buttons})
    assert len(out["quick_reply"]["options"]) == 20
    assert out["text"] == "Elige\n\nMapa: https://m.example"
