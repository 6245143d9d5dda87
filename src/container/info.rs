//! `hull state` and `hull list`.

use super::ContainerError;
use super::state::{self, ContainerDir, state_json};
use crate::cli::Global;
use std::io::Write;

pub fn state(global: &Global, id: &str) -> Result<(), ContainerError> {
    let dir = ContainerDir::open(&global.root, id)?;
    let record = dir.load()?;
    let json = state_json(&record, dir.status(&record));
    print_stdout(&format!("{}\n", serde_json::to_string_pretty(&json).unwrap_or_default()))
}

pub fn list(global: &Global, json: bool, quiet: bool) -> Result<(), ContainerError> {
    let containers = state::list(&global.root)?;
    let out = if quiet {
        containers.iter().map(|(r, _)| format!("{}\n", r.id)).collect()
    } else if json {
        let all: Vec<_> = containers.iter().map(|(r, s)| state_json(r, *s)).collect();
        format!("{}\n", serde_json::Value::Array(all))
    } else {
        table(&containers)
    };
    print_stdout(&out)
}

fn table(containers: &[(state::Record, state::Status)]) -> String {
    let mut rows = vec![["ID".to_string(), "PID".into(), "STATUS".into(), "BUNDLE".into(), "CREATED".into(), "OWNER".into()]];
    for (r, s) in containers {
        let pid = if *s == state::Status::Stopped { 0 } else { r.pid };
        rows.push([r.id.clone(), pid.to_string(), s.as_str().into(), r.bundle.display().to_string(), r.created.clone(), "root".into()]);
    }
    let widths: Vec<usize> = (0..6).map(|c| rows.iter().map(|r| r[c].len()).max().unwrap_or(0)).collect();
    rows.iter()
        .map(|row| {
            let cells: Vec<String> = row.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
            format!("{}\n", cells.join("   ").trim_end())
        })
        .collect()
}

fn print_stdout(text: &str) -> Result<(), ContainerError> {
    std::io::stdout().write_all(text.as_bytes()).map_err(super::io_err("writing", "stdout"))
}
