//! The exec barrier between `create` and `start`: a listening unix socket,
//! `<state dir>/exec.sock`, made before the init exists.
//!
//! The init blocks in accept(). `start` connects, unlinks the socket (the
//! container is no longer "created"), sends one byte, and waits: the init's
//! end closes at execve (close-on-exec), or first carries the error of a
//! failing startContainer hook. So `start` returns only once the user's
//! process runs, and poststart hooks never run before it.
//!
//! Paths go through `/proc/self/fd/<dir fd>/`, which keeps them under the
//! 108 bytes a socket address holds whatever the state root and id.

use crate::sys;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

pub const SOCKET: &str = "exec.sock";

fn address(dir_fd: RawFd) -> io::Result<(libc::sockaddr_un, libc::socklen_t)> {
    let path = format!("/proc/self/fd/{dir_fd}/{SOCKET}");
    // SAFETY: an all-zero sockaddr_un is valid; we fill family and path.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    if path.len() >= addr.sun_path.len() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "socket path too long"));
    }
    for (dst, src) in addr.sun_path.iter_mut().zip(path.bytes()) {
        *dst = src as libc::c_char;
    }
    let len = std::mem::size_of::<libc::sa_family_t>() + path.len() + 1;
    Ok((addr, len as libc::socklen_t))
}

fn socket() -> io::Result<OwnedFd> {
    // SAFETY: socket returns a new fd or -1.
    let fd = sys::cvt(unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: the fd was just created and is ours.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// In `create`, before the init exists: the socket the init will wait on.
pub fn listen(dir_fd: RawFd) -> io::Result<OwnedFd> {
    let fd = socket()?;
    let (addr, len) = address(dir_fd)?;
    // SAFETY: addr is a valid sockaddr_un of length len.
    sys::cvt(unsafe { libc::bind(fd.as_raw_fd(), (&addr as *const libc::sockaddr_un).cast(), len) })?;
    // SAFETY: listen on our own socket.
    sys::cvt(unsafe { libc::listen(fd.as_raw_fd(), 1) })?;
    Ok(fd)
}

/// In the init: blocks until `start` connects and sends its byte; returns the
/// connection, which closes by itself at execve. None if nobody will start us.
pub fn wait_for_start(listener: RawFd) -> Option<OwnedFd> {
    loop {
        // SAFETY: accept4 on our listening socket; no peer address wanted.
        let fd = unsafe { libc::accept4(listener, std::ptr::null_mut(), std::ptr::null_mut(), libc::SOCK_CLOEXEC) };
        if fd < 0 {
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return None;
        }
        // SAFETY: the fd was just accepted and is ours.
        let conn = unsafe { OwnedFd::from_raw_fd(fd) };
        let mut byte = [0u8; 1];
        // SAFETY: byte is a valid one-byte buffer.
        if unsafe { libc::recv(conn.as_raw_fd(), byte.as_mut_ptr().cast(), 1, 0) } == 1 {
            // SAFETY: closing our copy of the listener; nobody else may start us now.
            unsafe { libc::close(listener) };
            return Some(conn);
        }
    }
}

/// In `start`: connects to a created container's init. ECONNREFUSED or
/// ENOENT mean it is not waiting (any more).
pub fn connect(dir_fd: RawFd) -> io::Result<OwnedFd> {
    let fd = socket()?;
    let (addr, len) = address(dir_fd)?;
    // SAFETY: addr is a valid sockaddr_un of length len.
    sys::cvt(unsafe { libc::connect(fd.as_raw_fd(), (&addr as *const libc::sockaddr_un).cast(), len) })?;
    Ok(fd)
}

/// Lets the init go and waits until it has exec'd; Err carries what failed instead.
pub fn release(conn: &OwnedFd) -> io::Result<Result<(), String>> {
    sys::write_all(conn.as_raw_fd(), b"0")?;
    let mut buf = vec![0u8; 4096];
    loop {
        // SAFETY: buf is valid for its length.
        let n = unsafe { libc::recv(conn.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        match n {
            0 => return Ok(Ok(())),
            n if n > 0 => return Ok(Err(String::from_utf8_lossy(&buf[..n as usize]).into_owned())),
            _ if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted => continue,
            _ => return Err(io::Error::last_os_error()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_waits_for_the_init_to_finish() {
        let dir = std::env::temp_dir().join(format!("hull-barrier-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let dir_fd = sys::open(&dir, libc::O_RDONLY | libc::O_DIRECTORY, 0).unwrap();
        let listener = listen(dir_fd.as_raw_fd()).unwrap();
        let raw = listener.as_raw_fd();
        std::mem::forget(listener);
        let init = std::thread::spawn(move || {
            let conn = wait_for_start(raw).unwrap();
            sys::write_all(conn.as_raw_fd(), b"hook failed").unwrap();
        });
        let conn = connect(dir_fd.as_raw_fd()).unwrap();
        assert_eq!(release(&conn).unwrap(), Err("hook failed".to_string()));
        init.join().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
