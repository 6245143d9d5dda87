//! clone3: one call that makes the init with all its new namespaces.

use std::io;

#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

pub enum Forked {
    Parent(libc::pid_t),
    Child,
}

/// Forks with `flags` (CLONE_NEW*), like fork(2) when `flags` is 0.
/// Only call while single-threaded: the child runs on a copy of this process.
pub fn clone(flags: libc::c_int) -> io::Result<Forked> {
    let mut args = CloneArgs { flags: flags as u32 as u64, exit_signal: libc::SIGCHLD as u64, ..Default::default() };
    // SAFETY: args is a valid clone_args of the size we pass; without CLONE_VM the
    // child gets its own copy of memory and returns here like fork(2).
    let pid = unsafe { libc::syscall(libc::SYS_clone3, &mut args as *mut CloneArgs, std::mem::size_of::<CloneArgs>()) };
    match pid {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent(pid as libc::pid_t)),
    }
}
