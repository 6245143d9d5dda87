//! The fd-based mount and path syscalls the rootfs code is built on
//! (openat2, the new mount API, mount_setattr), each returning the kernel's
//! errno; callers say what they were doing and on which path.

use crate::sys;
use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

pub const PROC_SUPER_MAGIC: i64 = 0x9fa0;
const EMPTY: &CStr = c"";

fn owned(fd: libc::c_long) -> OwnedFd {
    // SAFETY: the kernel just returned this fd to us and nobody else owns it.
    unsafe { OwnedFd::from_raw_fd(fd as RawFd) }
}

/// struct open_how of openat2(2); libc's is non-exhaustive.
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// openat2(2): `path` under `dir` with `resolve` rules (RESOLVE_IN_ROOT...). O_CLOEXEC is added.
pub fn openat2(dir: BorrowedFd, path: &Path, flags: libc::c_int, mode: libc::mode_t, resolve: u64) -> io::Result<OwnedFd> {
    let c = sys::cpath(path)?;
    let how = OpenHow { flags: (flags | libc::O_CLOEXEC) as u64, mode: mode as u64, resolve };
    loop {
        // SAFETY: c is a valid C string, how a valid open_how of the size passed.
        let ret = unsafe { libc::syscall(libc::SYS_openat2, dir.as_raw_fd(), c.as_ptr(), &how as *const OpenHow, std::mem::size_of::<OpenHow>()) };
        match sys::cvt_long(ret) {
            Ok(fd) => return Ok(owned(fd)),
            // openat2 returns EAGAIN when a rename raced the lookup; retrying is what the man page asks.
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// openat(2) of one name under `dir`, never following a final symlink.
pub fn openat(dir: BorrowedFd, name: &CStr, flags: libc::c_int, mode: libc::mode_t) -> io::Result<OwnedFd> {
    // SAFETY: name is a valid C string; the returned fd is ours alone.
    let fd = sys::cvt(unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags | libc::O_CLOEXEC | libc::O_NOFOLLOW, mode as libc::c_uint) })?;
    Ok(owned(fd as libc::c_long))
}

/// open_tree(2): with OPEN_TREE_CLONE, a detached copy of the mount at `path` (or the fd itself with an empty path).
pub fn open_tree(dir: BorrowedFd, path: Option<&Path>, flags: libc::c_uint) -> io::Result<OwnedFd> {
    let c = path.map(sys::cpath).transpose()?;
    let (name, empty) = match &c {
        Some(c) => (c.as_c_str(), 0),
        None => (EMPTY, libc::AT_EMPTY_PATH as libc::c_uint),
    };
    let flags = flags | libc::OPEN_TREE_CLOEXEC | empty;
    // SAFETY: name is a valid C string; the returned fd is ours alone.
    sys::cvt_long(unsafe { libc::syscall(libc::SYS_open_tree, dir.as_raw_fd(), name.as_ptr(), flags) }).map(owned)
}

/// move_mount(2) of the mount `from` onto the object `to` refers to.
pub fn move_mount(from: BorrowedFd, to: BorrowedFd) -> io::Result<()> {
    let flags = libc::MOVE_MOUNT_F_EMPTY_PATH | libc::MOVE_MOUNT_T_EMPTY_PATH;
    // SAFETY: both names are the empty C string; the fds are open.
    sys::cvt_long(unsafe { libc::syscall(libc::SYS_move_mount, from.as_raw_fd(), EMPTY.as_ptr(), to.as_raw_fd(), EMPTY.as_ptr(), flags) })?;
    Ok(())
}

/// What mount_setattr(2) changes on a mount (and with `recursive`, on all below it).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MountAttr {
    pub set: u64,
    pub clear: u64,
    pub propagation: u64,
    pub userns: Option<RawFd>,
}

pub fn mount_setattr(mount: BorrowedFd, attr: &MountAttr, recursive: bool) -> io::Result<()> {
    let raw = libc::mount_attr {
        attr_set: attr.set,
        attr_clr: attr.clear,
        propagation: attr.propagation,
        userns_fd: attr.userns.map_or(0, |fd| fd as u64),
    };
    let flags = libc::AT_EMPTY_PATH | if recursive { libc::AT_RECURSIVE } else { 0 };
    // SAFETY: raw is a valid mount_attr of the size passed; the path is the empty C string.
    sys::cvt_long(unsafe {
        libc::syscall(libc::SYS_mount_setattr, mount.as_raw_fd(), EMPTY.as_ptr(), flags, &raw as *const libc::mount_attr, std::mem::size_of::<libc::mount_attr>())
    })?;
    Ok(())
}

/// A filesystem context (fsopen): configured one option at a time, so that a
/// refusal names the option, then turned into a detached mount (fsmount).
pub struct FsContext(OwnedFd);

impl FsContext {
    pub fn open(fstype: &str) -> io::Result<FsContext> {
        let c = cstr(fstype.as_bytes())?;
        // SAFETY: c is a valid C string.
        let fd = sys::cvt_long(unsafe { libc::syscall(libc::SYS_fsopen, c.as_ptr(), libc::FSOPEN_CLOEXEC) })?;
        Ok(FsContext(owned(fd)))
    }

    fn config(&self, command: libc::c_uint, key: Option<&str>, value: Option<&str>) -> io::Result<()> {
        let key = key.map(|k| cstr(k.as_bytes())).transpose()?;
        let value = value.map(|v| cstr(v.as_bytes())).transpose()?;
        // SAFETY: key and value are valid C strings or null, as the command expects.
        sys::cvt_long(unsafe {
            libc::syscall(
                libc::SYS_fsconfig,
                self.0.as_raw_fd(),
                command,
                key.as_ref().map_or(std::ptr::null(), |k| k.as_ptr()),
                value.as_ref().map_or(std::ptr::null(), |v| v.as_ptr()),
                0,
            )
        })?;
        Ok(())
    }

    pub fn set_flag(&self, key: &str) -> io::Result<()> {
        self.config(libc::FSCONFIG_SET_FLAG, Some(key), None)
    }

    pub fn set_string(&self, key: &str, value: &str) -> io::Result<()> {
        self.config(libc::FSCONFIG_SET_STRING, Some(key), Some(value))
    }

    /// Sets one mount(8)-style option: `key=value` or a bare flag.
    pub fn set_option(&self, option: &str) -> io::Result<()> {
        match option.split_once('=') {
            Some((key, value)) => self.set_string(key, value),
            None => self.set_flag(option),
        }
    }

    pub fn create(&self) -> io::Result<()> {
        self.config(libc::FSCONFIG_CMD_CREATE, None, None)
    }

    /// A detached mount of the created superblock with MOUNT_ATTR_* `attrs`.
    pub fn mount(&self, attrs: u64) -> io::Result<OwnedFd> {
        // SAFETY: the context is open; fsmount takes plain flags.
        sys::cvt_long(unsafe { libc::syscall(libc::SYS_fsmount, self.0.as_raw_fd(), libc::FSMOUNT_CLOEXEC, attrs as libc::c_uint) }).map(owned)
    }

    /// The kernel's own words for the last refusal ("Bad value for 'size'"), if it left any.
    pub fn message(&self) -> Option<String> {
        let mut buf = [0u8; 256];
        // SAFETY: buf is valid for its length; the context fd is open.
        let n = unsafe { libc::read(self.0.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            return None;
        }
        let text = String::from_utf8_lossy(&buf[..n as usize]).trim().to_string();
        // Each message starts with its level: "e " error, "w " warning, "i " info.
        Some(text.get(2..).unwrap_or(&text).to_string())
    }
}

/// The magic-link path of an fd, for the syscalls that only take paths (mount(2)).
/// Valid only while /proc is the real procfs: before pivot_root it is the host's.
pub fn fd_path(fd: BorrowedFd) -> std::path::PathBuf {
    std::path::PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

/// The filesystem magic of the object `fd` refers to.
pub fn fs_magic(fd: BorrowedFd) -> io::Result<i64> {
    // SAFETY: an all-zero statfs is valid; fstatfs fills it.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: fd is open, st a valid out pointer.
    sys::cvt(unsafe { libc::fstatfs(fd.as_raw_fd(), &mut st) })?;
    Ok(st.f_type as i64)
}

pub fn fstat(fd: BorrowedFd) -> io::Result<libc::stat> {
    // SAFETY: an all-zero stat is valid; fstat fills it.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fd is open (O_PATH fds are accepted by fstat), st a valid out pointer.
    sys::cvt(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) })?;
    Ok(st)
}

pub fn fstatat_nofollow(dir: BorrowedFd, name: &CStr) -> io::Result<libc::stat> {
    // SAFETY: an all-zero stat is valid; fstatat fills it.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: name is a valid C string, st a valid out pointer.
    sys::cvt(unsafe { libc::fstatat(dir.as_raw_fd(), name.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) })?;
    Ok(st)
}

pub fn is_dir(st: &libc::stat) -> bool {
    st.st_mode & libc::S_IFMT == libc::S_IFDIR
}

pub fn mkdirat(dir: BorrowedFd, name: &CStr, mode: libc::mode_t) -> io::Result<()> {
    // SAFETY: name is a valid C string.
    sys::cvt(unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), mode) })?;
    Ok(())
}

pub fn mknodat(dir: BorrowedFd, name: &CStr, mode: libc::mode_t, dev: libc::dev_t) -> io::Result<()> {
    // SAFETY: name is a valid C string.
    sys::cvt(unsafe { libc::mknodat(dir.as_raw_fd(), name.as_ptr(), mode, dev) })?;
    Ok(())
}

pub fn symlinkat(target: &CStr, dir: BorrowedFd, name: &CStr) -> io::Result<()> {
    // SAFETY: both are valid C strings.
    sys::cvt(unsafe { libc::symlinkat(target.as_ptr(), dir.as_raw_fd(), name.as_ptr()) })?;
    Ok(())
}

pub fn unlinkat(dir: BorrowedFd, name: &CStr, flags: libc::c_int) -> io::Result<()> {
    // SAFETY: name is a valid C string.
    sys::cvt(unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), flags) })?;
    Ok(())
}

/// fchownat without following a final symlink.
pub fn lchownat(dir: BorrowedFd, name: &CStr, uid: libc::uid_t, gid: libc::gid_t) -> io::Result<()> {
    // SAFETY: name is a valid C string.
    sys::cvt(unsafe { libc::fchownat(dir.as_raw_fd(), name.as_ptr(), uid, gid, libc::AT_SYMLINK_NOFOLLOW) })?;
    Ok(())
}

/// fchmodat2 with AT_SYMLINK_NOFOLLOW: never changes what a symlink points at.
pub fn lchmodat(dir: BorrowedFd, name: &CStr, mode: libc::mode_t) -> io::Result<()> {
    // SAFETY: name is a valid C string.
    sys::cvt_long(unsafe { libc::syscall(libc::SYS_fchmodat2, dir.as_raw_fd(), name.as_ptr(), mode, libc::AT_SYMLINK_NOFOLLOW) })?;
    Ok(())
}

/// readlinkat into a stack buffer (symlinks longer than PATH_MAX are refused).
pub fn readlinkat(dir: BorrowedFd, name: &CStr) -> io::Result<Vec<u8>> {
    let mut buf = [0u8; libc::PATH_MAX as usize];
    // SAFETY: buf is valid for its length; name is a valid C string.
    let n = sys::cvt_long(unsafe { libc::readlinkat(dir.as_raw_fd(), name.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) } as libc::c_long)? as usize;
    if n == buf.len() {
        return Err(io::Error::from_raw_os_error(libc::ENAMETOOLONG));
    }
    Ok(buf[..n].to_vec())
}

pub fn cstr(bytes: &[u8]) -> io::Result<std::ffi::CString> {
    std::ffi::CString::new(bytes).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "contains a NUL byte"))
}
