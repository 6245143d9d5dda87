//! Joining namespaces by path, user namespace id maps, time offsets.

use crate::spec::config::{IdMapping, TimeOffset};
use crate::spec::namespaces::NsKind;
use crate::sys;
use std::collections::BTreeMap;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum NsError {
    #[error("linux.namespaces: {kind} namespace path {path}: {source}")]
    Open { kind: &'static str, path: PathBuf, source: io::Error },
    #[error("linux.namespaces: {kind} namespace path {path} is not a {kind} namespace")]
    NotANamespace { kind: &'static str, path: PathBuf },
    #[error("joining {kind} namespace {path}: {source}")]
    Join { kind: &'static str, path: PathBuf, source: io::Error },
    #[error("creating namespaces ({what}): {source}")]
    Unshare { what: &'static str, source: io::Error },
    #[error("writing {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
}

const NSFS_MAGIC: libc::c_long = 0x6e73_6673;
const NS_GET_NSTYPE: libc::c_ulong = 0xb703;

/// Opens a namespace file and checks it is a namespace of `kind`.
pub fn open_ns(kind: NsKind, path: &Path) -> Result<OwnedFd, NsError> {
    let open_err = |source| NsError::Open { kind: kind.spec_name(), path: path.to_path_buf(), source };
    let fd = sys::open(path, libc::O_RDONLY, 0).map_err(open_err)?;
    // SAFETY: an all-zero statfs is valid and fstatfs fills it.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: fd is open, st a valid out pointer.
    sys::cvt(unsafe { libc::fstatfs(fd.as_raw_fd(), &mut st) }).map_err(open_err)?;
    // SAFETY: NS_GET_NSTYPE takes no argument and returns the CLONE_NEW* type.
    let nstype = unsafe { libc::ioctl(fd.as_raw_fd(), NS_GET_NSTYPE) };
    if st.f_type as libc::c_long != NSFS_MAGIC || nstype != kind.clone_flag() {
        return Err(NsError::NotANamespace { kind: kind.spec_name(), path: path.to_path_buf() });
    }
    Ok(fd)
}

pub fn join(kind: NsKind, path: &Path) -> Result<(), NsError> {
    let fd = open_ns(kind, path)?;
    sys::setns(fd.as_raw_fd(), kind.clone_flag()).map_err(|source| NsError::Join { kind: kind.spec_name(), path: path.to_path_buf(), source })
}

pub fn unshare(flags: libc::c_int, what: &'static str) -> Result<(), NsError> {
    if flags == 0 {
        return Ok(());
    }
    sys::unshare(flags).map_err(|source| NsError::Unshare { what, source })
}

/// The "container host size" lines of /proc/<pid>/uid_map.
pub fn map_text(mappings: &[IdMapping]) -> String {
    mappings.iter().map(|m| format!("{} {} {}\n", m.container_id, m.host_id, m.size)).collect()
}

pub fn write_id_maps(pid: libc::pid_t, uid: &[IdMapping], gid: &[IdMapping]) -> Result<(), NsError> {
    for (file, mappings) in [("uid_map", uid), ("gid_map", gid)] {
        let path = PathBuf::from(format!("/proc/{pid}/{file}"));
        std::fs::write(&path, map_text(mappings)).map_err(|source| NsError::Write { path, source })?;
    }
    Ok(())
}

/// Must be written after unshare(CLONE_NEWTIME) and before any process enters the namespace.
pub fn write_time_offsets(offsets: &BTreeMap<String, TimeOffset>) -> Result<(), NsError> {
    let text: String = offsets.iter().map(|(clock, o)| format!("{clock} {} {}\n", o.secs, o.nanosecs)).collect();
    let path = PathBuf::from("/proc/self/timens_offsets");
    std::fs::write(&path, text).map_err(|source| NsError::Write { path, source })
}

/// Our own namespace of `kind`, to return to after a temporary setns.
pub fn current(kind: NsKind, for_children: bool) -> Result<OwnedFd, NsError> {
    let name = if for_children { format!("{}_for_children", kind.proc_name()) } else { kind.proc_name().to_string() };
    let path = PathBuf::from(format!("/proc/self/ns/{name}"));
    sys::open(&path, libc::O_RDONLY, 0).map_err(|source| NsError::Open { kind: kind.spec_name(), path, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_lines() {
        let maps = [IdMapping { container_id: 0, host_id: 1000, size: 1 }, IdMapping { container_id: 1, host_id: 100000, size: 65536 }];
        assert_eq!(map_text(&maps), "0 1000 1\n1 100000 65536\n");
    }

    #[test]
    fn a_regular_file_is_not_a_namespace() {
        let err = open_ns(NsKind::Network, Path::new("/proc/self/status")).unwrap_err();
        assert!(matches!(err, NsError::NotANamespace { .. }), "{err}");
        open_ns(NsKind::Network, Path::new("/proc/self/ns/net")).unwrap();
        assert!(open_ns(NsKind::Pid, Path::new("/proc/self/ns/net")).is_err());
    }
}
