#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Who may attach: the socket's mode and group decide, and a process that may not open the
socket gets -EACCES from sluice_attach.

    test_api_permission.py SLUICE LIBSLUICE_DIR

Root only (it runs applications as another user: a forked child that drops to uid 65534,
"nobody"); skipped otherwise. One appliance (lcore 0, a memif port nobody connects to), its
socket in a folder every user may traverse, so only the socket's own bits decide:
  - mode 0600 (owner root), no group (the appliance's): root attaches; uid 65534 gets
    -EACCES;
  - mode 0660, group 65534: uid 65534 with gid 65534 attaches (the appliance logs its uid and
    gid); uid 65534 with another gid gets -EACCES.
The applications are the Python module over libsluice.so, loaded before the fork.
"""
import errno
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "api", "python"))
import sl_integ as it  # noqa: E402
from sl_integ import World  # noqa: E402

NOBODY = 65534
OTHER_GID = 1
DURATION = 60
WAIT = 30


def attach_as(sock, uid, gid):
    """0 if a child running as uid:gid attaches (and detaches), else the errno it got."""
    import sluice
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            try:
                sluice.Sluice(sock, f"uid{uid}").close()
                code = 0
            except OSError as e:
                code = e.errno
        finally:
            os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def run(w, a, mode, group, cases):
    """Start a with the socket's mode and group; each case (uid, gid, errno or 0) attaches."""
    a.cfg["api"] = {"socket": a.api_socket, "mode": mode, "max_apps": 2}
    if group is not None:
        a.cfg["api"]["group"] = str(group)
    a.start(duration=DURATION)
    a.wait_log(r"api: listening on", timeout=WAIT)
    st = os.stat(a.api_socket)
    w.equal((oct(st.st_mode & 0o777), st.st_uid), (oct(int(mode, 8)), 0),
            f"the socket's mode and owner ({mode})")
    # without a group, the appliance's own (regression: an unset group was read from stale
    # stack bytes, and the socket given to group 600, or the configuration refused)
    w.equal(st.st_gid, os.getegid() if group is None else group, f"the socket's group ({mode})")
    for uid, gid, want in cases:
        got = attach_as(a.api_socket, uid, gid)
        w.equal(errno.errorcode.get(got, got), errno.errorcode.get(want, want),
                f"mode {mode} group {group}: uid {uid} gid {gid} attaches")
        if want == 0:
            a.wait_log(rf'application "uid{uid}" attached \(pid \d+ uid {uid} gid {gid}\)',
                       timeout=WAIT)
    w.equal(a.stop(), 0, f"a (mode {mode}) exit status")


def main(lib_dir):
    if os.geteuid() != 0:
        print("test_api_permission: needs root (to run an application as another uid): "
              "skipped")
        sys.exit(it.SKIP)
    import sluice
    sluice.load(lib_dir)
    with World("api-permission") as w:
        os.chmod(w.dir, 0o711)  # everyone may traverse it to the socket's folder
        folder = os.path.join(w.dir, "api")
        os.mkdir(folder, 0o755)
        a = w.node("a", core=0, ip="198.18.9.1")
        a.add_port("p0", f"net_memif0,role=server,id=0,socket={os.path.join(w.dir, 'm.sock')}")
        a.api_socket = os.path.join(folder, "a.sock")
        run(w, a, "0600", None, [(0, 0, 0), (NOBODY, NOBODY, errno.EACCES)])
        run(w, a, "0660", NOBODY, [(NOBODY, NOBODY, 0), (NOBODY, OTHER_GID, errno.EACCES)])


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} SLUICE LIBSLUICE_DIR")
    it.run(lambda: main(os.path.abspath(sys.argv[2])))
