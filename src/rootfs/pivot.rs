//! Making the rootfs the root: pivot_root, or with `--no-pivot` (ramdisk
//! roots, where pivot_root is refused) a move onto / and a chroot.

use super::{RootfsError, RootfsPlan, io_err};
use crate::sys;
use std::os::fd::AsRawFd;
use std::path::Path;

pub(super) fn enter(plan: &RootfsPlan) -> Result<(), RootfsError> {
    let rootfs = plan.rootfs;
    std::env::set_current_dir(rootfs).map_err(io_err("chdir", rootfs))?;
    if plan.no_pivot {
        sys::mount(Some(rootfs), Path::new("/"), None, libc::MS_MOVE, None).map_err(io_err("moving rootfs to / from", rootfs))?;
        let dot = sys::cpath(".").map_err(io_err("chroot", rootfs))?;
        // SAFETY: dot is a valid C string.
        sys::cvt(unsafe { libc::chroot(dot.as_ptr()) }).map_err(io_err("chroot", rootfs))?;
    } else {
        let old_root = sys::open(Path::new("/"), libc::O_PATH | libc::O_DIRECTORY, 0).map_err(io_err("opening the old root", Path::new("/")))?;
        let dot = sys::cpath(".").map_err(io_err("pivot_root", rootfs))?;
        // SAFETY: pivot_root(".", ".") stacks the old root on top of the new one; both are valid C strings.
        sys::cvt_long(unsafe { libc::syscall(libc::SYS_pivot_root, dot.as_ptr(), dot.as_ptr()) }).map_err(io_err("pivot_root", rootfs))?;
        // "." must be the old root, not the new one: the slave and detach below are for
        // it alone (on the new root they would undo the mounts' own propagation).
        // SAFETY: old_root is an open directory fd.
        sys::cvt(unsafe { libc::fchdir(old_root.as_raw_fd()) }).map_err(io_err("fchdir to the old root", rootfs))?;
        drop(old_root);
        // Keep the old root's unmount from reaching the host.
        sys::mount(None, Path::new("."), None, libc::MS_SLAVE | libc::MS_REC, None).map_err(io_err("making old root a slave", rootfs))?;
        sys::umount2(Path::new("."), libc::MNT_DETACH).map_err(io_err("unmounting old root", rootfs))?;
    }
    std::env::set_current_dir("/").map_err(io_err("chdir", Path::new("/")))?;
    // runc applies rootfsPropagation to the new / as well (the first time was to the old one).
    if let Some(propagation) = super::configured_propagation(plan.spec) {
        let root = Path::new("/");
        sys::mount(None, root, None, propagation, None).map_err(io_err("setting linux.rootfsPropagation of", root))?;
    }
    Ok(())
}
