//! `hull delete`: take down everything hull made for a container.

use super::state::{ContainerDir, Record, Status, StateError, state_json};
use super::ContainerError;
use crate::cli::Global;
use crate::{cgroups, hooks, logging, sys};

pub fn delete(global: &Global, id: &str, force: bool) -> Result<(), ContainerError> {
    let dir = match ContainerDir::open(&global.root, id) {
        Ok(dir) => dir,
        // runc: deleting what is not there is fine when forced (engines clean up twice).
        Err(StateError::NotFound(_)) if force => return remove_leftover(global, id),
        Err(e) => return Err(e.into()),
    };
    let record = match dir.load() {
        Ok(r) => r,
        Err(_) if force => return dir.remove().map_err(Into::into),
        Err(e) => return Err(e.into()),
    };
    let status = dir.status(&record);
    if matches!(status, Status::Running | Status::Paused) && !force {
        return Err(ContainerError::wrong_status(id, status, "cannot delete a container that is not stopped (use --force)"));
    }
    destroy(dir, &record)
}

/// Kills what is left of the container, runs poststop hooks, removes cgroups and state.
pub fn destroy(dir: ContainerDir, record: &Record) -> Result<(), ContainerError> {
    kill_and_wait(record);
    let state = serde_json::to_vec(&state_json(record, Status::Stopped)).unwrap_or_default();
    for hook in &record.poststop {
        // The spec: a failing poststop hook is logged; deletion goes on.
        if let Err(e) = hooks::run("poststop", hook, &state) {
            logging::warn(&e.to_string());
        }
    }
    cgroups::destroy(&record.cgroup_paths)?;
    dir.remove()?;
    crate::logging::debug(|| format!("delete {}: process, cgroups and state removed", record.id));
    Ok(())
}

pub(super) fn kill_and_wait(record: &Record) {
    if super::state::init_alive(record)
        && let Ok(pidfd) = sys::pidfd_open(record.pid)
        && super::state::init_alive(record)
    {
        let _ = sys::pidfd_send_signal(&pidfd, libc::SIGKILL);
        thaw(record);
        let _ = sys::pidfd_wait_exit(&pidfd, 10_000);
    }
    // Without its own pid namespace, the init's death does not take the rest with it.
    if !cgroups::procs(&record.cgroup_paths).is_empty() {
        super::kill::signal_all(record, libc::SIGKILL);
        for pid in cgroups::procs(&record.cgroup_paths) {
            if let Ok(pidfd) = sys::pidfd_open(pid) {
                let _ = sys::pidfd_wait_exit(&pidfd, 10_000);
            }
        }
    }
}

/// A frozen process cannot die: thaw after SIGKILL so it does.
fn thaw(record: &Record) {
    for path in &record.cgroup_paths {
        if cgroups::is_frozen(path) {
            let _ = std::fs::write(path.join("freezer.state"), "THAWED");
            let _ = std::fs::write(path.join("cgroup.freeze"), "0");
        }
    }
}

/// A directory without a state file (a create killed half-way), if any: remove it.
fn remove_leftover(global: &Global, id: &str) -> Result<(), ContainerError> {
    super::state::validate_id(id)?;
    let path = global.root.join(id);
    match std::fs::remove_dir_all(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(super::io_err("removing", path)(e)),
    }
}
