//! `hull exec`: another process in a running container, joining its
//! namespaces and cgroups. Engines send the process as JSON (`--process`);
//! without it, the container's own process config is the base, as in runc.

use super::run::{block_signals, tty_master, wait_forwarding};
use super::state::{ContainerDir, Record, Status};
use super::{ContainerError, io_err};
use crate::cgroups::Cgroups;
use crate::cli::{ExecArgs, Global};
use crate::process::parent::{Launch, launch};
use crate::spec::config::Process;
use crate::spec::namespaces::{NamespacePlan, NsKind};
use crate::spec::validate::{Plan, validate_process};
use crate::spec::{self, Spec, SpecError};
use crate::{capabilities, sys, tty};
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

pub fn exec(global: &Global, args: &ExecArgs) -> Result<i32, ContainerError> {
    let dir = ContainerDir::open(&global.root, &args.id)?;
    let record = dir.load()?;
    let status = dir.status(&record);
    let allowed = status == Status::Running || (status == Status::Paused && args.ignore_paused);
    if !allowed {
        return Err(ContainerError::wrong_status(&args.id, status, "can only exec into a running container"));
    }
    let process = process_for(args, &record)?;
    validate_process(&process)?;
    if process.terminal && args.console_socket.is_none() && args.detach {
        return Err(ContainerError::Usage("exec --tty --detach needs --console-socket to hand the pty to".into()));
    }
    // The profile is container-wide (runtime-spec): exec'd processes get it too.
    let seccomp = record.seccomp.as_ref().map(crate::seccomp::compile).transpose().map_err(SpecError::from)?;
    let plan = Plan { namespaces: namespaces_of(record.pid)?, seccomp };
    let caps = process.capabilities.as_ref().map(capabilities::plan_for_this_host).transpose()?;
    let spec = Spec { process: Some(process.clone()), ..Default::default() };
    let cgroups = Cgroups::open(&record.cgroup_paths)?;
    let console = args.console_socket.as_deref().map(tty::connect).transpose()?;
    let (ours, theirs) = UnixStream::pair().map_err(|source| ContainerError::Sys { what: "socketpair for the console".into(), source })?;
    if !args.detach {
        sys::prctl(libc::PR_SET_CHILD_SUBREAPER, 1).map_err(|source| ContainerError::Sys { what: "prctl(PR_SET_CHILD_SUBREAPER)".into(), source })?;
    }
    let signals = (!args.detach).then(block_signals);
    let relay = (process.terminal && console.is_none() && !args.detach).then(|| theirs.as_raw_fd());
    let launched = launch(&Launch {
        spec: &spec,
        process: &process,
        caps: caps.as_ref(),
        plan: &plan,
        rootfs: Path::new("/"),
        exec_barrier: None,
        console_socket: console.as_ref().map(|c| c.as_raw_fd()).or(relay),
        keyring: None,
        no_pivot: false,
        preserve_fds: args.preserve_fds,
        lock_fd: dir.lock_fd(),
        cgroups: &cgroups,
        state_for_hooks: &|_| Vec::new(),
    })?;
    drop(theirs);
    drop(dir);
    if let Some(pid_file) = &args.pid_file {
        super::create::write_pid_file(pid_file, launched.pid)?;
    }
    let Some(signals) = signals else { return Ok(0) };
    let master = tty_master(&ours)?;
    let _raw = master.as_ref().map(|_| tty::RawMode::enter());
    Ok(wait_forwarding(launched.pid, &signals, master))
}

/// The process to run: `--process` as given, or the container's own with the flags applied.
fn process_for(args: &ExecArgs, record: &Record) -> Result<Process, ContainerError> {
    if let Some(path) = &args.process {
        let text = std::fs::read(path).map_err(io_err("reading --process", path))?;
        let de = &mut serde_json::Deserializer::from_slice(&text);
        return serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            ContainerError::Usage(format!("--process {}: {} (field {field})", path.display(), e.into_inner()))
        });
    }
    let config = spec::load(&record.bundle)?;
    let mut process = config.process.unwrap_or_default();
    process.args = args.command.clone();
    process.terminal = args.tty;
    process.console_size = None;
    process.env.extend(args.env.iter().cloned());
    if let Some(cwd) = &args.cwd {
        process.cwd = cwd.clone();
    }
    if let Some(user) = &args.user {
        let (uid, gid) = user.split_once(':').unwrap_or((user, "0"));
        let number = |v: &str| v.parse::<u32>().map_err(|_| ContainerError::Usage(format!("--user {user:?}: use numeric <uid>[:<gid>]")));
        process.user.uid = number(uid)?;
        process.user.gid = number(gid)?;
    }
    if !args.additional_gids.is_empty() {
        process.user.additional_gids = args
            .additional_gids
            .iter()
            .map(|g| g.parse().map_err(|_| ContainerError::Usage(format!("--additional-gids {g:?}: not a number"))))
            .collect::<Result<_, _>>()?;
    }
    if !args.caps.is_empty() {
        let caps = process.capabilities.get_or_insert_with(Default::default);
        for cap in &args.caps {
            for set in [&mut caps.bounding, &mut caps.effective, &mut caps.permitted, &mut caps.ambient] {
                if !set.contains(cap) {
                    set.push(cap.clone());
                }
            }
        }
    }
    process.no_new_privileges |= args.no_new_privs;
    if args.apparmor.is_some() {
        process.apparmor_profile = args.apparmor.clone();
    }
    if args.process_label.is_some() {
        process.selinux_label = args.process_label.clone();
    }
    Ok(process)
}

/// Every namespace of the container's init that differs from ours, to join.
fn namespaces_of(pid: libc::pid_t) -> Result<NamespacePlan, ContainerError> {
    let mut plan = NamespacePlan::default();
    for kind in NsKind::ALL {
        let theirs = PathBuf::from(format!("/proc/{pid}/ns/{}", kind.proc_name()));
        let ours = PathBuf::from(format!("/proc/self/ns/{}", kind.proc_name()));
        let (Ok(t), Ok(o)) = (std::fs::metadata(&theirs), std::fs::metadata(&ours)) else {
            // A kernel without this namespace type: nothing to join.
            continue;
        };
        if (t.dev(), t.ino()) != (o.dev(), o.ino()) {
            plan.joins.push((kind, theirs));
        }
    }
    if plan.joins.is_empty() && std::fs::metadata(format!("/proc/{pid}")).is_err() {
        return Err(SpecError::invalid("exec", format!("container init {pid} is gone")).into());
    }
    Ok(plan)
}
