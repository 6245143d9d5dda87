//! PURE: a mount's `options` as runc 1.1 reads them: mount(2) flags to set
//! or clear, propagation changes, recursive attributes for mount_setattr,
//! the idmap and tmpcopyup extensions, and the rest passed to the filesystem
//! as data.

use libc::c_ulong;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MountOptions {
    /// MS_* flags the options set (bind, rec, remount and the per-mount ones).
    pub flags: c_ulong,
    /// MS_* flags the options explicitly clear ("rw", "suid", "atime"...).
    pub cleared: c_ulong,
    /// Whether an access-time option was given at all.
    pub atime_given: bool,
    /// Propagation changes, in order (MS_SHARED... with MS_REC for the r* forms).
    pub propagation: Vec<c_ulong>,
    /// Attributes mount_setattr applies with AT_RECURSIVE (rro, rnosuid...).
    pub recursive: AttrChange,
    pub idmap: Option<Idmap>,
    pub tmpcopyup: bool,
    /// Options hull does not interpret: the filesystem's own, passed as data.
    pub data: Vec<String>,
}

/// MOUNT_ATTR_* bits to set and to clear.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct AttrChange {
    pub set: u64,
    pub clear: u64,
}

impl AttrChange {
    pub fn is_empty(&self) -> bool {
        self.set == 0 && self.clear == 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idmap {
    /// `idmap`: the top mount only.
    Top,
    /// `ridmap`: every mount of an rbind.
    Recursive,
}

/// (name, clears?, flag): runc 1.1's table.
const FLAGS: &[(&str, bool, c_ulong)] = &[
    ("async", true, libc::MS_SYNCHRONOUS),
    ("atime", true, libc::MS_NOATIME),
    ("bind", false, libc::MS_BIND),
    ("defaults", false, 0),
    ("dev", true, libc::MS_NODEV),
    ("diratime", true, libc::MS_NODIRATIME),
    ("dirsync", false, libc::MS_DIRSYNC),
    ("exec", true, libc::MS_NOEXEC),
    ("iversion", false, libc::MS_I_VERSION),
    ("lazytime", false, libc::MS_LAZYTIME),
    ("loud", true, libc::MS_SILENT),
    ("mand", false, libc::MS_MANDLOCK),
    ("noatime", false, libc::MS_NOATIME),
    ("nodev", false, libc::MS_NODEV),
    ("nodiratime", false, libc::MS_NODIRATIME),
    ("noexec", false, libc::MS_NOEXEC),
    ("noiversion", true, libc::MS_I_VERSION),
    ("nolazytime", true, libc::MS_LAZYTIME),
    ("nomand", true, libc::MS_MANDLOCK),
    ("norelatime", true, libc::MS_RELATIME),
    ("nostrictatime", true, libc::MS_STRICTATIME),
    ("nosuid", false, libc::MS_NOSUID),
    ("nosymfollow", false, libc::MS_NOSYMFOLLOW),
    ("rbind", false, libc::MS_BIND | libc::MS_REC),
    ("relatime", false, libc::MS_RELATIME),
    ("remount", false, libc::MS_REMOUNT),
    ("ro", false, libc::MS_RDONLY),
    ("rw", true, libc::MS_RDONLY),
    ("silent", false, libc::MS_SILENT),
    ("strictatime", false, libc::MS_STRICTATIME),
    ("suid", true, libc::MS_NOSUID),
    ("symfollow", true, libc::MS_NOSYMFOLLOW),
    ("sync", false, libc::MS_SYNCHRONOUS),
];

const ATIME_MODES: c_ulong = libc::MS_NOATIME | libc::MS_RELATIME | libc::MS_STRICTATIME;

const ATIME_OPTIONS: &[&str] = &["atime", "noatime", "relatime", "norelatime", "strictatime", "nostrictatime"];

const PROPAGATION: &[(&str, c_ulong)] = &[
    ("private", libc::MS_PRIVATE),
    ("rprivate", libc::MS_PRIVATE | libc::MS_REC),
    ("shared", libc::MS_SHARED),
    ("rshared", libc::MS_SHARED | libc::MS_REC),
    ("slave", libc::MS_SLAVE),
    ("rslave", libc::MS_SLAVE | libc::MS_REC),
    ("unbindable", libc::MS_UNBINDABLE),
    ("runbindable", libc::MS_UNBINDABLE | libc::MS_REC),
];

/// (name, clears?, MOUNT_ATTR_*): runc 1.1's recursive table, applied with mount_setattr.
const RECURSIVE: &[(&str, bool, u64)] = &[
    ("rro", false, libc::MOUNT_ATTR_RDONLY),
    ("rrw", true, libc::MOUNT_ATTR_RDONLY),
    ("rnosuid", false, libc::MOUNT_ATTR_NOSUID),
    ("rsuid", true, libc::MOUNT_ATTR_NOSUID),
    ("rnodev", false, libc::MOUNT_ATTR_NODEV),
    ("rdev", true, libc::MOUNT_ATTR_NODEV),
    ("rnoexec", false, libc::MOUNT_ATTR_NOEXEC),
    ("rexec", true, libc::MOUNT_ATTR_NOEXEC),
    ("rnodiratime", false, libc::MOUNT_ATTR_NODIRATIME),
    ("rdiratime", true, libc::MOUNT_ATTR_NODIRATIME),
    ("rrelatime", false, libc::MOUNT_ATTR_RELATIME),
    ("rnorelatime", true, libc::MOUNT_ATTR_RELATIME),
    ("rnoatime", false, libc::MOUNT_ATTR_NOATIME),
    ("ratime", true, libc::MOUNT_ATTR_NOATIME),
    ("rstrictatime", false, libc::MOUNT_ATTR_STRICTATIME),
    ("rnostrictatime", true, libc::MOUNT_ATTR_STRICTATIME),
    ("rnosymfollow", false, libc::MOUNT_ATTR_NOSYMFOLLOW),
    ("rsymfollow", true, libc::MOUNT_ATTR_NOSYMFOLLOW),
];

const EXTENSIONS: &[&str] = &["idmap", "ridmap", "tmpcopyup"];

/// The per-mount attributes mount(2) flags stand for (MS_RELATIME is attribute 0).
const MS_TO_ATTR: &[(c_ulong, u64)] = &[
    (libc::MS_RDONLY, libc::MOUNT_ATTR_RDONLY),
    (libc::MS_NOSUID, libc::MOUNT_ATTR_NOSUID),
    (libc::MS_NODEV, libc::MOUNT_ATTR_NODEV),
    (libc::MS_NOEXEC, libc::MOUNT_ATTR_NOEXEC),
    (libc::MS_NOATIME, libc::MOUNT_ATTR_NOATIME),
    (libc::MS_STRICTATIME, libc::MOUNT_ATTR_STRICTATIME),
    (libc::MS_NODIRATIME, libc::MOUNT_ATTR_NODIRATIME),
    (libc::MS_NOSYMFOLLOW, libc::MOUNT_ATTR_NOSYMFOLLOW),
];

const ALL_PER_MOUNT_ATTRS: u64 = libc::MOUNT_ATTR_RDONLY
    | libc::MOUNT_ATTR_NOSUID
    | libc::MOUNT_ATTR_NODEV
    | libc::MOUNT_ATTR_NOEXEC
    | libc::MOUNT_ATTR__ATIME
    | libc::MOUNT_ATTR_NODIRATIME
    | libc::MOUNT_ATTR_NOSYMFOLLOW;

/// Every option name hull interprets itself, for `features`.
pub fn known_options() -> impl Iterator<Item = &'static str> {
    FLAGS
        .iter()
        .map(|(n, _, _)| *n)
        .chain(PROPAGATION.iter().map(|(n, _)| *n))
        .chain(RECURSIVE.iter().map(|(n, _, _)| *n))
        .chain(EXTENSIONS.iter().copied())
}

/// The propagation flag for a name such as "rslave".
pub fn propagation(name: &str) -> Option<c_ulong> {
    PROPAGATION.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

pub fn parse(options: &[String]) -> MountOptions {
    let mut parsed = MountOptions::default();
    for option in options {
        let option = option.as_str();
        if let Some((_, clears, flag)) = FLAGS.iter().find(|(n, _, _)| *n == option) {
            if *clears {
                parsed.flags &= !flag;
                parsed.cleared |= flag;
            } else {
                // The access-time modes are one field: a later mode replaces an earlier one.
                if flag & ATIME_MODES != 0 {
                    parsed.flags &= !ATIME_MODES;
                }
                parsed.flags |= flag;
                parsed.cleared &= !flag;
            }
            parsed.atime_given |= ATIME_OPTIONS.contains(&option);
        } else if let Some(flag) = propagation(option) {
            parsed.propagation.push(flag);
        } else if let Some((_, clears, attr)) = RECURSIVE.iter().find(|(n, _, _)| *n == option) {
            if *clears && attr & libc::MOUNT_ATTR__ATIME == *attr {
                // The access-time modes are one field, cleared whole (a partial clear is
                // EINVAL): "ratime" and the like fall back to relatime, as "atime" does.
                parsed.recursive.clear |= libc::MOUNT_ATTR__ATIME;
                parsed.recursive.set &= !libc::MOUNT_ATTR__ATIME;
            } else if *clears {
                parsed.recursive.clear |= attr;
            } else {
                parsed.recursive.set |= attr;
                // mount_setattr(2): an access-time mode is set only together with clearing MOUNT_ATTR__ATIME.
                if attr & libc::MOUNT_ATTR__ATIME == *attr {
                    parsed.recursive.clear |= libc::MOUNT_ATTR__ATIME;
                }
            }
        } else {
            match option {
                "idmap" => parsed.idmap = Some(Idmap::Top),
                "ridmap" => parsed.idmap = Some(Idmap::Recursive),
                "tmpcopyup" => parsed.tmpcopyup = true,
                _ => parsed.data.push(option.to_string()),
            }
        }
    }
    parsed
}

/// The MOUNT_ATTR_* of mount(2) flags; no atime flag means relatime, as with mount(2).
pub(super) fn per_mount_attrs(flags: c_ulong) -> u64 {
    MS_TO_ATTR.iter().filter(|(ms, _)| flags & ms != 0).fold(0, |acc, (_, attr)| acc | attr)
}

impl MountOptions {
    pub fn is_bind(&self) -> bool {
        self.flags & libc::MS_BIND != 0
    }

    pub fn is_recursive_bind(&self) -> bool {
        self.flags & (libc::MS_BIND | libc::MS_REC) == libc::MS_BIND | libc::MS_REC
    }

    pub fn data(&self) -> String {
        self.data.join(",")
    }

    /// For a bind mount: the attributes of runc's remount (MS_BIND|MS_REMOUNT|flags),
    /// or None when the options hold no per-mount flag and runc would not remount.
    /// Like that remount, flags the options do not name are cleared.
    pub fn bind_remount(&self) -> Option<AttrChange> {
        if self.flags & !(libc::MS_BIND | libc::MS_REC | libc::MS_REMOUNT) == 0 {
            return None;
        }
        let set = per_mount_attrs(self.flags);
        Some(AttrChange { set, clear: ALL_PER_MOUNT_ATTRS & !(set & !libc::MOUNT_ATTR__ATIME) })
    }

    /// The same remount when some flags are locked (a mount from a more privileged
    /// user namespace): only what the options name changes, the rest is kept.
    pub fn bind_remount_keeping_locked(&self) -> AttrChange {
        let mut set = per_mount_attrs(self.flags);
        let mut clear = per_mount_attrs(self.cleared) & !libc::MOUNT_ATTR__ATIME;
        if self.atime_given {
            clear |= libc::MOUNT_ATTR__ATIME;
        } else {
            set &= !libc::MOUNT_ATTR__ATIME;
        }
        AttrChange { set, clear }
    }
}

/// A relative bind source is relative to the bundle (config.md "Mounts").
pub fn absolute_source(source: &str, bundle: &std::path::Path) -> Option<std::path::PathBuf> {
    if source.starts_with('/') { None } else { Some(bundle.join(source)) }
}

/// runc's CVE-2019-19921 rule for a destination inside /proc: only a few files
/// lxcfs emulates may be covered; `/proc` itself only by a procfs.
pub fn allowed_under_proc(clean_destination: &str) -> bool {
    const LXCFS: &[&str] = &[
        "/proc/cpuinfo",
        "/proc/diskstats",
        "/proc/meminfo",
        "/proc/stat",
        "/proc/swaps",
        "/proc/uptime",
        "/proc/loadavg",
        "/proc/slabinfo",
        "/proc/net/dev",
        "/proc/sys/kernel/ns_last_pid",
    ];
    LXCFS.contains(&clean_destination)
}

/// `destination` with `.`, `..` and repeated slashes folded, as an absolute path.
pub fn clean(destination: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in destination.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(list: &[&str]) -> MountOptions {
        parse(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn flags_data_and_propagation() {
        let o = opts(&["nosuid", "noexec", "nodev", "mode=755", "size=65536k", "rprivate"]);
        assert_eq!(o.flags, libc::MS_NOSUID | libc::MS_NOEXEC | libc::MS_NODEV);
        assert_eq!(o.data(), "mode=755,size=65536k");
        assert_eq!(o.propagation, [libc::MS_PRIVATE | libc::MS_REC]);
    }

    #[test]
    fn later_options_win() {
        let o = opts(&["ro", "rw"]);
        assert_eq!(o.flags & libc::MS_RDONLY, 0);
        assert_ne!(o.cleared & libc::MS_RDONLY, 0);
        assert!(opts(&["rbind"]).is_recursive_bind());
        assert!(!opts(&["bind"]).is_recursive_bind());
    }

    #[test]
    fn every_runc_flag_is_known() {
        for name in ["async", "atime", "dev", "diratime", "dirsync", "exec", "iversion", "lazytime", "loud", "mand", "noatime", "nodev", "nodiratime",
            "noexec", "noiversion", "nolazytime", "nomand", "norelatime", "nostrictatime", "nosuid", "nosymfollow", "relatime", "remount", "ro", "rw",
            "silent", "strictatime", "suid", "symfollow", "sync", "defaults"] {
            assert!(opts(&[name]).data.is_empty(), "{name} went to data");
        }
        assert_eq!(opts(&["nosymfollow"]).flags, libc::MS_NOSYMFOLLOW);
        assert_eq!(opts(&["lazytime", "nolazytime"]).flags, 0);
    }

    #[test]
    fn recursive_attributes() {
        let o = opts(&["rbind", "rro", "rnosuid", "rexec"]);
        assert_eq!(o.recursive.set, libc::MOUNT_ATTR_RDONLY | libc::MOUNT_ATTR_NOSUID);
        assert_eq!(o.recursive.clear, libc::MOUNT_ATTR_NOEXEC);
        assert_eq!(o.flags, libc::MS_BIND | libc::MS_REC, "recursive options are not mount(2) flags");
        let last_wins = opts(&["noatime", "strictatime"]);
        assert_eq!(last_wins.flags & ATIME_MODES, libc::MS_STRICTATIME);
        assert_eq!(opts(&["strictatime", "relatime", "noatime"]).flags & ATIME_MODES, libc::MS_NOATIME);
        let atime = opts(&["rnoatime"]);
        assert_eq!(atime.recursive.set, libc::MOUNT_ATTR_NOATIME);
        assert_eq!(atime.recursive.clear, libc::MOUNT_ATTR__ATIME, "an atime mode must clear the atime field");
        let back = opts(&["rnoatime", "ratime"]);
        assert_eq!((back.recursive.set, back.recursive.clear), (0, libc::MOUNT_ATTR__ATIME), "ratime clears the whole field");
    }

    #[test]
    fn extensions_are_not_data() {
        let o = opts(&["rbind", "ridmap", "tmpcopyup"]);
        assert_eq!(o.idmap, Some(Idmap::Recursive));
        assert!(o.tmpcopyup);
        assert!(o.data.is_empty());
        assert_eq!(opts(&["idmap"]).idmap, Some(Idmap::Top));
    }

    #[test]
    fn bind_remount_clears_what_is_not_named() {
        assert_eq!(opts(&["rbind", "rprivate"]).bind_remount(), None);
        assert_eq!(opts(&["bind", "rw"]).bind_remount(), None, "runc does not remount for rw alone");
        let ro = opts(&["rbind", "ro"]).bind_remount().unwrap();
        assert_eq!(ro.set, libc::MOUNT_ATTR_RDONLY);
        assert_ne!(ro.clear & libc::MOUNT_ATTR_NOSUID, 0);
        assert_ne!(ro.clear & libc::MOUNT_ATTR__ATIME, 0, "relatime, the default, replaces the atime mode");
        assert_eq!(ro.clear & libc::MOUNT_ATTR_RDONLY, 0);
        let noatime = opts(&["bind", "noatime"]).bind_remount().unwrap();
        assert_eq!(noatime.set, libc::MOUNT_ATTR_NOATIME);
        assert_ne!(noatime.clear & libc::MOUNT_ATTR__ATIME, 0);
    }

    #[test]
    fn bind_remount_keeping_locked_changes_only_named_flags() {
        let kept = opts(&["rbind", "ro", "exec"]).bind_remount_keeping_locked();
        assert_eq!(kept.set, libc::MOUNT_ATTR_RDONLY);
        assert_eq!(kept.clear, libc::MOUNT_ATTR_NOEXEC);
        let atime = opts(&["bind", "ro", "noatime"]).bind_remount_keeping_locked();
        assert_eq!(atime.set, libc::MOUNT_ATTR_RDONLY | libc::MOUNT_ATTR_NOATIME);
        assert_eq!(atime.clear, libc::MOUNT_ATTR__ATIME);
    }

    #[test]
    fn proc_rules_and_cleaning() {
        assert_eq!(clean("/proc/./sys/../meminfo"), "/proc/meminfo");
        assert_eq!(clean("data//x/"), "/data/x");
        assert_eq!(clean("/../../etc"), "/etc");
        assert!(allowed_under_proc("/proc/meminfo"));
        assert!(!allowed_under_proc("/proc/sys/kernel/core_pattern"));
        assert_eq!(absolute_source("vol", std::path::Path::new("/b")), Some("/b/vol".into()));
        assert_eq!(absolute_source("/vol", std::path::Path::new("/b")), None);
    }
}
