//! `hull kill`: a signal to the init, or with --all to every process of the container.

use super::state::{ContainerDir, Record, Status};
use super::ContainerError;
use crate::cli::Global;
use crate::{cgroups, sys};

pub fn kill(global: &Global, id: &str, signal: &str, all: bool) -> Result<(), ContainerError> {
    let signal = parse_signal(signal)?;
    let dir = ContainerDir::open(&global.root, id)?;
    let record = dir.load()?;
    let status = dir.status(&record);
    if status == Status::Stopped && !all {
        return Err(ContainerError::wrong_status(id, status, "container not running"));
    }
    if all {
        signal_all(&record, signal);
        return Ok(());
    }
    signal_init(&record, signal)
}

/// Signals the init through a pidfd opened after checking its start time, so a
/// reused pid is never signalled.
pub fn signal_init(record: &Record, signal: libc::c_int) -> Result<(), ContainerError> {
    let pidfd = sys::pidfd_open(record.pid).map_err(|source| ContainerError::Sys { what: format!("pidfd_open({})", record.pid), source })?;
    if !super::state::init_alive(record) {
        return Err(ContainerError::wrong_status(&record.id, Status::Stopped, "container not running"));
    }
    sys::pidfd_send_signal(&pidfd, signal).map_err(|source| ContainerError::Sys { what: format!("signal {signal} to pid {}", record.pid), source })
}

/// Every process in the container's cgroup, frozen while they are signalled so none can
/// fork away, then thawed (a frozen process would not act on the signal).
pub fn signal_all(record: &Record, signal: libc::c_int) {
    let cgroups = cgroups::Cgroups::open(&record.cgroup_paths).ok();
    let frozen = cgroups.as_ref().is_some_and(|cg| cgroups::freezer::freeze(cg).is_ok());
    for pid in cgroups::procs(&record.cgroup_paths) {
        // SAFETY: kill takes plain integers; these pids are in the container's cgroup.
        unsafe { libc::kill(pid, signal) };
    }
    if frozen && let Some(cg) = &cgroups {
        let _ = cgroups::freezer::thaw(cg);
    }
    if super::state::init_alive(record) {
        let _ = signal_init(record, signal);
    }
}

/// "KILL", "SIGKILL", "9" and "kill" all name SIGKILL.
pub fn parse_signal(name: &str) -> Result<libc::c_int, ContainerError> {
    if let Ok(n) = name.parse::<libc::c_int>() {
        return if (1..=64).contains(&n) { Ok(n) } else { Err(ContainerError::Usage(format!("invalid signal {name:?}"))) };
    }
    let upper = name.to_ascii_uppercase();
    let short = upper.strip_prefix("SIG").unwrap_or(&upper);
    const SIGNALS: &[(&str, libc::c_int)] = &[
        ("ABRT", libc::SIGABRT), ("ALRM", libc::SIGALRM), ("BUS", libc::SIGBUS), ("CHLD", libc::SIGCHLD),
        ("CONT", libc::SIGCONT), ("FPE", libc::SIGFPE), ("HUP", libc::SIGHUP), ("ILL", libc::SIGILL),
        ("INT", libc::SIGINT), ("IO", libc::SIGIO), ("IOT", libc::SIGIOT), ("KILL", libc::SIGKILL),
        ("PIPE", libc::SIGPIPE), ("POLL", libc::SIGPOLL), ("PROF", libc::SIGPROF), ("PWR", libc::SIGPWR),
        ("QUIT", libc::SIGQUIT), ("SEGV", libc::SIGSEGV), ("STKFLT", libc::SIGSTKFLT), ("STOP", libc::SIGSTOP),
        ("SYS", libc::SIGSYS), ("TERM", libc::SIGTERM), ("TRAP", libc::SIGTRAP), ("TSTP", libc::SIGTSTP),
        ("TTIN", libc::SIGTTIN), ("TTOU", libc::SIGTTOU), ("URG", libc::SIGURG), ("USR1", libc::SIGUSR1),
        ("USR2", libc::SIGUSR2), ("VTALRM", libc::SIGVTALRM), ("WINCH", libc::SIGWINCH), ("XCPU", libc::SIGXCPU),
        ("XFSZ", libc::SIGXFSZ),
    ];
    if let Some((_, n)) = SIGNALS.iter().find(|(s, _)| *s == short) {
        return Ok(*n);
    }
    let rt = |base: libc::c_int, off: &str| off.parse::<libc::c_int>().ok().map(|o| base + o);
    let realtime = match short {
        "RTMIN" => Some(libc::SIGRTMIN()),
        "RTMAX" => Some(libc::SIGRTMAX()),
        s => s.strip_prefix("RTMIN+").and_then(|o| rt(libc::SIGRTMIN(), o)).or_else(|| s.strip_prefix("RTMAX-").and_then(|o| rt(libc::SIGRTMAX(), &format!("-{o}")))),
    };
    realtime.filter(|n| (libc::SIGRTMIN()..=libc::SIGRTMAX()).contains(n)).ok_or_else(|| ContainerError::Usage(format!("unknown signal {name:?}")))
}

#[cfg(test)]
mod tests {
    use super::parse_signal;

    #[test]
    fn signal_names() {
        for (name, n) in [("9", 9), ("KILL", 9), ("SIGKILL", 9), ("term", 15), ("SIGUSR1", 10), ("RTMIN+2", libc::SIGRTMIN() + 2)] {
            assert_eq!(parse_signal(name).unwrap(), n, "{name}");
        }
        for bad in ["0", "65", "SIGNOPE", ""] {
            assert!(parse_signal(bad).is_err(), "{bad}");
        }
    }
}
