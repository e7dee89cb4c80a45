#!/usr/bin/env bash
# System packages the service needs (placeholder until the sandbox set-up lands; see sandbox/README.md).
set -euo pipefail
exit 0
