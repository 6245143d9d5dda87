//! Facts about this host that decide skips and what the checker expects.

use serde::Serialize;
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;

/// Handed to the checker as host.json (see the checker's facts.rs).
#[derive(Serialize, Clone, Default)]
pub struct Facts {
    pub ns: BTreeMap<String, u64>,
    pub joined: BTreeMap<String, u64>,
    pub oom_score_adj: i64,
    pub no_new_privs: u32,
}

pub struct Host {
    pub facts: Facts,
    pub bounding: u64,
    pub nofile_hard: u64,
    pub apparmor: bool,
    pub selinux: bool,
    pub systemd: bool,
    pub time_ns: bool,
}

const CAP_SYS_RESOURCE: u64 = 24;

fn status_field(name: &str) -> Option<String> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    text.lines().find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(':')).map(|r| r.trim().to_string()))
}

impl Host {
    pub fn probe() -> Host {
        let mut ns = BTreeMap::new();
        for name in ["pid", "net", "mnt", "ipc", "uts", "user", "cgroup", "time"] {
            if let Ok(md) = std::fs::metadata(format!("/proc/self/ns/{name}")) {
                ns.insert(name.to_string(), md.ino());
            }
        }
        let oom_score_adj = std::fs::read_to_string("/proc/self/oom_score_adj").ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0);
        let no_new_privs = status_field("NoNewPrivs").and_then(|s| s.parse().ok()).unwrap_or(0);
        let bounding = status_field("CapBnd").and_then(|s| u64::from_str_radix(&s, 16).ok()).unwrap_or(0);
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: lim is a valid rlimit to fill.
        let nofile_hard = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 { lim.rlim_max } else { 0 };
        let apparmor = std::fs::read_to_string("/sys/module/apparmor/parameters/enabled").map(|s| s.trim() == "Y").unwrap_or(false)
            && std::path::Path::new("/sys/kernel/security/apparmor").exists();
        let selinux = std::path::Path::new("/sys/fs/selinux/enforce").exists();
        let systemd = std::path::Path::new("/run/systemd/system").exists();
        let time_ns = ns.contains_key("time");
        Host {
            facts: Facts { ns, joined: BTreeMap::new(), oom_score_adj, no_new_privs },
            bounding,
            nofile_hard,
            apparmor,
            selinux,
            systemd,
            time_ns,
        }
    }

    pub fn has_sys_resource(&self) -> bool {
        self.bounding & (1 << CAP_SYS_RESOURCE) != 0
    }
}
