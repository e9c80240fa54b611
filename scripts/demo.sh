#!/usr/bin/env bash
# Quick start, command 1: set up, build, and predict session start-up for the default scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec build/stepq simulate scenarios/skaha-basic.json "$@"
