//! What hull does to the container's /proc and cwd after pivot_root: writes
//! that must reach the real procfs file of the right process (CVE-2025-52881),
//! the pty bound on /dev/console (CVE-2025-52565), and the check that the
//! process's cwd is inside the container (CVE-2024-21626).

use super::kernel;
use super::paths::{Root, at_fdcwd};
use std::io;
use std::os::fd::AsFd;
use std::os::fd::BorrowedFd;
use std::path::Path;

fn refused(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, what.to_string())
}

/// Writes `value` to `path` (under /proc) on the procfs mounted at /proc. The walk
/// may not leave that mount (RESOLVE_NO_XDEV): a file bind-mounted over another
/// procfs file, even a procfs one, is refused, and so are magic links.
pub fn write_proc(path: &Path, value: &str) -> io::Result<()> {
    let relative = path.strip_prefix("/proc").map_err(|_| refused("not under /proc"))?;
    let resolve = libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS;
    let proc = kernel::openat2(at_fdcwd(), Path::new("/proc"), libc::O_PATH | libc::O_DIRECTORY, 0, resolve)?;
    let is_procfs_root = kernel::fs_magic(proc.as_fd())? == kernel::PROC_SUPER_MAGIC && kernel::fstat(proc.as_fd())?.st_ino == 1;
    if !is_procfs_root {
        return Err(refused("/proc is not the root of a procfs"));
    }
    let resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_XDEV | libc::RESOLVE_NO_MAGICLINKS;
    let file = kernel::openat2(proc.as_fd(), relative, libc::O_WRONLY, 0, resolve)?;
    if kernel::fs_magic(file.as_fd())? != kernel::PROC_SUPER_MAGIC {
        return Err(refused("not on procfs"));
    }
    crate::sys::write_all(std::os::fd::AsRawFd::as_raw_fd(&file), value.as_bytes())
}

/// Fails unless the cwd is reachable from the root: a cwd of /proc/self/fd/N naming an
/// fd opened outside the container would otherwise hand the host to the process.
pub fn ensure_cwd_inside_root() -> io::Result<()> {
    let mut buf = [0u8; libc::PATH_MAX as usize];
    // SAFETY: buf is valid for its length; the raw syscall writes at most that many bytes.
    let n = crate::sys::cvt_long(unsafe { libc::syscall(libc::SYS_getcwd, buf.as_mut_ptr(), buf.len()) })?;
    // The kernel prefixes "(unreachable)" when the cwd is outside the current root.
    if n <= 0 || buf[0] != b'/' {
        return Err(io::Error::new(io::ErrorKind::PermissionDenied, "the working directory is outside the container's root"));
    }
    Ok(())
}

/// Binds the pty slave on /dev/console. A symlink there is removed, never followed;
/// the bind goes onto the fd of what is there, a file or a device node.
pub fn bind_console(slave: BorrowedFd) -> io::Result<()> {
    let root = Root::open(Path::new("/"))?;
    let (dev, name) = root.parent_of(Path::new("/dev/console"))?;
    match kernel::fstatat_nofollow(dev.as_fd(), &name) {
        Ok(st) if st.st_mode & libc::S_IFMT == libc::S_IFLNK => kernel::unlinkat(dev.as_fd(), &name, 0)?,
        Ok(_) => {}
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
        Err(e) => return Err(e),
    }
    match kernel::openat(dev.as_fd(), &name, libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY, 0o666) {
        Err(e) if e.raw_os_error() != Some(libc::EEXIST) => return Err(e),
        _ => {}
    }
    let target = kernel::openat(dev.as_fd(), &name, libc::O_PATH, 0)?;
    let kind = kernel::fstat(target.as_fd())?.st_mode & libc::S_IFMT;
    if kind != libc::S_IFREG && kind != libc::S_IFCHR {
        return Err(refused("/dev/console is neither a file nor a device node"));
    }
    let pty = kernel::open_tree(slave, None, libc::OPEN_TREE_CLONE)?;
    kernel::move_mount(pty.as_fd(), target.as_fd())
}
