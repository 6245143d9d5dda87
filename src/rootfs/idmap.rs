//! The user namespace an idmapped mount takes its mapping from: the mount's
//! own uidMappings/gidMappings (a throwaway namespace made for them), or the
//! container's when the mount names none.

use super::RootfsError;
use super::mounts::{MountCtx, detached_bind};
use crate::namespaces::map_text;
use crate::process::clone::{Forked, clone};
use crate::spec::Spec;
use crate::spec::config::IdMapping;
use crate::spec::namespaces::{NamespacePlan, NsKind};
use crate::sys;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

/// Where an idmapped mount without its own mappings takes the container's from.
#[derive(Clone, Copy)]
pub(super) enum ContainerUserns<'a> {
    /// In the init: the user namespace it is in.
    Current,
    /// In the parent, before clone: a namespace with the container's mappings.
    Mapped(&'a [IdMapping], &'a [IdMapping]),
    /// In the parent: the namespace the container joins.
    Joined(&'a Path),
}

/// Namespaces made so far, so that mounts sharing a mapping share one namespace.
#[derive(Default)]
pub(super) struct Cache {
    made: Vec<(Vec<IdMapping>, Vec<IdMapping>, OwnedFd)>,
    container: Option<OwnedFd>,
}

fn same(a: &[IdMapping], b: &[IdMapping]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x.container_id, x.host_id, x.size) == (y.container_id, y.host_id, y.size))
}

impl Cache {
    /// An fd of a user namespace with this mapping (or the container's when it is
    /// empty), valid while the cache lives.
    pub fn get(&mut self, container: ContainerUserns, uid: &[IdMapping], gid: &[IdMapping]) -> io::Result<RawFd> {
        if uid.is_empty() {
            match container {
                ContainerUserns::Mapped(uid, gid) => return self.get(ContainerUserns::Current, uid, gid),
                ContainerUserns::Current | ContainerUserns::Joined(_) => {
                    if self.container.is_none() {
                        let path = match container {
                            ContainerUserns::Joined(path) => path,
                            _ => Path::new("/proc/self/ns/user"),
                        };
                        self.container = Some(sys::open(path, libc::O_RDONLY, 0)?);
                    }
                    return Ok(self.container.as_ref().map_or(-1, |fd| fd.as_raw_fd()));
                }
            }
        }
        if let Some((_, _, fd)) = self.made.iter().find(|(u, g, _)| same(u, uid) && same(g, gid)) {
            return Ok(fd.as_raw_fd());
        }
        let fd = make_userns(uid, gid)?;
        let raw = fd.as_raw_fd();
        self.made.push((uid.to_vec(), gid.to_vec(), fd));
        Ok(raw)
    }
}

/// Idmapped binds for a container with a user namespace, made by the parent before
/// clone: inside that namespace the kernel refuses to idmap a host filesystem, so the
/// init inherits these detached trees, complete with their flags, and only attaches them.
#[derive(Default)]
pub struct PremadeMounts {
    trees: Vec<(usize, OwnedFd)>,
}

impl PremadeMounts {
    pub(super) fn tree(&self, index: usize) -> Option<BorrowedFd<'_>> {
        self.trees.iter().find(|(i, _)| *i == index).map(|(_, fd)| fd.as_fd())
    }
}

/// In the parent, before clone: the idmapped binds of a container with a user namespace.
pub fn premade_mounts(spec: &Spec, namespaces: &NamespacePlan) -> Result<PremadeMounts, RootfsError> {
    let linux = spec.linux.as_ref();
    let container = if let Some(path) = namespaces.joins(NsKind::User) {
        ContainerUserns::Joined(path)
    } else if namespaces.creates(NsKind::User) {
        ContainerUserns::Mapped(linux.map(|l| l.uid_mappings.as_slice()).unwrap_or_default(), linux.map(|l| l.gid_mappings.as_slice()).unwrap_or_default())
    } else {
        return Ok(PremadeMounts::default());
    };
    let mut cache = Cache::default();
    let mut premade = PremadeMounts::default();
    for (index, mount) in spec.mounts.iter().enumerate() {
        let ctx = MountCtx::new(index, mount);
        if ctx.is_idmapped() && ctx.is_bind() {
            let (tree, _) = detached_bind(&ctx, &mut cache, container)?;
            premade.trees.push((index, tree));
        }
    }
    Ok(premade)
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid array of two ints.
    sys::cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: pipe2 just returned these two fds to us.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// A child in a new user namespace holds it open while we write its maps and
/// open its ns file; then it exits. Its pid as /proc (the host's, before
/// pivot_root) knows it comes from the child itself: our pid namespace may differ.
fn make_userns(uid: &[IdMapping], gid: &[IdMapping]) -> io::Result<OwnedFd> {
    let (pid_read, pid_write) = pipe()?;
    let (hold_read, hold_write) = pipe()?;
    match clone(libc::CLONE_NEWUSER)? {
        Forked::Child => {
            drop(pid_read);
            drop(hold_write);
            let mut buf = [0u8; 32];
            // SAFETY: buf is valid for its length; the path is a valid C string.
            let n = unsafe { libc::readlink(c"/proc/self".as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
            if n > 0 {
                let _ = sys::write_all(pid_write.as_raw_fd(), &buf[..n as usize]);
            }
            drop(pid_write);
            let mut byte = [0u8; 1];
            // SAFETY: blocks until the parent closes its end; byte is a valid buffer.
            unsafe { libc::read(hold_read.as_raw_fd(), byte.as_mut_ptr().cast(), 1) };
            // SAFETY: the child ends here without running anything of the parent's.
            unsafe { libc::_exit(0) }
        }
        Forked::Parent(child) => {
            drop(pid_write);
            drop(hold_read);
            let made = (|| {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut std::fs::File::from(pid_read), &mut text)?;
                let pid = text.trim();
                if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, "the helper could not read its pid"));
                }
                std::fs::write(format!("/proc/{pid}/uid_map"), map_text(uid))?;
                std::fs::write(format!("/proc/{pid}/gid_map"), map_text(gid))?;
                sys::open(std::path::Path::new(&format!("/proc/{pid}/ns/user")), libc::O_RDONLY, 0)
            })();
            drop(hold_write);
            let _ = sys::waitpid(child, 0);
            made
        }
    }
}
