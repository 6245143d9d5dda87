//! PURE: a mount's `options` as runc reads them: flags to set, flags to
//! clear, propagation, and the rest passed to the filesystem as data.

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MountOptions {
    pub flags: libc::c_ulong,
    pub clear: libc::c_ulong,
    pub propagation: Vec<libc::c_ulong>,
    pub data: Vec<String>,
}

impl MountOptions {
    pub fn is_bind(&self) -> bool {
        self.flags & libc::MS_BIND != 0
    }

    pub fn data(&self) -> String {
        self.data.join(",")
    }
}

/// (name, set?, flag): `set` false means the option clears the flag.
const FLAGS: &[(&str, bool, libc::c_ulong)] = &[
    ("async", false, libc::MS_SYNCHRONOUS),
    ("atime", false, libc::MS_NOATIME),
    ("bind", true, libc::MS_BIND),
    ("defaults", false, 0),
    ("dev", false, libc::MS_NODEV),
    ("diratime", false, libc::MS_NODIRATIME),
    ("dirsync", true, libc::MS_DIRSYNC),
    ("exec", false, libc::MS_NOEXEC),
    ("lazytime", true, libc::MS_LAZYTIME),
    ("mand", true, libc::MS_MANDLOCK),
    ("noatime", true, libc::MS_NOATIME),
    ("nodev", true, libc::MS_NODEV),
    ("nodiratime", true, libc::MS_NODIRATIME),
    ("noexec", true, libc::MS_NOEXEC),
    ("nomand", false, libc::MS_MANDLOCK),
    ("norelatime", false, libc::MS_RELATIME),
    ("nostrictatime", false, libc::MS_STRICTATIME),
    ("nosuid", true, libc::MS_NOSUID),
    ("nosymfollow", true, 256),
    ("rbind", true, libc::MS_BIND | libc::MS_REC),
    ("relatime", true, libc::MS_RELATIME),
    ("remount", true, libc::MS_REMOUNT),
    ("ro", true, libc::MS_RDONLY),
    ("rw", false, libc::MS_RDONLY),
    ("silent", true, libc::MS_SILENT),
    ("strictatime", true, libc::MS_STRICTATIME),
    ("suid", false, libc::MS_NOSUID),
    ("sync", true, libc::MS_SYNCHRONOUS),
];

const PROPAGATION: &[(&str, libc::c_ulong)] = &[
    ("private", libc::MS_PRIVATE),
    ("rprivate", libc::MS_PRIVATE | libc::MS_REC),
    ("shared", libc::MS_SHARED),
    ("rshared", libc::MS_SHARED | libc::MS_REC),
    ("slave", libc::MS_SLAVE),
    ("rslave", libc::MS_SLAVE | libc::MS_REC),
    ("unbindable", libc::MS_UNBINDABLE),
    ("runbindable", libc::MS_UNBINDABLE | libc::MS_REC),
];

/// The propagation flag for a name such as "rslave".
pub fn propagation(name: &str) -> Option<libc::c_ulong> {
    PROPAGATION.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// Every option name hull interprets itself, for `features`.
pub fn known_options() -> impl Iterator<Item = &'static str> {
    FLAGS.iter().map(|(n, _, _)| *n).chain(PROPAGATION.iter().map(|(n, _)| *n))
}

pub fn parse(options: &[String]) -> MountOptions {
    let mut parsed = MountOptions::default();
    for option in options {
        if let Some((_, set, flag)) = FLAGS.iter().find(|(n, _, _)| n == option) {
            if *set {
                parsed.flags |= flag;
                parsed.clear &= !flag;
            } else {
                parsed.flags &= !flag;
                parsed.clear |= flag;
            }
        } else if let Some(flag) = propagation(option) {
            parsed.propagation.push(flag);
        } else {
            parsed.data.push(option.clone());
        }
    }
    parsed
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
        assert_ne!(o.clear & libc::MS_RDONLY, 0);
        assert!(opts(&["rbind"]).is_bind());
    }
}
