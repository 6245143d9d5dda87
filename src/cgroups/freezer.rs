//! Freezing and thawing every process of a container: v1's freezer.state or
//! v2's cgroup.freeze, waiting until the kernel reports the new state.

use super::writes::Version;
use super::{CgroupError, Cgroups, write_file};
use std::path::Path;
use std::time::{Duration, Instant};

/// How long a freeze may take before hull gives up (a task stuck in the kernel
/// can keep a v1 cgroup FREEZING for ever).
const LIMIT: Duration = Duration::from_secs(5);

pub fn freeze(cg: &Cgroups) -> Result<(), CgroupError> {
    set(cg, true)
}

pub fn thaw(cg: &Cgroups) -> Result<(), CgroupError> {
    set(cg, false)
}

fn set(cg: &Cgroups, frozen: bool) -> Result<(), CgroupError> {
    let (dir, version) = cg.freezer_dir().ok_or(CgroupError::Missing("freezer"))?;
    match version {
        Version::V1 => set_v1(dir, frozen),
        Version::V2 => set_v2(dir, frozen),
    }
}

/// v1 offers no event: write, then read the state back until it settles.
fn set_v1(dir: &Path, frozen: bool) -> Result<(), CgroupError> {
    let file = dir.join("freezer.state");
    let wanted = if frozen { "FROZEN" } else { "THAWED" };
    let deadline = Instant::now() + LIMIT;
    let mut tries = 0u32;
    loop {
        // Rewritten now and then: a task that forked while freezing may need another pass.
        if tries % 50 == 0 {
            write_file(&file, wanted)?;
        }
        let state = std::fs::read_to_string(&file).map_err(|source| CgroupError::Io { what: "reading", path: file.clone(), source })?;
        if state.trim() == wanted {
            return Ok(());
        }
        if Instant::now() > deadline {
            // Leave nothing half-frozen behind.
            if frozen {
                let _ = write_file(&file, "THAWED");
            }
            return Err(CgroupError::Freeze { path: file, wanted, got: state.trim().to_string() });
        }
        tries += 1;
        std::thread::sleep(Duration::from_micros(if tries < 10 { 100 } else { 1000 }));
    }
}

/// v2 announces the settled state in cgroup.events ("frozen 0|1"), with POLLPRI.
fn set_v2(dir: &Path, frozen: bool) -> Result<(), CgroupError> {
    let events = dir.join("cgroup.events");
    let fd = crate::sys::open(&events, libc::O_RDONLY | libc::O_CLOEXEC, 0).map_err(|source| CgroupError::Io { what: "opening", path: events.clone(), source })?;
    write_file(&dir.join("cgroup.freeze"), if frozen { "1" } else { "0" })?;
    let wanted = if frozen { "frozen 1" } else { "frozen 0" };
    let deadline = Instant::now() + LIMIT;
    loop {
        let text = std::fs::read_to_string(&events).map_err(|source| CgroupError::Io { what: "reading", path: events.clone(), source })?;
        if text.lines().any(|l| l.trim() == wanted) {
            return Ok(());
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            if frozen {
                let _ = write_file(&dir.join("cgroup.freeze"), "0");
            }
            return Err(CgroupError::Freeze { path: events, wanted: if frozen { "frozen" } else { "thawed" }, got: text.trim().to_string() });
        }
        let mut pfd = libc::pollfd { fd: std::os::fd::AsRawFd::as_raw_fd(&fd), events: libc::POLLPRI, revents: 0 };
        // SAFETY: one valid pollfd; the timeout is bounded.
        unsafe { libc::poll(&mut pfd, 1, left.as_millis().min(1000) as libc::c_int) };
    }
}
