//! Which cgroup hierarchies this host has: v1 (one mount per controller or
//! group of controllers), v2 (one unified mount), or hybrid (v1 controllers
//! plus a cgroup2 mount, usually at /sys/fs/cgroup/unified).
//!
//! `parse` is pure (mountinfo and /proc/self/cgroup text in, layout out);
//! `detect` reads the two files.

use super::CgroupError;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1Hierarchy {
    pub mountpoint: PathBuf,
    pub controllers: Vec<String>,
    /// The calling process's cgroup in this hierarchy (relative cgroupsPaths go under it).
    pub own: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unified {
    pub mountpoint: PathBuf,
    pub own: PathBuf,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    pub v1: Vec<V1Hierarchy>,
    pub unified: Option<Unified>,
}

impl Layout {
    pub fn is_pure_v2(&self) -> bool {
        self.v1.is_empty() && self.unified.is_some()
    }
}

pub fn detect() -> Result<Layout, CgroupError> {
    let read = |p: &str| crate::sys::read_proc(p).map_err(|source| CgroupError::Io { what: "reading", path: p.into(), source });
    Ok(parse(&read("/proc/self/mountinfo")?, &read("/proc/self/cgroup")?))
}

/// mountinfo fields: id parent dev root mountpoint options [optional...] - fstype source superoptions.
pub fn parse(mountinfo: &str, self_cgroup: &str) -> Layout {
    let mut layout = Layout::default();
    for line in mountinfo.lines() {
        let Some((pre, post)) = line.split_once(" - ") else { continue };
        let Some(mountpoint) = pre.split(' ').nth(4) else { continue };
        let mountpoint = unescape(mountpoint);
        let mut post = post.split(' ');
        let (fstype, _source, options) = (post.next().unwrap_or_default(), post.next(), post.next().unwrap_or_default());
        match fstype {
            "cgroup" => {
                let controllers: Vec<String> = options.split(',').filter(|o| !matches!(*o, "rw" | "ro") && !o.starts_with("name=") && !o.contains('=') && !is_mount_flag(o)).map(String::from).collect();
                // A named hierarchy without controllers (name=systemd) limits nothing.
                if controllers.is_empty() || layout.v1.iter().any(|h| h.controllers == controllers) {
                    continue;
                }
                let own = self_cgroup
                    .lines()
                    .filter_map(|l| {
                        let mut parts = l.splitn(3, ':');
                        let (_, names, path) = (parts.next()?, parts.next()?, parts.next()?);
                        names.split(',').any(|n| controllers.iter().any(|c| c == n)).then_some(path)
                    })
                    .next()
                    .unwrap_or("/");
                layout.v1.push(V1Hierarchy { mountpoint: mountpoint.into(), controllers, own: own.into() });
            }
            "cgroup2" if layout.unified.is_none() => {
                let own = self_cgroup.lines().find_map(|l| l.strip_prefix("0::")).unwrap_or("/");
                layout.unified = Some(Unified { mountpoint: mountpoint.into(), own: own.into() });
            }
            _ => {}
        }
    }
    // cpuset first: its cpus and mems must be filled in before anything joins.
    layout.v1.sort_by_key(|h| !h.controllers.iter().any(|c| c == "cpuset"));
    layout
}

fn is_mount_flag(option: &str) -> bool {
    matches!(option, "relatime" | "noatime" | "nosuid" | "nodev" | "noexec" | "clone_children" | "noprefix" | "xattr" | "cpuset_v2_mode" | "favordynmods")
}

/// mountinfo escapes space, tab, newline and backslash as \ooo.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 3 < bytes.len() && bytes[i + 1..i + 4].iter().all(|b| (b'0'..=b'7').contains(b)) {
            out.push((bytes[i + 1] - b'0') * 64 + (bytes[i + 2] - b'0') * 8 + (bytes[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Joins a cgroup path (absolute: from the hierarchy's root) under a mountpoint.
pub fn under(mountpoint: &Path, cgroup: &Path) -> PathBuf {
    mountpoint.join(cgroup.strip_prefix("/").unwrap_or(cgroup))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
    const SELF: &str = "9:name=systemd:/\n4:memory:/jobs/abc\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n0::/\n";

    #[test]
    fn hybrid_with_separate_cpu_and_cpuacct() {
        let l = parse(HYBRID, SELF);
        let names: Vec<_> = l.v1.iter().map(|h| h.controllers.join(",")).collect();
        assert_eq!(names, ["cpuset", "cpu", "cpuacct", "memory"]);
        assert_eq!(l.v1[3].own, PathBuf::from("/jobs/abc"));
        assert_eq!(l.unified.as_ref().unwrap().mountpoint, PathBuf::from("/sys/fs/cgroup/unified"));
        assert!(!l.is_pure_v2());
    }

    #[test]
    fn pure_v2_and_joined_v1_controllers() {
        let l = parse("30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n", "0::/user.slice\n");
        assert!(l.is_pure_v2());
        assert_eq!(l.unified.unwrap().own, PathBuf::from("/user.slice"));
        let l = parse("32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n", "2:cpu,cpuacct:/x\n");
        assert_eq!(l.v1[0].controllers, ["cpu", "cpuacct"]);
        assert_eq!(l.v1[0].own, PathBuf::from("/x"));
        assert_eq!(under(Path::new("/m"), Path::new("/a/b")), PathBuf::from("/m/a/b"));
        assert_eq!(unescape("/a\\040b"), "/a b");
    }
}
