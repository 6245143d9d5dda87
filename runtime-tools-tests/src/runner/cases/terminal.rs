//! process.terminal: the runtime sends the pty master over --console-socket
//! (one message, one SCM_RIGHTS fd, as engines expect) and the checker, on
//! the other side, looks at the terminal it got.

use super::{Case, CaseResult, Ctx, case, ensure, fail};
use crate::exec;
use serde_json::json;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::net::UnixListener;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);

/// Receives one fd passed with SCM_RIGHTS on `sock`.
fn recv_fd(sock: &impl AsRawFd) -> std::io::Result<File> {
    let mut data = [0u8; 4096];
    let mut iov = libc::iovec { iov_base: data.as_mut_ptr().cast(), iov_len: data.len() };
    let mut control = [0u8; 256];
    // SAFETY: msghdr is plain old data; the pointers set below outlive the call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = control.len();
    // SAFETY: msg points at valid buffers.
    if unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: msg was filled by recvmsg; CMSG_FIRSTHDR stays within control.
    let cmsg = unsafe { libc::CMSG_FIRSTHDR(&msg) };
    // SAFETY: a non-null cmsg points into control, which the kernel filled.
    if cmsg.is_null() || unsafe { ((*cmsg).cmsg_level, (*cmsg).cmsg_type) } != (libc::SOL_SOCKET, libc::SCM_RIGHTS) {
        return Err(std::io::Error::other("the console socket message carried no SCM_RIGHTS fd"));
    }
    // SAFETY: SCM_RIGHTS data holds at least one int fd, owned by us now.
    let fd = unsafe { std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::c_int>()) };
    // SAFETY: the fd was just received and nothing else owns it.
    Ok(unsafe { File::from_raw_fd(fd) })
}

/// Everything the pty master yields until the slave side is gone.
fn drain(master: &mut File) -> std::io::Result<String> {
    let deadline = Instant::now() + WAIT;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if !exec::wait_readable(master, deadline.saturating_duration_since(Instant::now()))? {
            break;
        }
        match master.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            // EIO: every slave fd is closed, the container is gone.
            Err(e) if e.raw_os_error() == Some(libc::EIO) => break,
            Err(e) => return Err(e),
        }
    }
    Ok(String::from_utf8_lossy(&out).replace('\r', ""))
}

fn console_case(ctx: &Ctx) -> CaseResult {
    let (mut b, scope) = ctx.bundle()?;
    b.run_checker(&["console"]);
    b.config["process"]["terminal"] = json!(true);
    b.config["process"]["consoleSize"] = json!({"height": 31, "width": 101});
    b.write()?;
    let sock = ctx.rt.scratch.join(format!("{}.console", scope.id));
    let listener = UnixListener::bind(&sock)?;
    let mut cmd = ctx.rt.command();
    cmd.arg("create").arg("--bundle").arg(&b.dir).arg("--console-socket").arg(&sock).arg(&scope.id);
    let err_path = ctx.rt.scratch.join(format!("{}.create.err", scope.id));
    cmd.stdout(std::process::Stdio::null()).stderr(File::create(&err_path)?);
    let mut child = cmd.spawn()?;
    let connected = exec::wait_readable(&listener, WAIT);
    let master = match connected {
        Ok(true) => listener.accept().and_then(|(stream, _)| recv_fd(&stream)),
        Ok(false) => Err(std::io::Error::other("the runtime never connected to the console socket")),
        Err(e) => Err(e),
    };
    let status = exec::wait_child(&mut child, "create --console-socket", super::RUN_TIMEOUT)?;
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    let _ = std::fs::remove_file(&err_path);
    let _ = std::fs::remove_file(&sock);
    ensure(status.success(), || format!("create --console-socket failed: {status}; {}", stderr.trim()))?;
    let mut master = match master {
        Ok(m) => m,
        Err(e) => return fail(format!("no pty master from the console socket: {e}")),
    };
    let f = ctx.rt.call(&["start", &scope.id])?;
    ensure(f.ok(), || format!("start failed: {}", f.describe()))?;
    let out = drain(&mut master)?;
    let failed: Vec<&str> = out.lines().filter(|l| l.starts_with("not ok")).collect();
    ensure(failed.is_empty(), || failed.join("\n"))?;
    ensure(out.contains("# checker done") && out.lines().any(|l| l.starts_with("ok ")), || format!("the checker's output did not come through the terminal: {out:?}"))
}

pub fn cases() -> Vec<Case> {
    vec![case(
        "terminal-console",
        "config-linux.md#default-devices: the runtime MUST also supply: /dev/console is set up if terminal is enabled in the config by bind mounting the pseudoterminal pty to /dev/console (config.md: terminal, consoleSize).",
        console_case,
    )]
}
