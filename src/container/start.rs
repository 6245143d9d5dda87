//! `hull start`: release the init from the exec barrier, then run poststart hooks.

use super::state::{ContainerDir, Record, Status, state_json};
use super::{ContainerError, io_err};
use crate::cli::Global;
use crate::{hooks, logging, sys};

pub fn start(global: &Global, id: &str) -> Result<(), ContainerError> {
    let dir = ContainerDir::open(&global.root, id)?;
    let record = dir.load()?;
    release(&dir, &record)
}

/// Writes one byte to exec.fifo (the init is blocked reading it), then runs poststart.
pub fn release(dir: &ContainerDir, record: &Record) -> Result<(), ContainerError> {
    let status = dir.status(record);
    if status != Status::Created {
        return Err(ContainerError::wrong_status(&record.id, status, "only a created container can be started"));
    }
    let path = dir.fifo_path();
    let fifo = sys::open(&path, libc::O_WRONLY | libc::O_NONBLOCK, 0).map_err(|e| match e.raw_os_error() {
        Some(libc::ENXIO) => ContainerError::wrong_status(&record.id, Status::Stopped, "its init is gone"),
        _ => io_err("opening exec fifo", &path)(e),
    })?;
    // Unlinked first, so the container never shows as created once released.
    std::fs::remove_file(&path).map_err(io_err("removing exec fifo", &path))?;
    sys::write_all(std::os::fd::AsRawFd::as_raw_fd(&fifo), b"0").map_err(io_err("writing exec fifo", &path))?;
    let state = serde_json::to_vec(&state_json(record, Status::Running)).unwrap_or_default();
    for hook in &record.poststart {
        // The spec: a failing poststart hook is logged; the container keeps running.
        if let Err(e) = hooks::run("poststart", hook, &state) {
            logging::warn(&e.to_string());
        }
    }
    Ok(())
}
