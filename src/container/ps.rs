//! `hull ps`: the container's processes, as `ps` shows them or as a JSON array of pids.

use super::state::ContainerDir;
use super::{ContainerError, io_err};
use crate::cgroups;
use crate::cli::Global;
use std::io::Write;

pub fn ps(global: &Global, id: &str, json: bool, ps_args: &[String]) -> Result<(), ContainerError> {
    let record = ContainerDir::open(&global.root, id)?.load()?;
    let pids = cgroups::procs(&record.cgroup_paths);
    let out = if json {
        format!("{}\n", serde_json::Value::from(pids))
    } else {
        let args: Vec<String> = if ps_args.is_empty() { vec!["-ef".into()] } else { ps_args.to_vec() };
        let output = std::process::Command::new("ps").args(&args).output().map_err(io_err("running", "ps"))?;
        if !output.status.success() {
            return Err(ContainerError::Usage(format!("ps {}: {}", args.join(" "), String::from_utf8_lossy(&output.stderr).trim())));
        }
        only_pids(&String::from_utf8_lossy(&output.stdout), &pids)?
    };
    std::io::stdout().write_all(out.as_bytes()).map_err(io_err("writing", "stdout"))
}

/// The header and the lines of `ps` output whose PID column is one of `pids`.
fn only_pids(table: &str, pids: &[libc::pid_t]) -> Result<String, ContainerError> {
    let mut lines = table.lines();
    let header = lines.next().unwrap_or_default();
    let column = header
        .split_whitespace()
        .position(|h| h == "PID")
        .ok_or_else(|| ContainerError::Usage("ps: its output has no PID column (add -o pid to the ps options)".into()))?;
    let mut out = format!("{header}\n");
    for line in lines {
        if line.split_whitespace().nth(column).and_then(|p| p.parse().ok()).is_some_and(|p: libc::pid_t| pids.contains(&p)) {
            out.push_str(line);
            out.push('\n');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_the_containers_lines() {
        let table = "UID   PID  PPID CMD\nroot    1     0 init\nroot   42     1 sh\nroot   43    42 cat\n";
        assert_eq!(super::only_pids(table, &[42, 43]).unwrap(), "UID   PID  PPID CMD\nroot   42     1 sh\nroot   43    42 cat\n");
        assert!(super::only_pids("USER COMMAND\n", &[1]).is_err());
    }
}
