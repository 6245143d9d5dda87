//! `hull events`: the container's stats every `--interval` and an event per
//! OOM, one JSON object a line, until the container stops; `--stats` prints
//! the stats once. The shapes are runc's (`{"type":"stats","id":..,"data":..}`,
//! `{"type":"oom","id":..}`).

use super::state::{ContainerDir, Status, init_alive};
use super::{ContainerError, io_err};
use crate::cgroups::{Cgroups, oom::OomWatch, stats};
use crate::cli::Global;
use crate::sys;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

pub fn events(global: &Global, id: &str, stats_once: bool, interval: Duration) -> Result<(), ContainerError> {
    let dir = ContainerDir::open(&global.root, id)?;
    let record = dir.load()?;
    // The lock is not held while streaming: delete and kill must not wait for us.
    drop(dir);
    if !init_alive(&record) {
        return Err(ContainerError::wrong_status(id, Status::Stopped, "no events from a container that is not running"));
    }
    let cgroups = Cgroups::open(&record.cgroup_paths)?;
    let stats_event = |cg: &Cgroups| serde_json::json!({ "type": "stats", "id": id, "data": stats::collect(cg) });
    if stats_once {
        return emit(&stats_event(&cgroups));
    }
    let pidfd = sys::pidfd_open(record.pid).map_err(|source| ContainerError::Sys { what: format!("pidfd_open({})", record.pid), source })?;
    if !init_alive(&record) {
        return Ok(());
    }
    let mut oom = OomWatch::new(&cgroups)?;
    let mut next = Instant::now() + interval;
    loop {
        let mut fds = vec![libc::pollfd { fd: pidfd.as_raw_fd(), events: libc::POLLIN, revents: 0 }];
        if let Some(w) = &oom {
            fds.push(libc::pollfd { fd: w.fd(), events: libc::POLLIN, revents: 0 });
        }
        let timeout = next.saturating_duration_since(Instant::now()).as_millis().min(i32::MAX as u128) as libc::c_int;
        // SAFETY: fds is a valid array of the length we pass.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout) };
        if ready < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(ContainerError::Sys { what: "poll for events".into(), source: e });
        }
        // OOM first: the kill it causes may end the container in the same instant.
        if let (Some(w), Some(pfd)) = (oom.as_mut(), fds.get(1))
            && pfd.revents != 0
        {
            for _ in 0..w.take() {
                emit(&serde_json::json!({ "type": "oom", "id": id }))?;
            }
            if pfd.revents & (libc::POLLERR | libc::POLLHUP) != 0 {
                oom = None;
            }
        }
        if fds[0].revents != 0 {
            return Ok(());
        }
        if Instant::now() >= next {
            emit(&stats_event(&cgroups))?;
            next += interval;
        }
    }
}

fn emit(event: &serde_json::Value) -> Result<(), ContainerError> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{event}").and_then(|()| out.flush()).map_err(io_err("writing", "stdout"))
}
