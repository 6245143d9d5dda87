//! Checks that need no kernel: every field hull cannot apply is refused here,
//! naming its JSON path.

use super::SpecError;
use super::config::{Linux, Process, Spec};
use super::namespaces::{NamespacePlan, NsKind};
use std::str::FromStr;

/// Everything create needs to know about the config, decided before any fork.
#[derive(Debug)]
pub struct Plan {
    pub namespaces: NamespacePlan,
    /// linux.seccomp compiled here, before any fork, so the init only installs it.
    pub seccomp: Option<crate::seccomp::Program>,
}

pub fn validate(spec: &Spec) -> Result<Plan, SpecError> {
    let major = semver_major(&spec.oci_version)
        .ok_or_else(|| SpecError::invalid("ociVersion", format!("{:?} is not a SemVer 2.0.0 version", spec.oci_version)))?;
    if major != 1 {
        return Err(SpecError::invalid("ociVersion", format!("{} is not a 1.x runtime-spec version, which hull implements", spec.oci_version)));
    }
    match &spec.root {
        None => return Err(SpecError::invalid("root", "missing: the bundle must name its root filesystem")),
        Some(root) if root.path.is_empty() => return Err(SpecError::invalid("root.path", "empty")),
        Some(_) => {}
    }
    let process = spec.process.as_ref().ok_or_else(|| SpecError::invalid("process", "missing: nothing to run"))?;
    validate_process(process)?;
    let linux = spec.linux.clone().unwrap_or_default();
    let namespaces = NamespacePlan::from_spec(&linux.namespaces)?;
    validate_linux(&linux, &namespaces)?;
    if spec.annotations.contains_key("") {
        return Err(SpecError::invalid("annotations", "keys must not be empty"));
    }
    if spec.hostname.as_deref().is_some_and(|h| !h.is_empty()) && !namespaces.has(NsKind::Uts) {
        return Err(SpecError::invalid("hostname", "setting a hostname needs a uts namespace"));
    }
    if spec.domainname.as_deref().is_some_and(|h| !h.is_empty()) && !namespaces.has(NsKind::Uts) {
        return Err(SpecError::invalid("domainname", "setting a domainname needs a uts namespace"));
    }
    for (i, mount) in spec.mounts.iter().enumerate() {
        if mount.destination.is_empty() {
            return Err(SpecError::invalid(format!("mounts[{i}].destination"), "empty"));
        }
    }
    if let Some(hooks) = &spec.hooks {
        let lists = [
            ("prestart", &hooks.prestart),
            ("createRuntime", &hooks.create_runtime),
            ("createContainer", &hooks.create_container),
            ("startContainer", &hooks.start_container),
            ("poststart", &hooks.poststart),
            ("poststop", &hooks.poststop),
        ];
        for (name, list) in lists {
            for (i, hook) in list.iter().enumerate() {
                if !hook.path.starts_with('/') {
                    return Err(SpecError::invalid(format!("hooks.{name}[{i}].path"), format!("{:?} is not an absolute path", hook.path)));
                }
                if hook.timeout.is_some_and(|t| t <= 0) {
                    return Err(SpecError::invalid(format!("hooks.{name}[{i}].timeout"), "must be greater than zero"));
                }
            }
        }
    }
    let seccomp = linux.seccomp.as_ref().map(crate::seccomp::compile).transpose()?;
    Ok(Plan { namespaces, seccomp })
}

pub fn validate_process(process: &Process) -> Result<(), SpecError> {
    if process.args.is_empty() || process.args[0].is_empty() {
        return Err(SpecError::invalid("process.args", "empty: nothing to run"));
    }
    if !process.cwd.starts_with('/') {
        return Err(SpecError::invalid("process.cwd", format!("{:?} is not an absolute path", process.cwd)));
    }
    for (i, var) in process.env.iter().enumerate() {
        if !var.contains('=') {
            return Err(SpecError::invalid(format!("process.env[{i}]"), format!("{var:?} is not of the form NAME=value")));
        }
    }
    for (i, rlimit) in process.rlimits.iter().enumerate() {
        if rlimit_resource(&rlimit.kind).is_none() {
            return Err(SpecError::invalid(format!("process.rlimits[{i}].type"), format!("unknown rlimit {:?}", rlimit.kind)));
        }
        if rlimit.soft > rlimit.hard {
            return Err(SpecError::invalid(format!("process.rlimits[{i}]"), "soft limit is above the hard limit"));
        }
        if process.rlimits[..i].iter().any(|r| r.kind == rlimit.kind) {
            return Err(SpecError::invalid(format!("process.rlimits[{i}].type"), format!("{} listed twice", rlimit.kind)));
        }
    }
    if let Some(scheduler) = &process.scheduler {
        scheduler_policy(&scheduler.policy)
            .ok_or_else(|| SpecError::invalid("process.scheduler.policy", format!("unknown policy {:?}", scheduler.policy)))?;
        for (i, flag) in scheduler.flags.iter().enumerate() {
            scheduler_flag(flag).ok_or_else(|| SpecError::invalid(format!("process.scheduler.flags[{i}]"), format!("unknown flag {flag:?}")))?;
        }
    }
    if let Some(io) = &process.io_priority {
        io_priority_class(&io.class)
            .ok_or_else(|| SpecError::invalid("process.ioPriority.class", format!("unknown class {:?}", io.class)))?;
        if !(0..=7).contains(&io.priority) {
            return Err(SpecError::invalid("process.ioPriority.priority", "must be between 0 and 7"));
        }
    }
    if let Some(affinity) = &process.exec_cpu_affinity {
        for (field, value) in [("initial", &affinity.initial), ("final", &affinity.final_)] {
            if let Some(list) = value {
                cpu_list(list).map_err(|reason| SpecError::invalid(format!("process.execCPUAffinity.{field}"), reason))?;
            }
        }
    }
    if let Some(adj) = process.oom_score_adj
        && !(-1000..=1000).contains(&adj)
    {
        return Err(SpecError::invalid("process.oomScoreAdj", "must be between -1000 and 1000"));
    }
    Ok(())
}

fn validate_linux(linux: &Linux, namespaces: &NamespacePlan) -> Result<(), SpecError> {
    let refused = [
        ("linux.intelRdt", linux.intel_rdt.is_some()),
        ("linux.memoryPolicy", linux.memory_policy.is_some()),
        ("linux.netDevices", !linux.net_devices.is_empty()),
    ];
    for (field, present) in refused {
        if present {
            return Err(SpecError::invalid(field, "not supported by hull yet"));
        }
    }
    let new_user = namespaces.creates(NsKind::User);
    if new_user && (linux.uid_mappings.is_empty() || linux.gid_mappings.is_empty()) {
        return Err(SpecError::invalid("linux.uidMappings", "a new user namespace needs uidMappings and gidMappings"));
    }
    if !new_user && !(linux.uid_mappings.is_empty() && linux.gid_mappings.is_empty()) {
        return Err(SpecError::invalid("linux.uidMappings", "id mappings need a new user namespace"));
    }
    if !linux.time_offsets.is_empty() && !namespaces.creates(NsKind::Time) {
        return Err(SpecError::invalid("linux.timeOffsets", "time offsets need a new time namespace"));
    }
    for clock in linux.time_offsets.keys() {
        if clock != "monotonic" && clock != "boottime" {
            return Err(SpecError::invalid(format!("linux.timeOffsets.{clock}"), "clock must be monotonic or boottime"));
        }
    }
    if let Some(propagation) = &linux.rootfs_propagation
        && !matches!(propagation.as_str(), "" | "private" | "rprivate" | "slave" | "rslave" | "shared" | "rshared" | "unbindable" | "runbindable")
    {
        return Err(SpecError::invalid("linux.rootfsPropagation", format!("unknown propagation {propagation:?}")));
    }
    for key in linux.sysctl.keys() {
        sysctl_namespace(key)
            .filter(|kind| namespaces.has(*kind))
            .ok_or_else(|| SpecError::invalid(format!("linux.sysctl.{key}"), "not in a namespace the container has of its own"))?;
    }
    if let Some(personality) = &linux.personality {
        personality_domain(&personality.domain)
            .ok_or_else(|| SpecError::invalid("linux.personality.domain", format!("unknown domain {:?}", personality.domain)))?;
        if !personality.flags.is_empty() {
            return Err(SpecError::invalid("linux.personality.flags", "no personality flags are supported"));
        }
    }
    for (i, device) in linux.devices.iter().enumerate() {
        if !matches!(device.kind.as_str(), "c" | "b" | "u" | "p") {
            return Err(SpecError::invalid(format!("linux.devices[{i}].type"), format!("unknown device type {:?}", device.kind)));
        }
        if !device.path.starts_with("/dev/") {
            return Err(SpecError::invalid(format!("linux.devices[{i}].path"), "must be under /dev"));
        }
    }
    Ok(())
}

/// The major version of a SemVer 2.0.0 string such as "1.0.2-dev", or None if it is not one.
pub fn semver_major(version: &str) -> Option<u64> {
    let identifiers_ok = |part: &str| part.split('.').all(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    let (rest, build) = version.split_once('+').map_or((version, None), |(r, b)| (r, Some(b)));
    let (core, pre) = rest.split_once('-').map_or((rest, None), |(c, p)| (c, Some(p)));
    if !build.is_none_or(identifiers_ok) || !pre.is_none_or(identifiers_ok) {
        return None;
    }
    let numbers: Vec<&str> = core.split('.').collect();
    let numeric = |n: &&str| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && (n.len() == 1 || !n.starts_with('0'));
    if numbers.len() != 3 || !numbers.iter().all(numeric) {
        return None;
    }
    numbers[0].parse().ok()
}

/// Parses "CAP_SYS_ADMIN"; the spec requires the CAP_ prefix.
pub fn capability(name: &str) -> Result<caps::Capability, String> {
    if !name.starts_with("CAP_") {
        return Err(format!("{name:?} is not a capability name (CAP_...)"));
    }
    caps::Capability::from_str(name).map_err(|_| format!("unknown capability {name:?}"))
}

pub fn rlimit_resource(name: &str) -> Option<libc::__rlimit_resource_t> {
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

pub fn scheduler_policy(name: &str) -> Option<libc::c_int> {
    Some(match name {
        "SCHED_OTHER" => libc::SCHED_OTHER,
        "SCHED_FIFO" => libc::SCHED_FIFO,
        "SCHED_RR" => libc::SCHED_RR,
        "SCHED_BATCH" => libc::SCHED_BATCH,
        "SCHED_ISO" => 4,
        "SCHED_IDLE" => libc::SCHED_IDLE,
        "SCHED_DEADLINE" => 6,
        _ => return None,
    })
}

pub fn scheduler_flag(name: &str) -> Option<u64> {
    Some(match name {
        "SCHED_FLAG_RESET_ON_FORK" => 0x01,
        "SCHED_FLAG_RECLAIM" => 0x02,
        "SCHED_FLAG_DL_OVERRUN" => 0x04,
        "SCHED_FLAG_KEEP_POLICY" => 0x08,
        "SCHED_FLAG_KEEP_PARAMS" => 0x10,
        "SCHED_FLAG_UTIL_CLAMP_MIN" => 0x20,
        "SCHED_FLAG_UTIL_CLAMP_MAX" => 0x40,
        _ => return None,
    })
}

pub fn io_priority_class(name: &str) -> Option<i32> {
    Some(match name {
        "IOPRIO_CLASS_RT" => 1,
        "IOPRIO_CLASS_BE" => 2,
        "IOPRIO_CLASS_IDLE" => 3,
        _ => return None,
    })
}

pub fn personality_domain(name: &str) -> Option<libc::c_ulong> {
    Some(match name {
        "LINUX" => 0x0000,
        "LINUX32" => 0x0008,
        _ => return None,
    })
}

/// The namespace a sysctl lives in, as runc decides it; None for host-wide keys.
pub fn sysctl_namespace(key: &str) -> Option<NsKind> {
    const IPC: [&str; 7] = ["kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni"];
    if IPC.contains(&key) || key == "kernel.shm_rmid_forced" || key.starts_with("fs.mqueue.") {
        Some(NsKind::Ipc)
    } else if key.starts_with("net.") {
        Some(NsKind::Network)
    } else if key == "kernel.hostname" || key == "kernel.domainname" {
        Some(NsKind::Uts)
    } else {
        None
    }
}

/// Parses a cpu list such as "0-3,7" into cpu numbers.
pub fn cpu_list(list: &str) -> Result<Vec<usize>, String> {
    let mut cpus = Vec::new();
    for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (lo, hi) = part.split_once('-').unwrap_or((part, part));
        let lo: usize = lo.trim().parse().map_err(|_| format!("bad cpu list {list:?}"))?;
        let hi: usize = hi.trim().parse().map_err(|_| format!("bad cpu list {list:?}"))?;
        if lo > hi || hi >= 1024 {
            return Err(format!("bad cpu range {part:?}"));
        }
        cpus.extend(lo..=hi);
    }
    if cpus.is_empty() {
        return Err("empty cpu list".into());
    }
    Ok(cpus)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::parse;

    fn check(json: &str) -> Result<Plan, SpecError> {
        validate(&parse(json.as_bytes()).unwrap())
    }

    const BASE: &str = r#""ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"cwd":"/","args":["sh"],"user":{"uid":0,"gid":0}}"#;

    #[test]
    fn minimal_config_is_valid() {
        check(&format!("{{{BASE}}}")).unwrap();
    }

    #[test]
    fn refusals_name_the_field() {
        let cases = [
            (r#"{"ociVersion":"1.0.0","process":{"cwd":"/","args":["sh"],"user":{}}}"#, "root"),
            (r#"{"ociVersion":"1.0.0","root":{"path":"r"},"process":{"cwd":"rel","args":["sh"],"user":{}}}"#, "process.cwd"),
            (r#"{"ociVersion":"1.0.0","root":{"path":"r"},"process":{"cwd":"/","args":[],"user":{}}}"#, "process.args"),
            (r#"{"ociVersion":"not-a-version","root":{"path":"r"},"process":{"cwd":"/","args":["sh"],"user":{}}}"#, "ociVersion"),
            (r#"{"root":{"path":"r"},"process":{"cwd":"/","args":["sh"],"user":{}}}"#, "ociVersion"),
            (r#"{"ociVersion":"2.0.0","root":{"path":"r"},"process":{"cwd":"/","args":["sh"],"user":{}}}"#, "ociVersion"),
            (&format!(r#"{{{BASE},"linux":{{"seccomp":{{"defaultAction":"SCMP_ACT_NOPE"}}}}}}"#), "linux.seccomp.defaultAction"),
            (&format!(r#"{{{BASE},"hostname":"x"}}"#), "hostname"),
            (&format!(r#"{{{BASE},"linux":{{"sysctl":{{"kernel.pid_max":"1"}}}}}}"#), "linux.sysctl.kernel.pid_max"),
            (&format!(r#"{{{BASE},"linux":{{"namespaces":[{{"type":"user"}}]}}}}"#), "linux.uidMappings"),
            (&format!(r#"{{{BASE},"linux":{{"devices":[{{"type":"x","path":"/dev/x"}}]}}}}"#), "linux.devices[0].type"),
            (&format!(r#"{{{BASE},"hooks":{{"prestart":[{{"path":"rel"}}]}}}}"#), "hooks.prestart[0].path"),
        ];
        for (json, field) in cases {
            let err = check(json).unwrap_err().to_string();
            assert!(err.contains(field), "{json}: {err}");
        }
    }

    #[test]
    fn rlimits_and_annotations_are_checked() {
        let bad_annotation = format!(r#"{{{BASE},"annotations":{{"":"x"}}}}"#);
        assert!(check(&bad_annotation).unwrap_err().to_string().contains("annotations"));
        let bad_rlimit = BASE.replace(r#""user""#, r#""rlimits":[{"type":"RLIMIT_NOFILE","soft":10,"hard":5}],"user""#);
        assert!(check(&format!("{{{bad_rlimit}}}")).unwrap_err().to_string().contains("process.rlimits[0]"));
    }

    #[test]
    fn semver() {
        for (v, major) in [("1.0.0", Some(1)), ("1.0.2-dev", Some(1)), ("1.3.0+build.5", Some(1)), ("10.20.30", Some(10))] {
            assert_eq!(semver_major(v), major, "{v}");
        }
        for bad in ["", "1", "1.0", "1.0.0.0", "01.0.0", "1.0.0-", "1.0.0+", "v1.0.0", "1.0.0-a..b", "not-a-version"] {
            assert_eq!(semver_major(bad), None, "{bad}");
        }
    }

    #[test]
    fn cpu_lists() {
        assert_eq!(cpu_list("0-2,5").unwrap(), [0, 1, 2, 5]);
        assert!(cpu_list("3-1").is_err());
        assert!(cpu_list("x").is_err());
    }
}
