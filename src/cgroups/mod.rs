//! Where a container's cgroups live (cgroupfs v1, v2 or hybrid) and joining
//! them. What gets written into them is decided elsewhere, as pure data.

use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("{what} {path}: {source}")]
    Io { what: &'static str, path: PathBuf, source: io::Error },
    #[error("linux.cgroupsPath {0:?}: must not contain '..'")]
    BadPath(String),
    #[error("--systemd-cgroup: systemd is not running on this host; use cgroupfs (drop --systemd-cgroup)")]
    NoSystemd,
    #[error("linux.resources.{0}: not supported by hull yet")]
    Unsupported(String),
}

/// One mounted hierarchy: where it is mounted, and this process's cgroup in it.
#[derive(Debug, Clone)]
struct Hierarchy {
    mountpoint: PathBuf,
    /// The cgroup of the calling process inside this hierarchy, from /proc/self/cgroup.
    own: PathBuf,
    is_cpuset: bool,
}

/// The cgroup directories of one container, one per hierarchy.
#[derive(Debug, Default)]
pub struct Cgroups {
    pub paths: Vec<PathBuf>,
}

/// Refuses resources hull does not apply yet; the default deny-all device rule is what
/// every cgroup manager does anyway.
pub fn check_resources(resources: Option<&serde_json::Value>) -> Result<(), CgroupError> {
    let Some(serde_json::Value::Object(map)) = resources else { return Ok(()) };
    for (key, value) in map {
        let trivial = match (key.as_str(), value) {
            (_, serde_json::Value::Null) => true,
            ("devices", serde_json::Value::Array(rules)) => rules.iter().all(|r| r.get("allow") == Some(&serde_json::Value::Bool(false)) && r.get("type").is_none_or(|t| t == "a") && r.get("major").is_none() && r.get("minor").is_none()),
            (_, serde_json::Value::Object(o)) => o.is_empty(),
            (_, serde_json::Value::Array(a)) => a.is_empty(),
            _ => false,
        };
        if !trivial {
            return Err(CgroupError::Unsupported(key.clone()));
        }
    }
    Ok(())
}

impl Cgroups {
    /// Works out the directories for `cgroups_path` (runc's rules: absolute is under each
    /// hierarchy's root, relative is under hull's own cgroup, absent is `/<id>`).
    pub fn plan(cgroups_path: Option<&str>, id: &str) -> Result<Cgroups, CgroupError> {
        let wanted = match cgroups_path {
            Some(p) if !p.is_empty() => p.to_string(),
            _ => format!("/{id}"),
        };
        if wanted.split('/').any(|c| c == "..") {
            return Err(CgroupError::BadPath(wanted));
        }
        let paths = hierarchies()?
            .into_iter()
            .map(|h| {
                let inner = if wanted.starts_with('/') { PathBuf::from(&wanted) } else { h.own.join(&wanted) };
                h.mountpoint.join(inner.strip_prefix("/").unwrap_or(&inner))
            })
            .collect();
        Ok(Cgroups { paths })
    }

    /// Makes every directory (cpuset ones get their parent's cpus and mems first).
    pub fn create(&self) -> Result<(), CgroupError> {
        for path in &self.paths {
            std::fs::create_dir_all(path).map_err(|source| CgroupError::Io { what: "creating cgroup", path: path.clone(), source })?;
            if path.join("cpuset.cpus").exists() {
                for file in ["cpuset.cpus", "cpuset.mems"] {
                    inherit_cpuset(path, file)?;
                }
            }
        }
        Ok(())
    }

    pub fn add(&self, pid: libc::pid_t) -> Result<(), CgroupError> {
        for path in &self.paths {
            let procs = path.join("cgroup.procs");
            std::fs::write(&procs, pid.to_string()).map_err(|source| CgroupError::Io { what: "joining cgroup", path: procs, source })?;
        }
        Ok(())
    }
}

/// Copies an empty cpuset file from the nearest ancestor that has a value.
fn inherit_cpuset(path: &Path, file: &str) -> Result<(), CgroupError> {
    let read = |p: &Path| std::fs::read_to_string(p.join(file)).map(|s| s.trim().to_string()).unwrap_or_default();
    if !read(path).is_empty() {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        inherit_cpuset(parent, file)?;
        let value = read(parent);
        std::fs::write(path.join(file), value).map_err(|source| CgroupError::Io { what: "writing", path: path.join(file), source })?;
    }
    Ok(())
}

/// Removes the container's directories (deepest first), retrying briefly while the
/// kernel still counts exiting tasks.
pub fn destroy(paths: &[PathBuf]) -> Result<(), CgroupError> {
    for path in paths {
        let mut tries = 0;
        loop {
            match std::fs::remove_dir(path) {
                Ok(()) => break,
                Err(e) if e.kind() == io::ErrorKind::NotFound => break,
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) && tries < 50 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(source) => return Err(CgroupError::Io { what: "removing cgroup", path: path.clone(), source }),
            }
        }
    }
    Ok(())
}

/// Every pid in the container's cgroup.
pub fn procs(paths: &[PathBuf]) -> Vec<libc::pid_t> {
    paths
        .first()
        .and_then(|p| std::fs::read_to_string(p.join("cgroup.procs")).ok())
        .map(|s| s.lines().filter_map(|l| l.trim().parse().ok()).collect())
        .unwrap_or_default()
}

pub fn is_frozen(path: &Path) -> bool {
    let v1 = std::fs::read_to_string(path.join("freezer.state")).is_ok_and(|s| s.trim() == "FROZEN");
    v1 || std::fs::read_to_string(path.join("cgroup.freeze")).is_ok_and(|s| s.trim() == "1")
}

/// The v1 hierarchies with controllers, or the v2 mount if there are none.
fn hierarchies() -> Result<Vec<Hierarchy>, CgroupError> {
    let mountinfo = Path::new("/proc/self/mountinfo");
    let mounts = std::fs::read_to_string(mountinfo).map_err(|source| CgroupError::Io { what: "reading", path: mountinfo.into(), source })?;
    let own_file = Path::new("/proc/self/cgroup");
    let own = std::fs::read_to_string(own_file).map_err(|source| CgroupError::Io { what: "reading", path: own_file.into(), source })?;
    let mut v1 = Vec::new();
    let mut v2 = None;
    for line in mounts.lines() {
        let Some((pre, post)) = line.split_once(" - ") else { continue };
        let mountpoint = pre.split(' ').nth(4).unwrap_or_default();
        let mut post = post.split(' ');
        let (fstype, _source, options) = (post.next().unwrap_or_default(), post.next(), post.next().unwrap_or_default());
        match fstype {
            "cgroup" => {
                let controllers: Vec<&str> = options.split(',').filter(|o| !matches!(*o, "rw" | "ro") && !o.starts_with("name=")).collect();
                if controllers.is_empty() {
                    continue;
                }
                let own = own
                    .lines()
                    .filter_map(|l| l.splitn(3, ':').nth(1).map(|c| (c, l)))
                    .find(|(c, _)| c.split(',').any(|c| controllers.contains(&c)))
                    .and_then(|(_, l)| l.splitn(3, ':').nth(2))
                    .unwrap_or("/");
                v1.push(Hierarchy { mountpoint: mountpoint.into(), own: own.into(), is_cpuset: controllers.contains(&"cpuset") });
            }
            "cgroup2" => {
                let own = own.lines().find_map(|l| l.strip_prefix("0::")).unwrap_or("/");
                v2 = Some(Hierarchy { mountpoint: mountpoint.into(), own: own.into(), is_cpuset: false });
            }
            _ => {}
        }
    }
    v1.sort_by_key(|h| !h.is_cpuset);
    if v1.is_empty() { Ok(v2.into_iter().collect()) } else { Ok(v1) }
}
