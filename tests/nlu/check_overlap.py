"""Check that the held-out NLU test set shares no text with the training data.

Texts are compared normalized: entity annotations removed, lowercase, accents
stripped, whitespace collapsed. Exits 1 if any held-out example also appears
in training (in any intent). Run: .venv/bin/python tests/nlu/check_overlap.py
"""
from __future__ import annotations

import re
import sys
import unicodedata
from pathlib import Path

import yaml
from difflib import SequenceMatcher

# Held-out lines at least this similar to a training line are listed as
# near-copies (a warning only: short greetings like "buenas" cannot help it).
NEAR = 0.9

ROOT = Path(__file__).resolve().parents[2]
TRAIN = sorted((ROOT / "data" / "nlu").glob("*.yml"))
TEST = sorted((ROOT / "tests" / "nlu").glob("*.yml"))
_ANNOTATION = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def normalize(text: str) -> str:
    text = _ANNOTATION.sub(r"\1", text)
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(text.split())


def examples(files):
    for path in files:
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" not in block:
                continue
            for line in block["examples"].splitlines():
                line = line.strip()
                if line.startswith("- "):
                    yield path.name, block["intent"], line[2:].strip()


def main() -> int:
    train = {normalize(text): (name, intent) for name, intent, text in examples(TRAIN)}
    clashes = []
    near = []
    count = 0
    for name, intent, text in examples(TEST):
        count += 1
        hit = train.get(normalize(text))
        if hit:
            clashes.append(f"{name}:{intent}: {text!r} also in training {hit[0]}:{hit[1]}")
        else:
            norm = normalize(text)
            best = max(train, key=lambda other: SequenceMatcher(None, norm, other).ratio())
            ratio = SequenceMatcher(None, norm, best).ratio()
            if ratio >= NEAR:
                near.append(f"{intent}: {norm!r} ~ {best!r} ({ratio:.2f})")
    print(f"{len(train)} distinct training texts, {count} held-out texts, {len(clashes)} overlaps")
    for clash in clashes:
        print("  " + clash)
    if near:
        print(f"warning: {len(near)} near-copies (similarity >= {NEAR}):")
        for line in near:
            print("  " + line)
    return 1 if clashes else 0


if __name__ == "__main__":
    sys.exit(main())
