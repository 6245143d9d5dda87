//! /dev: the default nodes (when the config mounts /dev), linux.devices
//! (mknod with their mode and owner; bind mounts of the host's nodes inside a
//! user namespace, where mknod is not allowed), and the /dev symlinks.

use super::paths::{Kind, Root, at_fdcwd};
use super::{RootfsError, RootfsPlan, kernel};
use crate::spec::config::Device;
use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// (path, major, minor) of the nodes runc makes when the config does not list them.
const DEFAULT_DEVICES: [(&str, u32, u32); 6] =
    [("/dev/null", 1, 3), ("/dev/zero", 1, 5), ("/dev/full", 1, 7), ("/dev/random", 1, 8), ("/dev/urandom", 1, 9), ("/dev/tty", 5, 0)];

const SYMLINKS: [(&CStr, &CStr); 4] = [(c"/proc/self/fd", c"fd"), (c"/proc/self/fd/0", c"stdin"), (c"/proc/self/fd/1", c"stdout"), (c"/proc/self/fd/2", c"stderr")];

fn fail<'a>(device: &'a str, step: &'static str) -> impl FnOnce(io::Error) -> RootfsError + 'a {
    move |error| RootfsError::Device { path: device.to_string(), step, error }
}

pub(super) fn create_all(root: &Root, plan: &RootfsPlan) -> Result<(), RootfsError> {
    let dev_mounted = plan.spec.mounts.iter().any(|m| super::options::clean(&m.destination) == "/dev");
    let devices = plan.spec.linux.as_ref().map(|l| l.devices.as_slice()).unwrap_or_default();
    // The config's modes are exact: no umask in the way (restored below).
    // SAFETY: umask takes a plain mode and cannot fail.
    let old_umask = unsafe { libc::umask(0) };
    // Most nodes share /dev: resolve each directory once.
    let mut parent = ParentCache::default();
    let mut made = || {
        if dev_mounted {
            for (path, major, minor) in DEFAULT_DEVICES {
                if devices.iter().any(|d| super::options::clean(&d.path) == path) {
                    continue;
                }
                let device = Device { kind: "c".into(), path: path.into(), major: major.into(), minor: minor.into(), file_mode: Some(0o666), uid: Some(0), gid: Some(0) };
                create(root, plan, &mut parent, &device)?;
            }
        }
        for device in devices {
            create(root, plan, &mut parent, device)?;
        }
        if dev_mounted { symlinks(root) } else { Ok(()) }
    };
    let made = made();
    // SAFETY: as above.
    unsafe { libc::umask(old_umask) };
    made
}

#[derive(Default)]
struct ParentCache {
    last: Option<(PathBuf, OwnedFd)>,
}

impl ParentCache {
    /// The directory holding `path` (made if missing), and the final name.
    fn get(&mut self, root: &Root, path: &Path) -> io::Result<(BorrowedFd<'_>, CString)> {
        let name = match path.components().next_back() {
            Some(Component::Normal(name)) => kernel::cstr(name.as_bytes())?,
            _ => return Err(io::Error::new(io::ErrorKind::InvalidInput, "does not name a file")),
        };
        let parent = path.parent().unwrap_or(Path::new("/"));
        if self.last.as_ref().is_none_or(|(p, _)| p != parent) {
            self.last = Some((parent.to_path_buf(), root.resolve_or_create(parent, Kind::Dir)?));
        }
        let dir = self.last.as_ref().map(|(_, fd)| fd.as_fd()).ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))?;
        Ok((dir, name))
    }
}

fn create(root: &Root, plan: &RootfsPlan, parents: &mut ParentCache, device: &Device) -> Result<(), RootfsError> {
    let path = device.path.as_str();
    let kind = match device.kind.as_str() {
        "c" | "u" => libc::S_IFCHR,
        "b" => libc::S_IFBLK,
        "p" => libc::S_IFIFO,
        other => return Err(RootfsError::DeviceRefused { path: path.into(), reason: format!("unknown type {other:?} (c, b, u or p)") }),
    };
    let (dir, name) = parents.get(root, Path::new(path)).map_err(fail(path, "creating its directory"))?;
    if plan.in_user_ns {
        // mknod is refused in a user namespace: the host's node, bound over an empty file.
        match kernel::openat(dir, &name, libc::O_CREAT | libc::O_WRONLY, 0o644) {
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc::EISDIR) => {}
            Err(e) => return Err(fail(path, "creating the bind target")(e)),
        }
        let target = kernel::openat(dir, &name, libc::O_PATH, 0).map_err(fail(path, "opening the bind target"))?;
        let host = kernel::open_tree(at_fdcwd(), Some(Path::new(path)), libc::OPEN_TREE_CLONE).map_err(fail(path, "opening the host's node"))?;
        return kernel::move_mount(host.as_fd(), target.as_fd()).map_err(fail(path, "bind-mounting the host's node"));
    }
    let mode = device.file_mode.unwrap_or(0o666) & 0o7777;
    let rdev = if kind == libc::S_IFIFO { 0 } else { libc::makedev(device.major as u32, device.minor as u32) };
    match kernel::mknodat(dir, &name, kind | mode, rdev) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
            // config-linux.md: an existing file that is not this device is an error.
            let st = kernel::fstatat_nofollow(dir, &name).map_err(fail(path, "checking the existing file"))?;
            if st.st_mode & libc::S_IFMT != kind || (kind != libc::S_IFIFO && st.st_rdev != rdev) {
                return Err(RootfsError::DeviceRefused { path: path.into(), reason: "a file that is not this device is already there".into() });
            }
            kernel::lchmodat(dir, &name, mode).map_err(fail(path, "setting its mode"))?;
        }
        Err(e) => return Err(fail(path, "mknod")(e)),
    }
    let (uid, gid) = (device.uid.unwrap_or(0), device.gid.unwrap_or(0));
    if (uid, gid) != (0, 0) {
        kernel::lchownat(dir, &name, uid, gid).map_err(fail(path, "setting its owner"))?;
    }
    Ok(())
}

/// /dev/fd, stdin, stdout, stderr, core and ptmx, as runc makes them.
fn symlinks(root: &Root) -> Result<(), RootfsError> {
    let dev = root.resolve(Path::new("/dev")).map_err(fail("/dev", "opening"))?;
    let link = |target: &CStr, name: &CStr| match kernel::symlinkat(target, dev.as_fd(), name) {
        Err(e) if e.raw_os_error() != Some(libc::EEXIST) => Err(fail("/dev", "creating a symlink")(e)),
        _ => Ok(()),
    };
    for (target, name) in SYMLINKS {
        link(target, name)?;
    }
    if Path::new("/proc/kcore").exists() {
        link(c"/proc/kcore", c"core")?;
    }
    // The ptmx of the container's own devpts instance.
    match kernel::unlinkat(dev.as_fd(), c"ptmx", 0) {
        Err(e) if e.raw_os_error() != Some(libc::ENOENT) => return Err(fail("/dev/ptmx", "removing")(e)),
        _ => {}
    }
    link(c"pts/ptmx", c"ptmx")
}
