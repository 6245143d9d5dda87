//! `hull create`: all setup, leaving the container's process blocked at the
//! exec barrier. On any failure, everything made so far is taken down.

use super::state::{ContainerDir, Record, Status, state_json};
use super::{ContainerError, io_err};
use crate::cgroups::{self, Cgroups};
use crate::cli::{CreateArgs, Global};
use crate::process::parent::{Launch, launch};
use crate::spec::{self, Spec};
use crate::sys;
use crate::tty;
use std::os::fd::{AsRawFd, OwnedFd};
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
    let spec = spec::load(&bundle)?;
    let plan = spec::validate::validate(&spec)?;
    let linux = spec.linux.clone().unwrap_or_default();
    let process = spec.process.as_ref().ok_or_else(|| spec::SpecError::invalid("process", "missing"))?;
    check_terminal(process.terminal, args.console_socket.as_deref(), console)?;
    let relay = match console {
        Console::Relay(socket) if process.terminal && args.console_socket.is_none() => Some(socket.as_raw_fd()),
        _ => None,
    };
    let rootfs = rootfs_path(&bundle, &spec)?;

    let dir = ContainerDir::create(&global.root, &args.id)?;
    let cgroups = match Cgroups::plan(linux.cgroups_path.as_deref(), &args.id) {
        Ok(c) => c,
        Err(e) => {
            let _ = dir.remove();
            return Err(e.into());
        }
    };
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
        own_pid_ns: plan.namespaces.creates(crate::spec::namespaces::NsKind::Pid),
        ..Default::default()
    };
    let made = (|| {
        let fifo = make_exec_fifo(&dir.fifo_path())?;
        cgroups.create()?;
        cgroups.apply(linux.resources.as_ref(), cgroups::Apply::Create)?;
        let console = args.console_socket.as_deref().map(tty::connect).transpose()?;
        let template = record.clone();
        let launched = launch(&Launch {
            spec: &spec,
            process,
            plan: &plan,
            rootfs: &rootfs,
            exec_fifo: &fifo,
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
        dir.save(&record)?;
        if let Some(pid_file) = &args.pid_file {
            write_pid_file(pid_file, launched.pid)?;
        }
        Ok::<_, ContainerError>(())
    })();
    if let Err(e) = made {
        if record.pid > 0 {
            // SAFETY: kill takes plain integers; the init is ours and blocked at the barrier.
            unsafe { libc::kill(record.pid, libc::SIGKILL) };
        }
        let _ = cgroups::destroy(&cgroups.paths);
        let _ = dir.remove();
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

/// The barrier: the init holds it open read-write and blocks reading it.
fn make_exec_fifo(path: &Path) -> Result<OwnedFd, ContainerError> {
    let c = sys::cpath(path).map_err(io_err("creating exec fifo", path))?;
    // SAFETY: c is a valid C string.
    sys::cvt(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }).map_err(io_err("creating exec fifo", path))?;
    sys::open(path, libc::O_RDWR, 0).map_err(io_err("opening exec fifo", path))
}

/// Decimal, no newline, written whole or not at all (engines read it at once).
fn write_pid_file(path: &Path, pid: libc::pid_t) -> Result<(), ContainerError> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    std::fs::write(&tmp, pid.to_string()).map_err(io_err("writing pid file", &tmp))?;
    std::fs::rename(&tmp, path).map_err(io_err("writing pid file", path))
}
