//! Where a container's cgroups live (cgroupfs v1, v2 or hybrid, chosen by what
//! the host has), joining them, and applying `linux.resources` to them.
//!
//! What gets written is decided by `writes::plan`, a pure function; this
//! module only picks the directory for each write and performs it.
//! A systemd manager would sit beside this one; until it exists,
//! `--systemd-cgroup` is refused with `NoSystemd`.

pub mod bpf;
pub mod devices;
pub mod freezer;
pub mod layout;
pub mod oom;
pub mod stats;
pub mod writes;

use crate::spec::resources::Resources;
use layout::Layout;
use std::cell::OnceCell;
use std::io;
use std::path::{Path, PathBuf};
use writes::{Controller, Facts, Version};

#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("{what} {path}: {source}")]
    Io { what: &'static str, path: PathBuf, source: io::Error },
    #[error("writing {value:?} to {path}: {source}")]
    Write { path: PathBuf, value: String, source: io::Error },
    #[error("linux.cgroupsPath {0:?}: must not contain '..'")]
    BadPath(String),
    #[error("linux.cgroupsPath {0:?}: names a hierarchy's root; hull only limits and removes a cgroup below it")]
    RootPath(String),
    #[error("linux.cgroupsPath {0:?}: a systemd slice:prefix:name path needs --systemd-cgroup, which hull does not support yet (systemd is not running here)")]
    SystemdPath(String),
    #[error("--systemd-cgroup: systemd is not running on this host; use cgroupfs (drop --systemd-cgroup)")]
    NoSystemd,
    #[error("no cgroup hierarchy is mounted (looked in /proc/self/mountinfo)")]
    NoHierarchy,
    #[error(transparent)]
    Refused(#[from] writes::Refused),
    #[error("linux.resources: the {controller} controller is not enabled for {path}: add it to {parent} (hull does not change cgroups it did not create)", parent = .path.parent().unwrap_or(.path).join("cgroup.subtree_control").display())]
    NotDelegated { controller: &'static str, path: PathBuf },
    #[error("linux.resources.devices: {0}")]
    Devices(String),
    #[error("{path}: the cgroup did not reach state {wanted} (it reads {got:?})")]
    Freeze { path: PathBuf, wanted: &'static str, got: String },
    #[error("the container has no {0} cgroup")]
    Missing(&'static str),
}

/// Whether resources are applied to a new cgroup or changed in a live one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Apply {
    Create,
    Update,
}

#[derive(Debug, Clone)]
struct Dir {
    path: PathBuf,
    version: Version,
    /// v1: the controllers of this hierarchy; v2: empty (read from cgroup.controllers when needed).
    controllers: Vec<String>,
}

/// The cgroup directories of one container, one per hierarchy.
#[derive(Debug, Default)]
pub struct Cgroups {
    pub paths: Vec<PathBuf>,
    dirs: Vec<Dir>,
    /// The unified mountpoint's root, to learn which controllers cgroup2 owns (hybrid hosts).
    unified_root: Option<PathBuf>,
    v2_controllers: OnceCell<Vec<String>>,
}

impl Cgroups {
    /// Works out the directories for `cgroups_path` (runc's rules: absolute is under each
    /// hierarchy's root, relative is under hull's own cgroup, absent is `/<id>`).
    /// On a hybrid host the cgroup2 mount gets a directory too: controllers only it has
    /// (hugetlb on some hosts) live there.
    pub fn plan(cgroups_path: Option<&str>, id: &str) -> Result<Cgroups, CgroupError> {
        let wanted = match cgroups_path {
            Some(p) if !p.is_empty() => p.to_string(),
            _ => format!("/{id}"),
        };
        if wanted.split('/').any(|c| c == "..") {
            return Err(CgroupError::BadPath(wanted));
        }
        if wanted.split('/').all(|c| c.is_empty() || c == ".") {
            return Err(CgroupError::RootPath(wanted));
        }
        if wanted.contains(':') && !wanted.starts_with('/') {
            return Err(CgroupError::SystemdPath(wanted));
        }
        let inner = |own: &Path| if wanted.starts_with('/') { PathBuf::from(&wanted) } else { own.join(&wanted) };
        let layout = layout::detect()?;
        let mut dirs: Vec<Dir> = layout
            .v1
            .iter()
            .map(|h| Dir { path: layout::under(&h.mountpoint, &inner(&h.own)), version: Version::V1, controllers: h.controllers.clone() })
            .collect();
        if let Some(u) = &layout.unified {
            dirs.push(Dir { path: layout::under(&u.mountpoint, &inner(&u.own)), version: Version::V2, controllers: Vec::new() });
        }
        Cgroups::from_dirs(dirs, &layout)
    }

    /// The cgroups recorded for an existing container, matched to today's mounts.
    pub fn open(paths: &[PathBuf]) -> Result<Cgroups, CgroupError> {
        let layout = layout::detect()?;
        let dirs = paths
            .iter()
            .filter_map(|path| {
                if let Some(h) = layout.v1.iter().filter(|h| path.starts_with(&h.mountpoint)).max_by_key(|h| h.mountpoint.as_os_str().len()) {
                    // A hierarchy's root is never the container's to change.
                    return Some(Dir { path: path.clone(), version: Version::V1, controllers: h.controllers.clone() }).filter(|_| h.mountpoint != *path);
                }
                let u = layout.unified.as_ref().filter(|u| path.starts_with(&u.mountpoint))?;
                Some(Dir { path: path.clone(), version: Version::V2, controllers: Vec::new() }).filter(|_| u.mountpoint != *path)
            })
            .collect();
        Cgroups::from_dirs(dirs, &layout)
    }

    fn from_dirs(dirs: Vec<Dir>, layout: &Layout) -> Result<Cgroups, CgroupError> {
        if dirs.is_empty() {
            return Err(CgroupError::NoHierarchy);
        }
        Ok(Cgroups {
            paths: dirs.iter().map(|d| d.path.clone()).collect(),
            unified_root: layout.unified.as_ref().filter(|_| !layout.is_pure_v2()).map(|u| u.mountpoint.clone()),
            dirs,
            v2_controllers: OnceCell::new(),
        })
    }

    /// Makes every directory (cpuset ones get their parent's cpus and mems first, or
    /// nothing could join them).
    pub fn create(&self) -> Result<(), CgroupError> {
        for dir in &self.dirs {
            if dir.version == Version::V2 {
                create_v2(&dir.path)?;
                continue;
            }
            std::fs::create_dir_all(&dir.path).map_err(|source| CgroupError::Io { what: "creating cgroup", path: dir.path.clone(), source })?;
            if dir.version == Version::V1 && dir.controllers.iter().any(|c| c == "cpuset") {
                for file in ["cpuset.cpus", "cpuset.mems"] {
                    inherit_cpuset(&dir.path, file)?;
                }
            }
        }
        Ok(())
    }

    pub fn add(&self, pid: libc::pid_t) -> Result<(), CgroupError> {
        for dir in &self.dirs {
            write_file(&dir.path.join("cgroup.procs"), &pid.to_string())?;
        }
        Ok(())
    }

    /// The directory a controller's files live in, and its version.
    fn dir_of(&self, controller: Controller) -> Option<&Dir> {
        let v1 = self.dirs.iter().find(|d| d.version == Version::V1 && d.controllers.iter().any(|c| c == controller.v1_name()));
        v1.or_else(|| self.v2_dir().filter(|_| self.version_of(controller) == Some(Version::V2)))
    }

    fn v2_dir(&self) -> Option<&Dir> {
        self.dirs.iter().find(|d| d.version == Version::V2)
    }

    /// v1 where a v1 hierarchy has the controller, else v2 where cgroup2 offers it.
    pub fn version_of(&self, controller: Controller) -> Option<Version> {
        if self.dirs.iter().any(|d| d.version == Version::V1 && d.controllers.iter().any(|c| c == controller.v1_name())) {
            return Some(Version::V1);
        }
        self.v2_dir()?;
        if controller == Controller::Core || self.v2_controllers().iter().any(|c| c == controller.v2_name()) {
            return Some(Version::V2);
        }
        None
    }

    /// What cgroup2 offers: on a hybrid host, what its root lists (the controllers not bound
    /// to v1); on a pure v2 host, what the container's parent delegates.
    fn v2_controllers(&self) -> &[String] {
        self.v2_controllers.get_or_init(|| {
            let file = match (&self.unified_root, self.v2_dir()) {
                (Some(root), _) => root.join("cgroup.controllers"),
                (None, Some(d)) => d.path.join("cgroup.controllers"),
                (None, None) => return Vec::new(),
            };
            std::fs::read_to_string(file).unwrap_or_default().split_whitespace().map(String::from).collect()
        })
    }

    /// Applies `resources`: decides the writes (pure), then performs them in order.
    /// Any refused value fails with the file, the value and the kernel's errno.
    pub fn apply(&self, resources: Option<&Resources>, mode: Apply) -> Result<(), CgroupError> {
        let Some(resources) = resources.filter(|r| !r.is_empty()) else { return Ok(()) };
        let mut resources = resources.clone();
        if mode == Apply::Update && !resources.devices.is_empty() {
            // Rewriting the allow-list denies every device for a moment; the running
            // container's own rules stay as create set them.
            crate::logging::warn("update: linux.resources.devices cannot be changed on a running container; ignored");
            resources.devices.clear();
        }
        // cgroup v2 has no device files: the allow-list is an eBPF program on the cgroup.
        if !resources.devices.is_empty() && self.version_of(Controller::Devices) != Some(Version::V1) {
            let dir = self.v2_dir().ok_or(CgroupError::Missing("devices"))?;
            bpf::attach_device_filter(&dir.path, &resources.devices)?;
        }
        let facts = self.facts(&resources);
        let version_of = |c| self.version_of(c);
        let plan = writes::plan(&resources, &version_of, &facts)?;
        for warning in &plan.warnings {
            crate::logging::warn(warning);
        }
        for write in &plan.writes {
            let dir = self.dir_of(write.controller).ok_or(CgroupError::Missing(write.controller.v2_name()))?;
            if write.version == Version::V2 && write.controller != Controller::Core {
                let enabled = std::fs::read_to_string(dir.path.join("cgroup.controllers")).unwrap_or_default();
                if !enabled.split_whitespace().any(|c| c == write.controller.v2_name()) {
                    return Err(CgroupError::NotDelegated { controller: write.controller.v2_name(), path: dir.path.clone() });
                }
            }
            write_file(&dir.path.join(&write.file), &write.value)?;
        }
        Ok(())
    }

    /// Reads only what the set resources need to choose files and order.
    fn facts(&self, r: &Resources) -> Facts {
        let mut facts = Facts::default();
        let in_dir = |c: Controller, f: &str| self.dir_of(c).map(|d| d.path.join(f));
        let exists = |c: Controller, f: &str| in_dir(c, f).is_some_and(|p| p.exists());
        let read = |c: Controller, f: &str| in_dir(c, f).and_then(|p| std::fs::read_to_string(p).ok()).map(|s| s.trim().to_string());
        let v1 = |c| self.version_of(c) == Some(Version::V1);
        if let Some(m) = &r.memory {
            if m.limit.is_some() || m.swap.is_some() {
                facts.swap_accounting = exists(Controller::Memory, if v1(Controller::Memory) { "memory.memsw.limit_in_bytes" } else { "memory.swap.max" });
            }
            if m.limit.is_some() && m.swap.is_some() && v1(Controller::Memory) {
                facts.memory_limit_now = read(Controller::Memory, "memory.limit_in_bytes").and_then(|s| s.parse().ok());
            }
            if m.check_before_update == Some(true) && !v1(Controller::Memory) {
                facts.memory_usage_now = read(Controller::Memory, "memory.current").and_then(|s| s.parse().ok());
            }
        }
        if let Some(io) = &r.block_io
            && (io.weight.is_some() || !io.weight_device.is_empty())
        {
            facts.bfq = if v1(Controller::Blkio) {
                !exists(Controller::Blkio, "blkio.weight") && exists(Controller::Blkio, "blkio.bfq.weight")
            } else {
                exists(Controller::Blkio, "io.bfq.weight")
            };
        }
        if let Some(first) = r.hugepage_limits.first() {
            let suffix = if v1(Controller::Hugetlb) { "rsvd.limit_in_bytes" } else { "rsvd.max" };
            facts.hugetlb_rsvd = exists(Controller::Hugetlb, &format!("hugetlb.{}.{suffix}", first.page_size));
        }
        if let Some(cpu) = &r.cpu
            && cpu.period.is_some()
            && cpu.quota.is_none()
            && !v1(Controller::Cpu)
        {
            facts.cpu_quota_now = read(Controller::Cpu, "cpu.max").and_then(|s| s.split_whitespace().next().map(String::from));
        }
        facts
    }

    /// Every pid in the container's cgroup.
    pub fn procs(&self) -> Vec<libc::pid_t> {
        procs(&self.paths)
    }

    /// A manager over given directories, for tests against a temporary tree.
    #[cfg(test)]
    fn for_test(v1: &[(&Path, &[&str])], v2: Option<&Path>, unified_root: Option<&Path>) -> Cgroups {
        let mut dirs: Vec<Dir> = v1.iter().map(|(p, c)| Dir { path: p.to_path_buf(), version: Version::V1, controllers: c.iter().map(|c| c.to_string()).collect() }).collect();
        dirs.extend(v2.map(|p| Dir { path: p.to_path_buf(), version: Version::V2, controllers: Vec::new() }));
        Cgroups { paths: dirs.iter().map(|d| d.path.clone()).collect(), dirs, unified_root: unified_root.map(Path::to_path_buf), v2_controllers: OnceCell::new() }
    }

    /// The directory holding the freezer: v1's freezer hierarchy, else the v2 directory.
    pub fn freezer_dir(&self) -> Option<(&Path, Version)> {
        let v1 = self.dirs.iter().find(|d| d.version == Version::V1 && d.controllers.iter().any(|c| c == "freezer"));
        v1.or_else(|| self.v2_dir()).map(|d| (d.path.as_path(), d.version))
    }

    /// The directory of one controller (v1 name), if the container has it.
    pub fn controller_dir(&self, controller: Controller) -> Option<(&Path, Version)> {
        self.dir_of(controller).map(|d| (d.path.as_path(), d.version))
    }
}

/// Makes a v2 directory and any missing parents. The parents hull makes are its own, so it
/// passes down to the leaf every controller they have; an existing parent is left as it is.
fn create_v2(path: &Path) -> Result<(), CgroupError> {
    let mut missing = Vec::new();
    let mut at = path;
    while !at.exists() {
        missing.push(at);
        match at.parent() {
            Some(parent) => at = parent,
            None => break,
        }
    }
    for dir in missing.iter().rev() {
        match std::fs::create_dir(dir) {
            Ok(()) => {}
            // Another container made the same parent a moment ago.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(CgroupError::Io { what: "creating cgroup", path: dir.to_path_buf(), source }),
        }
        if *dir != path {
            let available = std::fs::read_to_string(dir.join("cgroup.controllers")).unwrap_or_default();
            for controller in available.split_whitespace() {
                // Best effort: a controller that will not enable shows up later as NotDelegated, by name.
                let _ = write_file(&dir.join("cgroup.subtree_control"), &format!("+{controller}"));
            }
        }
    }
    Ok(())
}

/// Writes one cgroup file (never creating it: a missing file is ENOENT, not a new file).
pub fn write_file(path: &Path, value: &str) -> Result<(), CgroupError> {
    use std::io::Write as _;
    let mut file = std::fs::OpenOptions::new().write(true).truncate(true).open(path).map_err(|source| CgroupError::Write { path: path.to_path_buf(), value: value.to_string(), source })?;
    file.write_all(value.as_bytes()).map_err(|source| CgroupError::Write { path: path.to_path_buf(), value: value.to_string(), source })
}

/// Copies an empty cpuset file from the nearest ancestor that has a value.
fn inherit_cpuset(path: &Path, file: &str) -> Result<(), CgroupError> {
    let read = |p: &Path| std::fs::read_to_string(p.join(file)).map(|s| s.trim().to_string()).unwrap_or_default();
    if !read(path).is_empty() {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        inherit_cpuset(parent, file)?;
        write_file(&path.join(file), &read(parent))?;
    }
    Ok(())
}

/// Removes the container's directories, retrying briefly while the kernel still
/// counts exiting tasks (EBUSY right after an OOM kill, for instance). A directory
/// that still holds processes after the container's were killed is shared with
/// someone else (a cgroupsPath two containers use): it is left in place.
pub fn destroy(paths: &[PathBuf]) -> Result<(), CgroupError> {
    for path in paths {
        let mut tries = 0;
        loop {
            match std::fs::remove_dir(path) {
                Ok(()) => break,
                Err(e) if e.kind() == io::ErrorKind::NotFound => break,
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) && tries < 200 => {
                    tries += 1;
                    if tries > 10 && !procs(std::slice::from_ref(path)).is_empty() {
                        crate::logging::warn(&format!("cgroup {} is still used by other processes: left in place", path.display()));
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(source) => return Err(CgroupError::Io { what: "removing cgroup", path: path.clone(), source }),
            }
        }
    }
    Ok(())
}

/// Every pid in the container's cgroup (any hierarchy holds them all).
pub fn procs(paths: &[PathBuf]) -> Vec<libc::pid_t> {
    paths
        .iter()
        .find_map(|p| std::fs::read_to_string(p.join("cgroup.procs")).ok())
        .map(|s| s.lines().filter_map(|l| l.trim().parse().ok()).collect())
        .unwrap_or_default()
}

pub fn is_frozen(path: &Path) -> bool {
    let v1 = std::fs::read_to_string(path.join("freezer.state")).is_ok_and(|s| s.trim() == "FROZEN");
    v1 || std::fs::read_to_string(path.join("cgroup.freeze")).is_ok_and(|s| s.trim() == "1")
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod apply_tests;
