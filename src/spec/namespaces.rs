//! Which namespaces the container gets, as new ones or joined by path.

use super::SpecError;
use super::config::Namespace;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NsKind {
    User,
    Pid,
    Network,
    Mount,
    Ipc,
    Uts,
    Cgroup,
    Time,
}

impl NsKind {
    /// Join order when entering existing namespaces: user first, so that the
    /// later joins are checked against the container's user namespace; mount
    /// last, because it changes how the other paths resolve.
    pub const ALL: [NsKind; 8] = [
        NsKind::User,
        NsKind::Pid,
        NsKind::Network,
        NsKind::Ipc,
        NsKind::Uts,
        NsKind::Cgroup,
        NsKind::Time,
        NsKind::Mount,
    ];

    pub fn from_spec(name: &str) -> Option<NsKind> {
        Some(match name {
            "user" => NsKind::User,
            "pid" => NsKind::Pid,
            "network" => NsKind::Network,
            "mount" => NsKind::Mount,
            "ipc" => NsKind::Ipc,
            "uts" => NsKind::Uts,
            "cgroup" => NsKind::Cgroup,
            "time" => NsKind::Time,
            _ => return None,
        })
    }

    pub fn spec_name(self) -> &'static str {
        match self {
            NsKind::User => "user",
            NsKind::Pid => "pid",
            NsKind::Network => "network",
            NsKind::Mount => "mount",
            NsKind::Ipc => "ipc",
            NsKind::Uts => "uts",
            NsKind::Cgroup => "cgroup",
            NsKind::Time => "time",
        }
    }

    /// The name under /proc/<pid>/ns/.
    pub fn proc_name(self) -> &'static str {
        match self {
            NsKind::User => "user",
            NsKind::Pid => "pid",
            NsKind::Network => "net",
            NsKind::Mount => "mnt",
            NsKind::Ipc => "ipc",
            NsKind::Uts => "uts",
            NsKind::Cgroup => "cgroup",
            NsKind::Time => "time",
        }
    }

    pub fn clone_flag(self) -> libc::c_int {
        match self {
            NsKind::User => libc::CLONE_NEWUSER,
            NsKind::Pid => libc::CLONE_NEWPID,
            NsKind::Network => libc::CLONE_NEWNET,
            NsKind::Mount => libc::CLONE_NEWNS,
            NsKind::Ipc => libc::CLONE_NEWIPC,
            NsKind::Uts => libc::CLONE_NEWUTS,
            NsKind::Cgroup => libc::CLONE_NEWCGROUP,
            NsKind::Time => libc::CLONE_NEWTIME,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct NamespacePlan {
    /// Namespaces to create, as CLONE_NEW* flags.
    pub new_flags: libc::c_int,
    /// Namespaces to join, in `NsKind::ALL` order.
    pub joins: Vec<(NsKind, PathBuf)>,
}

impl NamespacePlan {
    pub fn from_spec(namespaces: &[Namespace]) -> Result<NamespacePlan, SpecError> {
        let mut plan = NamespacePlan::default();
        let mut seen = 0;
        for (i, ns) in namespaces.iter().enumerate() {
            let field = format!("linux.namespaces[{i}]");
            let kind = NsKind::from_spec(&ns.kind)
                .ok_or_else(|| SpecError::invalid(format!("{field}.type"), format!("unknown namespace type {:?}", ns.kind)))?;
            if seen & kind.clone_flag() != 0 {
                return Err(SpecError::invalid(field, format!("namespace type {:?} listed twice", ns.kind)));
            }
            seen |= kind.clone_flag();
            match ns.path.as_deref() {
                None | Some("") => plan.new_flags |= kind.clone_flag(),
                Some(path) if !path.starts_with('/') => {
                    return Err(SpecError::invalid(format!("{field}.path"), format!("{path:?} is not an absolute path")));
                }
                Some(path) => plan.joins.push((kind, PathBuf::from(path))),
            }
        }
        plan.joins.sort_by_key(|(kind, _)| NsKind::ALL.iter().position(|k| k == kind));
        Ok(plan)
    }

    pub fn creates(&self, kind: NsKind) -> bool {
        self.new_flags & kind.clone_flag() != 0
    }

    pub fn joins(&self, kind: NsKind) -> Option<&PathBuf> {
        self.joins.iter().find(|(k, _)| *k == kind).map(|(_, p)| p)
    }

    /// Whether the container has its own namespace of this kind, new or joined.
    pub fn has(&self, kind: NsKind) -> bool {
        self.creates(kind) || self.joins(kind).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(kind: &str, path: Option<&str>) -> Namespace {
        Namespace { kind: kind.into(), path: path.map(Into::into) }
    }

    #[test]
    fn new_and_joined_namespaces() {
        let plan = NamespacePlan::from_spec(&[
            ns("pid", None),
            ns("mount", Some("/proc/1/ns/mnt")),
            ns("network", Some("/proc/1/ns/net")),
            ns("user", Some("/proc/1/ns/user")),
        ])
        .unwrap();
        assert_eq!(plan.new_flags, libc::CLONE_NEWPID);
        let order: Vec<_> = plan.joins.iter().map(|(k, _)| *k).collect();
        assert_eq!(order, [NsKind::User, NsKind::Network, NsKind::Mount]);
    }

    #[test]
    fn unknown_and_duplicate_types_are_refused() {
        let err = NamespacePlan::from_spec(&[ns("pids", None)]).unwrap_err();
        assert!(err.to_string().contains("linux.namespaces[0].type"), "{err}");
        let err = NamespacePlan::from_spec(&[ns("uts", None), ns("uts", None)]).unwrap_err();
        assert!(err.to_string().contains("twice"), "{err}");
        let err = NamespacePlan::from_spec(&[ns("ipc", Some("relative"))]).unwrap_err();
        assert!(err.to_string().contains("absolute"), "{err}");
    }
}
