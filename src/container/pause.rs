//! `hull pause`: freeze every process of a running container (freezer v1 or cgroup.freeze v2).

use super::ContainerError;
use super::state::{ContainerDir, Status};
use crate::cgroups::{Cgroups, freezer};
use crate::cli::Global;

pub fn pause(global: &Global, id: &str) -> Result<(), ContainerError> {
    let dir = ContainerDir::open(&global.root, id)?;
    let record = dir.load()?;
    let status = dir.status(&record);
    // runc pauses created containers too: their init waits at the barrier, frozen or not.
    if !matches!(status, Status::Running | Status::Created) {
        return Err(ContainerError::wrong_status(id, status, "only a running or created container can be paused"));
    }
    freezer::freeze(&Cgroups::open(&record.cgroup_paths)?)?;
    Ok(())
}
