//! `cgroup` and `cgroup2` mounts. cgroup2: the filesystem itself. v1 (and the
//! v1 side of a hybrid host): a tmpfs holding one directory per hierarchy,
//! each a fresh cgroup mount when the container has a cgroup namespace (it
//! then shows the container's cgroup as its root), else a bind of the
//! container's own cgroup directory, as runc does. Read-only when asked.

use super::mounts::{MountCtx, apply_propagation, resolve_destination};
use super::options::per_mount_attrs;
use super::paths::{Kind, Root, at_fdcwd};
use super::{RootfsError, RootfsPlan, kernel};
use std::ffi::CString;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

/// One v1 hierarchy as /proc/self/mountinfo shows it.
#[derive(Debug, PartialEq, Eq)]
pub struct Hierarchy {
    pub mountpoint: String,
    /// The cgroup mounted there (the mount's root), usually "/".
    pub root: String,
    /// Controllers and `name=`: the options that select the hierarchy.
    pub selectors: Vec<String>,
}

/// Super-block options of a cgroup v1 mount that are not hierarchy selectors.
const NOT_SELECTORS: &[&str] = &["rw", "ro", "xattr", "noprefix", "clone_children", "cpuset_v2_mode", "favordynmods", "nofavordynmods"];

/// PURE: the v1 hierarchies and the cgroup2 mountpoint in a mountinfo text.
pub fn parse_mountinfo(text: &str) -> (Vec<Hierarchy>, Option<String>) {
    let mut v1 = Vec::new();
    let mut v2 = None;
    for line in text.lines() {
        let Some((pre, post)) = line.split_once(" - ") else { continue };
        let fields: Vec<&str> = pre.split(' ').collect();
        let (Some(root), Some(mountpoint)) = (fields.get(3), fields.get(4)) else { continue };
        let mut post = post.split(' ');
        let (fstype, _source, options) = (post.next().unwrap_or_default(), post.next(), post.next().unwrap_or_default());
        match fstype {
            "cgroup" => {
                let selectors: Vec<String> =
                    options.split(',').filter(|o| !NOT_SELECTORS.contains(o) && !o.starts_with("release_agent=")).map(str::to_string).collect();
                if !selectors.is_empty() {
                    v1.push(Hierarchy { mountpoint: mountpoint.to_string(), root: root.to_string(), selectors });
                }
            }
            "cgroup2" => v2 = Some(mountpoint.to_string()),
            _ => {}
        }
    }
    (v1, v2)
}

/// PURE: this process's cgroup in the hierarchy with `selectors`, from /proc/self/cgroup.
pub fn own_cgroup<'a>(proc_cgroup: &'a str, selectors: &[String]) -> Option<&'a str> {
    proc_cgroup.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        controllers.split(',').any(|c| !c.is_empty() && selectors.iter().any(|s| s == c)).then_some(path)
    })
}

/// A /proc file read with one buffer: its size is 0, so std would probe in small reads.

fn has_cgroup_ns(plan: &RootfsPlan) -> bool {
    plan.spec.linux.as_ref().is_some_and(|l| l.namespaces.iter().any(|n| n.kind == "cgroup"))
}

pub(super) fn mount(root: &Root, plan: &RootfsPlan, ctx: &MountCtx) -> Result<(), RootfsError> {
    let destination = resolve_destination(root, ctx, Kind::Dir)?;
    let mountinfo = crate::sys::read_proc("/proc/self/mountinfo").map_err(ctx.fail("reading /proc/self/mountinfo"))?;
    let own = crate::sys::read_proc("/proc/self/cgroup").map_err(ctx.fail("reading /proc/self/cgroup"))?;
    let (v1, v2) = parse_mountinfo(&mountinfo);
    let mount = if ctx.kind == "cgroup2" || v1.is_empty() {
        mount_v2(plan, ctx, v2.as_deref(), &own)?
    } else {
        let tmpfs = v1_tmpfs(ctx)?;
        kernel::move_mount(tmpfs.as_fd(), destination.as_fd()).map_err(ctx.fail("attaching the cgroup tmpfs"))?;
        for hierarchy in &v1 {
            mount_hierarchy(plan, ctx, tmpfs.as_fd(), hierarchy, &own)?;
        }
        if ctx.opts.flags & libc::MS_RDONLY != 0 {
            let attr = kernel::MountAttr { set: libc::MOUNT_ATTR_RDONLY, ..Default::default() };
            kernel::mount_setattr(tmpfs.as_fd(), &attr, false).map_err(ctx.fail("making the cgroup tmpfs read-only"))?;
        }
        apply_propagation(tmpfs.as_fd(), &ctx.opts.propagation).map_err(ctx.fail("setting propagation"))?;
        return Ok(());
    };
    kernel::move_mount(mount.as_fd(), destination.as_fd()).map_err(ctx.fail("attaching the cgroup mount"))?;
    apply_propagation(mount.as_fd(), &ctx.opts.propagation).map_err(ctx.fail("setting propagation"))
}

/// cgroup2 itself; where the kernel refuses (a user namespace without a cgroup
/// namespace), a bind of the container's own cgroup, as runc falls back to.
fn mount_v2(plan: &RootfsPlan, ctx: &MountCtx, mountpoint: Option<&str>, own: &str) -> Result<OwnedFd, RootfsError> {
    let attrs = per_mount_attrs(ctx.opts.flags);
    let fresh = (|| {
        let fs = kernel::FsContext::open("cgroup2")?;
        fs.set_string("source", "cgroup2")?;
        fs.create()?;
        fs.mount(attrs)
    })();
    match fresh {
        Ok(mount) => Ok(mount),
        Err(e) if matches!(e.raw_os_error(), Some(libc::EPERM | libc::EBUSY)) && !has_cgroup_ns(plan) => {
            let mountpoint = mountpoint.ok_or_else(|| ctx.error("mounting cgroup2", e, ": and no cgroup2 is mounted to bind from".into()))?;
            let path = own.lines().find_map(|l| l.strip_prefix("0::")).unwrap_or("/");
            let source = PathBuf::from(mountpoint).join(path.trim_start_matches('/'));
            bind_readonly_as_asked(ctx, &source)
        }
        Err(e) => Err(ctx.error("mounting cgroup2", e, String::new())),
    }
}

fn v1_tmpfs(ctx: &MountCtx) -> Result<OwnedFd, RootfsError> {
    let fs = kernel::FsContext::open("tmpfs").map_err(ctx.fail("opening tmpfs"))?;
    fs.set_string("source", "tmpfs").and_then(|()| fs.set_string("mode", "755")).map_err(ctx.fail("configuring the cgroup tmpfs"))?;
    fs.create().map_err(ctx.fail("creating the cgroup tmpfs"))?;
    // Writable until the hierarchies' directories and symlinks are in.
    fs.mount(per_mount_attrs(ctx.opts.flags) & !libc::MOUNT_ATTR_RDONLY).map_err(ctx.fail("mounting the cgroup tmpfs"))
}

fn mount_hierarchy(plan: &RootfsPlan, ctx: &MountCtx, tmpfs: BorrowedFd, hierarchy: &Hierarchy, own: &str) -> Result<(), RootfsError> {
    let name = Path::new(&hierarchy.mountpoint).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let cname = CString::new(name.as_str()).map_err(|_| ctx.refuse(format!("cgroup mountpoint {:?} has a NUL byte", hierarchy.mountpoint)))?;
    kernel::mkdirat(tmpfs, &cname, 0o755).map_err(ctx.fail("creating a hierarchy directory"))?;
    let target = kernel::openat(tmpfs, &cname, libc::O_PATH | libc::O_DIRECTORY, 0).map_err(ctx.fail("opening a hierarchy directory"))?;
    let mount = if has_cgroup_ns(plan) {
        let fresh = (|| {
            let fs = kernel::FsContext::open("cgroup")?;
            fs.set_string("source", "cgroup")?;
            for selector in &hierarchy.selectors {
                fs.set_option(selector)?;
            }
            fs.create()?;
            fs.mount(per_mount_attrs(ctx.opts.flags))
        })();
        fresh.map_err(|e| ctx.error("mounting a cgroup v1 hierarchy", e, format!(": {}", hierarchy.selectors.join(","))))?
    } else {
        let path = own_cgroup(own, &hierarchy.selectors).unwrap_or("/");
        let relative = Path::new(path).strip_prefix(&hierarchy.root).unwrap_or(Path::new(path));
        let source = PathBuf::from(&hierarchy.mountpoint).join(relative.strip_prefix("/").unwrap_or(relative));
        bind_readonly_as_asked(ctx, &source)?
    };
    kernel::move_mount(mount.as_fd(), target.as_fd()).map_err(ctx.fail("attaching a cgroup v1 hierarchy"))?;
    // "cpu,cpuacct" is also reachable as "cpu" and "cpuacct".
    if name.contains(',') {
        for part in name.split(',') {
            let link = CString::new(part).map_err(|_| ctx.refuse("bad controller name"))?;
            match kernel::symlinkat(&cname, tmpfs, &link) {
                Err(e) if e.raw_os_error() != Some(libc::EEXIST) => return Err(ctx.error("linking a merged hierarchy", e, String::new())),
                _ => {}
            }
        }
    }
    Ok(())
}

/// A recursive bind of a host cgroup directory with the mount's flags.
fn bind_readonly_as_asked(ctx: &MountCtx, source: &Path) -> Result<OwnedFd, RootfsError> {
    let flags = libc::OPEN_TREE_CLONE | libc::AT_RECURSIVE as libc::c_uint;
    let tree = kernel::open_tree(at_fdcwd(), Some(source), flags).map_err(|e| ctx.error("binding the container's cgroup", e, format!(": {}", source.display())))?;
    let set = per_mount_attrs(ctx.opts.flags);
    let attr = kernel::MountAttr { set, ..Default::default() };
    if set != 0 {
        kernel::mount_setattr(tree.as_fd(), &attr, false).map_err(ctx.fail("setting the cgroup bind's flags"))?;
    }
    Ok(tree)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
30 24 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:4 - tmpfs tmpfs ro,mode=755
31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:5 - cgroup2 cgroup2 rw,nsdelegate
32 30 0:28 / /sys/fs/cgroup/systemd rw,nosuid shared:6 - cgroup cgroup rw,xattr,name=systemd
35 30 0:31 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:9 - cgroup cgroup rw,cpu,cpuacct
36 30 0:32 / /sys/fs/cgroup/memory rw,nosuid shared:10 - cgroup cgroup rw,memory,release_agent=/x
";

    #[test]
    fn hybrid_mountinfo() {
        let (v1, v2) = parse_mountinfo(HYBRID);
        assert_eq!(v2.as_deref(), Some("/sys/fs/cgroup/unified"));
        let selectors: Vec<Vec<String>> = v1.iter().map(|h| h.selectors.clone()).collect();
        assert_eq!(selectors, [vec!["name=systemd".to_string()], vec!["cpu".into(), "cpuacct".into()], vec!["memory".into()]]);
        assert_eq!(v1[1].mountpoint, "/sys/fs/cgroup/cpu,cpuacct");
    }

    #[test]
    fn own_cgroup_by_controller_or_name() {
        let own = "12:memory:/c1\n3:cpu,cpuacct:/c1/x\n1:name=systemd:/sys\n0::/v2\n";
        assert_eq!(own_cgroup(own, &["memory".into()]), Some("/c1"));
        assert_eq!(own_cgroup(own, &["cpuacct".into()]), Some("/c1/x"));
        assert_eq!(own_cgroup(own, &["name=systemd".into()]), Some("/sys"));
        assert_eq!(own_cgroup(own, &["pids".into()]), None);
    }
}
