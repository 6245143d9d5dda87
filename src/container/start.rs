//! `hull start`: release the init from the exec barrier, wait until the
//! user's process runs, then run poststart hooks.

use super::state::{ContainerDir, Record, Status, state_json};
use super::{ContainerError, io_err};
use crate::cli::Global;
use crate::hooks;
use crate::process::barrier;

pub fn start(global: &Global, id: &str) -> Result<(), ContainerError> {
    let dir = ContainerDir::open(&global.root, id)?;
    let record = dir.load()?;
    release(&dir, &record)
}

/// runtime.md steps 7 to 9: startContainer hooks (in the init), the user's
/// process, poststart hooks. A failure in any stops the container and fails start.
pub fn release(dir: &ContainerDir, record: &Record) -> Result<(), ContainerError> {
    let status = dir.status(record);
    if status != Status::Created {
        return Err(ContainerError::wrong_status(&record.id, status, "only a created container can be started"));
    }
    let path = dir.barrier_path();
    let conn = barrier::connect(dir.lock_fd()).map_err(|e| match e.raw_os_error() {
        Some(libc::ECONNREFUSED | libc::ENOENT) => ContainerError::wrong_status(&record.id, Status::Stopped, "its init is gone"),
        _ => io_err("connecting to", &path)(e),
    })?;
    // Unlinked first, so the container never shows as created once released.
    std::fs::remove_file(&path).map_err(io_err("removing", &path))?;
    if let Err(message) = barrier::release(&conn).map_err(io_err("releasing the init through", &path))? {
        stop(record);
        return Err(ContainerError::Started(message));
    }
    crate::logging::debug(|| format!("start {}: init pid {} has exec'd its process", record.id, record.pid));
    let state = serde_json::to_vec(&state_json(record, Status::Running)).unwrap_or_default();
    for hook in &record.poststart {
        if let Err(e) = hooks::run("poststart", hook, &state) {
            stop(record);
            return Err(e.into());
        }
    }
    Ok(())
}

/// "Stop the container": what a failed start leaves is for delete to take down.
fn stop(record: &Record) {
    super::delete::kill_and_wait(record);
}
