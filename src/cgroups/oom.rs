//! OOM notifications from the kernel, as an fd to poll: v1 registers an
//! eventfd on memory.oom_control through cgroup.event_control; v2 watches
//! memory.events with inotify and counts oom_kill.

use super::writes::{Controller, Version};
use super::{CgroupError, Cgroups, write_file};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::PathBuf;

pub struct OomWatch {
    fd: OwnedFd,
    source: Source,
}

enum Source {
    /// The eventfd; the oom_control fd must stay open while registered.
    V1 { dir: PathBuf, _oom_control: OwnedFd },
    /// inotify on memory.events, and the oom_kill count last seen.
    V2 { events: PathBuf, seen: u64 },
}

fn sys_err<'a>(what: &'static str, path: &'a std::path::Path) -> impl FnOnce(std::io::Error) -> CgroupError + 'a {
    move |source| CgroupError::Io { what, path: path.to_path_buf(), source }
}

impl OomWatch {
    /// `None` when the container has no memory controller to watch.
    pub fn new(cg: &Cgroups) -> Result<Option<OomWatch>, CgroupError> {
        let Some((dir, version)) = cg.controller_dir(Controller::Memory) else { return Ok(None) };
        match version {
            Version::V1 => {
                let control = dir.join("memory.oom_control");
                let oom_control = crate::sys::open(&control, libc::O_RDONLY | libc::O_CLOEXEC, 0).map_err(sys_err("opening", &control))?;
                // SAFETY: eventfd takes plain integers and returns a new fd or -1.
                let efd = crate::sys::cvt(unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) }).map_err(sys_err("eventfd for", &control))?;
                // SAFETY: efd was just returned by eventfd and is owned by nobody else.
                let fd = unsafe { OwnedFd::from_raw_fd(efd) };
                write_file(&dir.join("cgroup.event_control"), &format!("{} {}", fd.as_raw_fd(), oom_control.as_raw_fd()))?;
                Ok(Some(OomWatch { fd, source: Source::V1 { dir: dir.to_path_buf(), _oom_control: oom_control } }))
            }
            Version::V2 => {
                let events = dir.join("memory.events");
                // SAFETY: inotify_init1 takes flags and returns a new fd or -1.
                let ifd = crate::sys::cvt(unsafe { libc::inotify_init1(libc::IN_CLOEXEC | libc::IN_NONBLOCK) }).map_err(sys_err("inotify for", &events))?;
                // SAFETY: ifd was just returned by inotify_init1 and is owned by nobody else.
                let fd = unsafe { OwnedFd::from_raw_fd(ifd) };
                let c = crate::sys::cpath(&events).map_err(sys_err("watching", &events))?;
                // SAFETY: a valid inotify fd and a NUL-terminated path.
                crate::sys::cvt(unsafe { libc::inotify_add_watch(fd.as_raw_fd(), c.as_ptr(), libc::IN_MODIFY) }).map_err(sys_err("watching", &events))?;
                let seen = oom_kills(&events);
                Ok(Some(OomWatch { fd, source: Source::V2 { events, seen } }))
            }
        }
    }

    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Call when the fd is readable: how many OOM events happened since the last call.
    pub fn take(&mut self) -> u64 {
        let mut buf = [0u8; 4096];
        // SAFETY: reading into a buffer we own, of the length we pass.
        let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        match &mut self.source {
            Source::V1 { dir, .. } => {
                // The eventfd also fires when the cgroup is removed: that is no OOM.
                if n == 8 && dir.exists() { u64::from_ne_bytes(buf[..8].try_into().unwrap_or_default()) } else { 0 }
            }
            Source::V2 { events, seen } => {
                let now = oom_kills(events);
                let new = now.saturating_sub(*seen);
                *seen = now;
                new
            }
        }
    }
}

fn oom_kills(events: &std::path::Path) -> u64 {
    std::fs::read_to_string(events)
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("oom_kill ").and_then(|n| n.trim().parse().ok()))
        .unwrap_or(0)
}
