#!/usr/bin/env python3
# embed.py - data/diff-rules as a C string, so the debkeep binary carries its rule table
import sys

src, out = sys.argv[1], sys.argv[2]
with open(src, 'rb') as f:
    data = f.read()
lines = ['/* generated from data/diff-rules by lib/diff/embed.py */',
         '#include <debkeep/diff.h>', '', 'const char dk_diff_default_rules[] =']
for line in data.decode('utf-8').splitlines(keepends=True):
    esc = line.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')
    lines.append('\t"' + esc + '"')
lines[-1] += ';'
with open(out, 'w') as f:
    f.write('\n'.join(lines) + '\n')
