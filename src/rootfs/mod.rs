//! The container's filesystem: the config's mounts, /dev, then pivot_root
//! into the rootfs, masked and read-only paths, and a read-only root.
//!
//! Runs in the init, inside the new mount namespace, before pivot_root.

pub mod options;
mod paths;

use crate::spec::config::{Device, Mount, Spec};
use crate::sys;
use options::MountOptions;
use std::io;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

pub use paths::secure_join;

#[derive(Debug, thiserror::Error)]
pub enum RootfsError {
    #[error("mount {kind} {source_path:?} on {destination} (options {options:?}): {error}")]
    Mount { destination: String, kind: String, source_path: String, options: Vec<String>, error: io::Error },
    #[error("{what} {path}: {error}")]
    Io { what: &'static str, path: PathBuf, error: io::Error },
    #[error("{0}")]
    Unsafe(String),
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
}

/// Everything before pivot_root: propagation, the rootfs bind, the mounts and /dev.
pub fn prepare(plan: &RootfsPlan) -> Result<(), RootfsError> {
    let linux = plan.spec.linux.as_ref();
    let propagation = linux
        .and_then(|l| l.rootfs_propagation.as_deref())
        .filter(|p| !p.is_empty())
        .and_then(options::propagation)
        .unwrap_or(libc::MS_SLAVE | libc::MS_REC);
    let root = Path::new("/");
    sys::mount(None, root, None, propagation, None).map_err(io_err("setting propagation of", root))?;
    // pivot_root needs the new root to be a mount point.
    sys::mount(Some(plan.rootfs), plan.rootfs, None, libc::MS_BIND | libc::MS_REC, None).map_err(io_err("bind-mounting rootfs", plan.rootfs))?;
    for mount in &plan.spec.mounts {
        mount_one(plan, mount)?;
    }
    let dev_is_mounted = plan.spec.mounts.iter().any(|m| m.destination == "/dev");
    let devices = linux.map(|l| l.devices.as_slice()).unwrap_or_default();
    create_devices(plan, devices, dev_is_mounted)?;
    Ok(())
}

fn mount_one(plan: &RootfsPlan, mount: &Mount) -> Result<(), RootfsError> {
    let opts = options::parse(&mount.options);
    let kind = mount.kind.clone().unwrap_or_default();
    let fail = |error: io::Error| RootfsError::Mount {
        destination: mount.destination.clone(),
        kind: kind.clone(),
        source_path: mount.source.clone().unwrap_or_default(),
        options: mount.options.clone(),
        error,
    };
    if !mount.uid_mappings.is_empty() || !mount.gid_mappings.is_empty() {
        return Err(RootfsError::Unsafe(format!("mount {}: uidMappings/gidMappings are not supported by hull yet", mount.destination)));
    }
    let destination = secure_join(plan.rootfs, Path::new(&mount.destination)).map_err(fail)?;
    if matches!(mount.destination.as_str(), "/proc" | "/sys") || mount.destination.starts_with("/proc/") {
        // A symlink here would send the mount somewhere else (CVE-2019-16884).
        if let Ok(meta) = std::fs::symlink_metadata(&destination)
            && !meta.is_dir()
        {
            return Err(RootfsError::Unsafe(format!("mount {}: destination is not a directory", mount.destination)));
        }
    }
    let source = mount.source.as_deref().map(Path::new);
    if opts.is_bind() {
        let source = source.ok_or_else(|| fail(io::Error::new(io::ErrorKind::InvalidInput, "bind mount without a source")))?;
        let is_dir = std::fs::metadata(source).map_err(fail)?.is_dir();
        make_destination(&destination, is_dir).map_err(fail)?;
        sys::mount(Some(source), &destination, None, opts.flags & (libc::MS_BIND | libc::MS_REC), None).map_err(fail)?;
        // Flags other than bind/rec apply only through a remount.
        let extra = opts.flags & !(libc::MS_BIND | libc::MS_REC | libc::MS_REMOUNT);
        if extra != 0 {
            let locked = locked_flags(&destination);
            sys::mount(None, &destination, None, libc::MS_BIND | libc::MS_REMOUNT | extra | locked, None).map_err(fail)?;
        }
    } else {
        make_destination(&destination, true).map_err(fail)?;
        let data = opts.data();
        let mut flags = opts.flags;
        if kind == "cgroup" || kind == "cgroup2" {
            return mount_cgroup(&destination, &opts, mount).map_err(fail);
        }
        if kind == "mqueue" || kind == "sysfs" {
            flags &= !libc::MS_RDONLY;
        }
        sys::mount(source.or(Some(Path::new(&kind))), &destination, Some(&kind), flags, Some(&data)).map_err(fail)?;
        if flags != opts.flags {
            sys::mount(None, &destination, None, libc::MS_REMOUNT | opts.flags, Some(&data)).map_err(fail)?;
        }
    }
    for propagation in &opts.propagation {
        sys::mount(None, &destination, None, *propagation, None).map_err(fail)?;
    }
    Ok(())
}

/// cgroup mounts: cgroup2 directly; for v1, a tmpfs with each hierarchy bound in.
fn mount_cgroup(destination: &Path, opts: &MountOptions, mount: &Mount) -> io::Result<()> {
    let ro = opts.flags & libc::MS_RDONLY;
    let base = opts.flags & (libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC);
    if mount.kind.as_deref() == Some("cgroup2") || !Path::new("/sys/fs/cgroup/cpu").exists() && Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        return sys::mount(Some(Path::new("cgroup2")), destination, Some("cgroup2"), base | ro, None);
    }
    sys::mount(Some(Path::new("tmpfs")), destination, Some("tmpfs"), base, Some("mode=755"))?;
    for entry in std::fs::read_dir("/sys/fs/cgroup")? {
        let entry = entry?;
        let host = entry.path();
        if !entry.file_type()?.is_dir() {
            continue;
        }
        let target = destination.join(entry.file_name());
        std::fs::create_dir_all(&target)?;
        // The container sees its own cgroup as the root of each hierarchy only with a
        // cgroup namespace; without one it sees the host's tree, read-only, as runc does.
        sys::mount(Some(&host), &target, None, libc::MS_BIND | libc::MS_REC, None)?;
        sys::mount(None, &target, None, libc::MS_BIND | libc::MS_REMOUNT | base | ro | locked_flags(&target), None)?;
    }
    if ro != 0 {
        sys::mount(None, destination, None, libc::MS_REMOUNT | base | ro, Some("mode=755"))?;
    }
    Ok(())
}

/// Flags the kernel will not let a remount drop inside a user namespace.
fn locked_flags(path: &Path) -> libc::c_ulong {
    let Ok(c) = sys::cpath(path) else { return 0 };
    // SAFETY: an all-zero statvfs is valid and statvfs fills it.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: c is a valid C string, st a valid out pointer.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return 0;
    }
    let pairs = [
        (libc::ST_NOSUID, libc::MS_NOSUID),
        (libc::ST_NODEV, libc::MS_NODEV),
        (libc::ST_NOEXEC, libc::MS_NOEXEC),
        (libc::ST_RDONLY, libc::MS_RDONLY),
        (libc::ST_NOATIME, libc::MS_NOATIME),
        (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
        (libc::ST_RELATIME, libc::MS_RELATIME),
    ];
    pairs.iter().filter(|(st_flag, _)| st.f_flag & st_flag != 0).fold(0, |acc, (_, ms)| acc | ms) & !libc::MS_RDONLY
}

fn make_destination(path: &Path, dir: bool) -> io::Result<()> {
    if dir {
        return std::fs::create_dir_all(path);
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    match std::fs::OpenOptions::new().write(true).create(true).truncate(false).open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::EISDIR) => Ok(()),
        Err(e) => Err(e),
    }
}

struct DefaultDevice {
    path: &'static str,
    major: u32,
    minor: u32,
}

/// The nodes runc creates when the config does not list them.
const DEFAULT_DEVICES: [DefaultDevice; 6] = [
    DefaultDevice { path: "/dev/null", major: 1, minor: 3 },
    DefaultDevice { path: "/dev/zero", major: 1, minor: 5 },
    DefaultDevice { path: "/dev/full", major: 1, minor: 7 },
    DefaultDevice { path: "/dev/random", major: 1, minor: 8 },
    DefaultDevice { path: "/dev/urandom", major: 1, minor: 9 },
    DefaultDevice { path: "/dev/tty", major: 5, minor: 0 },
];

fn create_devices(plan: &RootfsPlan, devices: &[Device], dev_is_mounted: bool) -> Result<(), RootfsError> {
    let dev = secure_join(plan.rootfs, Path::new("/dev")).map_err(io_err("resolving", Path::new("/dev")))?;
    std::fs::create_dir_all(&dev).map_err(io_err("creating", &dev))?;
    for default in &DEFAULT_DEVICES {
        if devices.iter().any(|d| d.path == default.path) {
            continue;
        }
        let device = Device {
            kind: "c".into(),
            path: default.path.into(),
            major: default.major.into(),
            minor: default.minor.into(),
            file_mode: Some(0o666),
            uid: Some(0),
            gid: Some(0),
        };
        create_device(plan, &device)?;
    }
    for device in devices {
        create_device(plan, device)?;
    }
    if dev_is_mounted {
        let links = [("/proc/self/fd", "fd"), ("/proc/self/fd/0", "stdin"), ("/proc/self/fd/1", "stdout"), ("/proc/self/fd/2", "stderr"), ("pts/ptmx", "ptmx")];
        for (target, name) in links {
            let link = dev.join(name);
            match symlink(target, &link) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_err("creating symlink", &link)(e)),
            }
        }
        if Path::new("/proc/kcore").exists() {
            let _ = symlink("/proc/kcore", dev.join("core"));
        }
    }
    Ok(())
}

fn create_device(plan: &RootfsPlan, device: &Device) -> Result<(), RootfsError> {
    let path = secure_join(plan.rootfs, Path::new(&device.path)).map_err(io_err("resolving", Path::new(&device.path)))?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io_err("creating", parent))?;
    }
    let mode = device.file_mode.unwrap_or(0o666) & 0o7777;
    let kind = match device.kind.as_str() {
        "b" => libc::S_IFBLK,
        "p" => libc::S_IFIFO,
        _ => libc::S_IFCHR,
    };
    if plan.in_user_ns {
        // mknod is not allowed in a user namespace: bind the host's node instead.
        make_destination(&path, false).map_err(io_err("creating", &path))?;
        let host = Path::new(&device.path);
        return sys::mount(Some(host), &path, None, libc::MS_BIND, None).map_err(io_err("bind-mounting device onto", &path));
    }
    let _ = std::fs::remove_file(&path);
    let c = sys::cpath(&path).map_err(io_err("creating device", &path))?;
    let dev = libc::makedev(device.major as u32, device.minor as u32);
    // SAFETY: c is a valid C string.
    sys::cvt(unsafe { libc::mknod(c.as_ptr(), kind | mode, dev) }).map_err(io_err("creating device", &path))?;
    // mknod is subject to the umask; the config's mode is exact.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).map_err(io_err("chmod", &path))?;
    let (uid, gid) = (device.uid.unwrap_or(0), device.gid.unwrap_or(0));
    std::os::unix::fs::lchown(&path, Some(uid), Some(gid)).map_err(io_err("chown", &path))?;
    Ok(())
}

/// Makes the rootfs the root: pivot_root, or with `--no-pivot` a move and a chroot.
pub fn enter(plan: &RootfsPlan) -> Result<(), RootfsError> {
    let rootfs = plan.rootfs;
    std::env::set_current_dir(rootfs).map_err(io_err("chdir", rootfs))?;
    if plan.no_pivot {
        sys::mount(Some(rootfs), Path::new("/"), None, libc::MS_MOVE, None).map_err(io_err("moving rootfs to / from", rootfs))?;
        let dot = sys::cpath(".").map_err(io_err("chroot", rootfs))?;
        // SAFETY: dot is a valid C string.
        sys::cvt(unsafe { libc::chroot(dot.as_ptr()) }).map_err(io_err("chroot", rootfs))?;
    } else {
        let dot = sys::cpath(".").map_err(io_err("pivot_root", rootfs))?;
        // SAFETY: pivot_root(".", ".") stacks the old root under the new one; both are valid C strings.
        sys::cvt_long(unsafe { libc::syscall(libc::SYS_pivot_root, dot.as_ptr(), dot.as_ptr()) }).map_err(io_err("pivot_root", rootfs))?;
        // The old root is now mounted on top of "."; keep its unmount from reaching the host.
        sys::mount(None, Path::new("."), None, libc::MS_SLAVE | libc::MS_REC, None).map_err(io_err("making old root a slave", rootfs))?;
        sys::umount2(Path::new("."), libc::MNT_DETACH).map_err(io_err("unmounting old root", rootfs))?;
    }
    std::env::set_current_dir("/").map_err(io_err("chdir", Path::new("/")))?;
    Ok(())
}

/// After pivot: masked paths, read-only paths, read-only root.
pub fn finish(spec: &Spec) -> Result<(), RootfsError> {
    if let Some(linux) = &spec.linux {
        for path in &linux.masked_paths {
            mask(Path::new(path))?;
        }
        for path in &linux.readonly_paths {
            readonly(Path::new(path))?;
        }
    }
    if spec.root.as_ref().is_some_and(|r| r.readonly) {
        let root = Path::new("/");
        let flags = libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | locked_flags(root);
        sys::mount(None, root, None, flags, None).map_err(io_err("remounting read-only", root))?;
    }
    Ok(())
}

fn mask(path: &Path) -> Result<(), RootfsError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err("masking", path)(e)),
    };
    if meta.is_dir() {
        sys::mount(Some(Path::new("tmpfs")), path, Some("tmpfs"), libc::MS_RDONLY, Some("size=0k")).map_err(io_err("masking", path))
    } else {
        let null = Path::new("/dev/null");
        let null_meta = std::fs::symlink_metadata(null).map_err(io_err("checking", null))?;
        // A /dev/null replaced by a file or symlink in the image must not be what we bind (CVE-2025-31133).
        if !std::os::unix::fs::FileTypeExt::is_char_device(&null_meta.file_type()) {
            return Err(RootfsError::Unsafe("/dev/null in the container is not a character device".into()));
        }
        sys::mount(Some(null), path, None, libc::MS_BIND, None).map_err(io_err("masking", path))
    }
}

fn readonly(path: &Path) -> Result<(), RootfsError> {
    match sys::mount(Some(path), path, None, libc::MS_BIND | libc::MS_REC, None) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err("making read-only", path)(e)),
    }
    let flags = libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | locked_flags(path);
    sys::mount(None, path, None, flags, None).map_err(io_err("making read-only", path))
}
