//! `hull update`: change a live container's limits, from runc's flags and/or
//! a linux.resources JSON (`--resources FILE`, or `-` for stdin as containerd
//! sends it). Flags win over the JSON, as in runc.

use super::state::{ContainerDir, Status};
use super::{ContainerError, io_err};
use crate::cgroups::{Apply, Cgroups};
use crate::cli::{Global, UpdateArgs};
use crate::spec::resources::Resources;
use std::io::Read;

pub fn update(global: &Global, args: &UpdateArgs) -> Result<(), ContainerError> {
    let dir = ContainerDir::open(&global.root, &args.id)?;
    let record = dir.load()?;
    let status = dir.status(&record);
    if status == Status::Stopped {
        return Err(ContainerError::wrong_status(&args.id, status, "cannot update the resources of a stopped container"));
    }
    let mut resources = match args.resources.as_deref() {
        None => Resources::default(),
        Some("-") => {
            let mut text = Vec::new();
            std::io::stdin().read_to_end(&mut text).map_err(io_err("reading resources from", "stdin"))?;
            parse_json(&text, "stdin")?
        }
        Some(file) => parse_json(&std::fs::read(file).map_err(io_err("reading resources from", file))?, file)?,
    };
    apply_flags(&mut resources, &args.values)?;
    Cgroups::open(&record.cgroup_paths)?.apply(Some(&resources), Apply::Update)?;
    Ok(())
}

fn parse_json(text: &[u8], from: &str) -> Result<Resources, ContainerError> {
    serde_json::from_slice(text).map_err(|e| ContainerError::Usage(format!("update: resources from {from}: {e}")))
}

/// Each given flag overrides the matching field.
pub fn apply_flags(r: &mut Resources, values: &[(&'static str, String)]) -> Result<(), ContainerError> {
    for (name, value) in values {
        let bad = |reason: &str| ContainerError::Usage(format!("update: --{name} {value:?}: {reason}"));
        let int = || value.parse::<i64>().map_err(|_| bad("not an integer"));
        let uint = || value.parse::<u64>().map_err(|_| bad("not a non-negative integer"));
        let size = || ram_in_bytes(value).ok_or_else(|| bad("not a size like 512m, 1g or -1"));
        let memory = r.memory.get_or_insert_with(Default::default);
        match *name {
            "memory" => memory.limit = Some(size()?),
            "memory-swap" => memory.swap = Some(size()?),
            "memory-reservation" => memory.reservation = Some(size()?),
            "kernel-memory" => memory.kernel = Some(size()?),
            "kernel-memory-tcp" => memory.kernel_tcp = Some(size()?),
            "pids-limit" => r.pids.get_or_insert_with(Default::default).limit = Some(int()?),
            "blkio-weight" => r.block_io.get_or_insert_with(Default::default).weight = Some(value.parse().map_err(|_| bad("not a weight from 10 to 1000"))?),
            "l3-cache-schema" | "mem-bw-schema" => return Err(bad("Intel RDT is not supported by hull")),
            cpu_flag => {
                let cpu = r.cpu.get_or_insert_with(Default::default);
                match cpu_flag {
                    "cpu-period" => cpu.period = Some(uint()?),
                    "cpu-quota" => cpu.quota = Some(int()?),
                    "cpu-burst" => cpu.burst = Some(uint()?),
                    "cpu-rt-period" => cpu.realtime_period = Some(uint()?),
                    "cpu-rt-runtime" => cpu.realtime_runtime = Some(int()?),
                    "cpu-share" => cpu.shares = Some(uint()?),
                    "cpuset-cpus" => cpu.cpus = Some(value.clone()),
                    "cpuset-mems" => cpu.mems = Some(value.clone()),
                    _ => return Err(bad("unknown resource flag")),
                }
            }
        }
    }
    Ok(())
}

/// docker's units.RAMInBytes: "-1", "1024", "512k", "64m", "1.5g", "2GiB" (binary units).
pub fn ram_in_bytes(text: &str) -> Option<i64> {
    if text == "-1" {
        return Some(-1);
    }
    let lower = text.trim().to_ascii_lowercase();
    let split = lower.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(lower.len());
    let (number, unit) = lower.split_at(split);
    let number: f64 = number.parse().ok().filter(|n: &f64| *n >= 0.0)?;
    let unit = unit.trim().trim_end_matches("ib").trim_end_matches('b');
    let scale: f64 = match unit {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024f64.powi(2),
        "g" => 1024f64.powi(3),
        "t" => 1024f64.powi(4),
        "p" => 1024f64.powi(5),
        _ => return None,
    };
    Some((number * scale) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        for (text, n) in [("-1", -1), ("1024", 1024), ("512k", 524288), ("64m", 67108864), ("64MB", 67108864), ("1.5g", 1610612736), ("2GiB", 2147483648)] {
            assert_eq!(ram_in_bytes(text), Some(n), "{text}");
        }
        for bad in ["", "m", "-2", "12x", "1..2m"] {
            assert_eq!(ram_in_bytes(bad), None, "{bad}");
        }
    }

    #[test]
    fn flags_override_json() {
        let mut r: Resources = serde_json::from_str(r#"{"memory":{"limit":1},"pids":{"limit":3}}"#).unwrap();
        apply_flags(&mut r, &[("memory", "64m".into()), ("cpu-share", "512".into()), ("cpuset-cpus", "0".into())]).unwrap();
        assert_eq!(r.memory.as_ref().unwrap().limit, Some(67108864));
        assert_eq!(r.pids.as_ref().unwrap().limit, Some(3));
        assert_eq!(r.cpu.as_ref().unwrap().shares, Some(512));
        assert_eq!(r.cpu.as_ref().unwrap().cpus.as_deref(), Some("0"));
        assert!(apply_flags(&mut r, &[("pids-limit", "many".into())]).is_err());
        assert!(apply_flags(&mut r, &[("l3-cache-schema", "L3:0=f".into())]).is_err());
    }
}
