//! Making the container's init: the parent side drives, the init follows
//! the steps in `init`, and `sync` holds the protocol between them.
//!
//! ```text
//!  hull create ──clone3(CLONE_NEW*)──▶ init ──(blocks in accept on exec.sock)──▶ execve(process.args)
//!       │                               ▲
//!       └── exits after Ready           └── hull start connects, sends one byte, waits for execve
//! ```
//! A second fork happens only where the kernel demands it: a new time
//! namespace (offsets must be written before any process enters it), or,
//! when namespaces are joined from inside a user namespace, a pid namespace.

pub mod barrier;
pub mod clone;
pub mod init;
pub mod parent;
pub mod sync;

/// The default PATH when process.env has none, as runc uses.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
