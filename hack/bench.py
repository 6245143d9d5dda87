#!/usr/bin/env python3
"""The measuring driver of `make bench`: hull against runc and crun.

hack/bench.sh makes the bundles and starts this script inside a private mount
namespace where the unified cgroup hierarchy is unmounted and an empty tmpfs
of ours sits in its place (crun 1.8.1 refuses this machine's hybrid layout
otherwise). Everything here runs in that namespace, for all three runtimes
alike.

How it measures:
  * every runtime is a child we spawn ourselves (posix_spawn, stdin from
    /dev/null, stdout to /dev/null, stderr to a file we read on failure) and
    wait for with a pidfd, so every wait has a timeout and a hang is counted,
    never waited out;
  * wall time: perf_counter around the whole operation;
  * CPU time: user+sys from getrusage(RUSAGE_CHILDREN) deltas. This driver is
    a child subreaper, as containerd's shim is, so a container's init (the
    runtime's own code before execve, then /bin/true) is reaped here and
    counted too;
  * runtimes alternate A B C A B C ..., one round at a time, and the table
    shows medians;
  * the runtimes' --root state dirs are on a tmpfs (bench.sh uses /dev/shm),
    as /run is on a systemd host: on ext4 every runtime also pays inode
    allocation and journal waits for its state files, which other builds on
    the machine turn into noise;
  * peak RSS of create comes from GNU time (its child is forked from a small
    process, so the number is the runtime's, not this Python's).

Scenarios are the SCENARIOS list at the bottom: a title, how many rounds,
and a function measuring one sample for one runtime. Scenarios hull cannot
run yet (exec, seccomp) are marked `needs=` and print "n/a (not
implemented)"; to add one, write its function and drop the mark.

Environment: BENCH_ROUNDS (single-run rounds, default 50), BENCH_BATCH_ROUNDS
(rounds of the 100-sequential and concurrent batches, default 5),
BENCH_TIMEOUT (seconds before a run counts as hung, default 30).
"""

import argparse
import contextlib
import ctypes
import json
import os
import platform
import re
import resource
import select
import signal
import statistics
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
RUNTIME_NAMES = ["hull", "runc", "crun"]
COLOURS = {"hull": "#e6550d", "runc": "#3182bd", "crun": "#31a354", "floor": "#9e9e9e"}
NA = "n/a (not implemented)"


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def env_int(name, default):
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


ROUNDS = env_int("BENCH_ROUNDS", 50)
BATCH_ROUNDS = env_int("BENCH_BATCH_ROUNDS", 5)
TIMEOUT = env_int("BENCH_TIMEOUT", 30)
RUN_ID = str(os.getpid())  # set from --run-id: every container id and cgroup name carries it


class Failed(Exception):
    """One operation failed or hung; the sample is dropped and counted."""

    def __init__(self, what, hung=False):
        super().__init__(what)
        self.hung = hung


# ── processes ────────────────────────────────────────────────────────────


class Child:
    """A process we spawned: stdin /dev/null, stdout /dev/null, stderr to a file."""

    def __init__(self, argv, errfile):
        self.argv = argv
        self.errfile = errfile
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
            (os.POSIX_SPAWN_OPEN, 2, errfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
        ]
        self.pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
        self.pidfd = os.pidfd_open(self.pid)
        self.status = None
        self.rusage = None

    def wait(self, timeout):
        """Waits up to `timeout` seconds; True once reaped."""
        if self.status is not None:
            return True
        poller = select.poll()
        poller.register(self.pidfd, select.POLLIN)
        if not poller.poll(max(0, int(timeout * 1000))):
            return False
        _, self.status, self.rusage = os.wait4(self.pid, 0)
        os.close(self.pidfd)
        return True

    def kill(self):
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.wait(TIMEOUT)

    @property
    def code(self):
        return os.waitstatus_to_exitcode(self.status)

    def error_text(self):
        try:
            with open(self.errfile, errors="replace") as f:
                return f.read().strip()[-400:]
        except OSError:
            return ""


def run_checked(argv, errfile, timeout=None):
    """Runs one command to the end; raises Failed on a non-zero exit or a hang."""
    child = Child(argv, errfile)
    if not child.wait(timeout or TIMEOUT):
        child.kill()
        raise Failed(f"hung: {' '.join(argv)}", hung=True)
    if child.code != 0:
        raise Failed(f"exit {child.code}: {' '.join(argv)}: {child.error_text()}")
    return child


def wait_foreign(pid, timeout):
    """Waits for a container init we became the parent of (we are a subreaper)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        if not poller.poll(int(timeout * 1000)):
            raise Failed(f"init {pid} did not exit", hung=True)
    finally:
        os.close(fd)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass  # not ours to reap: its parent is still alive


def reap_strays():
    """Reaps orphans that were reparented to us; call only when no child is pending."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def cpu_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


class Timer:
    """Wall and CPU (user+sys of reaped children) over a block."""

    def __enter__(self):
        self.cpu0 = cpu_children()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.t0
        self.cpu = cpu_children() - self.cpu0
        return False

    def sample(self, **extra):
        return {"wall": self.wall, "cpu": self.cpu, **extra}


# ── runtimes ─────────────────────────────────────────────────────────────


class Runtime:
    def __init__(self, name, binary, work, state):
        self.name = name
        self.binary = binary
        self.root = os.path.join(state, f"state-{name}")
        self.errdir = os.path.join(work, f"err-{name}")
        os.makedirs(self.root, exist_ok=True)
        os.makedirs(self.errdir, exist_ok=True)
        self.n = 0

    def new_id(self):
        self.n += 1
        return f"bench-{self.name}-{RUN_ID}-{self.n}"

    def argv(self, *args):
        return [self.binary, "--root", self.root, *args]

    def err(self, tag="op"):
        return os.path.join(self.errdir, tag)

    def force_delete(self, cid):
        try:
            run_checked(self.argv("delete", "--force", cid), self.err("cleanup"))
        except Failed:
            pass

    def leftovers(self):
        try:
            return sorted(os.listdir(self.root))
        except FileNotFoundError:
            return []


# ── the measurements ─────────────────────────────────────────────────────


@contextlib.contextmanager
def fresh_container(rt):
    """A new container id for one operation: force-deleted if the operation
    fails, and the runtime's stray children reaped once it is over."""
    cid = rt.new_id()
    try:
        yield cid
    except Failed:
        rt.force_delete(cid)
        raise
    reap_strays()


def op_run(rt, bundle):
    """Scenario 1: foreground `run` of /bin/true (run deletes the container when it ends)."""
    with fresh_container(rt) as cid, Timer() as t:
        run_checked(rt.argv("run", "--bundle", bundle, cid), rt.err())
    return t.sample()


def op_floor(ctx, bundle):
    """The physical floor: the same namespaces, chroot, /bin/true; no runtime."""
    argv = ["/usr/bin/unshare", "--pid", "--fork", "--net", "--ipc", "--uts", "--mount", "--cgroup",
            "/usr/sbin/chroot", os.path.join(bundle, "rootfs"), "/bin/true"]
    with Timer() as t:
        run_checked(argv, os.path.join(ctx["work"], "err-floor"))
    reap_strays()
    return t.sample()


def create(rt, bundle, cid, wrapper=()):
    pidfile = os.path.join(rt.errdir, "pid")
    try:
        os.unlink(pidfile)
    except FileNotFoundError:
        pass
    argv = [*wrapper, *rt.argv("create", "--bundle", bundle, "--pid-file", pidfile, cid)]
    run_checked(argv, rt.err())
    with open(pidfile) as f:
        return int(f.read().strip())


def op_lifecycle(rt, bundle):
    """Scenario 2: create, start, wait for the init to exit, delete (containerd's way)."""
    with fresh_container(rt) as cid, Timer() as t:
        pid = create(rt, bundle, cid)
        run_checked(rt.argv("start", cid), rt.err())
        wait_foreign(pid, TIMEOUT)
        run_checked(rt.argv("delete", cid), rt.err())
    return t.sample()


def op_create_delete(rt, bundle):
    """Scenario 3: create, then delete the created container."""
    with fresh_container(rt) as cid, Timer() as t:
        pid = create(rt, bundle, cid)
        run_checked(rt.argv("delete", "--force", cid), rt.err())
        wait_foreign(pid, TIMEOUT)
    return t.sample()


def op_sequential(rt, bundle, count=100):
    """Scenario 5: `count` foreground runs one after another."""
    samples = []
    with Timer() as t:
        for _ in range(count):
            cid = rt.new_id()
            try:
                run_checked(rt.argv("run", "--bundle", bundle, cid), rt.err())
            except Failed:
                rt.force_delete(cid)
                raise
    reap_strays()
    return t.sample()


def op_concurrent(rt, bundle, count):
    """Scenario 5: `count` foreground runs at once; failures and hangs are counted, not raised."""
    children = []
    with Timer() as t:
        for i in range(count):
            cid = rt.new_id()
            children.append((cid, Child(rt.argv("run", "--bundle", bundle, cid), rt.err(f"conc-{i}"))))
        deadline = time.monotonic() + TIMEOUT
        failures = hangs = 0
        first_error = ""
        for cid, child in children:
            if not child.wait(deadline - time.monotonic()):
                hangs += 1
                continue
            if child.code != 0:
                failures += 1
                first_error = first_error or f"exit {child.code}: {child.error_text()}"
    for cid, child in children:
        if child.status is None:
            child.kill()
            rt.force_delete(cid)
    reap_strays()
    if first_error:
        log(f"{rt.name}: {failures} of {count} concurrent runs failed, first: {first_error}")
    if hangs:
        log(f"{rt.name}: {hangs} of {count} concurrent runs hung (> {TIMEOUT}s)")
    return t.sample(failures=failures, hangs=hangs)


def op_create_rss(rt, bundle):
    """Scenario 6: peak RSS of `create`, as GNU time sees its child."""
    out = rt.err("rss")
    with fresh_container(rt) as cid:
        pid = create(rt, bundle, cid, wrapper=("/usr/bin/time", "-f", "%M", "-o", out))
        run_checked(rt.argv("delete", "--force", cid), rt.err())
        wait_foreign(pid, TIMEOUT)
    with open(out) as f:
        kib = int(f.read().split()[-1])
    return {"value": kib / 1024}


def children_of(pid):
    kids = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                kids += [int(k) for k in f.read().split()]
    except OSError:
        pass
    return kids


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def op_waiting_rss(rt, sleep_bundle):
    """Scenario 6: RSS of the `run` process while it waits for a container running sleep."""
    cid = rt.new_id()
    child = Child(rt.argv("run", "--bundle", sleep_bundle, cid), rt.err())
    rss = None
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and child.status is None:
            if any(comm(k) == "sleep" for k in children_of(child.pid)):
                with open(f"/proc/{child.pid}/status") as f:
                    rss = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
                break
            child.wait(0.01)
        if not child.wait(TIMEOUT):
            raise Failed(f"hung: {' '.join(child.argv)}", hung=True)
        if child.code != 0:
            raise Failed(f"exit {child.code}: {child.error_text()}")
    except Failed:
        child.kill()
        rt.force_delete(cid)
        raise
    reap_strays()
    if rss is None:
        raise Failed("never saw the container's sleep")
    return {"value": rss / 1024}


def strace_count(argv, out, err):
    run_checked(["/usr/bin/strace", "-f", "-c", "-U", "calls,errors,name", "-o", out, *argv], err)
    per_call = {}
    total = None
    with open(out) as f:
        for line in f:
            tokens = line.split()
            if not tokens or not tokens[0].isdigit():
                continue
            if tokens[-1] == "total":
                total = int(tokens[0])
            else:
                per_call[tokens[-1]] = int(tokens[0])
    if total is None:
        raise Failed(f"no strace summary in {out}")
    return total, per_call


def op_syscalls(rt, bundle):
    """Scenario 7: system calls of one `run` of /bin/true, every process followed."""
    with fresh_container(rt) as cid:
        total, per_call = strace_count(rt.argv("run", "--bundle", bundle, cid), rt.err("strace"), rt.err())
    return {"value": total, "per_call": per_call}


def op_floor_syscalls(ctx, bundle):
    argv = ["/usr/bin/unshare", "--pid", "--fork", "--net", "--ipc", "--uts", "--mount", "--cgroup",
            "/usr/sbin/chroot", os.path.join(bundle, "rootfs"), "/bin/true"]
    work = ctx["work"]
    total, per_call = strace_count(argv, os.path.join(work, "strace-floor"), os.path.join(work, "err-floor"))
    return {"value": total, "per_call": per_call}


def start_idle(rt, idle_bundle):
    """Scenario 4's setup: a detached container that sleeps, to exec into."""
    cid = rt.new_id()
    pidfile = os.path.join(rt.errdir, "idle.pid")
    try:
        run_checked(rt.argv("run", "--detach", "--pid-file", pidfile, "--bundle", idle_bundle, cid), rt.err())
        with open(pidfile) as f:
            return cid, int(f.read().strip())
    except (Failed, OSError, ValueError):
        rt.force_delete(cid)
        raise


def stop_idle(rt, state):
    cid, pid = state
    rt.force_delete(cid)
    try:
        wait_foreign(pid, TIMEOUT)
    except Failed:
        pass
    reap_strays()


def op_exec(rt, state):
    """Scenario 4: exec /bin/true into the running container, in the foreground."""
    cid, _ = state
    with Timer() as t:
        run_checked(rt.argv("exec", cid, "/bin/true"), rt.err())
    reap_strays()
    return t.sample()


def op_seccomp(rt, bundle, seccomp_bundle):
    """Scenario 8: create+delete with the profile, and the same without it just before."""
    without = op_create_delete(rt, bundle)
    with_profile = op_create_delete(rt, seccomp_bundle)
    return {**with_profile, "extra_cpu": with_profile["cpu"] - without["cpu"], "extra_wall": with_profile["wall"] - without["wall"]}


# Left out of the profile as Docker's default leaves them out (or allows them only with
# capabilities the bundle does not grant); everything else in the kernel's table is allowed.
SECCOMP_DENIED = {
    "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module", "delete_module",
    "finit_module", "get_kernel_syms", "get_mempolicy", "init_module", "ioperm", "iopl", "kcmp",
    "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie", "mbind", "mount", "move_pages",
    "name_to_handle_at", "nfsservctl", "open_by_handle_at", "perf_event_open", "personality",
    "pivot_root", "process_vm_readv", "process_vm_writev", "ptrace", "query_module", "quotactl",
    "reboot", "request_key", "set_mempolicy", "setns", "settimeofday", "swapon", "swapoff", "sysfs",
    "_sysctl", "umount2", "unshare", "uselib", "userfaultfd", "ustat", "vserver", "afs_syscall",
    "tuxcall", "security", "putpmsg", "getpmsg",
}


def seccomp_profile():
    """A profile the shape and size of Docker's default: one rule per allowed syscall of
    this kernel's table, plus Docker's argument-filtered personality rules."""
    names = []
    for header in ("/usr/include/x86_64-linux-gnu/asm/unistd_64.h", "/usr/include/asm/unistd_64.h"):
        try:
            with open(header) as f:
                names = [m.group(1) for m in re.finditer(r"#define __NR_(\w+)\s+\d+", f.read())]
            break
        except OSError:
            continue
    if not names:
        raise Failed("no asm/unistd_64.h to take syscall names from (apt-get install linux-libc-dev)")
    rules = [{"names": [n], "action": "SCMP_ACT_ALLOW"} for n in names if n not in SECCOMP_DENIED]
    for persona in (0, 8, 131072, 131080, 4294967295):
        rules.append({"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                      "args": [{"index": 0, "value": persona, "op": "SCMP_CMP_EQ"}]})
    return {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], "syscalls": rules}


# ── scenarios ────────────────────────────────────────────────────────────


class Scenario:
    """One row group of the table.

    metrics: (key in a sample, row label, unit, scale) for each row it shows.
    measure(rt) (or measure(rt, state) with setup) returns one sample dict; floor() the
    same without a runtime.
    needs: a feature (see probe_features); a runtime without it reads n/a (not implemented).
    setup(rt) runs once per runtime before the rounds, teardown(rt, state) after them.
    target: the most hull/crun may be (issue 4's targets), shown as met or missed.
    """

    def __init__(self, key, title, metrics, measure=None, rounds=None, floor=None, needs=None, counts=False, target=None,
                 setup=None, teardown=None):
        self.key = key
        self.title = title
        self.metrics = metrics
        self.measure = measure
        self.rounds = rounds
        self.floor = floor
        self.needs = needs
        self.counts = counts
        self.target = target  # the bound on hull/crun, if any
        self.setup = setup  # per runtime, before the rounds; its result is passed to measure
        self.teardown = teardown


TIME_MS = [("wall", "wall", "ms", 1000), ("cpu", "CPU", "ms", 1000)]
TIME_S = [("wall", "wall", "s", 1), ("cpu", "CPU", "s", 1)]


def scenarios(ctx):
    true, sleep = ctx["true"], ctx["sleep"]
    return [
        Scenario("run", "1. run /bin/true (run deletes it)", TIME_MS,
                 lambda rt: op_run(rt, true), ROUNDS, floor=lambda: op_floor(ctx, true), target=0.9),
        Scenario("lifecycle", "2. create, start, wait, delete", TIME_MS,
                 lambda rt: op_lifecycle(rt, true), ROUNDS, target=0.9),
        Scenario("create_delete", "3. create, delete", TIME_MS,
                 lambda rt: op_create_delete(rt, true), ROUNDS, target=0.9),
        Scenario("exec", "4. exec /bin/true into a running container", TIME_MS,
                 lambda rt, state: op_exec(rt, state), ROUNDS, needs="exec", target=0.9,
                 setup=lambda rt: start_idle(rt, ctx["idle"]), teardown=stop_idle),
        Scenario("seq100", "5. 100 sequential runs", TIME_S,
                 lambda rt: op_sequential(rt, true), BATCH_ROUNDS, target=0.9),
        Scenario("conc10", "5. 10 concurrent runs", TIME_MS,
                 lambda rt: op_concurrent(rt, true, 10), BATCH_ROUNDS, counts=True, target=0.9),
        Scenario("conc50", "5. 50 concurrent runs", TIME_MS,
                 lambda rt: op_concurrent(rt, true, 50), BATCH_ROUNDS, counts=True, target=0.9),
        Scenario("rss_create", "6. peak RSS of create", [("value", "", "MiB", 1)],
                 lambda rt: op_create_rss(rt, true), min(ROUNDS, 10), target=1.0),
        Scenario("rss_run", "6. RSS of the waiting run", [("value", "", "MiB", 1)],
                 lambda rt: op_waiting_rss(rt, sleep), min(ROUNDS, 5)),
        Scenario("syscalls", "7. system calls per run", [("value", "", "calls", 1)],
                 lambda rt: op_syscalls(rt, true), min(ROUNDS, 3), floor=lambda: op_floor_syscalls(ctx, true), target=1.0),
        Scenario("seccomp", f"8. create, delete with a {ctx['seccomp_rules']}-rule seccomp profile",
                 [("wall", "wall", "ms", 1000), ("cpu", "CPU", "ms", 1000), ("extra_cpu", "CPU over no profile", "ms", 1000)],
                 lambda rt: op_seccomp(rt, true, ctx["seccomp"]), ROUNDS, needs="seccomp"),
    ]


def measure_all(runtimes, ctx, results, failures):
    for sc in scenarios(ctx):
        able = [rt for rt in runtimes if not (sc.needs and sc.needs in ctx["lacks"].get(rt.name, ()))]
        for rt in runtimes:
            if rt not in able:
                log(f"{sc.title}: {rt.name}: {NA}")
        samples = results.setdefault(sc.key, {})
        names = [rt.name for rt in able] + (["floor"] if sc.floor else [])
        for name in names:
            samples.setdefault(name, [])
        states = {}
        try:
            if sc.setup:
                for rt in able:
                    try:
                        states[rt.name] = sc.setup(rt)
                    except Failed as e:
                        failures.setdefault(rt.name, {"failures": 0, "hangs": 0})["failures"] += 1
                        log(f"{rt.name}: {sc.title}: setup: {e}")
                able = [rt for rt in able if rt.name in states]
            for i in range(sc.rounds):
                log(f"{sc.title}: round {i + 1}/{sc.rounds}")
                for rt in able:  # A B C, A B C, ...
                    if sc.setup:
                        take(samples[rt.name], lambda: sc.measure(rt, states[rt.name]), rt.name, sc, failures)
                    else:
                        take(samples[rt.name], lambda: sc.measure(rt), rt.name, sc, failures)
                if sc.floor:
                    take(samples["floor"], sc.floor, "floor", sc, failures)
        finally:
            for rt in able:
                if rt.name in states and sc.teardown:
                    sc.teardown(rt, states[rt.name])


def probe_features(binaries):
    """What each runtime lacks of what some scenarios need. runc and crun have it all;
    hull is asked, so a scenario lights up by itself once hull grows the feature."""
    lacks = {}
    hull = binaries["hull"]
    probe = subprocess.run([hull, "exec"], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=10)
    if "no such command" in probe.stderr or "unknown command" in probe.stderr:
        lacks.setdefault("hull", set()).add("exec")
    try:
        features = json.loads(subprocess.run([hull, "features"], capture_output=True, text=True,
                                             stdin=subprocess.DEVNULL, timeout=10).stdout)
        if not features.get("linux", {}).get("seccomp", {}).get("enabled"):
            lacks.setdefault("hull", set()).add("seccomp")
    except (ValueError, subprocess.SubprocessError, OSError):
        lacks.setdefault("hull", set()).add("seccomp")
    return lacks


def take(into, fn, name, sc, failures):
    try:
        into.append(fn())
    except Failed as e:
        key = "hangs" if e.hung else "failures"
        failures.setdefault(name, {"failures": 0, "hangs": 0})[key] += 1
        log(f"{name}: {sc.title}: {e}")


# ── the report ───────────────────────────────────────────────────────────


def median_of(samples, key):
    values = [s[key] for s in samples if key in s]
    return statistics.median(values) if values else None


def num(value):
    return isinstance(value, (int, float))


def fmt(value, unit):
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if unit == "calls":
        return f"{value:.0f}"
    if unit == "s":
        return f"{value:.2f}"
    if unit == "MiB":
        return f"{value:.2f}"
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def ratio(a, b):
    if not num(a) or not num(b) or b == 0:
        return "–"
    return f"{a / b:.2f}"


def build_rows(results, ctx, binaries, failures):
    """Rows of (label, {runtime: value}, unit, target); None values print as –."""
    rows = []
    sizes = {name: os.path.getsize(path) / (1024 * 1024) for name, path in binaries.items()}
    for sc in scenarios(ctx):
        per = results.get(sc.key, {})
        for key, label, unit, scale in sc.metrics:
            values = {}
            for name, samples in per.items():
                m = median_of(samples, key)
                values[name] = None if m is None else m * scale
            for name, lacking in ctx["lacks"].items():
                if sc.needs in lacking:
                    values[name] = NA
            rows.append((f"{sc.title}{', ' + label if label else ''} ({unit})", values, unit, sc.target))
        if sc.counts:
            counts = {}
            for name, samples in per.items():
                counts[name] = (sum(s.get("failures", 0) for s in samples), sum(s.get("hangs", 0) for s in samples))
            rows.append((f"{sc.title}: failed / hung, all rounds", counts, "count", 0))
        if sc.key == "syscalls":
            rows.append(("7. binary size (MiB)", sizes, "MiB", None))
    other = {name: failures.get(name, {"failures": 0, "hangs": 0}) for name in [*binaries, "floor"]}
    rows.append(("failed / hung single operations, all scenarios", {n: (c["failures"], c["hangs"]) for n, c in other.items()}, "count", 0))
    return rows


def markdown_table(rows, names):
    head = "| scenario (median) | " + " | ".join(names) + " | floor | hull/crun | hull/runc | target |"
    sep = "|---|" + "---:|" * (len(names) + 3) + "---|"
    lines = [head, sep]
    for label, values, unit, target in rows:
        if values is None:
            lines.append(f"| {label} | " + " | ".join([NA] + ["" for _ in names[1:]]) + " | | | | |")
            continue
        if unit == "count":
            cells = [f"{values[n][0]} / {values[n][1]}" if n in values else "–" for n in names]
            floor = f"{values['floor'][0]} / {values['floor'][1]}" if "floor" in values else ""
            hull = values.get("hull", (0, 0))
            verdict = "none: met" if sum(hull) == 0 else "none: **missed**"
            lines.append(f"| {label} | " + " | ".join(cells) + f" | {floor} | | | {verdict} |")
            continue
        cells = [fmt(values.get(n), unit) for n in names]
        floor = fmt(values["floor"], unit) if "floor" in values else ""
        hull, crun = values.get("hull"), values.get("crun")
        verdict = ""
        if target is not None and num(hull) and num(crun) and crun:
            verdict = f"≤ {target:g} × crun: " + ("met" if hull <= target * crun else "**missed**")
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {floor} | {ratio(hull, crun)} | {ratio(hull, values.get('runc'))} | {verdict} |")
    return "\n".join(lines)


def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), cpu)
    except OSError:
        pass
    load = os.getloadavg()
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "nproc": os.cpu_count(),
        "kernel": platform.release(),
        "cpu": cpu,
        "load": f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
    }


def version(binary):
    if binary.endswith("/hull"):
        rev = subprocess.run(["git", "-C", os.path.dirname(os.path.abspath(__file__)), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True).stdout.strip()
        return f"hull {rev or '?'}"
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=10).stdout
        return out.splitlines()[0].strip() if out else "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def readme_block(table, m, versions, load_end, elapsed):
    return "\n".join([
        f"Last run: {m['date']} on {m['nproc']} CPUs ({m['cpu']}), kernel {m['kernel']}; "
        f"load average {m['load']} at the start, {load_end} at the end; {elapsed:.0f} s in all. "
        f"{versions['hull']}, {versions['runc']}, {versions['crun']}.",
        "",
        f"Medians of {ROUNDS} rounds for single operations and {BATCH_ROUNDS} for batches, runtimes interleaved. "
        "Wall and CPU time (user+sys of the runtime and every process it starts, the container's init included) "
        "are in milliseconds unless marked; a ratio below 1 means hull is ahead. "
        "The floor is `unshare` into the same namespaces plus `chroot` and /bin/true, with no runtime. "
        "The bundles are busybox with hull's default config.json, ociVersion 1.0.2 (crun 1.8.1 refuses newer).",
        "",
        "Other builds share this 2-CPU VM, so absolute times are noisy: compare the ratios within one run.",
        "",
        table,
        "",
        "![hull, runc and crun side by side](docs/bench.svg)",
    ])


def write_readme(path, block):
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    with open(path) as f:
        text = f.read()
    if start not in text or end not in text:
        text = text.rstrip("\n") + f"\n\n## Benchmarks\n\n{start}\n{end}\n"
    before, rest = text.split(start, 1)
    _, after = rest.split(end, 1)
    with open(path + ".tmp", "w") as f:
        f.write(f"{before}{start}\n{block}\n{end}{after}")
    os.replace(path + ".tmp", path)


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def draw_svg(path, rows, names, m):
    """Small multiples: one panel per metric, a bar per runtime, each panel to its own scale."""
    panels = [(label, values, unit) for label, values, unit, _ in rows if values is not None and unit != "count"]
    na = [label for label, values, _, _ in rows if values is None]
    series = names + ["floor"]
    cols, pw, gap = 2, 440, 20
    bar_h, bar_gap, title_h = 14, 4, 22
    ph = title_h + len(series) * (bar_h + bar_gap) + 8
    top = 70
    nrows = (len(panels) + cols - 1) // cols
    width = cols * pw + (cols + 1) * gap
    height = top + nrows * (ph + gap) + 20 * len(na) + 30
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           'font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
           f'<text x="{gap}" y="24" font-size="17" font-weight="bold">hull vs runc vs crun: medians, shorter is better</text>',
           f'<text x="{gap}" y="42" fill="#555">{esc(m["date"])}, {m["nproc"]} CPUs, {esc(m["cpu"])}, kernel {esc(m["kernel"])}; each panel has its own scale</text>']
    lx = gap
    for name in series:
        out.append(f'<rect x="{lx}" y="52" width="12" height="12" fill="{COLOURS[name]}"/>')
        out.append(f'<text x="{lx + 16}" y="62">{name}{" (no runtime)" if name == "floor" else ""}</text>')
        lx += 110
    label_w, value_w = 40, 70
    for i, (label, values, unit) in enumerate(panels):
        x = gap + (i % cols) * (pw + gap)
        y = top + (i // cols) * (ph + gap)
        out.append(f'<rect x="{x}" y="{y}" width="{pw}" height="{ph}" fill="#fafafa" stroke="#ddd"/>')
        out.append(f'<text x="{x + 8}" y="{y + 16}" font-weight="bold">{esc(label)}</text>')
        if num(values.get("hull")) and num(values.get("crun")) and values["crun"]:
            out.append(f'<text x="{x + pw - 8}" y="{y + 16}" text-anchor="end" fill="#555">hull/crun {values["hull"] / values["crun"]:.2f}</text>')
        present = [n for n in series if values.get(n) is not None]
        top_value = max([values[n] for n in present if num(values[n])] + [1e-9])
        span = pw - label_w - value_w - 16
        for j, name in enumerate(present):
            by = y + title_h + j * (bar_h + bar_gap)
            if not num(values[name]):
                out.append(f'<text x="{x + 8}" y="{by + 11}" fill="#333">{name}</text>')
                out.append(f'<text x="{x + 8 + label_w}" y="{by + 11}" fill="#777">{esc(values[name])}</text>')
                continue
            w = max(1.0, span * values[name] / top_value)
            out.append(f'<text x="{x + 8}" y="{by + 11}" fill="#333">{name}</text>')
            out.append(f'<rect x="{x + 8 + label_w}" y="{by}" width="{w:.1f}" height="{bar_h}" fill="{COLOURS[name]}"/>')
            out.append(f'<text x="{x + 8 + label_w + w + 4:.1f}" y="{by + 11}">{fmt(values[name], unit)} {unit}</text>')
    y = top + nrows * (ph + gap) + 8
    for label in na:
        out.append(f'<text x="{gap}" y="{y}" fill="#777">{esc(label)}: {NA}</text>')
        y += 20
    out.append("</svg>")
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def syscall_diff(results, out):
    """The per-syscall counts of one strace'd run of each runtime, for finding waste."""
    per = results.get("syscalls", {})
    tables = {name: samples[0]["per_call"] for name, samples in per.items() if samples}
    calls = sorted({c for t in tables.values() for c in t}, key=lambda c: -max(t.get(c, 0) for t in tables.values()))
    names = list(tables)
    with open(out, "w") as f:
        f.write("syscall " + " ".join(f"{n:>7}" for n in names) + "\n")
        for c in calls:
            f.write(f"{c:<22} " + " ".join(f"{tables[n].get(c, 0):>7}" for n in names) + "\n")


# ── cleanup ──────────────────────────────────────────────────────────────


def cleanup(runtimes):
    """Deletes every container left in our state dirs and any empty cgroup named for our runs."""
    ours = re.compile(rf"^bench-({'|'.join(RUNTIME_NAMES)})-{re.escape(RUN_ID)}-[0-9]+$")
    for rt in runtimes:
        for cid in rt.leftovers():
            log(f"cleanup: {rt.name} delete --force {cid}")
            rt.force_delete(cid)
    reap_strays()
    for hierarchy in list_cgroup_hierarchies():
        for dirpath, dirnames, _ in os.walk(hierarchy):
            if dirpath.count("/") - hierarchy.count("/") > 4:
                dirnames[:] = []
                continue
            for d in dirnames:
                if ours.match(d):
                    try:
                        os.rmdir(os.path.join(dirpath, d))
                        log(f"cleanup: removed leftover cgroup {os.path.join(dirpath, d)}")
                    except OSError as e:
                        log(f"cleanup: could not remove cgroup {os.path.join(dirpath, d)}: {e}")


def list_cgroup_hierarchies():
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, _, post = line.partition(" - ")
            if post.split(" ")[0] in ("cgroup", "cgroup2"):
                found.append(pre.split(" ")[4])
    return found


def edit_config(bundle, change):
    path = os.path.join(bundle, "config.json")
    with open(path) as f:
        config = json.load(f)
    change(config)
    with open(path, "w") as f:
        json.dump(config, f, indent=2)


def derive_bundle(base, path, change):
    """A bundle sharing `base`'s rootfs (by absolute root.path), with its config changed."""
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(base, "config.json")) as f:
        config = json.load(f)
    config["root"]["path"] = os.path.join(base, "rootfs")
    change(config)
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    return path


def main():
    global RUN_ID
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--work", required=True, help="temp dir with the bundles true/ and sleep/")
    p.add_argument("--state", help="where the runtimes' --root dirs go (default: --work)")
    p.add_argument("--hull", required=True)
    p.add_argument("--runc", required=True)
    p.add_argument("--crun", required=True)
    p.add_argument("--readme")
    p.add_argument("--svg")
    p.add_argument("--run-id", default=RUN_ID, help="goes into every container id, to find leftovers")
    p.add_argument("--cleanup-only", action="store_true")
    args = p.parse_args()
    RUN_ID = args.run_id
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    binaries = {"hull": os.path.abspath(args.hull), "runc": args.runc, "crun": args.crun}
    runtimes = [Runtime(n, binaries[n], args.work, args.state or args.work) for n in RUNTIME_NAMES]
    if args.cleanup_only:
        cleanup(runtimes)
        return 0

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        log("warning: could not become a child subreaper; container inits' CPU time is not counted")
    ctx = {"work": args.work, "true": os.path.join(args.work, "true"), "sleep": os.path.join(args.work, "sleep")}
    for bundle in (ctx["true"], ctx["sleep"]):
        # crun 1.8.1 accepts only ociVersion 1.0.x; the same config serves all three.
        edit_config(bundle, lambda c: c.update(ociVersion="1.0.2"))
    profile = seccomp_profile()
    ctx["seccomp_rules"] = len(profile["syscalls"])
    ctx["idle"] = derive_bundle(ctx["true"], os.path.join(args.work, "idle"),
                                lambda c: c["process"].update(args=["sleep", "3600"]))
    ctx["seccomp"] = derive_bundle(ctx["true"], os.path.join(args.work, "seccomp"),
                                   lambda c: c["linux"].update(seccomp=profile))
    ctx["lacks"] = probe_features(binaries)

    m = machine()
    versions = {n: version(b) for n, b in binaries.items()}
    log(f"{m['nproc']} CPUs, {m['cpu']}, kernel {m['kernel']}, load {m['load']}; rounds {ROUNDS}, batch rounds {BATCH_ROUNDS}")
    results, failures = {}, {}
    started = time.monotonic()
    try:
        for rt in runtimes:  # warm the page cache; not measured
            op_run(rt, ctx["true"])
        measure_all(runtimes, ctx, results, failures)
    finally:
        cleanup(runtimes)
    elapsed = time.monotonic() - started

    rows = build_rows(results, ctx, binaries, failures)
    table = markdown_table(rows, RUNTIME_NAMES)
    print(table)
    syscall_diff(results, os.path.join(args.work, "syscalls.txt"))
    with open(os.path.join(args.work, "syscalls.txt")) as f:
        log("system calls of one run, per call:\n" + "".join(f.readlines()[:40]))
    load = os.getloadavg()
    block = readme_block(table, m, versions, f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", elapsed)
    if args.readme:
        write_readme(args.readme, block)
        log(f"wrote the table into {args.readme}")
    if args.svg:
        draw_svg(args.svg, rows, RUNTIME_NAMES, m)
        log(f"drew {args.svg}")
    bad = sum(c["failures"] + c["hangs"] for c in failures.values())
    bad += sum(s.get("failures", 0) + s.get("hangs", 0) for per in results.values() for ss in per.values() for s in ss)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
