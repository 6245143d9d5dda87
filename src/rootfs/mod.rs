//! The container's filesystem, in the init, inside its new mount namespace.
//!
//! ```text
//!  prepare  (before pivot_root, /proc is the host's)
//!    ├─ propagation of / (rslave unless linux.rootfsPropagation), rootfs bound on itself
//!    ├─ mounts[]      mounts.rs   (cgroupfs.rs, copyup.rs, idmap.rs)
//!    └─ /dev          devices.rs
//!  enter    pivot.rs   pivot_root, or --no-pivot: MS_MOVE + chroot
//!  finish   masked.rs  readonlyPaths, maskedPaths, read-only /dev and root
//! ```
//!
//! Every path inside the rootfs is resolved by the kernel inside it
//! (paths.rs, openat2 RESOLVE_IN_ROOT) to an O_PATH fd; mounts are built
//! detached and attached onto that fd with move_mount (kernel.rs). Nothing
//! reaches the host's mounts: / is a slave before anything is mounted, and a
//! failed create takes the whole mount namespace with the init.

pub mod cgroupfs;
mod copyup;
mod devices;
mod idmap;
mod kernel;
mod masked;
mod mounts;
pub mod options;
mod paths;
mod pivot;
mod procfs;

use crate::spec::config::Spec;
use crate::sys;
use std::io;
use std::path::{Path, PathBuf};

pub use idmap::{PremadeMounts, premade_mounts};
pub use procfs::{bind_console, ensure_cwd_inside_root, write_proc};

#[derive(Debug, thiserror::Error)]
pub enum RootfsError {
    /// Boxed: the mount's whole description would make every Result in hull large.
    #[error(transparent)]
    Mount(Box<MountFailure>),
    #[error("mounts[{index}] {destination}: {reason}")]
    MountRefused { index: usize, destination: String, reason: String },
    #[error("linux.devices {path}: {step}: {error}")]
    Device { path: String, step: &'static str, error: io::Error },
    #[error("linux.devices {path}: {reason}")]
    DeviceRefused { path: String, reason: String },
    #[error("{what} {path}: {error}")]
    Io { what: &'static str, path: PathBuf, error: io::Error },
    #[error("{0}")]
    Unsafe(String),
}

/// A mount the kernel refused, named the way the config names it.
#[derive(Debug, thiserror::Error)]
#[error("mounts[{index}] {destination} (type {kind:?}, source {source_path:?}, options {options:?}): {step}: {error}{hint}")]
pub struct MountFailure {
    pub index: usize,
    pub destination: String,
    pub kind: String,
    pub source_path: String,
    pub options: Vec<String>,
    pub step: &'static str,
    pub error: io::Error,
    pub hint: String,
}

fn io_err<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> RootfsError + 'a {
    move |error| RootfsError::Io { what, path: path.to_path_buf(), error }
}

/// What the init needs to lay out the filesystem.
pub struct RootfsPlan<'a> {
    pub spec: &'a Spec,
    pub rootfs: &'a Path,
    pub in_user_ns: bool,
    pub no_pivot: bool,
    /// Idmapped binds the parent made before clone (see `premade_mounts`).
    pub premade: &'a PremadeMounts,
}

/// linux.rootfsPropagation, when the config sets one.
fn configured_propagation(spec: &Spec) -> Option<libc::c_ulong> {
    spec.linux.as_ref().and_then(|l| l.rootfs_propagation.as_deref()).filter(|p| !p.is_empty()).and_then(options::propagation)
}

/// Relative bind sources are relative to the bundle; made absolute once, at load.
pub fn resolve_sources(spec: &mut Spec, bundle: &Path) {
    for mount in &mut spec.mounts {
        if let Some(absolute) = mount.source.as_deref().and_then(|s| options::absolute_source(s, bundle)) {
            let is_bind = mount.kind.as_deref() == Some("bind") || mount.options.iter().any(|o| o == "bind" || o == "rbind");
            if is_bind {
                mount.source = Some(absolute.to_string_lossy().into_owned());
            }
        }
    }
}

/// Everything before pivot_root: propagation, the rootfs bind, the mounts and /dev.
pub fn prepare(plan: &RootfsPlan) -> Result<(), RootfsError> {
    let propagation = configured_propagation(plan.spec);
    // An unbindable old root could not be bound onto itself below: it is made
    // private here, and the new root gets "unbindable" after pivot_root.
    let before_pivot = match propagation {
        Some(p) if p & libc::MS_UNBINDABLE != 0 => libc::MS_PRIVATE | (p & libc::MS_REC),
        Some(p) => p,
        None => libc::MS_SLAVE | libc::MS_REC,
    };
    let root = Path::new("/");
    sys::mount(None, root, None, before_pivot, None).map_err(io_err("setting propagation of", root))?;
    if propagation.is_some_and(|p| p & libc::MS_SHARED != 0) {
        make_parent_mount_private(plan.rootfs)?;
    }
    // pivot_root needs the new root to be a mount point.
    sys::mount(Some(plan.rootfs), plan.rootfs, None, libc::MS_BIND | libc::MS_REC, None).map_err(io_err("bind-mounting rootfs", plan.rootfs))?;
    let rootfs = paths::Root::open(plan.rootfs).map_err(io_err("opening rootfs", plan.rootfs))?;
    let mut userns = idmap::Cache::default();
    let label = selinux_mount_label(plan.spec);
    for (index, mount) in plan.spec.mounts.iter().enumerate() {
        mounts::mount_one(&rootfs, plan, &mounts::MountCtx::new(index, mount).with_label(label), &mut userns)?;
    }
    devices::create_all(&rootfs, plan)
}

/// linux.mountLabel, when set and SELinux is enabled; with SELinux disabled runc
/// ignores it, and so does hull.
fn selinux_mount_label(spec: &Spec) -> Option<&str> {
    const SELINUX_MAGIC: i64 = 0xf97c_ff8c;
    let label = spec.linux.as_ref().and_then(|l| l.mount_label.as_deref()).filter(|l| !l.is_empty())?;
    let selinuxfs = kernel::openat2(paths::at_fdcwd(), Path::new("/sys/fs/selinux"), libc::O_PATH | libc::O_DIRECTORY, 0, 0).ok()?;
    (kernel::fs_magic(std::os::fd::AsFd::as_fd(&selinuxfs)).ok()? == SELINUX_MAGIC).then_some(label)
}

/// With a shared /, the rootfs bind would propagate to the host, and pivot_root refuses
/// a shared parent: the mount holding the rootfs is made private first, as runc does.
fn make_parent_mount_private(rootfs: &Path) -> Result<(), RootfsError> {
    let mountinfo = Path::new("/proc/self/mountinfo");
    let text = sys::read_proc(mountinfo).map_err(io_err("reading", mountinfo))?;
    let parent = text
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|mp| rootfs.starts_with(mp))
        .max_by_key(|mp| mp.len())
        .unwrap_or("/")
        .to_string();
    let parent = Path::new(&parent);
    sys::mount(None, parent, None, libc::MS_PRIVATE, None).map_err(io_err("making private the mount holding", parent))
}

/// Makes the rootfs the root: pivot_root, or with `--no-pivot` a move and a chroot.
pub fn enter(plan: &RootfsPlan) -> Result<(), RootfsError> {
    pivot::enter(plan)
}

/// After pivot: masked paths, read-only paths, read-only /dev and root.
pub fn finish(spec: &Spec) -> Result<(), RootfsError> {
    masked::finish(spec)
}
