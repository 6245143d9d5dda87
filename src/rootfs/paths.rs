//! Paths inside the rootfs, resolved by the kernel as if the rootfs were `/`
//! (openat2 RESOLVE_IN_ROOT): no symlink, absolute or relative, and no race
//! that swaps a component for one, leads out. Callers get an O_PATH fd and
//! mount onto that fd, never onto a path that could be resolved again.

use super::kernel;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// Kernel resolution inside the root; magic links (/proc/self/fd/N, /proc/<pid>/root)
/// could jump anywhere, so they are refused.
pub const IN_ROOT: u64 = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS;
const MAX_SYMLINKS: usize = 40;

/// What a missing final component is created as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File,
}

/// An O_PATH fd on the directory that is `/` for the container.
pub struct Root {
    fd: OwnedFd,
}

impl Root {
    pub fn open(path: &Path) -> io::Result<Root> {
        let cwd = at_fdcwd();
        let fd = kernel::openat2(cwd, path, libc::O_PATH | libc::O_DIRECTORY, 0, 0)?;
        Ok(Root { fd })
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// An O_PATH fd on `path` inside the root; a final symlink is followed (inside).
    pub fn resolve(&self, path: &Path) -> io::Result<OwnedFd> {
        kernel::openat2(self.fd(), path, libc::O_PATH, 0, IN_ROOT)
    }

    /// Like `resolve`, but no symlink may appear anywhere on the way.
    pub fn resolve_no_symlinks(&self, path: &Path) -> io::Result<OwnedFd> {
        kernel::openat2(self.fd(), path, libc::O_PATH, 0, IN_ROOT | libc::RESOLVE_NO_SYMLINKS)
    }

    /// `resolve`, creating what is missing: directories on the way (0755) and the
    /// last component as `last`. Symlinks met on the way are followed inside the root.
    pub fn resolve_or_create(&self, path: &Path, last: Kind) -> io::Result<OwnedFd> {
        match self.resolve(path) {
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => match self.create_last(path, last) {
                Some(fd) => Ok(fd),
                None => self.walk_creating(path, last),
            },
            other => other,
        }
    }

    /// The common case of a missing path: only its last component is missing. Anything
    /// else (a missing parent, a symlink in the way) is left to the full walk.
    fn create_last(&self, path: &Path, last: Kind) -> Option<OwnedFd> {
        let Some(Component::Normal(name)) = path.components().next_back() else { return None };
        let name = kernel::cstr(name.as_bytes()).ok()?;
        let parent = self.resolve(path.parent()?).ok()?;
        let made = match last {
            Kind::Dir => kernel::mkdirat(parent.as_fd(), &name, 0o755),
            Kind::File => kernel::openat(parent.as_fd(), &name, libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY, 0o644).map(drop),
        };
        if made.is_err() {
            return None;
        }
        let fd = kernel::openat(parent.as_fd(), &name, libc::O_PATH, 0).ok()?;
        let kind = kernel::fstat(fd.as_fd()).ok()?.st_mode & libc::S_IFMT;
        let expected = if last == Kind::Dir { libc::S_IFDIR } else { libc::S_IFREG };
        (kind == expected).then_some(fd)
    }

    /// The directory that holds `path` (created if missing) and the final name.
    pub fn parent_of(&self, path: &Path) -> io::Result<(OwnedFd, CString)> {
        let name = match path.components().next_back() {
            Some(Component::Normal(name)) => kernel::cstr(name.as_bytes())?,
            _ => return Err(io::Error::new(io::ErrorKind::InvalidInput, "does not name a file")),
        };
        let parent = path.parent().unwrap_or(Path::new("/"));
        Ok((self.resolve_or_create(parent, Kind::Dir)?, name))
    }

    /// One component at a time, each opened with O_NOFOLLOW under the fd of the
    /// one before; symlinks are read and their targets walked again from the root.
    fn walk_creating(&self, path: &Path, last: Kind) -> io::Result<OwnedFd> {
        let mut pending: Vec<Vec<u8>> = components(path.as_os_str().as_bytes());
        let mut resolved = PathBuf::from("/");
        let mut dir = self.resolve(&resolved)?;
        let mut links = 0;
        // Each creation or symlink makes progress; the bound only stops a livelock with a racing writer.
        let mut budget = 4 * (pending.len() + MAX_SYMLINKS);
        while let Some(name) = pending.pop() {
            budget = budget.checked_sub(1).ok_or_else(|| io::Error::from_raw_os_error(libc::ELOOP))?;
            if name == b".." {
                resolved.pop();
                dir = self.resolve(&resolved)?;
                continue;
            }
            let is_last = pending.is_empty();
            let c = kernel::cstr(&name)?;
            match kernel::openat(dir.as_fd(), &c, libc::O_PATH, 0) {
                Ok(fd) => {
                    let st = kernel::fstat(fd.as_fd())?;
                    if st.st_mode & libc::S_IFMT == libc::S_IFLNK {
                        links += 1;
                        if links > MAX_SYMLINKS {
                            return Err(io::Error::from_raw_os_error(libc::ELOOP));
                        }
                        let target = kernel::readlinkat(fd.as_fd(), c"")?;
                        if target.starts_with(b"/") {
                            resolved = PathBuf::from("/");
                            dir = self.resolve(&resolved)?;
                        }
                        // pending is reversed: the target's components go on top, first to pop.
                        pending.extend(components(&target));
                        continue;
                    }
                    if is_last {
                        return Ok(fd);
                    }
                    if !kernel::is_dir(&st) {
                        return Err(io::Error::from_raw_os_error(libc::ENOTDIR));
                    }
                    resolved.push(std::ffi::OsStr::from_bytes(&name));
                    dir = fd;
                }
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                    let made = if is_last && last == Kind::File {
                        kernel::openat(dir.as_fd(), &c, libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY, 0o644).map(drop)
                    } else {
                        kernel::mkdirat(dir.as_fd(), &c, 0o755)
                    };
                    match made {
                        Ok(()) => {}
                        Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {}
                        Err(e) => return Err(e),
                    }
                    pending.push(name);
                }
                Err(e) => return Err(e),
            }
        }
        // The path named the root itself.
        Ok(dir)
    }
}

/// The fd for "relative to the current directory", for absolute paths.
pub fn at_fdcwd() -> BorrowedFd<'static> {
    // SAFETY: AT_FDCWD is a constant the kernel reads as "the cwd"; it is never closed.
    unsafe { BorrowedFd::borrow_raw(libc::AT_FDCWD) }
}

/// The named components of a path, in reverse, so that `pop` yields the first.
fn components(path: &[u8]) -> Vec<Vec<u8>> {
    path.split(|b| *b == b'/').filter(|c| !c.is_empty() && *c != b".").map(|c| c.to_vec()).rev().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_root(name: &str) -> (PathBuf, Root) {
        let dir = std::env::temp_dir().join(format!("hull-paths-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("etc")).unwrap();
        let root = Root::open(&dir).unwrap();
        (dir, root)
    }

    fn path_of(fd: &OwnedFd) -> PathBuf {
        std::fs::read_link(format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(fd))).unwrap()
    }

    #[test]
    fn created_paths_stay_inside_through_symlinks() {
        let (dir, root) = temp_root("create");
        std::os::unix::fs::symlink("/outside/target", dir.join("abs")).unwrap();
        std::os::unix::fs::symlink("../../../../..", dir.join("etc/up")).unwrap();
        let fd = root.resolve_or_create(Path::new("/abs/sub"), Kind::Dir).unwrap();
        assert_eq!(path_of(&fd), dir.join("outside/target/sub"), "a dangling absolute link is followed inside");
        let fd = root.resolve_or_create(Path::new("/etc/up/etc/file"), Kind::File).unwrap();
        assert_eq!(path_of(&fd), dir.join("etc/file"), "'..' stops at the root");
        assert!(dir.join("etc/file").is_file());
        let fd = root.resolve_or_create(Path::new("new/dir"), Kind::Dir).unwrap();
        assert_eq!(path_of(&fd), dir.join("new/dir"), "relative is relative to the root");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn symlinks_can_be_refused() {
        let (dir, root) = temp_root("nosym");
        std::os::unix::fs::symlink("etc", dir.join("proc")).unwrap();
        assert_eq!(root.resolve_no_symlinks(Path::new("/proc")).unwrap_err().raw_os_error(), Some(libc::ELOOP));
        assert_eq!(path_of(&root.resolve(Path::new("/proc")).unwrap()), dir.join("etc"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn components_pop_in_order() {
        let mut c = components(b"/a//./b/../c");
        assert_eq!(c.pop().unwrap(), b"a");
        assert_eq!(c.pop().unwrap(), b"b");
        assert_eq!(c.pop().unwrap(), b"..");
        assert_eq!(c.pop().unwrap(), b"c");
        assert!(c.pop().is_none());
    }
}
