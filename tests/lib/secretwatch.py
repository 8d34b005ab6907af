#!/usr/bin/env python3
# secretwatch.py OUT STOP ALLOWED SECRET... - for tests/security-secrets.bats:
# until the file STOP exists, read /proc/*/cmdline and /proc/*/environ of
# every process every 20 ms (as root: every process's) and append to OUT one
# line per process and place a SECRET was seen in, once each:
#   cmdline PID EXE ARGS    or    environ PID EXE
# A SECRET in the environment of a process whose executable's name is in
# ALLOWED (comma-separated: the tool given it that way) is not reported.
# A SECRET written @PATH stands for the passwords of the option file PATH
# (its password= lines), read again at each pass: for the passwords a tool
# makes as it runs (dump-restore's worlds.cnf).
# It writes OUT.ready once its first pass is done, and the number of
# passes to OUT.passes at the end.
import os
import re
import sys
import time

out, stop, allowed = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


given = [s.encode() for s in sys.argv[4:]]


def current_secrets():
    out = []
    for s in given:
        if not s.startswith(b"@"):
            out.append(s)
            continue
        for m in re.finditer(rb'^password\s*=\s*"?([^"\n]+)"?\s*$', read(s[1:].decode()), re.M):
            out.append(m.group(1))
    return out


seen = set()
passes = 0


with open(out, "a") as log:
    while True:
        secrets = current_secrets()
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                exe = os.path.basename(os.readlink("/proc/%s/exe" % pid))
            except OSError:
                exe = "?"
            cmd = read("/proc/%s/cmdline" % pid)
            env = read("/proc/%s/environ" % pid)
            for s in secrets:
                if s in cmd and ("cmdline", pid) not in seen:
                    seen.add(("cmdline", pid))
                    args = cmd.replace(b"\0", b" ").decode(errors="replace")
                    log.write("cmdline %s %s %s\n" % (pid, exe, args))
                if s in env and exe not in allowed and ("environ", pid) not in seen:
                    seen.add(("environ", pid))
                    log.write("environ %s %s\n" % (pid, exe))
            log.flush()
        passes += 1
        if passes == 1:
            open(out + ".ready", "w").close()
        if os.path.exists(stop):
            break
        time.sleep(0.02)
with open(out + ".passes", "w") as f:
    f.write("%d\n" % passes)
