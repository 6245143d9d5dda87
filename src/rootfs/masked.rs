//! After pivot_root: readonlyPaths, maskedPaths, process.cwd made if missing,
//! a read-only /dev or root.
//! Paths that do not exist are skipped, as runc does. Every path is resolved
//! with openat2 (no magic links) and changed through its fd, so neither a
//! symlink nor a planted file redirects a mask (CVE-2025-31133).

use super::options::per_mount_attrs;
use super::paths::{Kind, Root};
use super::{RootfsError, io_err, kernel};
use crate::spec::Spec;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

pub(super) fn finish(spec: &Spec) -> Result<(), RootfsError> {
    let root = Root::open(Path::new("/")).map_err(io_err("opening", Path::new("/")))?;
    if let Some(linux) = &spec.linux {
        for path in &linux.readonly_paths {
            readonly(&root, Path::new(path))?;
        }
        let mut masks = Masks::default();
        for path in &linux.masked_paths {
            masks.mask(&root, Path::new(path))?;
        }
    }
    create_cwd(&root, spec)?;
    // /dev was left writable so its nodes could be made; now it gets the config's flags.
    if let Some(dev) = spec.mounts.iter().find(|m| super::options::clean(&m.destination) == "/dev") {
        let flags = super::options::parse(&dev.options).flags;
        if flags & libc::MS_RDONLY != 0 {
            set_read_only(&root, Path::new("/dev"))?;
        }
    }
    if spec.root.as_ref().is_some_and(|r| r.readonly) {
        let attr = kernel::MountAttr { set: libc::MOUNT_ATTR_RDONLY, ..Default::default() };
        kernel::mount_setattr(root.fd(), &attr, false).map_err(io_err("making the root read-only", Path::new("/")))?;
    }
    Ok(())
}

/// runc makes process.cwd when the image lacks it, before the root turns read-only.
/// Anything but a missing path (a magic link, say) is left for chdir to judge.
fn create_cwd(root: &Root, spec: &Spec) -> Result<(), RootfsError> {
    let Some(cwd) = spec.process.as_ref().map(|p| Path::new(&p.cwd)) else { return Ok(()) };
    match root.resolve(cwd) {
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
            root.resolve_or_create(cwd, Kind::Dir).map(drop).map_err(io_err("process.cwd: creating", cwd))
        }
        _ => Ok(()),
    }
}

fn resolve_existing(root: &Root, path: &Path, what: &'static str) -> Result<Option<OwnedFd>, RootfsError> {
    match root.resolve(path) {
        Ok(fd) => Ok(Some(fd)),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
        Err(e) => Err(io_err(what, path)(e)),
    }
}

/// A read-only bind of the path onto itself (submounts kept, only the top made read-only).
fn readonly(root: &Root, path: &Path) -> Result<(), RootfsError> {
    let Some(target) = resolve_existing(root, path, "linux.readonlyPaths: resolving")? else { return Ok(()) };
    let fail = io_err("linux.readonlyPaths: making read-only", path);
    let tree = kernel::open_tree(target.as_fd(), None, libc::OPEN_TREE_CLONE | libc::AT_RECURSIVE as libc::c_uint).map_err(fail)?;
    let attr = kernel::MountAttr { set: libc::MOUNT_ATTR_RDONLY, ..Default::default() };
    kernel::mount_setattr(tree.as_fd(), &attr, false).map_err(io_err("linux.readonlyPaths: making read-only", path))?;
    kernel::move_mount(tree.as_fd(), target.as_fd()).map_err(io_err("linux.readonlyPaths: making read-only", path))
}

fn set_read_only(root: &Root, path: &Path) -> Result<(), RootfsError> {
    let target = root.resolve(path).map_err(io_err("resolving", path))?;
    let attr = kernel::MountAttr { set: libc::MOUNT_ATTR_RDONLY, ..Default::default() };
    kernel::mount_setattr(target.as_fd(), &attr, false).map_err(io_err("making read-only", path))
}

/// The mounts masks are copied from: the container's /dev/null, checked to be the
/// real null device, and one empty read-only tmpfs. Each is made once.
#[derive(Default)]
struct Masks {
    null: Option<OwnedFd>,
    empty_dir: Option<OwnedFd>,
}

impl Masks {
    fn mask(&mut self, root: &Root, path: &Path) -> Result<(), RootfsError> {
        let Some(target) = resolve_existing(root, path, "linux.maskedPaths: resolving")? else { return Ok(()) };
        let fail = |e| io_err("linux.maskedPaths: masking", path)(e);
        let st = kernel::fstat(target.as_fd()).map_err(fail)?;
        let source = if kernel::is_dir(&st) { self.empty_dir()? } else { self.null(root)? };
        let copy = kernel::open_tree(source.as_fd(), None, libc::OPEN_TREE_CLONE).map_err(fail)?;
        kernel::move_mount(copy.as_fd(), target.as_fd()).map_err(fail)
    }

    fn empty_dir(&mut self) -> Result<&OwnedFd, RootfsError> {
        if self.empty_dir.is_none() {
            let made = (|| {
                let fs = kernel::FsContext::open("tmpfs")?;
                fs.set_flag("ro")?;
                fs.set_string("size", "0k")?;
                fs.create()?;
                fs.mount(per_mount_attrs(libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC))
            })();
            self.empty_dir = Some(made.map_err(io_err("linux.maskedPaths: making the empty tmpfs", Path::new("tmpfs")))?);
        }
        self.empty_dir.as_ref().ok_or_else(|| io_err("linux.maskedPaths", Path::new("tmpfs"))(io::Error::from_raw_os_error(libc::EINVAL)))
    }

    /// The container's /dev/null, refused unless it is the character device 1:3 reached
    /// without symlinks: an image that plants a file or a link there cannot redirect masks.
    fn null(&mut self, root: &Root) -> Result<&OwnedFd, RootfsError> {
        if self.null.is_none() {
            let path = Path::new("/dev/null");
            let fd = root.resolve_no_symlinks(path).map_err(io_err("linux.maskedPaths: opening", path))?;
            let st = kernel::fstat(fd.as_fd()).map_err(io_err("linux.maskedPaths: checking", path))?;
            if st.st_mode & libc::S_IFMT != libc::S_IFCHR || st.st_rdev != libc::makedev(1, 3) {
                return Err(RootfsError::Unsafe("linux.maskedPaths: /dev/null in the container is not the null device (1:3); refusing to mask with it".into()));
            }
            self.null = Some(fd);
        }
        self.null.as_ref().ok_or_else(|| io_err("linux.maskedPaths", Path::new("/dev/null"))(io::Error::from_raw_os_error(libc::EINVAL)))
    }
}
