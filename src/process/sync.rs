//! The parent/init sync protocol: one SOCK_SEQPACKET socketpair, so every
//! message arrives whole. Each message is a tag byte and a payload.
//!
//! ```text
//!  parent (hull create / run)               child (init)
//!  ──────────────────────────────────────────────────────────────────────────
//!  clone3(CLONE_NEW*) ──────────────────▶ starts; joins namespaces by path
//!                       ◀────────────── MapsPlease      (new user ns only)
//!  writes uid_map, gid_map ─────────────▶ MapsDone
//!                       ◀────────────── InitPid(pid)    (only when a second fork
//!                                                         made the init: joining a
//!                                                         pid ns, new time ns)
//!  joins the init to its cgroups
//!  Proceed(state json) ─────────────────▶ mounts, devices (rootfs prepared)
//!                       ◀────────────── RunHooks        (prestart/createRuntime exist)
//!  runs prestart, createRuntime ────────▶ HooksDone
//!                                        createContainer hooks, pivot_root, sysctl,
//!                                        terminal, user, capabilities, cwd; finds the
//!                                        executable
//!                       ◀────────────── Ready           (blocked on exec.sock)
//!  writes state.json, --pid-file; exits
//!  ...  `hull start` connects to exec.sock ▶ startContainer hooks, execve
//!       (see barrier.rs: start waits for the execve, or the hook's error)
//!
//!  at any point          ◀────────────── Error(message), then _exit(1)
//! ```
//!
//! A closed socket without Ready or Error means the child died; the parent
//! then reports how it died.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

#[derive(Debug)]
pub enum Message {
    MapsPlease,
    MapsDone,
    InitPid(libc::pid_t),
    Proceed(Vec<u8>),
    RunHooks,
    HooksDone,
    Ready,
    Error(String),
}

const MAX_MESSAGE: usize = 64 * 1024;

pub struct SyncSocket {
    fd: OwnedFd,
}

/// Makes the pair: (parent's end, child's end). Both close on exec.
pub fn pair() -> io::Result<(SyncSocket, SyncSocket)> {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid two-int array for socketpair to fill.
    crate::sys::cvt(unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC, 0, fds.as_mut_ptr()) })?;
    // SAFETY: both fds were just created and are owned by nobody else.
    let (a, b) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    Ok((SyncSocket { fd: a }, SyncSocket { fd: b }))
}

impl SyncSocket {
    pub fn raw(&self) -> libc::c_int {
        self.fd.as_raw_fd()
    }

    pub fn send(&self, message: &Message) -> io::Result<()> {
        let mut buf = Vec::with_capacity(16);
        match message {
            Message::MapsPlease => buf.push(1),
            Message::MapsDone => buf.push(2),
            Message::InitPid(pid) => {
                buf.push(3);
                buf.extend_from_slice(&pid.to_ne_bytes());
            }
            Message::Proceed(state) => {
                buf.push(4);
                buf.extend_from_slice(state);
            }
            Message::RunHooks => buf.push(5),
            Message::HooksDone => buf.push(6),
            Message::Ready => buf.push(7),
            Message::Error(text) => {
                buf.push(8);
                buf.extend_from_slice(text.as_bytes());
            }
        }
        buf.truncate(MAX_MESSAGE);
        loop {
            // SAFETY: buf is valid for its length; MSG_NOSIGNAL keeps a closed peer from killing us.
            let n = unsafe { libc::send(self.raw(), buf.as_ptr().cast(), buf.len(), libc::MSG_NOSIGNAL) };
            if n >= 0 {
                return Ok(());
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }

    /// The next message, or None when the other end has closed.
    pub fn recv(&self) -> io::Result<Option<Message>> {
        let mut buf: Vec<u8> = Vec::with_capacity(MAX_MESSAGE);
        let n = loop {
            // SAFETY: buf has MAX_MESSAGE bytes of capacity for recv to fill.
            let n = unsafe { libc::recv(self.raw(), buf.as_mut_ptr().cast(), MAX_MESSAGE, 0) };
            if n >= 0 {
                // SAFETY: recv initialised the first n bytes.
                unsafe { buf.set_len(n as usize) };
                break n as usize;
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        };
        if n == 0 {
            return Ok(None);
        }
        let payload = &buf[1..n];
        let bad = || io::Error::new(io::ErrorKind::InvalidData, "malformed sync message");
        Ok(Some(match buf[0] {
            1 => Message::MapsPlease,
            2 => Message::MapsDone,
            3 => Message::InitPid(libc::pid_t::from_ne_bytes(payload.try_into().map_err(|_| bad())?)),
            4 => Message::Proceed(payload.to_vec()),
            5 => Message::RunHooks,
            6 => Message::HooksDone,
            7 => Message::Ready,
            8 => Message::Error(String::from_utf8_lossy(payload).into_owned()),
            _ => return Err(bad()),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let (a, b) = pair().unwrap();
        a.send(&Message::InitPid(42)).unwrap();
        a.send(&Message::Error("boom".into())).unwrap();
        a.send(&Message::Proceed(b"{}".to_vec())).unwrap();
        assert!(matches!(b.recv().unwrap(), Some(Message::InitPid(42))));
        assert!(matches!(b.recv().unwrap(), Some(Message::Error(t)) if t == "boom"));
        assert!(matches!(b.recv().unwrap(), Some(Message::Proceed(s)) if s == b"{}"));
        drop(a);
        assert!(b.recv().unwrap().is_none());
    }
}
