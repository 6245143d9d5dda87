//! Running commands with deadlines, without sleeping: a pidfd (which works
//! for processes that are not our children too) polled until it is readable.

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("could not start {what}: {source}")]
    Spawn { what: String, source: std::io::Error },
    #[error("{what} did not finish within {secs}s (killed)")]
    Timeout { what: String, secs: u64 },
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ExecError {
    let what = what.into();
    move |source| ExecError::Io { what, source }
}

/// A pidfd for `pid`; readable once the process has exited.
pub fn pidfd(pid: i32) -> std::io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the kernel just gave us this fd; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Waits until `fd` is readable (or hung up). Ok(false) on timeout.
pub fn wait_readable(fd: &impl AsRawFd, timeout: Duration) -> std::io::Result<bool> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut p = libc::pollfd { fd: fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: p is one valid pollfd.
        let r = unsafe { libc::poll(&mut p, 1, i32::try_from(left.as_millis()).unwrap_or(i32::MAX)) };
        if r > 0 {
            return Ok(true);
        }
        if r == 0 {
            return Ok(false);
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Waits for a process that may not be our child to exit.
/// Ok(true) once it is gone, Ok(false) on timeout.
pub fn wait_pid_gone(pid: i32, timeout: Duration) -> std::io::Result<bool> {
    let fd = match pidfd(pid) {
        Ok(fd) => fd,
        Err(e) if e.raw_os_error() == Some(libc::ESRCH) => return Ok(true),
        Err(e) => return Err(e),
    };
    let gone = wait_readable(&fd, timeout)?;
    if gone {
        // Reap it if it was reparented to us (we are a subreaper).
        // SAFETY: WNOHANG on a specific pid; fails harmlessly if not our child.
        unsafe { libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG) };
    }
    Ok(gone)
}

/// Waits for our child with a deadline; kills it (by its pid) on timeout.
pub fn wait_child(child: &mut Child, what: &str, timeout: Duration) -> Result<ExitStatus, ExecError> {
    let pid = i32::try_from(child.id()).map_err(|_| ExecError::Io { what: what.into(), source: std::io::Error::other("pid out of range") })?;
    let fd = pidfd(pid).map_err(io(what))?;
    if !wait_readable(&fd, timeout).map_err(io(what))? {
        let _ = child.kill();
        let _ = child.wait();
        return Err(ExecError::Timeout { what: what.into(), secs: timeout.as_secs() });
    }
    child.wait().map_err(io(what))
}

/// What a finished command left.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    pub fn ok(&self) -> bool {
        self.status.success()
    }

    /// A short account for failure messages.
    pub fn describe(&self) -> String {
        let tail = |s: &str| s.trim().lines().rev().take(3).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join(" | ");
        format!("{}; stderr: {}", self.status, tail(&self.stderr))
    }
}

/// Runs `cmd` with stdout and stderr going to files under `scratch` (so a
/// container inheriting them cannot keep us waiting), stdin as set by the
/// caller (null by default).
pub fn run(mut cmd: Command, scratch: &std::path::Path, what: &str, timeout: Duration) -> Result<Finished, ExecError> {
    static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let out_path = scratch.join(format!("out.{n}"));
    let err_path = scratch.join(format!("err.{n}"));
    let out = File::create(&out_path).map_err(io(format!("create {}", out_path.display())))?;
    let err = File::create(&err_path).map_err(io(format!("create {}", err_path.display())))?;
    cmd.stdout(out).stderr(err);
    let mut child = cmd.spawn().map_err(|source| ExecError::Spawn { what: what.into(), source })?;
    drop(cmd);
    let status = wait_child(&mut child, what, timeout)?;
    let read = |p: &std::path::Path| {
        let mut s = String::new();
        let _ = File::open(p).and_then(|mut f| f.read_to_string(&mut s));
        let _ = std::fs::remove_file(p);
        s
    };
    Ok(Finished { status, stdout: read(&out_path), stderr: read(&err_path) })
}

/// A pipe: (read end, write end), both close-on-exec.
pub fn pipe() -> std::io::Result<(File, File)> {
    let mut fds = [0; 2];
    // SAFETY: fds has room for the two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both fds are new and owned by nobody else.
    Ok(unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) })
}

/// Reads one line from `f`, waiting at most `timeout`. None on EOF or timeout.
pub fn read_line(f: &mut File, timeout: Duration) -> std::io::Result<Option<String>> {
    let deadline = Instant::now() + timeout;
    let mut line = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if !wait_readable(f, left)? {
            return Ok(None);
        }
        let mut b = [0u8; 1];
        if f.read(&mut b)? == 0 {
            return Ok(None);
        }
        if b[0] == b'\n' {
            return Ok(Some(String::from_utf8_lossy(&line).into_owned()));
        }
        line.push(b[0]);
    }
}

/// True when `f` (a pipe read end) has data or EOF waiting right now.
pub fn has_data(f: &File) -> std::io::Result<bool> {
    wait_readable(f, Duration::ZERO)
}
