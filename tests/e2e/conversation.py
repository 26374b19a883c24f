"""A resident talking to the assistant over the REST channel."""
from __future__ import annotations

import uuid
from typing import List

import requests


class Resident:
    def __init__(self, stack, sender: str | None = None):
        self.stack = stack
        self.sender = sender or f"resident-{uuid.uuid4().hex[:12]}"
        self.replies: List[List[dict]] = []

    def says(self, text: str) -> List[dict]:
        response = requests.post(
            self.stack.rest_webhook, json={"sender": self.sender, "message": text}, timeout=60
        )
        response.raise_for_status()
        messages = response.json()
        self.replies.append(messages)
        return messages

    def says_text(self, text: str) -> str:
        """All bot texts of one turn joined, for assertions on what the resident reads."""
        return "\n".join(m.get("text", "") for m in self.says(text))

    def tracker(self) -> dict:
        response = requests.get(
            f"{self.stack.rasa_url}/conversations/{self.sender}/tracker",
            params={"token": self.stack.rasa_token},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    def slot(self, name: str):
        return self.tracker()["slots"].get(name)
