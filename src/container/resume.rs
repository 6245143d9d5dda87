//! `hull resume`: thaw a paused container.

use super::ContainerError;
use super::state::ContainerDir;
use crate::cgroups::{Cgroups, freezer};
use crate::cli::Global;

pub fn resume(global: &Global, id: &str) -> Result<(), ContainerError> {
    let dir = ContainerDir::open(&global.root, id)?;
    let record = dir.load()?;
    let cgroups = Cgroups::open(&record.cgroup_paths)?;
    let frozen = record.cgroup_paths.iter().any(|p| crate::cgroups::is_frozen(p));
    if !frozen {
        return Err(ContainerError::wrong_status(id, dir.status(&record), "only a paused container can be resumed"));
    }
    freezer::thaw(&cgroups)?;
    Ok(())
}
