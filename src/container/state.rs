//! What hull keeps about a container: `<root>/<id>/state.json`, written
//! atomically (temp file + rename) while holding a lock on the directory.
//!
//! Status is never stored: it is derived from the live init (pid plus its
//! start time, so a reused pid is not taken for the container), the exec
//! barrier's socket and the freezer, as runc does.

use crate::spec::config::Hook;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

pub const STATE_FILE: &str = "state.json";

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("container {0:?} does not exist")]
    NotFound(String),
    #[error("container {0:?} already exists")]
    Exists(String),
    #[error("invalid container id {0:?}: use letters, digits, '_', '+', '-' and '.' (not . or ..)")]
    BadId(String),
    #[error("{what} {path}: {source}")]
    Io { what: &'static str, path: PathBuf, source: io::Error },
    #[error("reading {path}: {source}")]
    Corrupt { path: PathBuf, source: serde_json::Error },
}

fn io_err<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> StateError + 'a {
    move |source| StateError::Io { what, path: path.to_path_buf(), source }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Creating,
    Created,
    Running,
    Paused,
    Stopped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        }
    }
}

/// The persisted record; runc's state fields plus what later verbs need.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Record {
    pub oci_version: String,
    pub id: String,
    pub pid: i32,
    /// Clock ticks after boot when the init started: identifies it beyond its pid.
    pub pid_start_time: u64,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    pub created: String,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub poststart: Vec<Hook>,
    #[serde(default)]
    pub poststop: Vec<Hook>,
    /// Every cgroup directory hull made or joined for this container.
    #[serde(default)]
    pub cgroup_paths: Vec<PathBuf>,
    /// The container's seccomp profile, which `hull exec` applies too: kept here because
    /// changes to config.json after create must not affect the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seccomp: Option<crate::seccomp::profile::Seccomp>,
}

pub fn validate_id(id: &str) -> Result<(), StateError> {
    let ok = !id.is_empty()
        && id != "."
        && id != ".."
        && id.len() <= 1024
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"_+-.".contains(&b));
    if ok { Ok(()) } else { Err(StateError::BadId(id.to_string())) }
}

/// A container's directory, locked for as long as this value lives.
pub struct ContainerDir {
    pub id: String,
    pub path: PathBuf,
    _lock: OwnedFd,
}

impl ContainerDir {
    /// Makes `<root>/<id>` for a new container; fails if it already exists.
    pub fn create(root: &Path, id: &str) -> Result<ContainerDir, StateError> {
        validate_id(id)?;
        std::fs::create_dir_all(root).map_err(io_err("creating state root", root))?;
        let path = root.join(id);
        match std::fs::create_dir(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(StateError::Exists(id.to_string())),
            Err(e) => return Err(io_err("creating state directory", &path)(e)),
        }
        let lock = lock_dir(&path)?;
        Ok(ContainerDir { id: id.to_string(), path, _lock: lock })
    }

    /// Opens and locks the directory of an existing container.
    pub fn open(root: &Path, id: &str) -> Result<ContainerDir, StateError> {
        validate_id(id)?;
        let path = root.join(id);
        let lock = match lock_dir(&path) {
            Err(StateError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                return Err(StateError::NotFound(id.to_string()));
            }
            other => other?,
        };
        if !path.join(STATE_FILE).exists() {
            return Err(StateError::NotFound(id.to_string()));
        }
        Ok(ContainerDir { id: id.to_string(), path, _lock: lock })
    }

    pub fn load(&self) -> Result<Record, StateError> {
        let path = self.path.join(STATE_FILE);
        let text = std::fs::read(&path).map_err(io_err("reading", &path))?;
        serde_json::from_slice(&text).map_err(|source| StateError::Corrupt { path, source })
    }

    pub fn save(&self, record: &Record) -> Result<(), StateError> {
        let tmp = self.path.join(".state.json.tmp");
        let json = serde_json::to_vec(record).map_err(|source| StateError::Corrupt { path: tmp.clone(), source })?;
        std::fs::write(&tmp, json).map_err(io_err("writing", &tmp))?;
        let path = self.path.join(STATE_FILE);
        std::fs::rename(&tmp, &path).map_err(io_err("renaming into", &path))
    }

    pub fn lock_fd(&self) -> std::os::fd::RawFd {
        self._lock.as_raw_fd()
    }

    /// The exec barrier's socket: it exists while the container is created.
    pub fn barrier_path(&self) -> PathBuf {
        self.path.join(crate::process::barrier::SOCKET)
    }

    /// Removes the directory and all in it; the lock goes with the value.
    pub fn remove(self) -> Result<(), StateError> {
        std::fs::remove_dir_all(&self.path).or_else(|e| if e.kind() == io::ErrorKind::NotFound { Ok(()) } else { Err(e) }).map_err(io_err("removing state directory", &self.path))
    }

    pub fn status(&self, record: &Record) -> Status {
        derive_status(record, &self.barrier_path())
    }
}

fn lock_dir(path: &Path) -> Result<OwnedFd, StateError> {
    let fd = crate::sys::open(path, libc::O_RDONLY | libc::O_DIRECTORY, 0).map_err(io_err("opening state directory", path))?;
    // SAFETY: flock on an fd we own.
    crate::sys::cvt(unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX) }).map_err(io_err("locking state directory", path))?;
    Ok(fd)
}

/// Whether the recorded init is still the same live process.
pub fn init_alive(record: &Record) -> bool {
    record.pid > 0 && matches!(crate::sys::process_start_time(record.pid), Some((start, false)) if start == record.pid_start_time)
}

pub fn derive_status(record: &Record, barrier: &Path) -> Status {
    if !init_alive(record) {
        Status::Stopped
    } else if barrier.exists() {
        Status::Created
    } else if record.cgroup_paths.iter().any(|p| crate::cgroups::is_frozen(p)) {
        Status::Paused
    } else {
        Status::Running
    }
}

/// The state JSON of runtime.md, with runc's extra fields.
pub fn state_json(record: &Record, status: Status) -> serde_json::Value {
    let pid = if status == Status::Stopped { 0 } else { record.pid };
    serde_json::json!({
        "ociVersion": record.oci_version,
        "id": record.id,
        "pid": pid,
        "status": status.as_str(),
        "bundle": record.bundle,
        "rootfs": record.rootfs,
        "created": record.created,
        "owner": "",
        "annotations": record.annotations,
    })
}

/// Every container under `root`, in name order, skipping unreadable ones.
pub fn list(root: &Path) -> Result<Vec<(Record, Status)>, StateError> {
    let entries = match std::fs::read_dir(root) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err("listing", root)(e)),
    };
    let mut names: Vec<String> = entries.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect();
    names.sort();
    Ok(names
        .into_iter()
        .filter_map(|id| {
            let dir = root.join(&id);
            let record: Record = serde_json::from_slice(&std::fs::read(dir.join(STATE_FILE)).ok()?).ok()?;
            let status = derive_status(&record, &dir.join(crate::process::barrier::SOCKET));
            Some((record, status))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        for good in ["a", "abc-1_2.3+x", "X"] {
            validate_id(good).unwrap();
        }
        for bad in ["", ".", "..", "a/b", "../x", "a b", "é"] {
            assert!(validate_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn create_open_save_remove() {
        let root = std::env::temp_dir().join(format!("hull-state-test-{}", std::process::id()));
        let dir = ContainerDir::create(&root, "c1").unwrap();
        assert!(matches!(ContainerDir::create(&root, "c1"), Err(StateError::Exists(_))));
        let record = Record { id: "c1".into(), pid: std::process::id() as i32, ..Default::default() };
        dir.save(&record).unwrap();
        drop(dir);
        let dir = ContainerDir::open(&root, "c1").unwrap();
        assert_eq!(dir.load().unwrap().id, "c1");
        // Our own pid with a wrong start time is not the container's init.
        assert_eq!(dir.status(&record), Status::Stopped);
        dir.remove().unwrap();
        assert!(matches!(ContainerDir::open(&root, "c1"), Err(StateError::NotFound(_))));
        let _ = std::fs::remove_dir_all(&root);
    }
}
