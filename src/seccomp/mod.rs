//! `linux.seccomp`: the OCI profile compiled to a classic BPF program by our
//! own compiler (no libseccomp), in the parent before clone, so the init only
//! hands a ready program to seccomp(2) right before execve.
//!
//! - `profile`: the config.json types.
//! - `tables`: syscall name to number for x86_64, i386 and x32 (generated).
//! - `compile`: profile to `sock_filter`s; pure, unit-tested without root.
//! - `install`: the one seccomp(2) call.
//!
//! Architectures: x86_64 is always in the filter (the native one, as libseccomp
//! adds it); SCMP_ARCH_X86 and SCMP_ARCH_X32 get their own syscall tables when
//! listed. Any other architecture, and x86/x32 when not listed, is killed: a
//! foreign ABI is never a way around the rules.
//! SCMP_ACT_NOTIFY is refused: the listener fd hand-off is not built yet.

pub mod compile;
pub mod install;
pub mod profile;
mod tables;

pub use compile::compile;
pub use install::install;

#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    #[error("{path}: unknown {what} {value:?}")]
    Unknown { path: String, what: &'static str, value: String },
    #[error("{path}: {reason}")]
    Invalid { path: String, reason: String },
    #[error("installing the seccomp filter ({len} instructions): {source}")]
    Install { len: usize, source: std::io::Error },
}

/// A compiled filter and the seccomp(2) flags to install it with.
#[derive(Debug, Clone, Default)]
pub struct Program {
    pub filter: Vec<libc::sock_filter>,
    pub flags: u32,
}
