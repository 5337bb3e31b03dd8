#!/usr/bin/env python3
"""jq.py — tiny JSON assertions for the shell tests (python3's json module, no jq needed).

   jq.py FILE 'EXPR'   evaluates EXPR with `d` bound to the parsed report; exit 0 if truthy.
   Helpers in EXPR: F(check, status) -> findings of that check with that status.
"""
import json
import sys

d = json.load(open(sys.argv[1]))


def F(check, status=None):
    return [f for f in d.get("findings", [])
            if f["check"] == check and (status is None or f["status"] == status)]


ok = eval(sys.argv[2], {"d": d, "F": F, "any": any, "all": all, "len": len})
sys.exit(0 if ok else 1)
