//! One entry of the config's `mounts`, made with the new mount API: the
//! mount is built detached (open_tree for binds, fsopen/fsmount for
//! filesystems), given its flags, and only then attached, with move_mount,
//! onto the O_PATH fd of a destination resolved inside the rootfs.

use super::options::{self, Idmap, MountOptions, per_mount_attrs};
use super::paths::{Kind, Root, at_fdcwd};
use super::{RootfsError, RootfsPlan, cgroupfs, copyup, idmap, kernel};
use crate::spec::config::Mount;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

/// One mount and its parsed options, for building errors that name it.
pub(super) struct MountCtx<'a> {
    pub index: usize,
    pub mount: &'a Mount,
    pub opts: MountOptions,
    pub kind: &'a str,
    pub destination: String,
    /// linux.mountLabel, only while SELinux is enabled (runc ignores it otherwise).
    pub label: Option<&'a str>,
}

impl<'a> MountCtx<'a> {
    pub fn new(index: usize, mount: &'a Mount) -> MountCtx<'a> {
        MountCtx { index, mount, opts: options::parse(&mount.options), kind: mount.kind.as_deref().unwrap_or(""), destination: options::clean(&mount.destination), label: None }
    }

    pub fn with_label(mut self, label: Option<&'a str>) -> MountCtx<'a> {
        self.label = label.filter(|_| labels_filesystem(self.kind));
        self
    }

    pub fn fail(&self, step: &'static str) -> impl FnOnce(io::Error) -> RootfsError + '_ {
        move |error| self.error(step, error, String::new())
    }

    pub fn error(&self, step: &'static str, error: io::Error, hint: String) -> RootfsError {
        RootfsError::Mount(Box::new(super::MountFailure {
            index: self.index,
            destination: self.mount.destination.clone(),
            kind: self.kind.to_string(),
            source_path: self.mount.source.clone().unwrap_or_default(),
            options: self.mount.options.clone(),
            step,
            error,
            hint,
        }))
    }

    pub fn refuse(&self, reason: impl Into<String>) -> RootfsError {
        RootfsError::MountRefused { index: self.index, destination: self.mount.destination.clone(), reason: reason.into() }
    }

    pub fn is_bind(&self) -> bool {
        self.opts.is_bind() || self.kind == "bind"
    }

    pub fn is_idmapped(&self) -> bool {
        self.opts.idmap.is_some() || !self.mount.uid_mappings.is_empty()
    }
}

/// Makes one mount; `/dev` is left writable until `finish`, so /dev nodes can be made.
pub(super) fn mount_one(root: &Root, plan: &RootfsPlan, ctx: &MountCtx, userns: &mut idmap::Cache) -> Result<(), RootfsError> {
    check_policy(plan, ctx)?;
    if let Some(tree) = plan.premade.tree(ctx.index) {
        let is_dir = kernel::is_dir(&kernel::fstat(tree).map_err(ctx.fail("checking the source"))?);
        let destination = resolve_destination(root, ctx, if is_dir { Kind::Dir } else { Kind::File })?;
        kernel::move_mount(tree, destination.as_fd()).map_err(ctx.fail("attaching the mount to its destination"))?;
        return apply_propagation(tree, &ctx.opts.propagation).map_err(ctx.fail("setting propagation"));
    }
    if matches!(ctx.kind, "cgroup" | "cgroup2") {
        return cgroupfs::mount(root, plan, ctx);
    }
    if ctx.opts.flags & libc::MS_REMOUNT != 0 && !ctx.is_bind() {
        return remount_existing(root, ctx);
    }
    let (mount, destination) = if ctx.is_bind() {
        let (tree, is_dir) = detached_bind(ctx, userns, idmap::ContainerUserns::Current)?;
        (tree, resolve_destination(root, ctx, if is_dir { Kind::Dir } else { Kind::File })?)
    } else {
        let inherited_mode = tmpfs_mode_from_destination(root, ctx);
        let destination = resolve_destination(root, ctx, Kind::Dir)?;
        (detached_fs(ctx, destination.as_fd(), inherited_mode)?, destination)
    };
    kernel::move_mount(mount.as_fd(), destination.as_fd()).map_err(ctx.fail("attaching the mount to its destination"))?;
    apply_propagation(mount.as_fd(), &ctx.opts.propagation).map_err(ctx.fail("setting propagation"))
}

/// Refusals that need no kernel: the spec's and runc's rules.
fn check_policy(plan: &RootfsPlan, ctx: &MountCtx) -> Result<(), RootfsError> {
    let mount = ctx.mount;
    if mount.uid_mappings.is_empty() != mount.gid_mappings.is_empty() {
        return Err(ctx.refuse("uidMappings and gidMappings must be given together"));
    }
    let idmapped = ctx.is_idmapped();
    if idmapped && !ctx.is_bind() {
        return Err(ctx.refuse("idmap and uidMappings/gidMappings need a bind mount"));
    }
    if idmapped && mount.uid_mappings.is_empty() && !plan.in_user_ns {
        return Err(ctx.refuse("idmap without uidMappings/gidMappings needs a user namespace to take the mapping from"));
    }
    if ctx.opts.tmpcopyup && ctx.kind != "tmpfs" {
        return Err(ctx.refuse(format!("tmpcopyup needs a tmpfs, not type {:?}", ctx.kind)));
    }
    let destination = ctx.destination.as_str();
    if destination == "/" {
        return Err(ctx.refuse("cannot mount over the root; use root.path"));
    }
    if let Some(rest) = destination.strip_prefix("/proc") {
        if rest.is_empty() {
            let procfs_source = ctx.kind == "proc" || (ctx.is_bind() && source_is_procfs_root(ctx));
            if !procfs_source {
                return Err(ctx.refuse("only a procfs may be mounted on /proc (CVE-2019-19921)"));
            }
        } else if rest.starts_with('/') && !options::allowed_under_proc(destination) {
            return Err(ctx.refuse("mounts inside /proc are refused, except over the files lxcfs emulates (CVE-2019-19921)"));
        }
    }
    Ok(())
}

fn source_is_procfs_root(ctx: &MountCtx) -> bool {
    let Some(source) = ctx.mount.source.as_deref() else { return false };
    let Ok(fd) = kernel::openat2(at_fdcwd(), Path::new(source), libc::O_PATH, 0, 0) else { return false };
    kernel::fs_magic(fd.as_fd()).is_ok_and(|m| m == kernel::PROC_SUPER_MAGIC) && kernel::fstat(fd.as_fd()).is_ok_and(|st| st.st_ino == 1)
}

/// The O_PATH fd of the destination, made if missing. A proc or sysfs mount, or any
/// mount on /proc or /sys, must land on an ordinary directory reached without symlinks
/// (CVE-2019-16884); no destination may resolve into a procfs except those runc allows.
pub(super) fn resolve_destination(root: &Root, ctx: &MountCtx, kind: Kind) -> Result<OwnedFd, RootfsError> {
    let strict = matches!(ctx.kind, "proc" | "sysfs") || matches!(ctx.destination.as_str(), "/proc" | "/sys");
    let destination = Path::new(&ctx.destination);
    let fd = if strict {
        let fd = match root.resolve_no_symlinks(destination) {
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                root.resolve_or_create(destination, Kind::Dir).map_err(ctx.fail("creating the destination"))?;
                root.resolve_no_symlinks(destination)
            }
            other => other,
        };
        let fd = fd.map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => ctx.refuse(format!("type {:?} must be mounted on an ordinary directory, not through a symlink", ctx.kind)),
            _ => ctx.error("resolving the destination", e, String::new()),
        })?;
        let st = kernel::fstat(fd.as_fd()).map_err(ctx.fail("checking the destination"))?;
        if !kernel::is_dir(&st) {
            return Err(ctx.refuse(format!("type {:?} must be mounted on a directory", ctx.kind)));
        }
        fd
    } else {
        root.resolve_or_create(Path::new(&ctx.mount.destination), kind).map_err(ctx.fail("creating the destination"))?
    };
    let in_procfs = kernel::fs_magic(fd.as_fd()).map_err(ctx.fail("checking the destination"))? == kernel::PROC_SUPER_MAGIC;
    if in_procfs && !options::allowed_under_proc(&ctx.destination) && ctx.destination != "/proc" {
        return Err(ctx.refuse("the destination resolves into procfs (CVE-2019-19921)"));
    }
    Ok(fd)
}

/// A detached copy of the bind source with the mount's flags, idmap and recursive
/// attributes already applied; and whether it is a directory.
pub(super) fn detached_bind(ctx: &MountCtx, userns: &mut idmap::Cache, container: idmap::ContainerUserns) -> Result<(OwnedFd, bool), RootfsError> {
    let source = ctx.mount.source.as_deref().filter(|s| !s.is_empty()).ok_or_else(|| ctx.refuse("a bind mount needs a source"))?;
    let recursive = if ctx.opts.is_recursive_bind() { libc::AT_RECURSIVE as libc::c_uint } else { 0 };
    let tree = kernel::open_tree(at_fdcwd(), Some(Path::new(source)), libc::OPEN_TREE_CLONE | recursive).map_err(ctx.fail("opening the source"))?;
    let is_dir = kernel::is_dir(&kernel::fstat(tree.as_fd()).map_err(ctx.fail("checking the source"))?);
    if ctx.is_idmapped() {
        let fd = userns.get(container, &ctx.mount.uid_mappings, &ctx.mount.gid_mappings).map_err(ctx.fail("making the user namespace for idmap"))?;
        let attr = kernel::MountAttr { set: libc::MOUNT_ATTR_IDMAP, userns: Some(fd), ..Default::default() };
        kernel::mount_setattr(tree.as_fd(), &attr, ctx.opts.idmap == Some(Idmap::Recursive)).map_err(ctx.fail("idmapping the mount"))?;
    }
    if let Some(change) = ctx.opts.bind_remount() {
        let attr = kernel::MountAttr { set: change.set, clear: change.clear, ..Default::default() };
        match kernel::mount_setattr(tree.as_fd(), &attr, false) {
            // Flags locked by a more privileged user namespace cannot be cleared: keep them, as runc does.
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
                let kept = ctx.opts.bind_remount_keeping_locked();
                let attr = kernel::MountAttr { set: kept.set, clear: kept.clear, ..Default::default() };
                kernel::mount_setattr(tree.as_fd(), &attr, false).map_err(ctx.fail("remounting with the mount's flags"))?;
            }
            other => other.map_err(ctx.fail("remounting with the mount's flags"))?,
        }
    }
    apply_recursive(tree.as_fd(), ctx)?;
    Ok((tree, is_dir))
}

/// runc gives a tmpfs without `mode=` the mode of the directory it covers, when
/// that directory was in the image (a new one keeps tmpfs's own 1777).
fn tmpfs_mode_from_destination(root: &Root, ctx: &MountCtx) -> Option<libc::mode_t> {
    if ctx.kind != "tmpfs" || ctx.opts.data.iter().any(|o| o.starts_with("mode=")) {
        return None;
    }
    let existing = root.resolve(Path::new(&ctx.mount.destination)).ok()?;
    kernel::fstat(existing.as_fd()).ok().filter(kernel::is_dir).map(|st| st.st_mode & 0o7777)
}

/// sb flags fsconfig knows by name; the other MS_* flags are per-mount attributes,
/// except MS_SILENT (it only quiets the kernel log) and MS_I_VERSION (filesystems
/// that keep i_version manage it themselves), which the new mount API has no name for.
const SB_FLAGS: &[(libc::c_ulong, &str)] = &[
    (libc::MS_RDONLY, "ro"),
    (libc::MS_SYNCHRONOUS, "sync"),
    (libc::MS_DIRSYNC, "dirsync"),
    (libc::MS_MANDLOCK, "mand"),
    (libc::MS_LAZYTIME, "lazytime"),
];

/// A new detached filesystem: each option a separate fsconfig call, so the kernel's
/// refusal names the option. A tmpfs stays writable until tmpcopyup has filled it.
fn detached_fs(ctx: &MountCtx, destination: BorrowedFd, inherited_mode: Option<libc::mode_t>) -> Result<OwnedFd, RootfsError> {
    let fs = kernel::FsContext::open(ctx.kind).map_err(ctx.fail("opening the filesystem type"))?;
    let refused = |step: &'static str, option: &str, error: io::Error| {
        let known = options::known_options().any(|k| k == option);
        let why = fs.message().map(|m| format!(" ({m})")).unwrap_or_default();
        let origin = if known { "" } else { "; hull does not know this option and passed it to the filesystem" };
        ctx.error(step, error, format!(": option {option:?}{why}{origin}"))
    };
    if let Some(source) = ctx.mount.source.as_deref().filter(|s| !s.is_empty()) {
        fs.set_string("source", source).map_err(|e| refused("setting the source", source, e))?;
    }
    let read_only_later = ctx.opts.tmpcopyup || ctx.destination == "/dev";
    for (flag, name) in SB_FLAGS {
        if ctx.opts.flags & flag != 0 && !(*flag == libc::MS_RDONLY && read_only_later) {
            fs.set_flag(name).map_err(|e| refused("setting a flag", name, e))?;
        }
    }
    for option in &ctx.opts.data {
        fs.set_option(option).map_err(|e| refused("setting an option", option, e))?;
    }
    if let Some(label) = ctx.label {
        fs.set_string("context", label).map_err(|e| refused("setting the SELinux context", label, e))?;
    }
    if let Some(mode) = inherited_mode {
        fs.set_string("mode", &format!("{mode:o}")).map_err(|e| refused("setting an option", "mode", e))?;
    }
    fs.create().map_err(|e| {
        let why = fs.message().map(|m| format!(" ({m})")).unwrap_or_default();
        ctx.error("creating the filesystem", e, why)
    })?;
    let mut attrs = per_mount_attrs(ctx.opts.flags);
    if read_only_later {
        attrs &= !libc::MOUNT_ATTR_RDONLY;
    }
    let mount = fs.mount(attrs).map_err(ctx.fail("mounting the filesystem"))?;
    if ctx.opts.tmpcopyup {
        copyup::copy_up(destination, mount.as_fd()).map_err(ctx.fail("copying the destination's contents up into the tmpfs"))?;
        if ctx.opts.flags & libc::MS_RDONLY != 0 {
            let attr = kernel::MountAttr { set: libc::MOUNT_ATTR_RDONLY, ..Default::default() };
            kernel::mount_setattr(mount.as_fd(), &attr, false).map_err(ctx.fail("making the tmpfs read-only"))?;
        }
    }
    apply_recursive(mount.as_fd(), ctx)?;
    Ok(mount)
}


fn apply_recursive(mount: BorrowedFd, ctx: &MountCtx) -> Result<(), RootfsError> {
    if ctx.opts.recursive.is_empty() {
        return Ok(());
    }
    let attr = kernel::MountAttr { set: ctx.opts.recursive.set, clear: ctx.opts.recursive.clear, ..Default::default() };
    kernel::mount_setattr(mount, &attr, true).map_err(ctx.fail("applying the recursive options"))
}

pub(super) fn apply_propagation(mount: BorrowedFd, propagation: &[libc::c_ulong]) -> io::Result<()> {
    for flag in propagation {
        let attr = kernel::MountAttr { propagation: flag & !libc::MS_REC, ..Default::default() };
        kernel::mount_setattr(mount, &attr, flag & libc::MS_REC != 0)?;
    }
    Ok(())
}

/// `remount` on a filesystem: mount(2) with MS_REMOUNT on what is already mounted there.
fn remount_existing(root: &Root, ctx: &MountCtx) -> Result<(), RootfsError> {
    let destination = resolve_destination(root, ctx, Kind::Dir)?;
    let data = ctx.opts.data();
    let target = kernel::fd_path(destination.as_fd());
    crate::sys::mount(None, &target, None, ctx.opts.flags, Some(&data)).map_err(ctx.fail("remounting"))?;
    apply_propagation(destination.as_fd(), &ctx.opts.propagation).map_err(ctx.fail("setting propagation"))
}

/// runc labels the filesystems it makes, except procfs, sysfs and cgroups.
pub(super) fn labels_filesystem(kind: &str) -> bool {
    !matches!(kind, "proc" | "sysfs" | "cgroup" | "cgroup2" | "bind" | "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_label_goes_to_made_filesystems_only() {
        assert!(labels_filesystem("tmpfs") && labels_filesystem("devpts") && labels_filesystem("mqueue"));
        assert!(!labels_filesystem("proc") && !labels_filesystem("sysfs") && !labels_filesystem("cgroup") && !labels_filesystem("bind"));
    }

    #[test]
    fn per_mount_attributes_of_flags() {
        let flags = libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NOATIME | libc::MS_BIND | libc::MS_SYNCHRONOUS;
        assert_eq!(per_mount_attrs(flags), libc::MOUNT_ATTR_RDONLY | libc::MOUNT_ATTR_NOSUID | libc::MOUNT_ATTR_NOATIME);
        assert_eq!(per_mount_attrs(libc::MS_RELATIME), 0, "relatime is the attribute value 0");
    }
}
