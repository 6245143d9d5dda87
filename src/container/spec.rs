//! `hull spec`: a default config.json, the same as runc writes.

use super::{ContainerError, io_err};
use std::path::Path;

pub fn spec(bundle: &Path, rootless: bool) -> Result<(), ContainerError> {
    let path = bundle.join("config.json");
    if path.exists() {
        return Err(ContainerError::Usage(format!("{} already exists; remove it first", path.display())));
    }
    let text = serde_json::to_string_pretty(&default_spec(rootless)).unwrap_or_default();
    std::fs::write(&path, format!("{text}\n")).map_err(io_err("writing", &path))
}

pub fn default_spec(rootless: bool) -> serde_json::Value {
    let caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
    let mut spec = serde_json::json!({
        "ociVersion": "1.3.0",
        "process": {
            "terminal": true,
            "user": { "uid": 0, "gid": 0 },
            "args": ["sh"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": { "bounding": caps, "effective": caps, "permitted": caps },
            "rlimits": [{ "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 }],
            "noNewPrivileges": true
        },
        "root": { "path": "rootfs", "readonly": true },
        "hostname": "hull",
        "mounts": [
            { "destination": "/proc", "type": "proc", "source": "proc" },
            { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] },
            { "destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
            { "destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
            { "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"] },
            { "destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"] },
            { "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"] }
        ],
        "linux": {
            "resources": { "devices": [{ "allow": false, "access": "rwm" }] },
            "namespaces": [{ "type": "pid" }, { "type": "network" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" }, { "type": "cgroup" }],
            "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                            "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        }
    });
    if rootless {
        // SAFETY: getuid/getgid cannot fail.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        let linux = &mut spec["linux"];
        linux["uidMappings"] = serde_json::json!([{ "containerID": 0, "hostID": uid, "size": 1 }]);
        linux["gidMappings"] = serde_json::json!([{ "containerID": 0, "hostID": gid, "size": 1 }]);
        linux["namespaces"] = serde_json::json!([{ "type": "pid" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" }, { "type": "user" }]);
        if let Some(linux) = linux.as_object_mut() {
            linux.remove("resources");
        }
        if let Some(mounts) = spec["mounts"].as_array_mut() {
            mounts.retain(|m| m["destination"] != "/sys/fs/cgroup");
        }
        for m in spec["mounts"].as_array_mut().into_iter().flatten() {
            if m["destination"] == "/sys" {
                *m = serde_json::json!({ "destination": "/sys", "type": "none", "source": "/sys", "options": ["rbind", "nosuid", "noexec", "nodev", "ro"] });
            }
            if m["destination"] == "/dev/pts" {
                m["options"] = serde_json::json!(["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]);
            }
        }
    }
    spec
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_spec_is_valid() {
        for rootless in [false, true] {
            let text = serde_json::to_vec(&default_spec(rootless)).unwrap();
            let spec = crate::spec::parse(&text).unwrap();
            crate::spec::validate::validate(&spec).unwrap();
            let devices = spec.linux.as_ref().and_then(|l| l.resources.as_ref()).map(|r| r.devices.len());
            assert_eq!(devices, if rootless { None } else { Some(1) });
        }
    }
}
