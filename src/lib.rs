//! hull: an OCI container runtime, a drop-in replacement for runc.
//!
//! A `create` reads top-down through these modules:
//!
//! ```text
//!  cli ──▶ container::create ──▶ spec (load, validate: pure)
//!                             ──▶ container::state (the state directory, locked)
//!                             ──▶ cgroups (where the container's cgroups live)
//!                             ──▶ process::parent ──clone3──▶ process::init
//!                                                              ├─ namespaces
//!                                                              ├─ rootfs (mounts, /dev, pivot_root)
//!                                                              ├─ hooks, tty, capabilities
//!                                                              └─ blocks on exec.fifo, then execve
//! ```

pub mod capabilities;
pub mod cgroups;
pub mod cli;
pub mod container;
pub mod hooks;
pub mod logging;
pub mod namespaces;
pub mod process;
pub mod rootfs;
pub mod seccomp;
pub mod spec;
pub mod sys;
pub mod tty;
