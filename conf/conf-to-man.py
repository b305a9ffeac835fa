#!/usr/bin/env python3
"""Writes mxtls.conf(5) from the annotated conf/mxtls.conf, so every key's
default and description are written once (in mxtls.conf) and the man page
cannot drift from it.   usage: conf-to-man.py mxtls.conf > mxtls.conf.5"""

import re
import sys

HEAD = r""".TH MXTLS.CONF 5 "2026-11-24" "mxtls 0.1.0" "mxtls"
.SH NAME
mxtls.conf \- configuration of mxtls\-policyd, mxtls\-milter and mxtls
.SH DESCRIPTION
An INI file: \fB[section]\fR headers, \fBkey = value\fR lines, and comment
lines starting with \fB#\fR or \fB;\fR. Times take a unit (\fBms\fR, \fBs\fR,
\fBm\fR, \fBh\fR, \fBd\fR; a bare number is seconds); booleans are \fByes\fR or
\fBno\fR. An unknown key or a bad value stops the program with an error naming
the file, the line and the key. Below, each key with its default.
"""
TAIL = r""".SH FILES
.I /etc/mxtls/mxtls.conf
.SH SEE ALSO
.BR mxtls (1),
.BR mxtls\-policyd (8),
.BR mxtls\-milter (8)
"""


def roff(text):
    return text.replace("\\", "\\\\").replace("-", "\\-")


def main():
    lines = open(sys.argv[1]).read().splitlines()
    out = [HEAD]
    comment = []
    in_header = True
    for line in lines:
        if in_header:  # the file's own preamble is replaced by DESCRIPTION
            if line.startswith("["):
                in_header = False
            else:
                continue
        section = re.match(r"^\[(\w+)\]$", line)
        key = re.match(r"^#(\w+) =( (.*))?$", line)
        if section:
            out.append(f".SS [{section.group(1)}]\n")
            comment = []
        elif key:
            out.append(f".TP\n.B {key.group(1)} = {roff(key.group(3) or '')}\n")
            if comment:
                out.append(roff(" ".join(comment)) + "\n")
            comment = []
        elif line.startswith("#"):
            comment.append(line[1:].strip())  # describes the key(s) below it
    out.append(TAIL)
    sys.stdout.write("".join(out))


if __name__ == "__main__":
    main()
