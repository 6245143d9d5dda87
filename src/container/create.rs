//! `hull create`: all setup, leaving the container's process blocked at the
//! exec barrier. On any failure, everything made so far is taken down.

use super::state::{ContainerDir, Record, Status, state_json};
use super::{ContainerError, io_err};
use crate::capabilities;
use crate::cgroups::{self, Cgroups};
use crate::cli::{CreateArgs, Global};
use crate::process::barrier;
use crate::process::parent::{Launch, launch};
use crate::spec::{self, Spec};
use crate::tty;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

/// What a successful create leaves for `run` to carry on with.
pub struct Created {
    pub dir: ContainerDir,
    pub record: Record,
}

/// Where a terminal's pty master goes when no --console-socket names a place.
#[derive(Clone, Copy)]
pub enum Console<'a> {
    /// hull exits after create: a terminal needs --console-socket.
    Detached,
    /// `run` in the foreground relays the pty itself, as runc does.
    Relay(&'a UnixStream),
}

pub fn create(global: &Global, args: &CreateArgs, console: Console) -> Result<Created, ContainerError> {
    super::state::validate_id(&args.id)?;
    if global.systemd_cgroup {
        return Err(cgroups::CgroupError::NoSystemd.into());
    }
    let bundle = std::fs::canonicalize(&args.bundle).map_err(io_err("bundle", &args.bundle))?;
    let mut spec = spec::load(&bundle)?;
    crate::rootfs::resolve_sources(&mut spec, &bundle);
    let plan = spec::validate::validate(&spec)?;
    let linux = spec.linux.clone().unwrap_or_default();
    let process = spec.process.as_ref().ok_or_else(|| spec::SpecError::invalid("process", "missing"))?;
    check_terminal(process.terminal, args.console_socket.as_deref(), console)?;
    let relay = match console {
        Console::Relay(socket) if process.terminal && args.console_socket.is_none() => Some(socket.as_raw_fd()),
        _ => None,
    };
    let rootfs = rootfs_path(&bundle, &spec)?;
    let caps = process.capabilities.as_ref().map(capabilities::plan_for_this_host).transpose()?;
    let cgroups = Cgroups::plan(linux.cgroups_path.as_deref(), &args.id)?;

    // From here on, everything made is taken down again on failure.
    let dir = ContainerDir::create(&global.root, &args.id)?;
    let mut record = Record {
        oci_version: spec.oci_version.clone(),
        id: args.id.clone(),
        bundle: bundle.clone(),
        rootfs: rootfs.clone(),
        created: crate::logging::rfc3339(std::time::SystemTime::now()),
        annotations: spec.annotations.clone(),
        poststart: spec.hooks.as_ref().map(|h| h.poststart.clone()).unwrap_or_default(),
        poststop: spec.hooks.as_ref().map(|h| h.poststop.clone()).unwrap_or_default(),
        cgroup_paths: cgroups.paths.clone(),
        seccomp: linux.seccomp.clone(),
        ..Default::default()
    };
    let made = (|| {
        let barrier = barrier::listen(dir.lock_fd()).map_err(io_err("listening on", dir.barrier_path()))?;
        cgroups.create()?;
        cgroups.apply(linux.resources.as_ref(), cgroups::Apply::Create)?;
        let console = args.console_socket.as_deref().map(tty::connect).transpose()?;
        let template = record.clone();
        let launched = launch(&Launch {
            spec: &spec,
            process,
            caps: caps.as_ref(),
            plan: &plan,
            rootfs: &rootfs,
            exec_barrier: Some(&barrier),
            console_socket: console.as_ref().map(|c| c.as_raw_fd()).or(relay),
            keyring: (!args.no_new_keyring).then_some(args.id.as_str()),
            no_pivot: args.no_pivot,
            preserve_fds: args.preserve_fds,
            lock_fd: dir.lock_fd(),
            cgroups: &cgroups,
            state_for_hooks: &|pid| {
                let r = Record { pid, ..template.clone() };
                serde_json::to_vec(&state_json(&r, Status::Creating)).unwrap_or_default()
            },
        })?;
        record.pid = launched.pid;
        record.pid_start_time = launched.start_time;
        crate::logging::debug(|| {
            let flags = crate::process::parent::clone_flags(&plan.namespaces);
            format!("create {}: init pid {}, clone flags {flags:#x}, cgroups {:?}", args.id, launched.pid, cgroups.paths)
        });
        dir.save(&record)?;
        if let Some(pid_file) = &args.pid_file {
            write_pid_file(pid_file, launched.pid)?;
        }
        Ok::<_, ContainerError>(())
    })();
    if let Err(e) = made {
        // runtime.md step 12, as for delete: stop, poststop hooks, cgroups, state.
        let _ = super::delete::destroy(dir, &record);
        return Err(e);
    }
    Ok(Created { dir, record })
}

/// runc's rules: a terminal needs a socket to hand the pty to, and a socket needs a terminal.
fn check_terminal(terminal: bool, socket: Option<&Path>, console: Console) -> Result<(), ContainerError> {
    match (terminal, socket, console) {
        (true, None, Console::Detached) => Err(ContainerError::Usage("process.terminal is true but no --console-socket was given to hand the pty to".into())),
        (false, Some(_), _) => Err(ContainerError::Usage("--console-socket given but process.terminal is false".into())),
        _ => Ok(()),
    }
}

fn rootfs_path(bundle: &Path, spec: &Spec) -> Result<PathBuf, ContainerError> {
    let root = spec.root.as_ref().map(|r| r.path.as_str()).unwrap_or_default();
    let path = bundle.join(root);
    let path = std::fs::canonicalize(&path).map_err(io_err("root.path: rootfs", &path))?;
    if !path.is_dir() {
        return Err(ContainerError::Usage(format!("root.path: rootfs {} is not a directory", path.display())));
    }
    Ok(path)
}


/// Decimal, no newline, written whole or not at all (engines read it at once).
pub(super) fn write_pid_file(path: &Path, pid: libc::pid_t) -> Result<(), ContainerError> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    std::fs::write(&tmp, pid.to_string()).map_err(io_err("writing pid file", &tmp))?;
    std::fs::rename(&tmp, path).map_err(io_err("writing pid file", path))
}
