#!/usr/bin/env python3
"""hivedump.py HIVE — every key and value of a hive, one line each, read by hivex's hivexml
(an independent reader).  Timestamps and cell offsets are left out, so two dumps differ only
where keys or values differ."""
import subprocess
import sys
import xml.etree.ElementTree as ET

xml = subprocess.run(["hivexml", sys.argv[1]], check=True, capture_output=True).stdout
root = ET.fromstring(xml)


def walk(node, path):
    for child in node:
        if child.tag == "value":
            data = child.get("value")
            if data is None:
                data = "|".join(s.text or "" for s in child.findall("string"))
            print(f"{path}\t{child.get('key', '@')}\t{child.get('type')}\t{data}")
        elif child.tag == "node":
            name = child.get("name")
            sub = f"{path}\\{name}" if path else "" if child.get("root") else name
            print(f"{sub}\t<key>")
            walk(child, sub)


walk(root, "")
