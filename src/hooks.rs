//! Running OCI hooks: the state JSON on stdin, the hook's own args and env,
//! and its timeout.

use crate::spec::config::Hook;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("{kind} hook {path}: {what}: {source}")]
    Io { kind: &'static str, path: String, what: &'static str, source: std::io::Error },
    #[error("{kind} hook {path} failed: exit status {code}{stderr}")]
    Failed { kind: &'static str, path: String, code: i32, stderr: String },
    #[error("{kind} hook {path} timed out after {secs}s")]
    TimedOut { kind: &'static str, path: String, secs: i64 },
}

/// Runs each hook in order; stops at the first failure.
pub fn run_all(kind: &'static str, hooks: &[Hook], state: &[u8]) -> Result<(), HookError> {
    hooks.iter().try_for_each(|hook| run(kind, hook, state))
}

pub fn run(kind: &'static str, hook: &Hook, state: &[u8]) -> Result<(), HookError> {
    let io = |what| move |source| HookError::Io { kind, path: hook.path.clone(), what, source };
    let mut command = Command::new(&hook.path);
    if let Some((argv0, rest)) = hook.args.split_first() {
        command.arg0(argv0).args(rest);
    }
    command.env_clear();
    for var in &hook.env {
        if let Some((k, v)) = var.split_once('=') {
            command.env(k, v);
        }
    }
    command.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = command.spawn().map_err(io("starting"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that does not read its stdin is fine; EPIPE is not an error here.
        let _ = stdin.write_all(state);
    }
    let pidfd = crate::sys::pidfd_open(child.id() as libc::pid_t).map_err(io("watching"))?;
    let timeout_ms = hook.timeout.map_or(-1, |s| s.saturating_mul(1000).min(i64::from(i32::MAX)) as libc::c_int);
    if !crate::sys::pidfd_wait_exit(&pidfd, timeout_ms).map_err(io("waiting for"))? {
        let _ = child.kill();
        let _ = child.wait();
        return Err(HookError::TimedOut { kind, path: hook.path.clone(), secs: hook.timeout.unwrap_or(0) });
    }
    let output = child.wait_with_output().map_err(io("waiting for"))?;
    if output.status.success() {
        return Ok(());
    }
    let code = output.status.code().unwrap_or_else(|| 128 + std::os::unix::process::ExitStatusExt::signal(&output.status).unwrap_or(0));
    let stderr = String::from_utf8_lossy(&output.stderr).trim().replace('\n', " ");
    let stderr = if stderr.is_empty() { String::new() } else { format!(": {stderr}") };
    Err(HookError::Failed { kind, path: hook.path.clone(), code, stderr })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(path: &str, args: &[&str], timeout: Option<i64>) -> Hook {
        Hook { path: path.into(), args: args.iter().map(|s| s.to_string()).collect(), env: vec!["A=b".into()], timeout }
    }

    #[test]
    fn state_on_stdin_and_env() {
        let out = std::env::temp_dir().join(format!("hull-hook-test-{}", std::process::id()));
        let script = format!("cat > {0}; echo \"$A\" >> {0}", out.display());
        run("test", &hook("/bin/sh", &["sh", "-c", &script], None), b"{\"id\":\"x\"}").unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "{\"id\":\"x\"}b\n");
        let _ = std::fs::remove_file(out);
    }

    #[test]
    fn failure_and_timeout() {
        let err = run("test", &hook("/bin/sh", &["sh", "-c", "echo bad >&2; exit 3"], None), b"").unwrap_err();
        assert!(err.to_string().contains("exit status 3: bad"), "{err}");
        let err = run("test", &hook("/bin/sh", &["sh", "-c", "exec sleep 5"], Some(1)), b"").unwrap_err();
        assert!(matches!(err, HookError::TimedOut { .. }), "{err}");
    }
}
