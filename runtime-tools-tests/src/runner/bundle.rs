//! Bundles: a busybox rootfs (the layout of hack/mkbundle.sh) with the
//! checker in /conformance, and a config.json generated here, so the suite
//! needs no runtime's `spec` to make one.

use crate::host::Facts;
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{what} {path}: {source}")]
    Io { what: &'static str, path: PathBuf, source: std::io::Error },
    #[error("busybox at {0} is not usable (needs busybox-static)")]
    Busybox(PathBuf),
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> BundleError {
    let path = path.to_path_buf();
    move |source| BundleError::Io { what, path, source }
}

/// Where the pieces of every rootfs come from.
pub struct Template {
    pub busybox: PathBuf,
    pub applets: Vec<String>,
    pub checker: PathBuf,
}

impl Template {
    pub fn new(busybox: PathBuf, checker: PathBuf) -> Result<Template, BundleError> {
        let out = std::process::Command::new(&busybox).arg("--list").output().map_err(io("run", &busybox))?;
        if !out.status.success() {
            return Err(BundleError::Busybox(busybox));
        }
        let applets = String::from_utf8_lossy(&out.stdout).lines().filter(|a| *a != "busybox" && !a.contains('/')).map(str::to_string).collect();
        if !checker.is_file() {
            return Err(BundleError::Io { what: "find checker", path: checker, source: std::io::ErrorKind::NotFound.into() });
        }
        Ok(Template { busybox, applets, checker })
    }
}

pub struct Bundle {
    pub dir: PathBuf,
    pub config: Value,
    pub facts: Facts,
}

pub const CHECKER: &str = "/conformance/checker";

impl Bundle {
    /// Makes `dir` with a fresh rootfs and the default config.
    pub fn new(template: &Template, dir: PathBuf, facts: &Facts) -> Result<Bundle, BundleError> {
        let rootfs = dir.join("rootfs");
        for sub in ["bin", "proc", "sys", "dev", "etc", "tmp", "root", "conformance"] {
            let p = rootfs.join(sub);
            std::fs::create_dir_all(&p).map_err(io("mkdir", &p))?;
        }
        let tmp = rootfs.join("tmp");
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o1777)).map_err(io("chmod", &tmp))?;
        let bb = rootfs.join("bin/busybox");
        std::fs::copy(&template.busybox, &bb).map_err(io("copy busybox to", &bb))?;
        for applet in &template.applets {
            let link = rootfs.join("bin").join(applet);
            std::os::unix::fs::symlink("busybox", &link).map_err(io("symlink", &link))?;
        }
        let etc = rootfs.join("etc");
        std::fs::write(etc.join("passwd"), "root:x:0:0:root:/root:/bin/sh\n").map_err(io("write", &etc))?;
        std::fs::write(etc.join("group"), "root:x:0:\n").map_err(io("write", &etc))?;
        let checker = rootfs.join("conformance/checker");
        std::fs::copy(&template.checker, &checker).map_err(io("copy checker to", &checker))?;
        std::fs::set_permissions(&checker, std::fs::Permissions::from_mode(0o755)).map_err(io("chmod", &checker))?;
        Ok(Bundle { dir, config: default_config(), facts: facts.clone() })
    }

    pub fn rootfs(&self) -> PathBuf {
        self.dir.join("rootfs")
    }

    /// Points process.args at the checker with these groups.
    pub fn run_checker(&mut self, groups: &[&str]) {
        let mut args = vec![CHECKER.to_string(), "/conformance/config.json".into(), "/conformance/host.json".into()];
        args.extend(groups.iter().map(|g| g.to_string()));
        self.config["process"]["args"] = json!(args);
    }

    /// Writes config.json, and its copy and the facts for the checker.
    pub fn write(&self) -> Result<(), BundleError> {
        let text = serde_json::to_string_pretty(&self.config).unwrap_or_default();
        let facts = serde_json::to_string(&self.facts).unwrap_or_default();
        let cfg = self.dir.join("config.json");
        std::fs::write(&cfg, &text).map_err(io("write", &cfg))?;
        let copy = self.rootfs().join("conformance/config.json");
        std::fs::write(&copy, &text).map_err(io("write", &copy))?;
        let host = self.rootfs().join("conformance/host.json");
        std::fs::write(&host, facts).map_err(io("write", &host))?;
        for p in [&copy, &host] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o644)).map_err(io("chmod", p))?;
        }
        Ok(())
    }
}

/// The config every case starts from: what `runc spec` writes, without a
/// terminal and without the cgroup mount (cgroup cases add it).
pub fn default_config() -> Value {
    let caps = json!(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": false,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true
        },
        "root": {"path": "rootfs", "readonly": false},
        "hostname": "conformance",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}
        ],
        "linux": {
            "resources": {"devices": [{"allow": false, "access": "rwm"}]},
            "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}],
            "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                            "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        }
    })
}

/// The cgroup mount the cgroup cases add.
pub fn cgroup_mount() -> Value {
    json!({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]})
}
