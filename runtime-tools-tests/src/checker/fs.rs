//! Checks on the container's filesystem view: mounts, masked and read-only
//! paths, devices, /dev symlinks, the root, and cgroup values.

use crate::facts::Host;
use crate::mountinfo::{self, Mount};
use crate::tap::Tap;
use serde_json::Value;
use std::os::unix::fs::{FileTypeExt, MetadataExt};

const MOUNTS: &str = "config.md#mounts";

fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(*k))
}

fn strings<'a>(v: &'a Value, path: &[&str]) -> Vec<&'a str> {
    at(v, path).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect()
}

fn read_mounts(tap: &mut Tap, section: &str) -> Option<Vec<Mount>> {
    match mountinfo::read() {
        Ok(m) => Some(m),
        Err(e) => {
            tap.check(section, "read /proc/self/mountinfo", false, e);
            None
        }
    }
}

/// A destination as the container sees it: relative paths are relative to "/".
fn absolute(dest: &str) -> String {
    let p = if dest.starts_with('/') { dest.to_string() } else { format!("/{dest}") };
    if p.len() > 1 { p.trim_end_matches('/').to_string() } else { p }
}

/// Per-mount flags the options ask for: (flag in mountinfo, wanted present).
fn wanted_flags(options: &[&str]) -> Vec<(&'static str, bool)> {
    let mut ro = None;
    let mut flags: Vec<(&'static str, Option<bool>)> =
        vec![("nosuid", None), ("nodev", None), ("noexec", None), ("noatime", None), ("nodiratime", None), ("relatime", None), ("nosymfollow", None)];
    let mut set = |name: &str, v: bool| {
        if let Some(f) = flags.iter_mut().find(|(n, _)| *n == name) {
            f.1 = Some(v);
        }
    };
    for o in options {
        // Recursive variants (rnosuid, rro, ...) set the same flag on the top mount.
        let base = match *o {
            "ro" | "rw" | "relatime" => o,
            other => other.strip_prefix('r').filter(|b| ["o", "w"].iter().all(|x| x != b)).unwrap_or(other),
        };
        let base = match (*o, base) {
            ("rro", _) => "ro",
            ("rrw", _) => "rw",
            (_, b) => b,
        };
        match base {
            "ro" => ro = Some(true),
            "rw" => ro = Some(false),
            "nosuid" => set("nosuid", true),
            "suid" => set("nosuid", false),
            "nodev" => set("nodev", true),
            "dev" => set("nodev", false),
            "noexec" => set("noexec", true),
            "exec" => set("noexec", false),
            "noatime" => {
                set("noatime", true);
                set("relatime", false);
            }
            "relatime" => {
                set("relatime", true);
                set("noatime", false);
            }
            "strictatime" => {
                set("relatime", false);
                set("noatime", false);
            }
            "nodiratime" => set("nodiratime", true),
            "diratime" => set("nodiratime", false),
            "atime" => set("noatime", false),
            "nosymfollow" => set("nosymfollow", true),
            "symfollow" => set("nosymfollow", false),
            _ => {}
        }
    }
    let mut out: Vec<(&'static str, bool)> = flags.into_iter().filter_map(|(n, v)| v.map(|v| (n, v))).collect();
    if let Some(ro) = ro {
        out.push(("ro", ro));
    }
    out
}

pub fn mounts(tap: &mut Tap, config: &Value, _: &Host) {
    let Some(table) = read_mounts(tap, MOUNTS) else { return };
    let list: Vec<&Value> = at(config, &["mounts"]).and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default();
    for (i, m) in list.iter().enumerate() {
        let Some(dest) = m.get("destination").and_then(Value::as_str) else { continue };
        let dest = absolute(dest);
        // A later entry at the same place hides this one: check only the last.
        if list[i + 1..].iter().any(|n| n.get("destination").and_then(Value::as_str).map(absolute).as_deref() == Some(dest.as_str())) {
            continue;
        }
        let Some(found) = mountinfo::top(&table, &dest) else {
            tap.check(MOUNTS, format!("{dest} is a mount point"), false, "not in mountinfo");
            continue;
        };
        tap.check(MOUNTS, format!("{dest} is a mount point"), true, "");
        let options: Vec<&str> = m.get("options").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        let bind = options.iter().any(|o| *o == "bind" || *o == "rbind");
        let ty = m.get("type").and_then(Value::as_str).unwrap_or("");
        if !bind && !ty.is_empty() && ty != "none" && ty != "cgroup" {
            tap.eq(MOUNTS, format!("{dest} has type {ty}"), found.fstype.as_str(), ty);
        }
        if ty == "cgroup" {
            continue;
        }
        for (flag, want) in wanted_flags(&options) {
            tap.check(MOUNTS, format!("{dest} {} {flag} (options {options:?})", if want { "is" } else { "is not" }), found.has(flag) == want, format!("mount options {:?}", found.options));
        }
        // Superblock flags show among the super options.
        if !bind {
            let mut sb: Vec<(&str, bool)> = Vec::new();
            for o in &options {
                match *o {
                    "sync" => sb.push(("sync", true)),
                    "async" => sb.push(("sync", false)),
                    "dirsync" => sb.push(("dirsync", true)),
                    "lazytime" => sb.push(("lazytime", true)),
                    "nolazytime" => sb.push(("lazytime", false)),
                    _ => continue,
                }
            }
            for (flag, want) in sb.iter().rev().fold(Vec::<(&str, bool)>::new(), |mut acc, (f, w)| {
                if !acc.iter().any(|(g, _)| g == f) {
                    acc.push((f, *w));
                }
                acc
            }) {
                let has = found.super_options.iter().any(|o| o == flag);
                tap.check(MOUNTS, format!("{dest} superblock {} {flag}", if want { "is" } else { "is not" }), has == want, format!("super options {:?}", found.super_options));
            }
        }
        let opt = |p: &str| found.optional.iter().any(|o| o.starts_with(p));
        for o in &options {
            let (what, ok) = match *o {
                "shared" | "rshared" => ("shared propagation", opt("shared:")),
                "private" | "rprivate" => ("private propagation", !opt("shared:") && !opt("master:") && !opt("unbindable")),
                "unbindable" | "runbindable" => ("unbindable", opt("unbindable")),
                "slave" | "rslave" => ("slave propagation", opt("master:") && !opt("shared:")),
                _ => continue,
            };
            tap.check("config.md#mounts (propagation)", format!("{dest} has {what}"), ok, format!("optional fields {:?}", found.optional));
        }
        if ty == "tmpfs" && !bind {
            // Filesystem-specific data shows in the super options: it tells
            // which of several mounts at one place ended on top.
            if let Some(n) = options.iter().find(|o| o.starts_with("nr_inodes=")) {
                tap.check(MOUNTS, format!("{dest} on top is the last listed ({n})"), found.super_options.iter().any(|o| o == n), format!("super options {:?}", found.super_options));
            }
            if let Some(mode) = options.iter().find_map(|o| o.strip_prefix("mode=")).and_then(|m| u32::from_str_radix(m, 8).ok()) {
                match std::fs::metadata(&dest) {
                    Ok(md) => tap.eq(MOUNTS, format!("{dest} root has mode={mode:o}"), format!("{:o}", md.mode() & 0o7777), format!("{mode:o}")),
                    Err(e) => tap.check(MOUNTS, format!("stat {dest}"), false, e),
                }
            }
        }
    }
}

pub fn masked_paths(tap: &mut Tap, config: &Value, _: &Host) {
    const SEC: &str = "config-linux.md#masked-paths";
    for path in strings(config, &["linux", "maskedPaths"]) {
        let md = match std::fs::metadata(path) {
            Ok(md) => md,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                tap.check(SEC, format!("{path} can be looked at"), false, e);
                continue;
            }
        };
        if md.is_dir() {
            match std::fs::read_dir(path) {
                Ok(entries) => {
                    let names: Vec<String> = entries.filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
                    tap.check(SEC, format!("{path} (a directory) is masked: empty"), names.is_empty(), format!("holds {names:?}"));
                }
                Err(e) => tap.check(SEC, format!("{path} (a directory) is masked: empty"), e.raw_os_error() == Some(libc::EACCES), e),
            }
        } else {
            match std::fs::read(path) {
                Ok(data) => tap.check(SEC, format!("{path} is masked: reads empty"), data.is_empty(), format!("read {} bytes", data.len())),
                Err(e) => tap.check(SEC, format!("{path} is masked: reads empty"), e.raw_os_error() == Some(libc::EACCES), e),
            }
        }
    }
}

pub fn readonly_paths(tap: &mut Tap, config: &Value, _: &Host) {
    const SEC: &str = "config-linux.md#readonly-paths";
    let Some(table) = read_mounts(tap, SEC) else { return };
    for path in strings(config, &["linux", "readonlyPaths"]) {
        let md = match std::fs::symlink_metadata(path) {
            Ok(md) => md,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                tap.check(SEC, format!("{path} can be looked at"), false, e);
                continue;
            }
        };
        match mountinfo::top(&table, path) {
            Some(m) => tap.check(SEC, format!("{path} is a read-only mount"), m.has("ro"), format!("options {:?}", m.options)),
            None => tap.check(SEC, format!("{path} is a read-only mount"), false, "not a mount point"),
        }
        if md.is_dir() && !path.starts_with("/proc") && !path.starts_with("/sys") {
            let probe = format!("{path}/.conformance-write-probe");
            let r = std::fs::write(&probe, b"x");
            let _ = std::fs::remove_file(&probe);
            tap.check(SEC, format!("writing under {path} fails with EROFS"), r.as_ref().err().and_then(|e| e.raw_os_error()) == Some(libc::EROFS), format!("{r:?}"));
        }
    }
}

fn check_node(tap: &mut Tap, sec: &str, path: &str, kind: &str, major: u64, minor: u64) -> Option<std::fs::Metadata> {
    let md = match std::fs::symlink_metadata(path) {
        Ok(md) => md,
        Err(e) => {
            tap.check(sec, format!("{path} exists"), false, e);
            return None;
        }
    };
    let ft = md.file_type();
    let got_kind = if ft.is_char_device() { "c" } else if ft.is_block_device() { "b" } else if ft.is_fifo() { "p" } else { "other" };
    let want_kind = if kind == "u" { "c" } else { kind };
    tap.eq(sec, format!("{path} is of type {kind}"), got_kind, want_kind);
    if want_kind != "p" {
        let (ma, mi) = (libc::major(md.rdev()), libc::minor(md.rdev()));
        tap.eq(sec, format!("{path} is {major}:{minor}"), (u64::from(ma), u64::from(mi)), (major, minor));
    }
    Some(md)
}

pub fn devices(tap: &mut Tap, config: &Value, _: &Host) {
    const SEC: &str = "config-linux.md#devices";
    for d in at(config, &["linux", "devices"]).and_then(Value::as_array).into_iter().flatten() {
        let path = d.get("path").and_then(Value::as_str).unwrap_or("?");
        let kind = d.get("type").and_then(Value::as_str).unwrap_or("?");
        let num = |k: &str| d.get(k).and_then(Value::as_u64).unwrap_or(0);
        let Some(md) = check_node(tap, SEC, path, kind, num("major"), num("minor")) else { continue };
        if let Some(mode) = d.get("fileMode").and_then(Value::as_u64) {
            tap.eq(SEC, format!("{path} has fileMode {mode:o}"), format!("{:o}", md.mode() & 0o777), format!("{:o}", mode & 0o777));
        }
        if let Some(uid) = d.get("uid").and_then(Value::as_u64) {
            tap.eq(SEC, format!("{path} is owned by uid {uid}"), u64::from(md.uid()), uid);
        }
        if let Some(gid) = d.get("gid").and_then(Value::as_u64) {
            tap.eq(SEC, format!("{path} is owned by gid {gid}"), u64::from(md.gid()), gid);
        }
    }
}

/// Whether the allowed device list lets `kind major:minor` be read: the
/// last matching entry decides, as the entries apply in order.
fn allowed(rules: &[Value], kind: &str, major: i64, minor: i64) -> bool {
    let mut ok = false;
    for r in rules {
        let ty = r.get("type").and_then(Value::as_str).unwrap_or("a");
        let num = |k: &str| r.get(k).and_then(Value::as_i64).unwrap_or(-1);
        let access = r.get("access").and_then(Value::as_str).unwrap_or("rwm");
        let matches = (ty == "a" || ty == kind) && (num("major") < 0 || num("major") == major) && (num("minor") < 0 || num("minor") == minor);
        if matches && access.contains('r') {
            ok = r.get("allow").and_then(Value::as_bool).unwrap_or(false);
        }
    }
    ok
}

pub fn device_access(tap: &mut Tap, config: &Value, _: &Host) {
    const SEC: &str = "config-linux.md#allowed-device-list";
    let rules: Vec<Value> = at(config, &["linux", "resources", "devices"]).and_then(Value::as_array).cloned().unwrap_or_default();
    for d in at(config, &["linux", "devices"]).and_then(Value::as_array).into_iter().flatten() {
        let path = d.get("path").and_then(Value::as_str).unwrap_or("?");
        let kind = d.get("type").and_then(Value::as_str).unwrap_or("c");
        let num = |k: &str| d.get(k).and_then(Value::as_i64).unwrap_or(0);
        let want = allowed(&rules, kind, num("major"), num("minor"));
        let r = std::fs::File::open(path);
        // The device cgroup answers EPERM; any other error (no driver) means
        // the open got past it.
        let denied = matches!(&r, Err(e) if e.raw_os_error() == Some(libc::EPERM));
        tap.check(SEC, format!("{path} ({kind} {}:{}) is {} by the device cgroup", num("major"), num("minor"), if want { "allowed" } else { "denied (EPERM)" }), denied != want, format!("{:?}", r.err()));
    }
}

pub fn default_devices(tap: &mut Tap, _: &Value, _: &Host) {
    const SEC: &str = "config-linux.md#default-devices";
    for (path, major, minor) in [("/dev/null", 1, 3), ("/dev/zero", 1, 5), ("/dev/full", 1, 7), ("/dev/random", 1, 8), ("/dev/urandom", 1, 9), ("/dev/tty", 5, 0)] {
        check_node(tap, SEC, path, "c", major, minor);
    }
    let usable = std::fs::OpenOptions::new().write(true).open("/dev/null").and_then(|mut f| std::io::Write::write_all(&mut f, b"x"));
    tap.check(SEC, "/dev/null can be written", usable.is_ok(), format!("{usable:?}"));
    let mut zero = [1u8; 16];
    let read = std::fs::File::open("/dev/zero").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut zero));
    tap.check(SEC, "/dev/zero reads zeros", read.is_ok() && zero == [0; 16], format!("{read:?}"));
    match std::fs::symlink_metadata("/dev/ptmx") {
        Ok(md) if md.file_type().is_symlink() => {
            let target = std::fs::read_link("/dev/ptmx").map(|t| t.to_string_lossy().into_owned()).unwrap_or_default();
            tap.check(SEC, "/dev/ptmx is a symlink to pts/ptmx", target == "pts/ptmx" || target == "/dev/pts/ptmx", format!("points to {target}"));
        }
        Ok(md) => {
            let (ma, mi) = (libc::major(md.rdev()), libc::minor(md.rdev()));
            tap.check(SEC, "/dev/ptmx is a bind mount of /dev/pts/ptmx (5:2)", md.file_type().is_char_device() && (ma, mi) == (5, 2), format!("{ma}:{mi}"));
        }
        Err(e) => tap.check(SEC, "/dev/ptmx exists", false, e),
    }
}

pub fn dev_symlinks(tap: &mut Tap, _: &Value, _: &Host) {
    const SEC: &str = "runtime-linux.md#dev-symbolic-links";
    for (dest, src) in [("/dev/fd", "/proc/self/fd"), ("/dev/stdin", "/proc/self/fd/0"), ("/dev/stdout", "/proc/self/fd/1"), ("/dev/stderr", "/proc/self/fd/2")] {
        if std::fs::symlink_metadata(src).is_err() {
            continue;
        }
        let got = std::fs::read_link(dest).map(|t| t.to_string_lossy().into_owned()).map_err(|e| e.to_string());
        tap.eq(SEC, format!("{dest} is a symlink to {src}"), got, Ok(src.to_string()));
    }
}

pub fn rootfs_readonly(tap: &mut Tap, config: &Value, _: &Host) {
    const SEC: &str = "config.md#root";
    let Some(table) = read_mounts(tap, SEC) else { return };
    let want = at(config, &["root", "readonly"]).and_then(Value::as_bool).unwrap_or(false);
    if let (Some(prop), Some(root)) = (at(config, &["linux", "rootfsPropagation"]).and_then(Value::as_str), mountinfo::top(&table, "/")) {
        let opt = |p: &str| root.optional.iter().any(|o| o.starts_with(p));
        let ok = match prop {
            "shared" => opt("shared:"),
            "slave" => opt("master:") && !opt("shared:"),
            "private" => !opt("shared:") && !opt("master:") && !opt("unbindable"),
            "unbindable" => opt("unbindable"),
            _ => false,
        };
        tap.check("config-linux.md#rootfs-mount-propagation", format!("/ has rootfsPropagation {prop}"), ok, format!("optional fields {:?}", root.optional));
    }
    match mountinfo::top(&table, "/") {
        Some(m) => tap.check(SEC, format!("/ is mounted {}", if want { "ro" } else { "rw" }), m.has("ro") == want, format!("options {:?}", m.options)),
        None => tap.check(SEC, "/ is in mountinfo", false, ""),
    }
    let probe = "/.conformance-write-probe";
    let r = std::fs::write(probe, b"x");
    let _ = std::fs::remove_file(probe);
    if want {
        tap.check(SEC, "writing to / fails with EROFS", r.as_ref().err().and_then(|e| e.raw_os_error()) == Some(libc::EROFS), format!("{r:?}"));
    } else {
        tap.check(SEC, "writing to / succeeds", r.is_ok(), format!("{r:?}"));
    }
}

/// Finds a cgroup control file of `controller` ("" for the unified
/// hierarchy) for this process through /proc/self/cgroup and mountinfo.
fn cgroup_file(table: &[Mount], controller: &str, file: &str) -> Result<String, String> {
    let text = std::fs::read_to_string("/proc/self/cgroup").map_err(|e| e.to_string())?;
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, ctrls, path) = (parts.next(), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let matches = if controller.is_empty() { ctrls.is_empty() } else { ctrls.split(',').any(|c| c == controller) };
        if !matches {
            continue;
        }
        for m in table.iter().rev() {
            let ok = if controller.is_empty() { m.fstype == "cgroup2" } else { m.fstype == "cgroup" && m.super_options.iter().any(|o| o == controller) };
            if !ok {
                continue;
            }
            let rel = path.strip_prefix(m.root.as_str()).unwrap_or(path).trim_start_matches('/');
            let candidate = if rel.is_empty() { format!("{}/{file}", m.mount_point) } else { format!("{}/{rel}/{file}", m.mount_point) };
            if std::path::Path::new(&candidate).exists() {
                return Ok(candidate);
            }
        }
    }
    Err(format!("no mounted cgroup file {file} for controller {controller:?}"))
}

fn read_cg(table: &[Mount], v1: (&str, &str), v2: &str) -> Result<String, String> {
    let path = cgroup_file(table, v1.0, v1.1).or_else(|_| cgroup_file(table, "", v2))?;
    std::fs::read_to_string(&path).map(|s| s.trim().to_string()).map_err(|e| format!("{path}: {e}"))
}

pub fn cgroups(tap: &mut Tap, config: &Value, _: &Host) {
    const SEC: &str = "config-linux.md#control-groups";
    let Some(table) = read_mounts(tap, SEC) else { return };
    if let Some(want) = at(config, &["linux", "cgroupsPath"]).and_then(Value::as_str) {
        let text = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
        let mine: Vec<&str> = text.lines().filter(|l| l.contains(":memory:") || l.starts_with("0::")).filter_map(|l| l.splitn(3, ':').nth(2)).collect();
        let ok = !mine.is_empty() && mine.iter().all(|p| *p == want || *p == "/");
        tap.check(SEC, format!("the process is in cgroupsPath {want}"), ok, format!("/proc/self/cgroup: {text:?}"));
    }
    let Some(res) = at(config, &["linux", "resources"]) else { return };
    if let Some(limit) = at(res, &["memory", "limit"]).and_then(Value::as_i64) {
        let got = read_cg(&table, ("memory", "memory.limit_in_bytes"), "memory.max");
        tap.eq("config-linux.md#memory", "memory.limit is the cgroup's limit", got, Ok(limit.to_string()));
    }
    if let Some(limit) = at(res, &["pids", "limit"]).and_then(Value::as_i64) {
        let got = read_cg(&table, ("pids", "pids.max"), "pids.max");
        tap.eq("config-linux.md#pids", "pids.limit is the cgroup's pids.max", got, Ok(limit.to_string()));
    }
    if let Some(shares) = at(res, &["cpu", "shares"]).and_then(Value::as_u64) {
        match cgroup_file(&table, "cpu", "cpu.shares") {
            Ok(path) => {
                let got = std::fs::read_to_string(&path).map(|s| s.trim().to_string()).map_err(|e| e.to_string());
                tap.eq("config-linux.md#cpu", "cpu.shares is the cgroup's cpu.shares", got, Ok(shares.to_string()));
            }
            Err(_) => {
                let weight = 1 + ((shares.saturating_sub(2)) * 9999) / 262_142;
                let got = cgroup_file(&table, "", "cpu.weight")
                    .and_then(|p| std::fs::read_to_string(&p).map(|s| s.trim().to_string()).map_err(|e| e.to_string()));
                tap.eq("config-linux.md#cpu", "cpu.shares converted to cpu.weight", got, Ok(weight.to_string()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(opts: &[&str]) -> Vec<(&'static str, bool)> {
        let mut v = wanted_flags(opts);
        v.sort();
        v
    }

    #[test]
    fn later_options_override_earlier_ones() {
        assert_eq!(flags(&["ro", "rw", "nosuid", "suid"]), vec![("nosuid", false), ("ro", false)]);
        assert_eq!(flags(&["noatime", "strictatime"]), vec![("noatime", false), ("relatime", false)]);
    }

    #[test]
    fn recursive_variants_set_the_same_flags() {
        assert_eq!(flags(&["rro", "rnosuid", "rnodev", "rrelatime"]), vec![("noatime", false), ("nodev", true), ("nosuid", true), ("relatime", true), ("ro", true)]);
        assert_eq!(flags(&["rrw", "rexec"]), vec![("noexec", false), ("ro", false)]);
    }

    #[test]
    fn relative_destinations_are_under_the_root() {
        assert_eq!(absolute("relative/dir"), "/relative/dir");
        assert_eq!(absolute("/abs/"), "/abs");
        assert_eq!(absolute("/"), "/");
    }
}
