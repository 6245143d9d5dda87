//! Checks on the process itself: namespaces, identity, limits, capabilities,
//! and the kernel state the config asks for.

use crate::facts::Host;
use crate::tap::Tap;
use serde_json::Value;
use std::collections::BTreeSet;
use std::ffi::CStr;
use std::os::unix::fs::MetadataExt;

const NS: &str = "config-linux.md#namespaces";
const PROCESS: &str = "config.md#process";
const USER: &str = "config.md#user";

/// Config namespace type -> name under /proc/self/ns.
pub const NS_NAMES: &[(&str, &str)] = &[
    ("pid", "pid"),
    ("network", "net"),
    ("mount", "mnt"),
    ("ipc", "ipc"),
    ("uts", "uts"),
    ("user", "user"),
    ("cgroup", "cgroup"),
    ("time", "time"),
];

fn ns_inode(name: &str) -> Result<u64, String> {
    std::fs::metadata(format!("/proc/self/ns/{name}")).map(|m| m.ino()).map_err(|e| e.to_string())
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(*k)).and_then(Value::as_str)
}

fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(*k))
}

fn status_field(name: &str) -> Result<String, String> {
    let text = std::fs::read_to_string("/proc/self/status").map_err(|e| e.to_string())?;
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(':')).map(|r| r.trim().to_string()))
        .ok_or_else(|| format!("{name} not in /proc/self/status"))
}

pub fn namespaces(tap: &mut Tap, config: &Value, host: &Host) {
    let listed: Vec<&Value> = at(config, &["linux", "namespaces"]).and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default();
    for (ty, name) in NS_NAMES {
        let Some(&runtime_ino) = host.ns.get(*name) else { continue };
        let mine = match ns_inode(name) {
            Ok(i) => i,
            Err(e) => {
                tap.check(NS, format!("{ty}: read /proc/self/ns/{name}"), false, e);
                continue;
            }
        };
        let entry = listed.iter().find(|n| n.get("type").and_then(Value::as_str) == Some(ty));
        match entry.map(|e| e.get("path").and_then(Value::as_str)) {
            None => tap.eq(NS, format!("{ty} not listed: inherits the runtime namespace"), mine, runtime_ino),
            Some(None) => tap.check(NS, format!("{ty} listed without path: a new namespace"), mine != runtime_ino, format!("inode {mine} is the runtime's")),
            Some(Some(path)) => match host.joined.get(*ty) {
                Some(&want) => tap.eq(NS, format!("{ty} path {path}: joined that namespace"), mine, want),
                None => tap.check(NS, format!("{ty} path {path}: runner did not record its inode"), false, ""),
            },
        }
    }
}

fn uname() -> Result<libc::utsname, String> {
    // SAFETY: utsname is plain old data; uname fills it.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: u is a valid, writable utsname.
    if unsafe { libc::uname(&mut u) } != 0 {
        return Err(std::io::Error::last_os_error().to_string());
    }
    Ok(u)
}

fn field(chars: &[libc::c_char]) -> String {
    // SAFETY: the kernel NUL-terminates every utsname field within its array.
    unsafe { CStr::from_ptr(chars.as_ptr()) }.to_string_lossy().into_owned()
}

pub fn hostname(tap: &mut Tap, config: &Value, _: &Host) {
    let u = match uname() {
        Ok(u) => u,
        Err(e) => return tap.check("config.md#hostname", "uname", false, e),
    };
    if let Some(h) = str_at(config, &["hostname"]) {
        tap.eq("config.md#hostname", "hostname is the configured one", field(&u.nodename), h.to_string());
    }
    if let Some(d) = str_at(config, &["domainname"]) {
        tap.eq("config.md#domainname", "domainname is the configured one", field(&u.domainname), d.to_string());
    }
}

pub fn user(tap: &mut Tap, config: &Value, _: &Host) {
    let Some(user) = at(config, &["process", "user"]) else { return };
    let uid = user.get("uid").and_then(Value::as_u64).unwrap_or(0);
    let gid = user.get("gid").and_then(Value::as_u64).unwrap_or(0);
    // SAFETY: these calls cannot fail.
    let (ruid, euid, rgid, egid) = unsafe { (libc::getuid(), libc::geteuid(), libc::getgid(), libc::getegid()) };
    tap.eq(USER, "uid (real and effective) is user.uid", (u64::from(ruid), u64::from(euid)), (uid, uid));
    tap.eq(USER, "gid (real and effective) is user.gid", (u64::from(rgid), u64::from(egid)), (gid, gid));
    let mut groups = vec![0 as libc::gid_t; 256];
    // SAFETY: the buffer holds 256 gids.
    let n = unsafe { libc::getgroups(256, groups.as_mut_ptr()) };
    if n < 0 {
        tap.check(USER, "getgroups", false, std::io::Error::last_os_error());
    } else {
        let got: BTreeSet<u64> = groups[..n as usize].iter().map(|g| u64::from(*g)).collect();
        let want: BTreeSet<u64> =
            user.get("additionalGids").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_u64).collect()).unwrap_or_default();
        let mut with_gid = want.clone();
        with_gid.insert(gid);
        let ok = got == want || got == with_gid;
        tap.check(USER, "supplementary groups are additionalGids", ok, format!("got {got:?}, want {want:?}"));
    }
    if let Some(umask) = user.get("umask").and_then(Value::as_u64) {
        match status_field("Umask").and_then(|s| u64::from_str_radix(&s, 8).map_err(|e| e.to_string())) {
            Ok(got) => tap.eq(USER, "umask is user.umask", format!("{got:04o}"), format!("{umask:04o}")),
            Err(e) => tap.check(USER, "read Umask", false, e),
        }
    }
}

pub fn cwd(tap: &mut Tap, config: &Value, _: &Host) {
    let want = str_at(config, &["process", "cwd"]).unwrap_or("/");
    match std::env::current_dir() {
        Ok(d) => tap.eq(PROCESS, "working directory is process.cwd", d.to_string_lossy().into_owned(), want.to_string()),
        Err(e) => tap.check(PROCESS, "getcwd", false, e),
    }
}

pub fn env(tap: &mut Tap, config: &Value, _: &Host) {
    let have: Vec<String> = std::env::vars_os().map(|(k, v)| format!("{}={}", k.to_string_lossy(), v.to_string_lossy())).collect();
    for e in at(config, &["process", "env"]).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
        tap.check(PROCESS, format!("environment holds {e}"), have.iter().any(|h| h == e), format!("environment: {have:?}"));
    }
}

fn rlimit_resource(name: &str) -> Option<libc::__rlimit_resource_t> {
    Some(match name {
        "RLIMIT_AS" => libc::RLIMIT_AS,
        "RLIMIT_CORE" => libc::RLIMIT_CORE,
        "RLIMIT_CPU" => libc::RLIMIT_CPU,
        "RLIMIT_DATA" => libc::RLIMIT_DATA,
        "RLIMIT_FSIZE" => libc::RLIMIT_FSIZE,
        "RLIMIT_LOCKS" => libc::RLIMIT_LOCKS,
        "RLIMIT_MEMLOCK" => libc::RLIMIT_MEMLOCK,
        "RLIMIT_MSGQUEUE" => libc::RLIMIT_MSGQUEUE,
        "RLIMIT_NICE" => libc::RLIMIT_NICE,
        "RLIMIT_NOFILE" => libc::RLIMIT_NOFILE,
        "RLIMIT_NPROC" => libc::RLIMIT_NPROC,
        "RLIMIT_RSS" => libc::RLIMIT_RSS,
        "RLIMIT_RTPRIO" => libc::RLIMIT_RTPRIO,
        "RLIMIT_RTTIME" => libc::RLIMIT_RTTIME,
        "RLIMIT_SIGPENDING" => libc::RLIMIT_SIGPENDING,
        "RLIMIT_STACK" => libc::RLIMIT_STACK,
        _ => return None,
    })
}

pub fn rlimits(tap: &mut Tap, config: &Value, _: &Host) {
    for r in at(config, &["process", "rlimits"]).and_then(Value::as_array).into_iter().flatten() {
        let ty = r.get("type").and_then(Value::as_str).unwrap_or("?");
        let Some(res) = rlimit_resource(ty) else {
            tap.check(PROCESS, format!("{ty}: known to the checker"), false, "");
            continue;
        };
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: lim is a valid rlimit to fill.
        if unsafe { libc::getrlimit(res, &mut lim) } != 0 {
            tap.check(PROCESS, format!("getrlimit({ty}) succeeds"), false, std::io::Error::last_os_error());
            continue;
        }
        let soft = r.get("soft").and_then(Value::as_u64).unwrap_or(0);
        let hard = r.get("hard").and_then(Value::as_u64).unwrap_or(0);
        tap.eq(PROCESS, format!("{ty}: rlim_cur matches soft"), lim.rlim_cur, soft);
        tap.eq(PROCESS, format!("{ty}: rlim_max matches hard"), lim.rlim_max, hard);
    }
}

pub const CAPS: &[&str] = &[
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
    "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
    "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
    "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
];

fn cap_mask(config: &Value, set: &str) -> u64 {
    at(config, &["process", "capabilities", set])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|n| CAPS.iter().position(|c| *c == n))
        .fold(0, |m, bit| m | (1u64 << bit))
}

fn cap_names(mask: u64) -> Vec<&'static str> {
    CAPS.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, n)| *n).collect()
}

pub fn capabilities(tap: &mut Tap, config: &Value, _: &Host) {
    const SEC: &str = "config.md#linux-process";
    let bounding = cap_mask(config, "bounding");
    let inheritable = cap_mask(config, "inheritable");
    let ambient = cap_mask(config, "ambient");
    // The runtime sets the sets before execve; what the program sees follows
    // the kernel's execve rules (capabilities(7)) for a file without file caps.
    let uid = at(config, &["process", "user", "uid"]).and_then(Value::as_u64).unwrap_or(0);
    let nnp = at(config, &["process", "noNewPrivileges"]).and_then(Value::as_bool).unwrap_or(false);
    let (permitted, effective) = if uid == 0 {
        let mut p = bounding | inheritable | ambient;
        if nnp {
            // With no_new_privs execve cannot gain what was not permitted.
            p &= cap_mask(config, "permitted") | ambient;
        }
        (p, p)
    } else {
        (ambient, ambient)
    };
    let want = [("CapBnd", bounding), ("CapInh", inheritable), ("CapAmb", ambient), ("CapPrm", permitted), ("CapEff", effective)];
    for (field, want) in want {
        match status_field(field).and_then(|s| u64::from_str_radix(&s, 16).map_err(|e| e.to_string())) {
            Ok(got) => {
                let ok = got == want;
                tap.check(SEC, format!("{field} follows capabilities (after execve as uid {uid})"), ok, format!("got {:?}, want {:?}", cap_names(got), cap_names(want)));
            }
            Err(e) => tap.check(SEC, format!("read {field}"), false, e),
        }
    }
}

pub fn no_new_privs(tap: &mut Tap, config: &Value, host: &Host) {
    let want = match at(config, &["process", "noNewPrivileges"]).and_then(Value::as_bool) {
        Some(true) => 1,
        _ => host.no_new_privs,
    };
    match status_field("NoNewPrivs") {
        Ok(got) => tap.eq("config.md#linux-process", "NoNewPrivs follows noNewPrivileges", got, want.to_string()),
        Err(e) => tap.check("config.md#linux-process", "read NoNewPrivs", false, e),
    }
}

pub fn oom_score_adj(tap: &mut Tap, config: &Value, host: &Host) {
    let (want, what) = match at(config, &["process", "oomScoreAdj"]).and_then(Value::as_i64) {
        Some(v) => (v, "If oomScoreAdj is set, the runtime MUST set oom_score_adj to the given value"),
        None => (host.oom_score_adj, "If oomScoreAdj is not set, the runtime MUST NOT change the value of oom_score_adj"),
    };
    match std::fs::read_to_string("/proc/self/oom_score_adj").map_err(|e| e.to_string()).and_then(|s| s.trim().parse::<i64>().map_err(|e| e.to_string())) {
        Ok(got) => tap.eq("config.md#linux-process", what, got, want),
        Err(e) => tap.check("config.md#linux-process", "read oom_score_adj", false, e),
    }
}

pub fn sysctl(tap: &mut Tap, config: &Value, _: &Host) {
    let Some(map) = at(config, &["linux", "sysctl"]).and_then(Value::as_object) else { return };
    for (key, value) in map {
        let path = format!("/proc/sys/{}", key.replace('.', "/"));
        let want = value.as_str().unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ");
        match std::fs::read_to_string(&path) {
            Ok(got) => tap.eq("config-linux.md#sysctl", format!("{key} is set"), got.split_whitespace().collect::<Vec<_>>().join(" "), want),
            Err(e) => tap.check("config-linux.md#sysctl", format!("read {path}"), false, e),
        }
    }
}

pub fn id_mappings(tap: &mut Tap, config: &Value, _: &Host) {
    for (key, file) in [("uidMappings", "uid_map"), ("gidMappings", "gid_map")] {
        let Some(want) = at(config, &["linux", key]).and_then(Value::as_array) else { continue };
        let want: BTreeSet<(u64, u64, u64)> = want
            .iter()
            .map(|m| {
                let f = |k: &str| m.get(k).and_then(Value::as_u64).unwrap_or(u64::MAX);
                (f("containerID"), f("hostID"), f("size"))
            })
            .collect();
        match std::fs::read_to_string(format!("/proc/self/{file}")) {
            Ok(text) => {
                let got: BTreeSet<(u64, u64, u64)> = text
                    .lines()
                    .filter_map(|l| {
                        let v: Vec<u64> = l.split_whitespace().filter_map(|x| x.parse().ok()).collect();
                        (v.len() == 3).then(|| (v[0], v[1], v[2]))
                    })
                    .collect();
                tap.eq("config-linux.md#user-namespace-mappings", format!("/proc/self/{file} is {key}"), got, want);
            }
            Err(e) => tap.check("config-linux.md#user-namespace-mappings", format!("read /proc/self/{file}"), false, e),
        }
    }
}

pub fn time_offsets(tap: &mut Tap, config: &Value, _: &Host) {
    let Some(offsets) = at(config, &["linux", "timeOffsets"]).and_then(Value::as_object) else { return };
    let text = match std::fs::read_to_string("/proc/self/timens_offsets") {
        Ok(t) => t,
        Err(e) => return tap.check("config-linux.md#offset-for-time-namespace", "read timens_offsets", false, e),
    };
    for (clock, v) in offsets {
        let secs = v.get("secs").and_then(Value::as_i64).unwrap_or(0);
        let nanos = v.get("nanosecs").and_then(Value::as_u64).unwrap_or(0);
        let got = text.lines().find(|l| l.split_whitespace().next() == Some(clock.as_str())).map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "));
        tap.eq("config-linux.md#offset-for-time-namespace", format!("{clock} offset"), got, Some(format!("{secs} {nanos}")));
    }
}

pub fn personality(tap: &mut Tap, config: &Value, _: &Host) {
    let Some(domain) = str_at(config, &["linux", "personality", "domain"]) else { return };
    let want = match domain {
        "LINUX" => 0,
        "LINUX32" => 8,
        other => return tap.check("config-linux.md#personality", format!("domain {other} known to the checker"), false, ""),
    };
    // SAFETY: 0xffffffff only queries the current persona.
    let got = unsafe { libc::personality(0xffff_ffff) };
    tap.eq("config-linux.md#personality", format!("execution domain is {domain}"), got & 0xff, want);
}

pub fn seccomp(tap: &mut Tap, config: &Value, _: &Host) {
    const SEC: &str = "config-linux.md#seccomp";
    let Some(sc) = at(config, &["linux", "seccomp"]) else { return };
    match status_field("Seccomp") {
        Ok(mode) => tap.eq(SEC, "a seccomp filter is installed (Seccomp: 2)", mode, "2".to_string()),
        Err(e) => tap.check(SEC, "read Seccomp", false, e),
    }
    for rule in sc.get("syscalls").and_then(Value::as_array).into_iter().flatten() {
        let names: Vec<&str> = rule.get("names").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        if !names.contains(&"kcmp") || rule.get("action").and_then(Value::as_str) != Some("SCMP_ACT_ERRNO") {
            continue;
        }
        let want = rule.get("errnoRet").and_then(Value::as_i64).unwrap_or(i64::from(libc::EPERM));
        // SAFETY: kcmp with these arguments only compares; the filter should answer first.
        let r = unsafe { libc::syscall(libc::SYS_kcmp, 0, 0, 0, 0, 0) };
        let errno = std::io::Error::last_os_error().raw_os_error().map(i64::from);
        tap.eq(SEC, "kcmp fails with the rule's errnoRet", (r, errno), (-1, Some(want)));
    }
}
