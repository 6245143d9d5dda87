//! One runtime under test, driven only through its runc-style command line.

use crate::exec::{self, ExecError, Finished};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// How long any single runtime command may take.
pub const CMD_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Runtime {
    pub binary: PathBuf,
    /// The column name: the binary's file name.
    pub name: String,
    /// Its private `--root`, under the suite's temp dir.
    pub root: PathBuf,
    /// Scratch space for command output files.
    pub scratch: PathBuf,
}

impl Runtime {
    /// `runtime --root R` with nothing else.
    pub fn command(&self) -> Command {
        let mut c = Command::new(&self.binary);
        c.arg("--root").arg(&self.root).stdin(Stdio::null());
        c
    }

    /// Runs `runtime --root R ARGS...` to completion.
    pub fn call(&self, args: &[&str]) -> Result<Finished, ExecError> {
        let mut c = self.command();
        c.args(args);
        exec::run(c, &self.scratch, &format!("{} {}", self.name, args.first().unwrap_or(&"")), CMD_TIMEOUT)
    }

    /// `create --bundle B ID` with stdin/stdout as given (so the container can
    /// be talked to) and stderr captured.
    pub fn create_with(&self, bundle: &Path, id: &str, stdin: Stdio, stdout: Stdio) -> Result<Finished, ExecError> {
        let mut c = self.command();
        c.arg("create").arg("--bundle").arg(bundle).arg(id).stdin(stdin);
        let err_path = self.scratch.join(format!("create-{id}.err"));
        let err = std::fs::File::create(&err_path).map_err(|source| ExecError::Io { what: "create stderr file".into(), source })?;
        c.stdout(stdout).stderr(err);
        let mut child = c.spawn().map_err(|source| ExecError::Spawn { what: format!("{} create", self.name), source })?;
        // Drop our copies of the container's stdio ends before waiting.
        drop(c);
        let status = exec::wait_child(&mut child, &format!("{} create", self.name), CMD_TIMEOUT)?;
        let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
        let _ = std::fs::remove_file(&err_path);
        Ok(Finished { status, stdout: String::new(), stderr })
    }

    /// The parsed `state ID`, or why there is none.
    pub fn state(&self, id: &str) -> Result<Value, String> {
        let f = self.call(&["state", id]).map_err(|e| e.to_string())?;
        if !f.ok() {
            return Err(format!("state failed: {}", f.describe()));
        }
        serde_json::from_str(&f.stdout).map_err(|e| format!("state output is not JSON ({e}): {:?}", f.stdout))
    }

    /// The `status` field of `state ID`.
    pub fn status(&self, id: &str) -> Result<String, String> {
        let s = self.state(id)?;
        s.get("status").and_then(Value::as_str).map(str::to_string).ok_or_else(|| format!("state has no status: {s}"))
    }

    /// Best-effort removal of whatever is left of `id`.
    pub fn force_delete(&self, id: &str) {
        let _ = self.call(&["delete", "--force", id]);
    }
}
