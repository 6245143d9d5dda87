//! Usage figures of a container's cgroups, in the shape of runc's
//! `events --stats` (types.Stats): cpu, memory, pids, blkio, hugetlb.
//! Files a host lacks are left out rather than failing the whole report.

use super::Cgroups;
use super::writes::{Controller, Version};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::Path;

fn read(dir: &Path, file: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(file)).ok().map(|s| s.trim().to_string())
}

fn number(dir: &Path, file: &str) -> Option<u64> {
    read(dir, file).and_then(|s| if s == "max" { Some(u64::MAX) } else { s.parse().ok() })
}

/// "key value" lines (memory.stat, cpu.stat, memory.events) as a map.
pub fn flat_keyed(text: &str) -> BTreeMap<String, u64> {
    text.lines().filter_map(|l| l.split_once(' ')).filter_map(|(k, v)| Some((k.to_string(), v.trim().parse().ok()?))).collect()
}

pub fn collect(cg: &Cgroups) -> Value {
    let mut data = Map::new();
    data.insert("cpu".into(), cpu(cg));
    if let Some(memory) = memory(cg) {
        data.insert("memory".into(), memory);
    }
    if let Some((dir, _)) = cg.controller_dir(Controller::Pids) {
        let limit = number(dir, "pids.max").filter(|l| *l != u64::MAX).unwrap_or(0);
        data.insert("pids".into(), json!({ "current": number(dir, "pids.current").unwrap_or(0), "limit": limit }));
    }
    if let Some(blkio) = blkio(cg) {
        data.insert("blkio".into(), blkio);
    }
    data.insert("hugetlb".into(), hugetlb(cg));
    Value::Object(data)
}

fn cpu(cg: &Cgroups) -> Value {
    let mut usage = Map::new();
    let mut throttling = Map::new();
    if let Some((dir, version)) = cg.controller_dir(Controller::Cpu) {
        let stat = flat_keyed(&read(dir, "cpu.stat").unwrap_or_default());
        let (periods, throttled, time) = match version {
            Version::V1 => (stat.get("nr_periods"), stat.get("nr_throttled"), stat.get("throttled_time").copied()),
            Version::V2 => (stat.get("nr_periods"), stat.get("nr_throttled"), stat.get("throttled_usec").map(|u| u * 1000)),
        };
        throttling.insert("periods".into(), json!(periods.copied().unwrap_or(0)));
        throttling.insert("throttledPeriods".into(), json!(throttled.copied().unwrap_or(0)));
        throttling.insert("throttledTime".into(), json!(time.unwrap_or(0)));
        if version == Version::V2 {
            usage.insert("total".into(), json!(stat.get("usage_usec").copied().unwrap_or(0) * 1000));
            usage.insert("user".into(), json!(stat.get("user_usec").copied().unwrap_or(0) * 1000));
            usage.insert("kernel".into(), json!(stat.get("system_usec").copied().unwrap_or(0) * 1000));
        }
    }
    // v1 accounting lives in cpuacct (its own mount on some hosts).
    if let Some(dir) = cg.paths.iter().find(|p| p.join("cpuacct.usage").exists()) {
        usage.insert("total".into(), json!(number(dir, "cpuacct.usage").unwrap_or(0)));
        let percpu: Vec<u64> = read(dir, "cpuacct.usage_percpu").unwrap_or_default().split_whitespace().filter_map(|n| n.parse().ok()).collect();
        usage.insert("percpu".into(), json!(percpu));
        for (file, key) in [("cpuacct.usage_percpu_sys", "percpu_kernel"), ("cpuacct.usage_percpu_user", "percpu_user")] {
            let values: Vec<u64> = read(dir, file).unwrap_or_default().split_whitespace().filter_map(|n| n.parse().ok()).collect();
            if !values.is_empty() {
                usage.insert(key.into(), json!(values));
            }
        }
        // cpuacct.stat counts clock ticks; runc reports nanoseconds.
        // SAFETY: sysconf takes a constant and has no side effects.
        let tick = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        let stat = flat_keyed(&read(dir, "cpuacct.stat").unwrap_or_default());
        usage.insert("user".into(), json!(stat.get("user").copied().unwrap_or(0) * 1_000_000_000 / tick));
        usage.insert("kernel".into(), json!(stat.get("system").copied().unwrap_or(0) * 1_000_000_000 / tick));
    }
    json!({ "usage": usage, "throttling": throttling })
}

fn memory(cg: &Cgroups) -> Option<Value> {
    let (dir, version) = cg.controller_dir(Controller::Memory)?;
    let raw = flat_keyed(&read(dir, "memory.stat").unwrap_or_default());
    let entry = |usage: &str, limit: &str, max: &str, failcnt: Option<u64>| {
        json!({
            "usage": number(dir, usage).unwrap_or(0),
            "limit": number(dir, limit).unwrap_or(0),
            "max": number(dir, max).unwrap_or(0),
            "failcnt": failcnt.unwrap_or(0),
        })
    };
    let value = match version {
        Version::V1 => json!({
            "cache": raw.get("cache").copied().unwrap_or(0),
            "usage": entry("memory.usage_in_bytes", "memory.limit_in_bytes", "memory.max_usage_in_bytes", number(dir, "memory.failcnt")),
            "swap": entry("memory.memsw.usage_in_bytes", "memory.memsw.limit_in_bytes", "memory.memsw.max_usage_in_bytes", number(dir, "memory.memsw.failcnt")),
            "kernel": entry("memory.kmem.usage_in_bytes", "memory.kmem.limit_in_bytes", "memory.kmem.max_usage_in_bytes", number(dir, "memory.kmem.failcnt")),
            "kernelTCP": entry("memory.kmem.tcp.usage_in_bytes", "memory.kmem.tcp.limit_in_bytes", "memory.kmem.tcp.max_usage_in_bytes", number(dir, "memory.kmem.tcp.failcnt")),
            "raw": raw,
        }),
        Version::V2 => {
            let events = flat_keyed(&read(dir, "memory.events").unwrap_or_default());
            json!({
                "cache": raw.get("file").copied().unwrap_or(0),
                "usage": entry("memory.current", "memory.max", "memory.peak", events.get("max").copied()),
                "swap": entry("memory.swap.current", "memory.swap.max", "memory.swap.peak", None),
                "raw": raw,
            })
        }
    };
    Some(value)
}

/// blkio.throttle.io_service_bytes_recursive ("8:0 Read 4096") or io.stat ("8:0 rbytes=4096 ...").
pub fn blkio_entries(text: &str, version: Version) -> (Vec<Value>, Vec<Value>) {
    let mut bytes = Vec::new();
    let mut ios = Vec::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let Some((major, minor)) = words.next().and_then(|d| d.split_once(':')) else { continue };
        let (Ok(major), Ok(minor)) = (major.parse::<u64>(), minor.parse::<u64>()) else { continue };
        match version {
            Version::V1 => {
                if let (Some(op), Some(value)) = (words.next(), words.next().and_then(|v| v.parse::<u64>().ok())) {
                    bytes.push(json!({ "major": major, "minor": minor, "op": op, "value": value }));
                }
            }
            Version::V2 => {
                for pair in words {
                    let Some((key, value)) = pair.split_once('=') else { continue };
                    let Ok(value) = value.parse::<u64>() else { continue };
                    let (list, op) = match key {
                        "rbytes" => (&mut bytes, "Read"),
                        "wbytes" => (&mut bytes, "Write"),
                        "rios" => (&mut ios, "Read"),
                        "wios" => (&mut ios, "Write"),
                        _ => continue,
                    };
                    list.push(json!({ "major": major, "minor": minor, "op": op, "value": value }));
                }
            }
        }
    }
    (bytes, ios)
}

fn blkio(cg: &Cgroups) -> Option<Value> {
    let (dir, version) = cg.controller_dir(Controller::Blkio)?;
    let (bytes, ios) = match version {
        Version::V1 => {
            let (bytes, _) = blkio_entries(&read(dir, "blkio.throttle.io_service_bytes_recursive").unwrap_or_default(), Version::V1);
            let (ios, _) = blkio_entries(&read(dir, "blkio.throttle.io_serviced_recursive").unwrap_or_default(), Version::V1);
            (bytes, ios)
        }
        Version::V2 => blkio_entries(&read(dir, "io.stat").unwrap_or_default(), Version::V2),
    };
    Some(json!({ "ioServiceBytesRecursive": bytes, "ioServicedRecursive": ios }))
}

fn hugetlb(cg: &Cgroups) -> Value {
    let mut sizes = Map::new();
    let Some((dir, version)) = cg.controller_dir(Controller::Hugetlb) else { return Value::Object(sizes) };
    let Ok(entries) = std::fs::read_dir(dir) else { return Value::Object(sizes) };
    for name in entries.filter_map(|e| e.ok()?.file_name().into_string().ok()) {
        let size = match version {
            Version::V1 => name.strip_prefix("hugetlb.").and_then(|n| n.strip_suffix(".usage_in_bytes")).filter(|s| !s.contains('.')),
            Version::V2 => name.strip_prefix("hugetlb.").and_then(|n| n.strip_suffix(".current")).filter(|s| !s.contains('.')),
        };
        let Some(size) = size else { continue };
        let value = match version {
            Version::V1 => json!({
                "usage": number(dir, &name).unwrap_or(0),
                "max": number(dir, &format!("hugetlb.{size}.max_usage_in_bytes")).unwrap_or(0),
                "failcnt": number(dir, &format!("hugetlb.{size}.failcnt")).unwrap_or(0),
            }),
            Version::V2 => json!({
                "usage": number(dir, &name).unwrap_or(0),
                "failcnt": flat_keyed(&read(dir, &format!("hugetlb.{size}.events")).unwrap_or_default()).get("max").copied().unwrap_or(0),
            }),
        };
        sizes.insert(size.to_string(), value);
    }
    Value::Object(sizes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_blkio_both_versions() {
        let (bytes, _) = blkio_entries("8:0 Read 4096\n8:0 Write 512\nTotal 4608\n", Version::V1);
        assert_eq!(bytes, [json!({"major":8,"minor":0,"op":"Read","value":4096}), json!({"major":8,"minor":0,"op":"Write","value":512})]);
        let (bytes, ios) = blkio_entries("259:0 rbytes=100 wbytes=200 rios=3 wios=4 dbytes=0\n", Version::V2);
        assert_eq!(bytes.len(), 2);
        assert_eq!(ios[1], json!({"major":259,"minor":0,"op":"Write","value":4}));
    }

    #[test]
    fn reads_a_v1_tree() {
        let root = std::env::temp_dir().join(format!("hull-stats-test-{}", std::process::id()));
        let memory = root.join("memory/c");
        let pids = root.join("pids/c");
        std::fs::create_dir_all(&memory).unwrap();
        std::fs::create_dir_all(&pids).unwrap();
        std::fs::write(memory.join("memory.usage_in_bytes"), "4096\n").unwrap();
        std::fs::write(memory.join("memory.limit_in_bytes"), "33554432\n").unwrap();
        std::fs::write(memory.join("memory.failcnt"), "3\n").unwrap();
        std::fs::write(memory.join("memory.stat"), "cache 8192\nrss 4096\n").unwrap();
        std::fs::write(pids.join("pids.current"), "2\n").unwrap();
        std::fs::write(pids.join("pids.max"), "max\n").unwrap();
        let cg = Cgroups::for_test(&[(&memory, &["memory"]), (&pids, &["pids"])], None, None);
        let stats = collect(&cg);
        assert_eq!(stats["memory"]["usage"], json!({"usage":4096,"limit":33554432,"max":0,"failcnt":3}));
        assert_eq!(stats["memory"]["cache"], json!(8192));
        assert_eq!(stats["pids"], json!({"current":2,"limit":0}));
        let _ = std::fs::remove_dir_all(&root);
    }
}
