//! The init, from clone to execve: a list of small named steps over one
//! context. Each step returns a typed error; `run` sends it to the parent
//! over the sync socket, which prints it once.

use super::barrier;
use super::clone::{Forked, clone};
use super::sync::{Message, SyncSocket};
use crate::capabilities::{CapError, CapSets};
use crate::hooks::{self, HookError};
use crate::namespaces::{self, NsError};
use crate::rootfs::{self, RootfsError, RootfsPlan};
use crate::spec::Spec;
use crate::spec::config::Process;
use crate::spec::namespaces::NsKind;
use crate::spec::validate::{self, Plan};
use crate::sys;
use crate::tty::{self, TtyError};
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Namespace(#[from] NsError),
    #[error(transparent)]
    Rootfs(#[from] RootfsError),
    #[error(transparent)]
    Hook(#[from] HookError),
    #[error(transparent)]
    Tty(#[from] TtyError),
    #[error(transparent)]
    Capabilities(#[from] CapError),
    #[error(transparent)]
    Seccomp(#[from] crate::seccomp::SeccompError),
    #[error("{what}: {source}")]
    Sys { what: String, source: io::Error },
    #[error("sync with parent: {0}")]
    Sync(String),
    #[error("exec: {0:?}: executable file not found in $PATH")]
    NotFound(String),
    #[error("exec: {path:?}: {source}")]
    NotExecutable { path: String, source: io::Error },
    #[error("{0}")]
    Refused(String),
}

fn sys_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> InitError {
    let what = what.into();
    move |source| InitError::Sys { what, source }
}

pub struct InitContext<'a> {
    pub spec: &'a Spec,
    pub process: &'a Process,
    /// The capability sets, planned by the parent against what it can grant.
    pub caps: Option<&'a CapSets>,
    pub plan: &'a Plan,
    pub rootfs: &'a Path,
    pub sync: &'a SyncSocket,
    /// The listening exec.sock that `hull start` connects to (see barrier.rs).
    /// None for `hull exec`, whose process joins a container that exists already.
    pub exec_barrier: Option<RawFd>,
    pub console_socket: Option<RawFd>,
    /// The session keyring to join (runc's default), or None with --no-new-keyring.
    pub keyring: Option<&'a str>,
    pub no_pivot: bool,
    pub preserve_fds: u32,
    /// The new namespaces clone3 already made (see `parent::clone_flags`).
    pub clone_flags: libc::c_int,
    /// Whether the parent joined pid and time namespaces for us before clone3.
    pub pid_and_time_joined_by_parent: bool,
    /// Fds of the parent's that the init must not hold: its end of the socket, the state lock.
    pub parent_fds: &'a [RawFd],
    /// Idmapped binds made by the parent, inherited across clone.
    pub premade: &'a rootfs::PremadeMounts,
}

/// The child side after clone; never returns.
pub fn run(ctx: &InitContext) -> ! {
    let error = match steps(ctx) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    if ctx.sync.send(&Message::Error(error.to_string())).is_err() {
        // After Ready the parent may be gone: the container's stderr is all that is left.
        eprintln!("hull: {error}");
    }
    // SAFETY: _exit ends the process without running the parent's atexit handlers or destructors.
    unsafe { libc::_exit(1) }
}

fn steps(ctx: &InitContext) -> Result<std::convert::Infallible, InitError> {
    prepare_process(ctx)?;
    enter_namespaces(ctx)?;
    let state = wait_proceed(ctx)?;
    // Now in its cgroups: a new cgroup namespace has them as its root.
    if ctx.plan.namespaces.creates(NsKind::Cgroup) {
        namespaces::unshare(libc::CLONE_NEWCGROUP, "cgroup")?;
    }
    let Some(exec_barrier) = ctx.exec_barrier else {
        return exec_into_container(ctx);
    };
    join_session_keyring(ctx.keyring)?;
    let rootfs_plan = RootfsPlan { spec: ctx.spec, rootfs: ctx.rootfs, in_user_ns: ctx.plan.namespaces.has(NsKind::User), no_pivot: ctx.no_pivot, premade: ctx.premade };
    rootfs::prepare(&rootfs_plan)?;
    run_runtime_hooks(ctx)?;
    if let Some(hooks) = &ctx.spec.hooks {
        hooks::run_all("createContainer", &hooks.create_container, &state)?;
    }
    rootfs::enter(&rootfs_plan)?;
    set_hostname(ctx.spec)?;
    apply_sysctl(ctx.spec)?;
    if let Some(socket) = ctx.console_socket.filter(|_| ctx.process.terminal) {
        tty::setup(socket, ctx.process.console_size, tty::Console::Bind)?;
    }
    rootfs::finish(ctx.spec)?;
    let exec = become_ready(ctx)?;
    let Some(start) = barrier::wait_for_start(exec_barrier) else {
        // Deleted before anyone started us.
        // SAFETY: ending the process.
        unsafe { libc::_exit(1) }
    };
    // From here on the parent is gone: errors go to `hull start` instead.
    let error = match start_process(ctx, &state, &exec) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    let _ = sys::write_all(start.as_raw_fd(), error.to_string().as_bytes());
    // SAFETY: ending the process; `hull start` reports the error.
    unsafe { libc::_exit(1) }
}

/// After `hull start`: startContainer hooks, the final cpu affinity, execve.
fn start_process(ctx: &InitContext, state: &[u8], exec: &Exec) -> Result<std::convert::Infallible, InitError> {
    if let Some(hooks) = &ctx.spec.hooks {
        hooks::run_all("startContainer", &hooks.start_container, state)?;
    }
    exec_process(ctx, exec)
}

/// `hull exec`: namespaces, cgroups and the filesystem are the container's
/// already; what is left is the process's own attributes.
fn exec_into_container(ctx: &InitContext) -> Result<std::convert::Infallible, InitError> {
    if let Some(socket) = ctx.console_socket.filter(|_| ctx.process.terminal) {
        tty::setup(socket, ctx.process.console_size, tty::Console::Keep)?;
    }
    // The parent then waits for the socket to close at execve, or for an error.
    let exec = become_ready(ctx)?;
    exec_process(ctx, &exec)
}

/// What a container's init and an exec'd process both do last: the process's
/// own attributes, its user and capabilities, the executable found (so a
/// missing one fails before Ready), fds closed on exec; then Ready.
fn become_ready(ctx: &InitContext) -> Result<Exec, InitError> {
    apply_process_attributes(ctx)?;
    install_seccomp(ctx, SeccompPoint::BeforeCapabilityDrop)?;
    switch_user(ctx)?;
    let exec = find_executable(ctx)?;
    finish_fds(ctx)?;
    ctx.sync.send(&Message::Ready).map_err(|e| InitError::Sync(e.to_string()))?;
    Ok(exec)
}

/// The last steps, right before execve: the final cpu affinity and seccomp.
fn exec_process(ctx: &InitContext, exec: &Exec) -> Result<std::convert::Infallible, InitError> {
    set_final_affinity(ctx)?;
    install_seccomp(ctx, SeccompPoint::BeforeExec)?;
    Err(exec.exec())
}

#[derive(PartialEq)]
enum SeccompPoint {
    BeforeCapabilityDrop,
    BeforeExec,
}

/// The filter goes on as late as it can: right before execve once no_new_privs
/// is set; without no_new_privs the kernel wants CAP_SYS_ADMIN for it, so it
/// goes on before switch_user drops capabilities, as runc does.
fn install_seccomp(ctx: &InitContext, at: SeccompPoint) -> Result<(), InitError> {
    let Some(program) = &ctx.plan.seccomp else { return Ok(()) };
    let wanted = if ctx.process.no_new_privileges { SeccompPoint::BeforeExec } else { SeccompPoint::BeforeCapabilityDrop };
    if at == wanted {
        crate::seccomp::install(program)?;
    }
    Ok(())
}

/// Signals unblocked, the parent's fds closed, not dumpable until exec.
fn prepare_process(ctx: &InitContext) -> Result<(), InitError> {
    // SAFETY: an empty sigset is valid; the mask is ours alone after clone.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
    }
    for fd in ctx.parent_fds {
        // SAFETY: closing our copies of the parent's fds; nothing else in this process uses them.
        unsafe { libc::close(*fd) };
    }
    sys::prctl(libc::PR_SET_DUMPABLE, 0).map_err(sys_err("prctl(PR_SET_DUMPABLE)"))?;
    Ok(())
}

/// Joins namespaces by path and makes the new ones clone3 did not; forks
/// again where the kernel demands it. Returns in the process that is the init.
fn enter_namespaces(ctx: &InitContext) -> Result<(), InitError> {
    let ns = &ctx.plan.namespaces;
    let by_parent = ctx.pid_and_time_joined_by_parent;
    for (kind, path) in ns.joins.iter().filter(|(k, _)| !(by_parent && matches!(k, NsKind::Pid | NsKind::Time))) {
        namespaces::join(*kind, path)?;
    }
    let remaining = ns.new_flags & !ctx.clone_flags;
    if ns.creates(NsKind::User) {
        if remaining & libc::CLONE_NEWUSER != 0 {
            namespaces::unshare(libc::CLONE_NEWUSER, "user")?;
        }
        request_id_maps(ctx)?;
    }
    namespaces::unshare(remaining & !(libc::CLONE_NEWUSER | libc::CLONE_NEWTIME | libc::CLONE_NEWCGROUP), "pid, mount, network, ipc, uts")?;
    if remaining & libc::CLONE_NEWTIME != 0 {
        namespaces::unshare(libc::CLONE_NEWTIME, "time")?;
        let offsets = ctx.spec.linux.as_ref().map(|l| l.time_offsets.clone()).unwrap_or_default();
        namespaces::write_time_offsets(&offsets)?;
    }
    // unshare and setns of pid and time namespaces only apply to children.
    let joined_for_children = !by_parent && (ns.joins(NsKind::Pid).is_some() || ns.joins(NsKind::Time).is_some());
    if remaining & (libc::CLONE_NEWPID | libc::CLONE_NEWTIME) != 0 || joined_for_children {
        match clone(0).map_err(sys_err("fork of the init"))? {
            Forked::Child => {}
            Forked::Parent(pid) => {
                let _ = ctx.sync.send(&Message::InitPid(pid));
                // SAFETY: the intermediate process ends here; the init carries on.
                unsafe { libc::_exit(0) }
            }
        }
        return Ok(());
    }
    ctx.sync.send(&Message::InitPid(0)).map_err(|e| InitError::Sync(e.to_string()))
}

/// Asks the parent to write uid_map and gid_map, then becomes root inside.
fn request_id_maps(ctx: &InitContext) -> Result<(), InitError> {
    ctx.sync.send(&Message::MapsPlease).map_err(|e| InitError::Sync(e.to_string()))?;
    match ctx.sync.recv() {
        Ok(Some(Message::MapsDone)) => {}
        other => return Err(InitError::Sync(format!("expected MapsDone, got {other:?}"))),
    }
    // SAFETY: setresgid/setresuid take plain ids.
    sys::cvt(unsafe { libc::setresgid(0, 0, 0) }).map_err(sys_err("setresgid(0) in the user namespace"))?;
    // SAFETY: as above.
    sys::cvt(unsafe { libc::setresuid(0, 0, 0) }).map_err(sys_err("setresuid(0) in the user namespace"))?;
    Ok(())
}

/// Waits until the parent has put the init in its cgroups; returns the state JSON for hooks.
fn wait_proceed(ctx: &InitContext) -> Result<Vec<u8>, InitError> {
    match ctx.sync.recv() {
        Ok(Some(Message::Proceed(state))) => Ok(state),
        Ok(None) => {
            // The parent is gone; nobody will start us.
            // SAFETY: ending the process.
            unsafe { libc::_exit(1) }
        }
        other => Err(InitError::Sync(format!("expected Proceed, got {other:?}"))),
    }
}

/// A keyring of the container's own, so it cannot read the host's session keys.
fn join_session_keyring(name: Option<&str>) -> Result<(), InitError> {
    let Some(name) = name else { return Ok(()) };
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_int = 1;
    let c = CString::new(name).map_err(|_| InitError::Refused(format!("keyring name {name:?} contains a NUL byte")))?;
    // SAFETY: keyctl(JOIN_SESSION_KEYRING) reads one C string.
    match sys::cvt_long(unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, c.as_ptr()) }) {
        Ok(_) => Ok(()),
        // Kernels without keyrings: nothing to isolate.
        Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => Ok(()),
        Err(e) => Err(sys_err(format!("joining session keyring {name:?}"))(e)),
    }
}

fn run_runtime_hooks(ctx: &InitContext) -> Result<(), InitError> {
    let needed = ctx.spec.hooks.as_ref().is_some_and(|h| !h.prestart.is_empty() || !h.create_runtime.is_empty());
    if !needed {
        return Ok(());
    }
    ctx.sync.send(&Message::RunHooks).map_err(|e| InitError::Sync(e.to_string()))?;
    match ctx.sync.recv() {
        Ok(Some(Message::HooksDone)) => Ok(()),
        Ok(None) => {
            // The parent failed a hook and reports it; we are about to be killed.
            // SAFETY: ending the process.
            unsafe { libc::_exit(1) }
        }
        other => Err(InitError::Sync(format!("expected HooksDone, got {other:?}"))),
    }
}

fn set_hostname(spec: &Spec) -> Result<(), InitError> {
    if let Some(name) = spec.hostname.as_deref().filter(|h| !h.is_empty()) {
        // SAFETY: name is valid for its length.
        sys::cvt(unsafe { libc::sethostname(name.as_ptr().cast(), name.len()) }).map_err(sys_err(format!("hostname {name:?}")))?;
    }
    if let Some(name) = spec.domainname.as_deref().filter(|h| !h.is_empty()) {
        // SAFETY: name is valid for its length.
        sys::cvt(unsafe { libc::setdomainname(name.as_ptr().cast(), name.len()) }).map_err(sys_err(format!("domainname {name:?}")))?;
    }
    Ok(())
}

fn apply_sysctl(spec: &Spec) -> Result<(), InitError> {
    let Some(linux) = &spec.linux else { return Ok(()) };
    for (key, value) in &linux.sysctl {
        let path = PathBuf::from("/proc/sys").join(key.replace('.', "/"));
        write_proc(&path, value).map_err(sys_err(format!("linux.sysctl.{key}: writing {value:?} to {}", path.display())))?;
    }
    Ok(())
}

/// Writes a file that must be on the real procfs, not something the image put there.
fn write_proc(path: &Path, value: &str) -> io::Result<()> {
    rootfs::write_proc(path, value)
}

/// rlimits, oom_score_adj, personality, scheduler, I/O priority, initial cpu affinity.
fn apply_process_attributes(ctx: &InitContext) -> Result<(), InitError> {
    let process = ctx.process;
    if process.apparmor_profile.as_deref().is_some_and(|p| !p.is_empty()) {
        return Err(InitError::Refused("process.apparmorProfile: AppArmor is not enabled on this host".into()));
    }
    if process.selinux_label.as_deref().is_some_and(|p| !p.is_empty()) {
        return Err(InitError::Refused("process.selinuxLabel: SELinux is not enabled on this host".into()));
    }
    if let Some(adj) = process.oom_score_adj {
        write_proc(Path::new("/proc/self/oom_score_adj"), &adj.to_string()).map_err(sys_err(format!("process.oomScoreAdj: writing {adj}")))?;
    }
    for rlimit in &process.rlimits {
        let Some(resource) = validate::rlimit_resource(&rlimit.kind) else { continue };
        let value = libc::rlimit { rlim_cur: rlimit.soft, rlim_max: rlimit.hard };
        // SAFETY: value is a valid rlimit.
        sys::cvt(unsafe { libc::setrlimit(resource, &value) })
            .map_err(sys_err(format!("process.rlimits {}: soft {} hard {}", rlimit.kind, rlimit.soft, rlimit.hard)))?;
    }
    if let Some(personality) = ctx.spec.linux.as_ref().and_then(|l| l.personality.as_ref()) {
        let domain = validate::personality_domain(&personality.domain).unwrap_or(0);
        // SAFETY: personality takes a plain integer.
        sys::cvt(unsafe { libc::personality(domain) }).map_err(sys_err(format!("linux.personality {}", personality.domain)))?;
    }
    if let Some(scheduler) = &process.scheduler {
        set_scheduler(scheduler)?;
    }
    if let Some(io) = &process.io_priority {
        let class = validate::io_priority_class(&io.class).unwrap_or(2);
        const IOPRIO_WHO_PROCESS: libc::c_int = 1;
        // SAFETY: ioprio_set takes integers only.
        sys::cvt_long(unsafe { libc::syscall(libc::SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, (class << 13) | io.priority) })
            .map_err(sys_err(format!("process.ioPriority {} {}", io.class, io.priority)))?;
    }
    if let Some(list) = process.exec_cpu_affinity.as_ref().and_then(|a| a.initial.as_deref()) {
        set_affinity(list, "process.execCPUAffinity.initial")?;
    }
    Ok(())
}

fn set_scheduler(scheduler: &crate::spec::config::Scheduler) -> Result<(), InitError> {
    #[repr(C)]
    struct SchedAttr {
        size: u32,
        policy: u32,
        flags: u64,
        nice: i32,
        priority: u32,
        runtime: u64,
        deadline: u64,
        period: u64,
    }
    let attr = SchedAttr {
        size: std::mem::size_of::<SchedAttr>() as u32,
        policy: validate::scheduler_policy(&scheduler.policy).unwrap_or(0) as u32,
        flags: scheduler.flags.iter().filter_map(|f| validate::scheduler_flag(f)).fold(0, |a, f| a | f),
        nice: scheduler.nice,
        priority: scheduler.priority as u32,
        runtime: scheduler.runtime,
        deadline: scheduler.deadline,
        period: scheduler.period,
    };
    // SAFETY: attr is a valid sched_attr of the size it declares.
    sys::cvt_long(unsafe { libc::syscall(libc::SYS_sched_setattr, 0, &attr as *const SchedAttr, 0) })
        .map_err(sys_err(format!("process.scheduler {}", scheduler.policy)))?;
    Ok(())
}

fn set_affinity(list: &str, field: &str) -> Result<(), InitError> {
    let cpus = validate::cpu_list(list).map_err(|e| InitError::Refused(format!("{field}: {e}")))?;
    // SAFETY: an all-zero cpu_set_t is an empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for cpu in cpus {
        // SAFETY: cpu_list() bounds every cpu below 1024, the size of cpu_set_t.
        unsafe { libc::CPU_SET(cpu, &mut set) };
    }
    // SAFETY: set is a valid cpu_set_t of the size we pass.
    sys::cvt(unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) }).map_err(sys_err(format!("{field} {list:?}")))?;
    Ok(())
}

fn set_final_affinity(ctx: &InitContext) -> Result<(), InitError> {
    match ctx.process.exec_cpu_affinity.as_ref().and_then(|a| a.final_.as_deref()) {
        Some(list) => set_affinity(list, "process.execCPUAffinity.final"),
        None => Ok(()),
    }
}

/// Bounding set, groups, gid, uid, then the other capability sets and no_new_privs.
fn switch_user(ctx: &InitContext) -> Result<(), InitError> {
    let process = ctx.process;
    let user = &process.user;
    let caps = ctx.caps;
    if let Some(caps) = caps {
        caps.apply_bounding()?;
    }
    // Keep the permitted set across setuid so the config's capabilities can be set after it.
    sys::prctl(libc::PR_SET_KEEPCAPS, 1).map_err(sys_err("prctl(PR_SET_KEEPCAPS)"))?;
    let groups: Vec<libc::gid_t> = user.additional_gids.clone();
    let setgroups_denied = sys::read_proc("/proc/self/setgroups").is_ok_and(|s| s.trim() == "deny");
    if !setgroups_denied {
        // SAFETY: groups is valid for its length.
        sys::cvt(unsafe { libc::setgroups(groups.len(), groups.as_ptr()) })
            .map_err(sys_err(format!("process.user.additionalGids {groups:?}")))?;
    }
    // SAFETY: plain ids.
    sys::cvt(unsafe { libc::setresgid(user.gid, user.gid, user.gid) }).map_err(sys_err(format!("process.user.gid {}", user.gid)))?;
    // SAFETY: plain ids.
    sys::cvt(unsafe { libc::setresuid(user.uid, user.uid, user.uid) }).map_err(sys_err(format!("process.user.uid {}", user.uid)))?;
    sys::prctl(libc::PR_SET_KEEPCAPS, 0).map_err(sys_err("prctl(PR_SET_KEEPCAPS)"))?;
    if let Some(caps) = caps {
        caps.apply_process()?;
    }
    if process.no_new_privileges {
        sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1).map_err(sys_err("prctl(PR_SET_NO_NEW_PRIVS)"))?;
    }
    let cwd = Path::new(&process.cwd);
    std::env::set_current_dir(cwd).map_err(sys_err(format!("process.cwd {}", process.cwd)))?;
    rootfs::ensure_cwd_inside_root().map_err(sys_err(format!("process.cwd {}", process.cwd)))?;
    if let Some(umask) = user.umask {
        // SAFETY: umask takes a plain mode.
        unsafe { libc::umask(umask as libc::mode_t) };
    }
    Ok(())
}

/// The resolved program, argv and envp, ready before the barrier so that a
/// missing executable fails create, as in runc.
struct Exec {
    path: CString,
    argv: Vec<CString>,
    envp: Vec<CString>,
}

impl Exec {
    fn exec(&self) -> InitError {
        let mut argv: Vec<*const libc::c_char> = self.argv.iter().map(|a| a.as_ptr()).collect();
        argv.push(std::ptr::null());
        let mut envp: Vec<*const libc::c_char> = self.envp.iter().map(|a| a.as_ptr()).collect();
        envp.push(std::ptr::null());
        // SAFETY: path, argv and envp are NUL-terminated arrays of valid C strings.
        unsafe { libc::execve(self.path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
        InitError::NotExecutable { path: self.path.to_string_lossy().into_owned(), source: io::Error::last_os_error() }
    }
}

fn find_executable(ctx: &InitContext) -> Result<Exec, InitError> {
    let process = ctx.process;
    let cstr = |s: &str, what: &str| CString::new(s).map_err(|_| InitError::Refused(format!("{what}: {s:?} contains a NUL byte")));
    let argv = process.args.iter().map(|a| cstr(a, "process.args")).collect::<Result<Vec<_>, _>>()?;
    let envp = process.env.iter().map(|e| cstr(e, "process.env")).collect::<Result<Vec<_>, _>>()?;
    let program = &process.args[0];
    let path = if program.contains('/') {
        check_executable(Path::new(program))?;
        PathBuf::from(program)
    } else {
        let search = process.env.iter().find_map(|e| e.strip_prefix("PATH=")).unwrap_or(super::DEFAULT_PATH);
        search
            .split(':')
            .map(|dir| Path::new(if dir.is_empty() { "." } else { dir }).join(program))
            .find(|candidate| check_executable(candidate).is_ok())
            .ok_or_else(|| InitError::NotFound(program.clone()))?
    };
    let path = CString::new(path.as_os_str().as_bytes()).map_err(|_| InitError::NotFound(program.clone()))?;
    Ok(Exec { path, argv, envp })
}

fn check_executable(path: &Path) -> Result<(), InitError> {
    let not_exec = |source| InitError::NotExecutable { path: path.display().to_string(), source };
    let meta = std::fs::metadata(path).map_err(not_exec)?;
    if meta.is_dir() {
        return Err(not_exec(io::Error::from_raw_os_error(libc::EACCES)));
    }
    let c = sys::cpath(path).map_err(not_exec)?;
    // SAFETY: c is a valid C string.
    sys::cvt(unsafe { libc::access(c.as_ptr(), libc::X_OK) }).map_err(not_exec)?;
    Ok(())
}

/// Every fd above stdio and the preserved ones closes on exec.
fn finish_fds(ctx: &InitContext) -> Result<(), InitError> {
    sys::cloexec_from(3 + ctx.preserve_fds).map_err(sys_err("marking fds close-on-exec"))
}

