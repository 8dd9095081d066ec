#!/bin/sh
# Same as `npm run scenario -- incident-response` from the repository root (builds first).
cd "$(dirname "$0")/../../.." && exec npm run --silent scenario -- incident-response "$@"
