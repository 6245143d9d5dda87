//! The one kernel call: seccomp(SECCOMP_SET_MODE_FILTER). The caller must
//! have set no_new_privs or still hold CAP_SYS_ADMIN.

use super::{Program, SeccompError};

const SECCOMP_SET_MODE_FILTER: libc::c_ulong = 1;

/// Installs the filter on the calling thread (on all threads with TSYNC).
/// Allocates nothing: it runs in the init right before execve.
pub fn install(program: &Program) -> Result<(), SeccompError> {
    let len = program.filter.len();
    let fprog = libc::sock_fprog {
        // compile() refuses programs longer than BPF_MAXINSNS (4096), so this fits in u16.
        len: len as libc::c_ushort,
        filter: program.filter.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: fprog points at `len` valid instructions that outlive the call; the kernel copies them.
    let rc = unsafe { libc::syscall(libc::SYS_seccomp, SECCOMP_SET_MODE_FILTER, program.flags as libc::c_ulong, &fprog as *const libc::sock_fprog) };
    if rc < 0 {
        return Err(SeccompError::Install { len, source: std::io::Error::last_os_error() });
    }
    // With TSYNC the kernel returns the id of a thread it could not sync.
    if rc > 0 {
        return Err(SeccompError::Install { len, source: std::io::Error::other(format!("TSYNC failed: thread {rc} cannot take the filter")) });
    }
    Ok(())
}
