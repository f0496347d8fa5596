#!/usr/bin/env bash
# Installs the official OpenAI node client (pinned major) into $1/node_modules for OpenAiNodeClientTest.
set -euo pipefail
npm install --no-audit --no-fund --loglevel=error --prefix "$1" openai@6
