#!/usr/bin/env python3
"""Prints N JSON Lines {"id": i, "text": sentence}: the sentences of mixed-1000.jsonl (white space collapsed, cut after
'.', '!' or '?' followed by white space, those of at least three words), in order, repeated until there are N.
For spark-embed's throughput against embed's: python3 bench/corpus/sentences.py 10000 > sentences-10k.jsonl"""
import json
import os
import re
import sys

count = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
sentences = []
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "mixed-1000.jsonl"), encoding="utf-8") as corpus:
    for line in corpus:
        text = " ".join(json.loads(line)["text"].split())
        sentences += [s for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) >= 3]
for i in range(count):
    print(json.dumps({"id": i, "text": sentences[i % len(sentences)]}, ensure_ascii=False))
