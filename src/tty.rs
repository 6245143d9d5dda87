//! process.terminal: a pty made inside the container, its master handed to
//! the engine over --console-socket as one SCM_RIGHTS message.

use crate::spec::config::ConsoleSize;
use crate::sys;
use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum TtyError {
    #[error("--console-socket {path}: {source}")]
    Connect { path: PathBuf, source: io::Error },
    #[error("terminal: {what}: {source}")]
    Pty { what: &'static str, source: io::Error },
}

fn pty_err(what: &'static str) -> impl FnOnce(io::Error) -> TtyError {
    move |source| TtyError::Pty { what, source }
}

pub fn connect(path: &Path) -> Result<UnixStream, TtyError> {
    UnixStream::connect(path).map_err(|source| TtyError::Connect { path: path.to_path_buf(), source })
}

/// Whether the pty becomes the container's /dev/console.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Console {
    /// The init's terminal is the container's console.
    Bind,
    /// An exec'd process has a terminal of its own.
    Keep,
}

/// In the init, after pivot_root: opens a pty, sends its master over `socket`,
/// binds the slave on /dev/console if asked and makes it the controlling terminal and stdio.
pub fn setup(socket: RawFd, size: Option<ConsoleSize>, console: Console) -> Result<(), TtyError> {
    let master = sys::open(Path::new("/dev/ptmx"), libc::O_RDWR | libc::O_NOCTTY, 0).map_err(pty_err("opening /dev/ptmx"))?;
    // SAFETY: unlockpt on a pty master we own.
    sys::cvt(unsafe { libc::unlockpt(master.as_raw_fd()) }).map_err(pty_err("unlockpt"))?;
    // SAFETY: TIOCGPTPEER opens the slave of a master we own and returns a new fd.
    let slave = sys::cvt(unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTPEER, libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) })
        .map_err(pty_err("opening the pty slave"))?;
    // SAFETY: the fd was just returned to us.
    let slave = unsafe { OwnedFd::from_raw_fd(slave) };
    if let Some(size) = size {
        let ws = libc::winsize { ws_row: size.height, ws_col: size.width, ws_xpixel: 0, ws_ypixel: 0 };
        // SAFETY: TIOCSWINSZ reads a valid winsize.
        sys::cvt(unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &ws) }).map_err(pty_err("setting the window size"))?;
    }
    if console == Console::Bind {
        bind_console(&slave)?;
    }
    send_fd(socket, master.as_raw_fd()).map_err(pty_err("sending the pty master over --console-socket"))?;
    drop(master);
    // SAFETY: setsid takes no arguments.
    sys::cvt(unsafe { libc::setsid() }).map_err(pty_err("setsid"))?;
    // SAFETY: TIOCSCTTY with 0 on the slave we own.
    sys::cvt(unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSCTTY, 0) }).map_err(pty_err("making the pty the controlling terminal"))?;
    for target in 0..3 {
        // SAFETY: dup2 onto stdio; the slave fd stays valid.
        sys::cvt(unsafe { libc::dup2(slave.as_raw_fd(), target) }).map_err(pty_err("dup2 onto stdio"))?;
    }
    Ok(())
}

/// /dev/console shows the container's own pty, never a host file (CVE-2025-52565).
fn bind_console(slave: &OwnedFd) -> Result<(), TtyError> {
    crate::rootfs::bind_console(slave.as_fd()).map_err(pty_err("bind-mounting the pty on /dev/console"))
}

pub fn send_fd(socket: RawFd, fd: RawFd) -> io::Result<()> {
    let payload = *b"hull-console";
    let mut iov = libc::iovec { iov_base: payload.as_ptr() as *mut _, iov_len: payload.len() };
    // SAFETY: CMSG_SPACE is a pure computation.
    let space = unsafe { libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) } as usize;
    let mut control = vec![0u8; space];
    // SAFETY: an all-zero msghdr is valid; we fill its pointers below.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = space;
    // SAFETY: msg has a control buffer of CMSG_SPACE bytes, so the first header fits.
    unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as usize;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<RawFd>(), fd);
    }
    // SAFETY: msg points at live buffers for the duration of the call.
    sys::cvt_long(unsafe { libc::sendmsg(socket, &msg, libc::MSG_NOSIGNAL) } as libc::c_long)?;
    Ok(())
}

/// Receives the one fd sent with SCM_RIGHTS on `socket`.
pub fn receive_fd(socket: RawFd) -> io::Result<OwnedFd> {
    let mut data = [0u8; 64];
    let mut iov = libc::iovec { iov_base: data.as_mut_ptr().cast(), iov_len: data.len() };
    // SAFETY: CMSG_SPACE is a pure computation.
    let space = unsafe { libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) } as usize;
    let mut control = vec![0u8; space];
    // SAFETY: an all-zero msghdr is valid; we point it at live buffers.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = space;
    // SAFETY: msg points at live buffers for the duration of the call.
    sys::cvt_long(unsafe { libc::recvmsg(socket, &mut msg, libc::MSG_CMSG_CLOEXEC) } as libc::c_long)?;
    // SAFETY: the control buffer is ours; CMSG_FIRSTHDR checks its length.
    let cmsg = unsafe { libc::CMSG_FIRSTHDR(&msg) };
    // SAFETY: cmsg is non-null and within the control buffer.
    if cmsg.is_null() || unsafe { (*cmsg).cmsg_type } != libc::SCM_RIGHTS {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "no fd in the console message"));
    }
    // SAFETY: an SCM_RIGHTS header carries an fd that is now ours.
    Ok(unsafe { OwnedFd::from_raw_fd(std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<RawFd>())) })
}

/// Our own terminal in raw mode while we relay a container's pty; restored on drop.
pub struct RawMode {
    saved: Option<libc::termios>,
}

impl RawMode {
    pub fn enter() -> RawMode {
        // SAFETY: an all-zero termios is valid for tcgetattr to fill.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: fd 0 and a valid termios pointer.
        if unsafe { libc::isatty(0) } != 1 || unsafe { libc::tcgetattr(0, &mut saved) } != 0 {
            return RawMode { saved: None };
        }
        let mut raw = saved;
        // SAFETY: raw is a valid termios.
        unsafe {
            libc::cfmakeraw(&mut raw);
            libc::tcsetattr(0, libc::TCSANOW, &raw);
        }
        RawMode { saved: Some(saved) }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            // SAFETY: restoring the termios we read from fd 0.
            unsafe { libc::tcsetattr(0, libc::TCSANOW, saved) };
        }
    }
}

/// Copies our window size to the pty.
pub fn copy_window_size(master: RawFd) {
    // SAFETY: an all-zero winsize is valid; TIOCGWINSZ fills it, TIOCSWINSZ reads it.
    unsafe {
        let mut ws: libc::winsize = std::mem::zeroed();
        if libc::ioctl(0, libc::TIOCGWINSZ, &mut ws) == 0 {
            libc::ioctl(master, libc::TIOCSWINSZ, &ws);
        }
    }
}
