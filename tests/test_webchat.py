"""The web chat page is served by the back office and shows text as text."""
from fastapi.testclient import TestClient

from backoffice.app import create_app
from common.settings import ROOT


def test_chat_page_and_its_assets_are_served(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'chat.db'}")
    client = TestClient(create_app())
    page = client.get("/chat", follow_redirects=True)
    assert page.status_code == 200
    assert 'src="vendor/socket.io.min.js"' in page.text and 'src="chat.js"' in page.text
    assert client.get("/chat/chat.js").status_code == 200
    assert client.get("/chat/vendor/socket.io.min.js").text.startswith("/*!\n * Socket.IO v4")


def test_chat_script_never_inserts_html():
    # Residents' and bot texts must never be parsed as markup.
    script = (ROOT / "webchat" / "chat.js").read_text()
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script
    assert "textContent" in script
