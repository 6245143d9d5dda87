//! `hull features`: what this build really supports (features.md).

use super::ContainerError;
use crate::rootfs::options;
use crate::seccomp::compile as seccomp;
use crate::spec::namespaces::NsKind;

pub fn features() -> Result<(), ContainerError> {
    let caps: Vec<String> = caps::all().iter().map(|c| c.to_string()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let json = serde_json::json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": "1.3.0",
        "hooks": ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
        "mountOptions": options::known_options().collect::<Vec<_>>(),
        "linux": {
            "namespaces": NsKind::ALL.iter().map(|k| k.spec_name()).collect::<Vec<_>>(),
            "capabilities": caps,
            // v1, v2 and hybrid cgroupfs; rdma limits are written where the host has the controller.
            "cgroup": { "v1": true, "v2": true, "systemd": false, "systemdUser": false, "rdma": true },
            "seccomp": {
                "enabled": true,
                "actions": seccomp::ACTIONS,
                "operators": seccomp::OPERATORS,
                "archs": seccomp::ARCHES,
                "knownFlags": seccomp::FLAGS,
                // WAIT_KILLABLE_RECV is accepted but has no effect without a notify listener.
                "supportedFlags": &seccomp::FLAGS[..3],
            },
            "apparmor": { "enabled": false },
            "selinux": { "enabled": false },
            "intelRdt": { "enabled": false },
            "mountExtensions": { "idmap": { "enabled": true } },
        },
        "annotations": { "org.opencontainers.runtime-spec.features": "hull" },
    });
    let text = serde_json::to_string_pretty(&json).unwrap_or_default();
    std::io::Write::write_all(&mut std::io::stdout(), format!("{text}\n").as_bytes()).map_err(super::io_err("writing", "stdout"))
}
