#!/usr/bin/python3
# debsecan-feed.py - write debsecan's feed for one suite (the zlib-compressed "VERSION 1" file that
# debsecan --source URL fetches as URL/SUITE) from a data/CVE/list, the way the tracker derives it:
# per (CVE, source) the fixed version in unstable, the suite's fixed version as an "other version"
# (debsecan treats those as an exact set), the urgency, and 'F' when the suite has a fix.
#
#   debsecan-feed.py LIST SUITE OUTDIR     writes OUTDIR/SUITE
import re
import sys
import zlib

list_path, suite, outdir = sys.argv[1:4]
header = re.compile(r'^(CVE-\d{4}-\d{4,}|TEMP-[0-9A-Fa-f-]+)(?:\s+[\(\[](.*)[\)\]])?\s*$')
pkg = re.compile(r'^\s+(?:\[([a-z-]+)\]\s+)?-\s+(\S+)\s+(\S+)(?:\s+\((.*)\))?\s*$')
urgencies = {'low': 'L', 'medium': 'M', 'high': 'H'}

entries = []  # (name, description, kind, {source: {release or '': (version, urgency)}})
with open(list_path, encoding='utf-8') as f:
    for line in f:
        line = line.rstrip('\n')
        m = header.match(line)
        if m:
            entries.append([m.group(1), m.group(2) or '', '', {}])
            continue
        s = line.strip()
        if s in ('RESERVED', 'REJECTED') or s.startswith('NOT-FOR-US:'):
            entries[-1][2] = s.split(':')[0]
            continue
        m = pkg.match(line)
        if not m:
            continue
        rel, src, ver, ann = m.group(1) or '', m.group(2), m.group(3), m.group(4) or ''
        urg = ''
        for part in ann.split(';'):
            part = part.strip().rstrip('*')
            if part in urgencies:
                urg = urgencies[part]
        entries[-1][3].setdefault(src, {})[rel] = (ver, urg)

names, index, vulns = [], {}, []
for name, desc, kind, sources in entries:
    if kind:
        continue
    for src, lines in sorted(sources.items()):
        uns = lines.get('', ('<unfixed>', ''))
        rel = lines.get(suite)
        if uns[0] in ('<not-affected>', '<itp>') and rel is None:
            continue
        if rel is not None and rel[0] == '<not-affected>':
            continue
        unstable = uns[0] if not uns[0].startswith('<') else ''
        other = rel[0] if rel is not None and not rel[0].startswith('<') else ''
        flags = 'S' + (uns[1] or ' ') + '?' + ('F' if other else ' ')
        if name not in index:
            index[name] = len(names)
            names.append(name)
        vulns.append('%s,%d,%s,%s,%s' % (src, index[name], flags, unstable, other))

text = 'VERSION 1\n'
text += ''.join('%s,,%s\n' % (n, '') for n in names) + '\n'
text += ''.join(v + '\n' for v in vulns) + '\n'
text += '\n'
with open('%s/%s' % (outdir, suite), 'wb') as out:
    out.write(zlib.compress(text.encode('utf-8')))
