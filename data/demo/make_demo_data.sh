#!/usr/bin/env bash
# Regenerates data/demo/fortunes.jsonl and data/demo/pretrain.txt from Debian's fortune packages (see SOURCES.md).
# (fortunes-min holds the English "fortunes", "literature" and "riddles" files; fortunes holds the rest.)
# Needs apt-get (the package versions listed in SOURCES.md give identical files), dpkg-deb
# and python3. Installs nothing: the packages are downloaded and unpacked into a temporary directory.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get download fortunes-min fortunes fortunes-de fortunes-es fortunes-it
for deb in *.deb; do
  dpkg-deb -x "$deb" root
  dpkg-deb -f "$deb" Package Version
done
python3 "$here/make_demo_data.py" root "$here"
sha256sum "$here/fortunes.jsonl" "$here/pretrain.txt"
