#!/usr/bin/env python3
"""Renders markdown as GitHub does (CommonMark with GFM tables, markdown-it-py) and prints JSON:
{"html": ..., "text": the visible text}. The hostile-name test checks that log-derived strings
show literally and open or close nothing (code spans, tables, <details>, headings, HTML).

Usage: render-markdown.py FILE
"""
import html
import json
import re
import sys

from markdown_it import MarkdownIt

with open(sys.argv[1], encoding="utf-8") as f:
    source = f.read()
rendered = MarkdownIt("commonmark").enable("table").render(source)
text = html.unescape(re.sub(r"<[^>]+>", "", rendered))
json.dump({"html": rendered, "text": text}, sys.stdout)
