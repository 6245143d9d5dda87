//! The terminal a container gets when process.terminal is true.

use crate::facts::Host;
use crate::tap::Tap;
use serde_json::Value;
use std::os::unix::fs::{FileTypeExt, MetadataExt};

const SEC: &str = "config.md#process (terminal)";

pub fn console(tap: &mut Tap, config: &Value, _: &Host) {
    for fd in 0..3 {
        // SAFETY: isatty only inspects the fd.
        let tty = unsafe { libc::isatty(fd) } == 1;
        tap.check(SEC, format!("fd {fd} is a terminal"), tty, "");
    }
    // SAFETY: fstat fills st for fd 0.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: st is writable.
    let stdin_rdev = (unsafe { libc::fstat(0, &mut st) } == 0).then_some(st.st_rdev);
    match std::fs::metadata("/dev/console") {
        Ok(md) => {
            tap.check("config-linux.md#default-devices", "/dev/console is a character device", md.file_type().is_char_device(), "");
            tap.eq("config-linux.md#default-devices", "/dev/console is the pseudoterminal the process got", Some(md.rdev()), stdin_rdev);
        }
        Err(e) => tap.check("config-linux.md#default-devices", "/dev/console exists when terminal is true", false, e),
    }
    let ctty = std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty");
    tap.check(SEC, "the terminal is the controlling terminal (/dev/tty opens)", ctty.is_ok(), format!("{:?}", ctty.err()));
    if let Some(size) = config.pointer("/process/consoleSize") {
        let mut ws = libc::winsize { ws_row: 0, ws_col: 0, ws_xpixel: 0, ws_ypixel: 0 };
        // SAFETY: TIOCGWINSZ fills ws.
        let r = unsafe { libc::ioctl(0, libc::TIOCGWINSZ, &mut ws) };
        let want = (size.get("height").and_then(Value::as_u64).unwrap_or(0), size.get("width").and_then(Value::as_u64).unwrap_or(0));
        tap.eq(SEC, "consoleSize is the terminal's size (rows, columns)", (r, u64::from(ws.ws_row), u64::from(ws.ws_col)), (0, want.0, want.1));
    }
}
