#!/usr/bin/env python3
"""Builds the demo data of spark-lora from the fortune files of Debian's fortunes packages.

Usage: make_demo_data.py ROOT OUT_DIR
ROOT is a directory into which fortunes, fortunes-de, fortunes-es and fortunes-it were extracted (dpkg-deb -x).
Writes OUT_DIR/fortunes.jsonl (rows {"lang", "text"}) and OUT_DIR/pretrain.txt (disjoint fortunes of all four
languages, shuffled together, separated by blank lines). Deterministic: the same packages give the same bytes.
"""
import hashlib
import json
import os
import sys

# Files read per language (paths under usr/share/games/fortunes). Offensive collections (off/) are never read;
# ascii-art, art and the multilingual translate-me are left out because they are not running text.
SOURCES = {
    "en": ["computers", "cookie", "definitions", "education", "food", "fortunes", "humorists", "kids", "law",
           "linux", "literature", "love", "magic", "medicine", "miscellaneous", "news", "people", "pets",
           "platitudes", "politics", "riddles", "science", "songs-poems", "sports", "startrek", "wisdom", "work",
           "zippy"],
    "de": ["de/anekdoten", "de/computer", "de/fussball", "de/hauptgericht", "de/infodrom", "de/kinderzitate",
           "de/letzteworte", "de/mathematiker", "de/murphy", "de/namen", "de/regeln", "de/sprichworte",
           "de/sprueche", "de/stilblueten", "de/unfug", "de/witze", "de/wusstensie", "de/zitate"],
    "es": ["es/" + n + ".fortunes" for n in ["amistad", "arte", "asimov", "ciencia", "familia", "famosos",
                                              "filosofia", "humanos", "informatica", "lao-tse", "leydemurphy",
                                              "libertad", "nietzsche", "poder", "proverbios", "refranes",
                                              "sabiduria", "schopenhauer", "sentimientos", "varios", "verdad",
                                              "vida"]],
    "it": ["it/" + n for n in ["computer", "definizioni", "formiche", "italia", "itatrek", "leggi", "luke",
                               "luttazzi", "norm", "paolotedeschi", "zuse"]],
}
DEMO_BYTES = 200_000      # per language, in fortunes.jsonl
PRETRAIN_BYTES = 250_000  # per language, in pretrain.txt (other fortunes than the demo's)
MIN_CHARS, MAX_CHARS = 40, 600


def clean(raw):
    """One fortune as plain text: tabs become two spaces, trailing blanks go, None if it is not running text."""
    lines = [line.replace("\t", "  ").rstrip() for line in raw.strip("\n").split("\n")]
    text = "\n".join(lines).strip()
    if not (MIN_CHARS <= len(text) <= MAX_CHARS):
        return None
    letters = sum(c.isalpha() for c in text)
    if letters < 0.6 * len(text):  # ASCII art, tables, code
        return None
    if any(ord(c) < 32 and c != "\n" for c in text):
        return None
    return text


def read_fortunes(root, files):
    seen = set()
    out = []
    for name in files:
        path = os.path.join(root, "usr/share/games/fortunes", name)
        with open(path, "rb") as f:
            data = f.read().decode("utf-8")
        for raw in data.replace("\r\n", "\n").split("\n%\n"):
            text = clean(raw)
            if text is not None and text not in seen:
                seen.add(text)
                out.append(text)
    return out


def order_key(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def take(fortunes, budget):
    taken, size = [], 0
    for text in fortunes:
        n = len(text.encode("utf-8")) + 1
        if size + n > budget:
            break
        taken.append(text)
        size += n
    return taken


def main(root, out_dir):
    rows, pretrain = [], []
    for lang, files in SOURCES.items():
        fortunes = sorted(read_fortunes(root, files), key=order_key)
        demo = take(fortunes, DEMO_BYTES)
        rest = take(fortunes[len(demo):], PRETRAIN_BYTES)
        rows += [{"lang": lang, "text": t} for t in demo]
        pretrain += rest
        print(f"{lang}: {len(fortunes)} fortunes, {len(demo)} demo rows, {len(rest)} pretraining fortunes",
              file=sys.stderr)
    pretrain.sort(key=order_key)
    with open(os.path.join(out_dir, "fortunes.jsonl"), "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    with open(os.path.join(out_dir, "pretrain.txt"), "w", encoding="utf-8") as f:
        f.write("\n\n".join(pretrain) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
