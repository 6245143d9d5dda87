//! The parent side of making an init: clone3, answer the init's requests
//! (id maps, cgroup placement, runtime hooks) until it is Ready at the barrier.

use super::clone::{Forked, clone};
use super::init::{self, InitContext};
use super::sync::{self, Message, SyncSocket};
use crate::capabilities::CapSets;
use crate::cgroups::{CgroupError, Cgroups};
use crate::hooks::{self, HookError};
use crate::namespaces::{self, NsError};
use crate::spec::Spec;
use crate::spec::config::Process;
use crate::spec::namespaces::{NamespacePlan, NsKind};
use crate::spec::validate::Plan;
use crate::sys;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("{what}: {source}")]
    Sys { what: &'static str, source: io::Error },
    #[error(transparent)]
    Namespace(#[from] NsError),
    #[error(transparent)]
    Cgroup(#[from] CgroupError),
    #[error(transparent)]
    Hook(#[from] HookError),
    #[error(transparent)]
    Rootfs(#[from] crate::rootfs::RootfsError),
    /// An error the init reported; its text is already one complete line.
    #[error("{0}")]
    Init(String),
    #[error("container init {0}")]
    Died(String),
    #[error("sync with init: {0}")]
    Sync(String),
}

pub struct Launch<'a> {
    pub spec: &'a Spec,
    pub process: &'a Process,
    pub caps: Option<&'a CapSets>,
    pub plan: &'a Plan,
    pub rootfs: &'a Path,
    /// The barrier's listening socket for a new container; None for `hull exec`.
    pub exec_barrier: Option<&'a OwnedFd>,
    pub console_socket: Option<RawFd>,
    pub keyring: Option<&'a str>,
    pub no_pivot: bool,
    pub preserve_fds: u32,
    /// The state directory's lock: the init must not keep it.
    pub lock_fd: RawFd,
    pub cgroups: &'a Cgroups,
    /// The state JSON the hooks read on stdin, for a given init pid.
    pub state_for_hooks: &'a dyn Fn(libc::pid_t) -> Vec<u8>,
}

#[derive(Debug, Clone, Copy)]
pub struct Launched {
    pub pid: libc::pid_t,
    pub start_time: u64,
}

/// Which new namespaces clone3 makes itself; the init unshares the rest.
///
/// All of them, except: never the cgroup namespace, whose root is the cgroup
/// the init is in when it is made, so the init makes it once it has joined its
/// cgroups; none when the user namespace is joined (the others must
/// be made from inside it) or when a new user namespace would own namespaces
/// joined by path (it has no rights over them); and never a time namespace (its
/// offsets must be written before any process enters it), nor then the pid
/// namespace, whose init must be the process forked after the time namespace.
pub fn clone_flags(ns: &NamespacePlan) -> libc::c_int {
    if init_enters_user_ns_first(ns) {
        return 0;
    }
    let flags = ns.new_flags & !libc::CLONE_NEWCGROUP;
    if ns.creates(NsKind::Time) {
        return flags & !(libc::CLONE_NEWTIME | libc::CLONE_NEWPID);
    }
    flags
}

/// Whether the init must enter or make its user namespace before anything
/// else, and so join and make every other namespace itself.
fn init_enters_user_ns_first(ns: &NamespacePlan) -> bool {
    let joins_in_child = ns.joins.iter().any(|(k, _)| !matches!(k, NsKind::Pid | NsKind::Time));
    ns.joins(NsKind::User).is_some() || (ns.creates(NsKind::User) && joins_in_child)
}

/// Joins pid and time namespaces for our children only, and returns how to undo it.
fn join_for_children(ns: &NamespacePlan) -> Result<Vec<(NsKind, OwnedFd)>, LaunchError> {
    let mut saved = Vec::new();
    for kind in [NsKind::Pid, NsKind::Time] {
        if let Some(path) = ns.joins(kind) {
            saved.push((kind, namespaces::current(kind, true)?));
            namespaces::join(kind, path)?;
        }
    }
    Ok(saved)
}

fn restore(saved: Vec<(NsKind, OwnedFd)>) {
    for (kind, fd) in saved {
        let _ = sys::setns(fd.as_raw_fd(), kind.clone_flag());
    }
}

/// Kills and reaps what was started if the launch does not reach Ready.
struct Started {
    child: libc::pid_t,
    init: Option<libc::pid_t>,
    armed: bool,
}

impl Drop for Started {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        for pid in [self.init, Some(self.child)].into_iter().flatten() {
            // SAFETY: kill takes plain integers; these pids are ours and not yet reaped.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        let _ = sys::waitpid(self.child, 0);
    }
}

pub fn launch(l: &Launch) -> Result<Launched, LaunchError> {
    let (parent_end, child_end) = sync::pair().map_err(|source| LaunchError::Sys { what: "creating the sync socketpair", source })?;
    let ns = &l.plan.namespaces;
    // Idmapped binds of a user-namespaced container must be made from outside it.
    let premade = crate::rootfs::premade_mounts(l.spec, ns)?;
    let flags = clone_flags(ns);
    let parent_joins = !init_enters_user_ns_first(ns);
    let saved = if parent_joins { join_for_children(ns)? } else { Vec::new() };
    let forked = clone(flags);
    match forked {
        Ok(Forked::Child) => {
            let parent_fds = [parent_end.raw(), l.lock_fd];
            let ctx = InitContext {
                spec: l.spec,
                process: l.process,
                caps: l.caps,
                plan: l.plan,
                rootfs: l.rootfs,
                sync: &child_end,
                exec_barrier: l.exec_barrier.map(AsRawFd::as_raw_fd),
                console_socket: l.console_socket,
                keyring: l.keyring,
                no_pivot: l.no_pivot,
                preserve_fds: l.preserve_fds,
                clone_flags: flags,
                pid_and_time_joined_by_parent: parent_joins,
                parent_fds: &parent_fds,
                premade: &premade,
            };
            init::run(&ctx)
        }
        Ok(Forked::Parent(child)) => {
            restore(saved);
            drop(child_end);
            let mut started = Started { child, init: None, armed: true };
            let launched = follow(l, &parent_end, &mut started)?;
            started.armed = false;
            Ok(launched)
        }
        Err(source) => {
            restore(saved);
            Err(LaunchError::Sys { what: "clone3 of the container init", source })
        }
    }
}

/// Answers the init until it reports Ready.
fn follow(l: &Launch, sync: &SyncSocket, started: &mut Started) -> Result<Launched, LaunchError> {
    let linux = l.spec.linux.as_ref();
    let mut launched = None;
    loop {
        let message = sync.recv().map_err(|e| LaunchError::Sync(e.to_string()))?;
        match message {
            Some(Message::MapsPlease) => {
                let (uid, gid) = linux.map(|l| (l.uid_mappings.as_slice(), l.gid_mappings.as_slice())).unwrap_or_default();
                namespaces::write_id_maps(started.child, uid, gid)?;
                sync.send(&Message::MapsDone).map_err(|e| LaunchError::Sync(e.to_string()))?;
            }
            Some(Message::InitPid(pid)) => {
                let pid = if pid == 0 {
                    started.child
                } else {
                    // The intermediate that forked the init exits at once.
                    started.init = Some(pid);
                    let _ = sys::waitpid(started.child, 0);
                    pid
                };
                started.init = Some(pid);
                let start_time = sys::process_start_time(pid).map(|(t, _)| t).ok_or_else(|| LaunchError::Died("exited during setup".into()))?;
                l.cgroups.add(pid)?;
                launched = Some(Launched { pid, start_time });
                sync.send(&Message::Proceed((l.state_for_hooks)(pid))).map_err(|e| LaunchError::Sync(e.to_string()))?;
            }
            Some(Message::RunHooks) => {
                let pid = launched.map_or(started.child, |x| x.pid);
                let state = (l.state_for_hooks)(pid);
                if let Some(hooks) = &l.spec.hooks {
                    hooks::run_all("prestart", &hooks.prestart, &state)?;
                    hooks::run_all("createRuntime", &hooks.create_runtime, &state)?;
                }
                sync.send(&Message::HooksDone).map_err(|e| LaunchError::Sync(e.to_string()))?;
            }
            Some(Message::Ready) => {
                let launched = launched.ok_or_else(|| LaunchError::Sync("Ready before the init's pid was known".into()))?;
                if l.exec_barrier.is_none() {
                    // An exec'd process runs at once: the socket closes at execve, or an error comes.
                    match sync.recv().map_err(|e| LaunchError::Sync(e.to_string()))? {
                        None => {}
                        Some(Message::Error(text)) => return Err(LaunchError::Init(text)),
                        Some(other) => return Err(LaunchError::Sync(format!("unexpected message {other:?}"))),
                    }
                }
                return Ok(launched);
            }
            Some(Message::Error(text)) => return Err(LaunchError::Init(text)),
            Some(other) => return Err(LaunchError::Sync(format!("unexpected message {other:?}"))),
            None => return Err(LaunchError::Died(describe_death(started))),
        }
    }
}

fn describe_death(started: &mut Started) -> String {
    if started.init.is_some_and(|init| init != started.child) {
        return "exited during setup".into();
    }
    // The socket closed because the init is exiting: this wait is short.
    match sys::waitpid(started.child, 0) {
        Ok((_, status)) => {
            started.armed = false;
            if libc::WIFSIGNALED(status) {
                format!("was killed by signal {} during setup", libc::WTERMSIG(status))
            } else {
                format!("exited with status {} during setup", libc::WEXITSTATUS(status))
            }
        }
        Err(e) => format!("vanished during setup: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::config::Namespace;

    fn plan(list: &[(&str, Option<&str>)]) -> NamespacePlan {
        let ns: Vec<Namespace> = list.iter().map(|(k, p)| Namespace { kind: k.to_string(), path: p.map(String::from) }).collect();
        NamespacePlan::from_spec(&ns).unwrap()
    }

    #[test]
    fn one_clone_makes_all_in_the_common_case() {
        let ns = plan(&[("pid", None), ("network", None), ("mount", None), ("ipc", None), ("uts", None), ("cgroup", None)]);
        assert_eq!(clone_flags(&ns), ns.new_flags & !libc::CLONE_NEWCGROUP, "cgroup waits for the cgroup join");
        let ns = plan(&[("user", None), ("pid", None), ("mount", None)]);
        assert_eq!(clone_flags(&ns), ns.new_flags);
    }

    #[test]
    fn time_namespace_leaves_pid_and_time_to_the_init() {
        let ns = plan(&[("pid", None), ("mount", None), ("time", None)]);
        assert_eq!(clone_flags(&ns), libc::CLONE_NEWNS);
    }

    #[test]
    fn joined_user_namespace_means_the_init_does_everything() {
        let ns = plan(&[("user", Some("/proc/1/ns/user")), ("pid", None)]);
        assert_eq!(clone_flags(&ns), 0);
        let ns = plan(&[("user", None), ("network", Some("/proc/1/ns/net"))]);
        assert_eq!(clone_flags(&ns), 0);
        assert!(!init_enters_user_ns_first(&plan(&[("user", None), ("pid", Some("/proc/1/ns/pid"))])));
    }
}
