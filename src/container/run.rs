//! `hull run`: create and start, then wait for the container as its
//! subreaper, forwarding signals, and exit with its code.

use super::create::{Detached, create};
use super::{ContainerError, delete, start};
use crate::cli::{CreateArgs, Global};
use crate::sys;

/// Signals `run` passes on to the container's init.
const FORWARDED: [libc::c_int; 12] = [
    libc::SIGHUP, libc::SIGINT, libc::SIGQUIT, libc::SIGTERM, libc::SIGUSR1, libc::SIGUSR2,
    libc::SIGALRM, libc::SIGWINCH, libc::SIGCONT, libc::SIGTSTP, libc::SIGTTIN, libc::SIGTTOU,
];

/// Returns the exit code for hull itself.
pub fn run(global: &Global, args: &CreateArgs, detach: bool, keep: bool, no_subreaper: bool) -> Result<i32, ContainerError> {
    if detach {
        let created = create(global, args, Detached::Yes)?;
        start::release(&created.dir, &created.record)?;
        return Ok(0);
    }
    if !no_subreaper {
        sys::prctl(libc::PR_SET_CHILD_SUBREAPER, 1).map_err(|source| ContainerError::Sys { what: "prctl(PR_SET_CHILD_SUBREAPER)".into(), source })?;
    }
    // Blocked before the init exists, so no signal meant for it is lost; the init unblocks its own.
    let signals = block_signals();
    let created = create(global, args, Detached::No)?;
    let code = match start::release(&created.dir, &created.record) {
        Ok(()) => wait_forwarding(created.record.pid, &signals),
        Err(e) => {
            let _ = delete::destroy(created.dir, &created.record);
            return Err(e);
        }
    };
    if !keep {
        delete::destroy(created.dir, &created.record)?;
    }
    Ok(code)
}

fn block_signals() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data; sigemptyset/sigaddset initialise it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for signal in FORWARDED.iter().chain([libc::SIGCHLD].iter()) {
            libc::sigaddset(&mut set, *signal);
        }
        libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    }
}

/// Reaps children until the init exits; passes other signals on to it.
fn wait_forwarding(init: libc::pid_t, signals: &libc::sigset_t) -> i32 {
    loop {
        // SAFETY: siginfo_t is plain data filled by sigwaitinfo.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: signals is an initialised set; info a valid out pointer.
        let signal = unsafe { libc::sigwaitinfo(signals, &mut info) };
        if signal == libc::SIGCHLD {
            loop {
                match sys::waitpid(-1, libc::WNOHANG) {
                    Ok((pid, status)) if pid == init => return sys::exit_code(status),
                    Ok((pid, _)) if pid > 0 => continue,
                    // No child of ours left, yet the init was never reaped: it is not ours to wait for.
                    Err(_) => return 255,
                    Ok(_) => break,
                }
            }
        } else if signal > 0 {
            // SAFETY: kill takes plain integers; init is our child, not yet reaped.
            unsafe { libc::kill(init, signal) };
        }
    }
}
