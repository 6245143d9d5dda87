//! One file per operation. Each takes the parsed command line, does its
//! work through the modules below it, and returns a typed error that main
//! prints once.

pub mod create;
pub mod delete;
pub mod events;
pub mod exec;
pub mod features;
pub mod info;
pub mod kill;
pub mod pause;
pub mod ps;
pub mod resume;
pub mod run;
pub mod spec;
pub mod start;
pub mod state;
pub mod update;

use crate::cgroups::CgroupError;
use crate::hooks::HookError;
use crate::process::parent::LaunchError;
use crate::spec::SpecError;
use crate::tty::TtyError;
use state::{StateError, Status};
use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Cgroup(#[from] CgroupError),
    #[error(transparent)]
    Launch(#[from] LaunchError),
    #[error(transparent)]
    Hook(#[from] HookError),
    #[error(transparent)]
    Tty(#[from] TtyError),
    #[error(transparent)]
    Capabilities(#[from] crate::capabilities::CapError),
    #[error("{what} {path}: {source}")]
    Io { what: &'static str, path: PathBuf, source: io::Error },
    #[error("{what}: {source}")]
    Sys { what: String, source: io::Error },
    #[error("container {id:?} is {status}: {action}")]
    WrongStatus { id: String, status: &'static str, action: &'static str },
    #[error("{0}")]
    Usage(String),
    /// What the init reported after `start` released it (a startContainer hook, execve).
    #[error("{0}")]
    Started(String),
}

impl ContainerError {
    pub fn wrong_status(id: &str, status: Status, action: &'static str) -> Self {
        ContainerError::WrongStatus { id: id.to_string(), status: status.as_str(), action }
    }
}

pub fn io_err(what: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> ContainerError {
    let path = path.into();
    move |source| ContainerError::Io { what, path, source }
}
