//! `tmpcopyup`: a new tmpfs starts with a copy of the directory it covers
//! (owners, modes, times, symlinks and device nodes kept). Every entry is
//! opened with O_NOFOLLOW under the fd of its directory, so a symlink swapped
//! in during the copy is copied as a symlink, never followed to the host.

use super::kernel;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;

/// Copies the contents of the directory `from` into the (detached) mount `to`.
pub(super) fn copy_up(from: BorrowedFd, to: BorrowedFd) -> io::Result<()> {
    copy_dir(from, to)
}

fn copy_dir(from: BorrowedFd, to: BorrowedFd) -> io::Result<()> {
    // Before pivot_root, /proc is the host's procfs: the fd path reads the directory itself.
    for entry in std::fs::read_dir(kernel::fd_path(from))? {
        let entry = entry?;
        let name = CString::new(entry.file_name().as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        let st = kernel::fstatat_nofollow(from, &name)?;
        let kind = st.st_mode & libc::S_IFMT;
        match kind {
            libc::S_IFDIR => {
                kernel::mkdirat(to, &name, 0o700)?;
                let sub_from = kernel::openat(from, &name, libc::O_PATH | libc::O_DIRECTORY, 0)?;
                let sub_to = kernel::openat(to, &name, libc::O_PATH | libc::O_DIRECTORY, 0)?;
                copy_dir(sub_from.as_fd(), sub_to.as_fd())?;
            }
            libc::S_IFREG => {
                let source = kernel::openat(from, &name, libc::O_RDONLY, 0)?;
                let target = kernel::openat(to, &name, libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL, 0o600)?;
                io::copy(&mut std::fs::File::from(source), &mut std::fs::File::from(target))?;
            }
            libc::S_IFLNK => {
                let target = kernel::readlinkat(from, &name)?;
                kernel::symlinkat(&kernel::cstr(&target)?, to, &name)?;
            }
            _ => kernel::mknodat(to, &name, st.st_mode, st.st_rdev)?,
        }
        kernel::lchownat(to, &name, st.st_uid, st.st_gid)?;
        if kind != libc::S_IFLNK {
            // After chown, which drops set-id bits.
            kernel::lchmodat(to, &name, st.st_mode & 0o7777)?;
        }
        let times = [
            libc::timespec { tv_sec: st.st_atime, tv_nsec: st.st_atime_nsec },
            libc::timespec { tv_sec: st.st_mtime, tv_nsec: st.st_mtime_nsec },
        ];
        // SAFETY: name is a valid C string, times two valid timespecs.
        crate::sys::cvt(unsafe { libc::utimensat(to.as_raw_fd(), name.as_ptr(), times.as_ptr(), libc::AT_SYMLINK_NOFOLLOW) })?;
    }
    Ok(())
}

