//! `hull run`: create and start, then wait for the container as its
//! subreaper, forwarding signals (and relaying its pty), and exit with its code.

use super::create::{Console, create};
use super::state::{ContainerDir, StateError};
use super::{ContainerError, delete, start};
use crate::cli::{CreateArgs, Global};
use crate::{sys, tty};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;

/// Signals `run` passes on to the container's init.
const FORWARDED: [libc::c_int; 12] = [
    libc::SIGHUP, libc::SIGINT, libc::SIGQUIT, libc::SIGTERM, libc::SIGUSR1, libc::SIGUSR2,
    libc::SIGALRM, libc::SIGWINCH, libc::SIGCONT, libc::SIGTSTP, libc::SIGTTIN, libc::SIGTTOU,
];

/// Returns the exit code for hull itself.
pub fn run(global: &Global, args: &CreateArgs, detach: bool, keep: bool, no_subreaper: bool) -> Result<i32, ContainerError> {
    if detach {
        let created = create(global, args, Console::Detached)?;
        start::release(&created.dir, &created.record)?;
        return Ok(0);
    }
    if !no_subreaper {
        sys::prctl(libc::PR_SET_CHILD_SUBREAPER, 1).map_err(|source| ContainerError::Sys { what: "prctl(PR_SET_CHILD_SUBREAPER)".into(), source })?;
    }
    // Blocked before the init exists, so no signal meant for it is lost; the init unblocks its own.
    let signals = block_signals();
    let (ours, theirs) = UnixStream::pair().map_err(|source| ContainerError::Sys { what: "socketpair for the console".into(), source })?;
    let created = create(global, args, Console::Relay(&theirs))?;
    drop(theirs);
    let relayed = tty_master(&ours);
    let master = match relayed.and_then(|master| start::release(&created.dir, &created.record).map(|()| master)) {
        Ok(master) => master,
        Err(e) => {
            let _ = delete::destroy(created.dir, &created.record);
            return Err(e);
        }
    };
    // Unlocked while the container runs, so state, kill and ps from elsewhere work.
    let pid = created.record.pid;
    drop(created.dir);
    let code = {
        let _raw = master.as_ref().map(|_| tty::RawMode::enter());
        wait_forwarding(pid, &signals, master)
    };
    if !keep {
        match ContainerDir::open(&global.root, &args.id) {
            Ok(dir) => {
                let record = dir.load()?;
                delete::destroy(dir, &record)?;
            }
            // Deleted by someone else meanwhile: nothing left to do.
            Err(StateError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(code)
}

/// The pty master the init sent us, if it has a terminal and no --console-socket took it.
pub(super) fn tty_master(ours: &UnixStream) -> Result<Option<OwnedFd>, ContainerError> {
    // SAFETY: MSG_PEEK|MSG_DONTWAIT only looks: is there a message, or has the init closed its end?
    let waiting = unsafe { libc::recv(ours.as_raw_fd(), [0u8; 1].as_mut_ptr().cast(), 1, libc::MSG_PEEK | libc::MSG_DONTWAIT) };
    if waiting <= 0 {
        return Ok(None);
    }
    tty::receive_fd(ours.as_raw_fd()).map(Some).map_err(|source| ContainerError::Sys { what: "receiving the container's pty".into(), source })
}

pub(super) fn block_signals() -> libc::sigset_t {
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

/// Reaps children until the init exits, passes signals on to it, and copies
/// between our stdio and the container's pty when there is one.
pub(super) fn wait_forwarding(init: libc::pid_t, signals: &libc::sigset_t, master: Option<OwnedFd>) -> i32 {
    // SAFETY: signals is an initialised set; signalfd returns a new fd.
    let sfd = unsafe { libc::signalfd(-1, signals, libc::SFD_CLOEXEC) };
    if sfd < 0 {
        return 255;
    }
    // SAFETY: the fd was just created and is ours.
    let sfd = unsafe { OwnedFd::from_raw_fd(sfd) };
    let master_fd = master.as_ref().map(|m| m.as_raw_fd());
    if let Some(m) = master_fd {
        tty::copy_window_size(m);
    }
    let mut stdin_open = master_fd.is_some();
    let mut master_open = master_fd.is_some();
    loop {
        let mut fds = vec![libc::pollfd { fd: sfd.as_raw_fd(), events: libc::POLLIN, revents: 0 }];
        if let (true, Some(m)) = (master_open, master_fd) {
            fds.push(libc::pollfd { fd: m, events: libc::POLLIN, revents: 0 });
        }
        if stdin_open {
            fds.push(libc::pollfd { fd: 0, events: libc::POLLIN, revents: 0 });
        }
        // SAFETY: fds is a valid array of pollfds.
        if unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) } < 0 {
            continue;
        }
        for pfd in &fds[1..] {
            if pfd.revents == 0 {
                continue;
            }
            if pfd.fd == 0 {
                stdin_open = master_fd.is_some_and(|m| copy(0, m));
            } else {
                master_open = copy(pfd.fd, 1);
            }
        }
        if fds[0].revents != 0 {
            // SAFETY: signalfd_siginfo is plain data that read fills.
            let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
            // SAFETY: info is a valid buffer of its own size.
            let n = unsafe { libc::read(sfd.as_raw_fd(), (&mut info as *mut libc::signalfd_siginfo).cast(), std::mem::size_of_val(&info)) };
            if n <= 0 {
                continue;
            }
            let signal = info.ssi_signo as libc::c_int;
            if signal == libc::SIGCHLD {
                if let Some(code) = reap(init) {
                    if let (true, Some(m)) = (master_open, master_fd) {
                        drain(m);
                    }
                    return code;
                }
            } else if signal == libc::SIGWINCH && master_fd.is_some() {
                tty::copy_window_size(master_fd.unwrap_or(-1));
            } else {
                // SAFETY: kill takes plain integers; init is our child, not yet reaped.
                unsafe { libc::kill(init, signal) };
            }
        }
    }
}

/// Reaps every exited child; the init's exit code once it is among them.
fn reap(init: libc::pid_t) -> Option<i32> {
    loop {
        match sys::waitpid(-1, libc::WNOHANG) {
            Ok((pid, status)) if pid == init => return Some(sys::exit_code(status)),
            Ok((pid, _)) if pid > 0 => continue,
            // No child of ours left, yet the init was never reaped: it is not ours to wait for.
            Err(_) => return Some(255),
            Ok(_) => return None,
        }
    }
}

/// Copies what is there from one fd to another; false once `from` is done.
fn copy(from: RawFd, to: RawFd) -> bool {
    let mut buf = [0u8; 4096];
    // SAFETY: buf is valid for its length.
    let n = unsafe { libc::read(from, buf.as_mut_ptr().cast(), buf.len()) };
    if n <= 0 {
        return n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted;
    }
    sys::write_all(to, &buf[..n as usize]).is_ok()
}

/// What the container wrote just before it exited.
fn drain(master: RawFd) {
    loop {
        let mut pfd = libc::pollfd { fd: master, events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd, no wait.
        if unsafe { libc::poll(&mut pfd, 1, 0) } <= 0 || !copy(master, 1) {
            return;
        }
    }
}
