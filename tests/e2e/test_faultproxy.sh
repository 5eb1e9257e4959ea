#!/usr/bin/env bash
# Self-test of the fault-injecting proxy the push tests rely on: each fault mode (drop, stall, flip, tampered
# PUT body, lost acknowledgement, capture) really happens, and a seed repeats its faults. Needs no site.
set -euo pipefail
echo "== faultproxy self-test"
out=$(python3 "$(dirname "$0")/lib/test_faultproxy.py" 2>&1) || { echo "$out" >&2; echo "FAIL [faultproxy]: see above" >&2; exit 1; }
grep -E '^faultproxy: ' <<<"$out" | sed 's/^/  ok: /'
