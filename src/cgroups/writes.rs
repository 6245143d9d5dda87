//! PURE: what `linux.resources` means as cgroup file writes.
//!
//! `plan` turns resources into an ordered list of (controller, file, value)
//! for whichever version each controller lives under (v1, v2, or a mix on a
//! hybrid host). Where the right file depends on the host (is swap accounted,
//! is BFQ the scheduler, what is the current limit), the caller passes the
//! answer in `Facts`, so this module reads nothing and is tested without root.

use super::devices;
use crate::spec::resources::{Memory, Resources};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Controller {
    Cpuset,
    Cpu,
    Memory,
    Pids,
    Blkio,
    Hugetlb,
    NetCls,
    NetPrio,
    Rdma,
    Devices,
    /// cgroup v2 core files (`cgroup.*`), present in every v2 cgroup.
    Core,
}

impl Controller {
    pub fn v1_name(self) -> &'static str {
        match self {
            Controller::Cpuset => "cpuset",
            Controller::Cpu => "cpu",
            Controller::Memory => "memory",
            Controller::Pids => "pids",
            Controller::Blkio => "blkio",
            Controller::Hugetlb => "hugetlb",
            Controller::NetCls => "net_cls",
            Controller::NetPrio => "net_prio",
            Controller::Rdma => "rdma",
            Controller::Devices => "devices",
            Controller::Core => "",
        }
    }

    pub fn v2_name(self) -> &'static str {
        match self {
            Controller::Blkio => "io",
            other => other.v1_name(),
        }
    }

    /// The controller a v2 interface file (`memory.high`, `io.max`) belongs to.
    fn of_v2_file(file: &str) -> Controller {
        match file.split('.').next().unwrap_or_default() {
            "cpuset" => Controller::Cpuset,
            "cpu" => Controller::Cpu,
            "memory" => Controller::Memory,
            "pids" => Controller::Pids,
            "io" => Controller::Blkio,
            "hugetlb" => Controller::Hugetlb,
            "rdma" => Controller::Rdma,
            _ => Controller::Core,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    pub controller: Controller,
    pub version: Version,
    pub file: String,
    pub value: String,
}

/// What the host says, where the choice of file or value depends on it.
/// `None` means the caller did not look (the resource that needs it is unset).
#[derive(Debug, Default, Clone)]
pub struct Facts {
    /// memory.memsw.* (v1) or memory.swap.max (v2) exists.
    pub swap_accounting: bool,
    /// blkio.weight is absent and blkio.bfq.weight present (v1), io.bfq.weight present (v2).
    pub bfq: bool,
    /// hugetlb.<size>.rsvd.* files exist.
    pub hugetlb_rsvd: bool,
    /// memory.limit_in_bytes now (v1), to order the memory and swap writes.
    pub memory_limit_now: Option<i64>,
    /// memory.current (v2), for checkBeforeUpdate.
    pub memory_usage_now: Option<u64>,
    /// The quota half of cpu.max now (v2), kept when only the period changes.
    pub cpu_quota_now: Option<String>,
}

/// A resource hull cannot apply on this host, or a value no kernel would take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("linux.resources.{field}: {reason}")]
pub struct Refused {
    pub field: String,
    pub reason: String,
}

fn refused(field: &str, reason: impl Into<String>) -> Refused {
    Refused { field: field.to_string(), reason: reason.into() }
}

#[derive(Debug, Default)]
pub struct Plan {
    pub writes: Vec<Write>,
    /// Settings ignored as runc ignores them; worth a log line.
    pub warnings: Vec<String>,
}

/// Where each controller lives on this host, if anywhere.
pub type VersionOf<'a> = &'a dyn Fn(Controller) -> Option<Version>;

struct Builder<'a> {
    version_of: VersionOf<'a>,
    plan: Plan,
}

impl Builder<'_> {
    fn version(&self, controller: Controller, field: &str) -> Result<Version, Refused> {
        (self.version_of)(controller).ok_or_else(|| refused(field, format!("the {} controller is not available on this host", controller.v2_name())))
    }

    fn push(&mut self, controller: Controller, version: Version, file: impl Into<String>, value: impl Into<String>) {
        self.plan.writes.push(Write { controller, version, file: file.into(), value: value.into() });
    }

    fn warn(&mut self, text: impl Into<String>) {
        self.plan.warnings.push(text.into());
    }
}

/// The ordered writes for `resources`. Unset fields (and 0 where runc reads 0 as
/// "unset") produce nothing, so `update` only touches what it was given.
pub fn plan(resources: &Resources, version_of: VersionOf, facts: &Facts) -> Result<Plan, Refused> {
    let mut b = Builder { version_of, plan: Plan::default() };
    cpu(&mut b, resources, facts)?;
    if let Some(memory) = &resources.memory {
        memory_writes(&mut b, memory, facts)?;
    }
    if let Some(limit) = resources.pids.as_ref().and_then(|p| p.limit) {
        let v = b.version(Controller::Pids, "pids")?;
        // config-linux.md: 0 is a real limit; any negative value means none.
        b.push(Controller::Pids, v, "pids.max", if limit < 0 { "max".to_string() } else { limit.to_string() });
    }
    block_io(&mut b, resources, facts)?;
    hugetlb(&mut b, resources, facts)?;
    network(&mut b, resources)?;
    for (device, limits) in &resources.rdma {
        let v = b.version(Controller::Rdma, "rdma")?;
        let mut value = device.clone();
        if let Some(n) = limits.hca_handles {
            value.push_str(&format!(" hca_handle={n}"));
        }
        if let Some(n) = limits.hca_objects {
            value.push_str(&format!(" hca_object={n}"));
        }
        if value == *device {
            return Err(refused(&format!("rdma.{device}"), "needs hcaHandles or hcaObjects"));
        }
        b.push(Controller::Rdma, v, "rdma.max", value);
    }
    if !resources.devices.is_empty() && b.version(Controller::Devices, "devices")? == Version::V1 {
        for (file, value) in devices::v1_writes(&resources.devices).map_err(|reason| refused("devices", reason))? {
            b.push(Controller::Devices, Version::V1, file, value);
        }
    }
    unified(&mut b, resources)?;
    Ok(b.plan)
}

fn cpu(b: &mut Builder, resources: &Resources, facts: &Facts) -> Result<(), Refused> {
    let Some(cpu) = &resources.cpu else { return Ok(()) };
    for (value, file) in [(&cpu.cpus, "cpuset.cpus"), (&cpu.mems, "cpuset.mems")] {
        if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
            let v = b.version(Controller::Cpuset, "cpu.cpus")?;
            b.push(Controller::Cpuset, v, file, value);
        }
    }
    if let (Some(quota), Some(burst)) = (cpu.quota, cpu.burst)
        && quota > 0
        && burst > quota as u64
    {
        return Err(refused("cpu.burst", format!("{burst} is larger than cpu.quota {quota}")));
    }
    let shares = cpu.shares.filter(|s| *s != 0);
    let (quota, period) = (cpu.quota.filter(|q| *q != 0), cpu.period.filter(|p| *p != 0));
    let rt = (cpu.realtime_period.filter(|p| *p != 0), cpu.realtime_runtime.filter(|r| *r != 0));
    let any = shares.is_some() || quota.is_some() || period.is_some() || cpu.burst.is_some() || cpu.idle.is_some() || rt != (None, None);
    if !any {
        return Ok(());
    }
    match b.version(Controller::Cpu, "cpu")? {
        Version::V1 => {
            // Real-time budget first: a SCHED_RR task cannot join a cgroup without one.
            if let Some(p) = rt.0 {
                b.push(Controller::Cpu, Version::V1, "cpu.rt_period_us", p.to_string());
            }
            if let Some(r) = rt.1 {
                b.push(Controller::Cpu, Version::V1, "cpu.rt_runtime_us", r.to_string());
            }
            if let Some(s) = shares {
                b.push(Controller::Cpu, Version::V1, "cpu.shares", s.to_string());
            }
            if let Some(p) = period {
                b.push(Controller::Cpu, Version::V1, "cpu.cfs_period_us", p.to_string());
            }
            if let Some(q) = quota {
                b.push(Controller::Cpu, Version::V1, "cpu.cfs_quota_us", q.to_string());
            }
            if let Some(burst) = cpu.burst {
                b.push(Controller::Cpu, Version::V1, "cpu.cfs_burst_us", burst.to_string());
            }
            if let Some(idle) = cpu.idle {
                b.push(Controller::Cpu, Version::V1, "cpu.idle", idle.to_string());
            }
        }
        Version::V2 => {
            if rt != (None, None) {
                return Err(refused("cpu.realtimeRuntime", "real-time group scheduling has no cgroup v2 interface"));
            }
            if let Some(s) = shares {
                b.push(Controller::Cpu, Version::V2, "cpu.weight", shares_to_weight(s).to_string());
            }
            if quota.is_some() || period.is_some() {
                let q = match quota {
                    Some(q) if q > 0 => q.to_string(),
                    Some(_) => "max".to_string(),
                    // Only the period changes: keep the quota the kernel has now.
                    None => facts.cpu_quota_now.clone().unwrap_or_else(|| "max".to_string()),
                };
                let value = match period {
                    Some(p) => format!("{q} {p}"),
                    None => q,
                };
                b.push(Controller::Cpu, Version::V2, "cpu.max", value);
            }
            if let Some(burst) = cpu.burst {
                b.push(Controller::Cpu, Version::V2, "cpu.max.burst", burst.to_string());
            }
            if let Some(idle) = cpu.idle {
                b.push(Controller::Cpu, Version::V2, "cpu.idle", idle.to_string());
            }
        }
    }
    Ok(())
}

/// runc's conversion of v1 cpu.shares [2, 262144] to v2 cpu.weight [1, 10000].
pub fn shares_to_weight(shares: u64) -> u64 {
    let shares = shares.clamp(2, 262144);
    1 + ((shares - 2) * 9999) / 262142
}

/// runc's conversion of v1 blkio.weight [10, 1000] to v2 io.weight [1, 10000].
pub fn blkio_to_io_weight(weight: u16) -> u64 {
    let weight = u64::from(weight.clamp(10, 1000));
    1 + (weight - 10) * 9999 / 990
}

fn memory_writes(b: &mut Builder, m: &Memory, facts: &Facts) -> Result<(), Refused> {
    let limit = m.limit.filter(|l| *l != 0);
    let swap = m.swap.filter(|s| *s != 0);
    let version = if limit.is_some() || swap.is_some() || m.reservation.is_some_and(|r| r != 0) || m.kernel_tcp.is_some_and(|k| k != 0) || m.swappiness.is_some_and(|s| s >= 0) || m.disable_oom_killer == Some(true) || m.use_hierarchy.is_some() {
        b.version(Controller::Memory, "memory")?
    } else {
        return Ok(());
    };
    if m.kernel.is_some_and(|k| k != 0) {
        b.warn("linux.resources.memory.kernel is ignored: kernel memory limits are deprecated (runc ignores them too)");
    }
    let num = |v: i64| if v < 0 { "max".to_string() } else { v.to_string() };
    match version {
        Version::V1 => {
            let limit_file = ("memory.limit_in_bytes", limit.map(|l| l.to_string()));
            // Unlimited memory with swap unset means unlimited swap too, where swap is accounted.
            let swap = match (limit, swap) {
                (Some(-1), None) if facts.swap_accounting => Some(-1),
                (_, Some(-1)) if !facts.swap_accounting => None,
                (_, s) => s,
            };
            let swap_file = ("memory.memsw.limit_in_bytes", swap.map(|s| s.to_string()));
            // memsw must stay >= memory at every step: raise first whichever grows.
            let swap_first = matches!((limit, swap, facts.memory_limit_now), (Some(_), Some(s), now) if s == -1 || now.is_some_and(|now| now >= 0 && now < s));
            let order = if swap_first { [swap_file, limit_file] } else { [limit_file, swap_file] };
            for (file, value) in order {
                if let Some(value) = value {
                    b.push(Controller::Memory, Version::V1, file, value);
                }
            }
            if let Some(r) = m.reservation.filter(|r| *r != 0) {
                b.push(Controller::Memory, Version::V1, "memory.soft_limit_in_bytes", r.to_string());
            }
            if let Some(k) = m.kernel_tcp.filter(|k| *k != 0) {
                b.push(Controller::Memory, Version::V1, "memory.kmem.tcp.limit_in_bytes", k.to_string());
            }
            if let Some(s) = m.swappiness.filter(|s| *s >= 0) {
                if s > 100 {
                    return Err(refused("memory.swappiness", format!("{s} is outside 0-100")));
                }
                b.push(Controller::Memory, Version::V1, "memory.swappiness", s.to_string());
            }
            if m.disable_oom_killer == Some(true) {
                b.push(Controller::Memory, Version::V1, "memory.oom_control", "1");
            }
            if let Some(h) = m.use_hierarchy {
                b.push(Controller::Memory, Version::V1, "memory.use_hierarchy", if h { "1" } else { "0" });
            }
        }
        Version::V2 => {
            if m.check_before_update == Some(true)
                && let (Some(l), Some(usage)) = (limit, facts.memory_usage_now)
                && l > 0
                && (l as u64) < usage
            {
                return Err(refused("memory.limit", format!("{l} is below the current usage {usage} (checkBeforeUpdate)")));
            }
            let swap_v2 = swap_to_v2(limit.unwrap_or(0), swap.unwrap_or(0)).map_err(|reason| refused("memory.swap", reason))?;
            if let Some(s) = swap_v2 {
                let value = num(s);
                // Without swap accounting, "no swap" and "unlimited swap" are already true.
                if facts.swap_accounting || !(value == "max" || value == "0") {
                    b.push(Controller::Memory, Version::V2, "memory.swap.max", value);
                }
            }
            if let Some(l) = limit {
                b.push(Controller::Memory, Version::V2, "memory.max", num(l));
            }
            if let Some(r) = m.reservation.filter(|r| *r != 0) {
                b.push(Controller::Memory, Version::V2, "memory.low", num(r));
            }
            for (set, what) in [
                (m.kernel_tcp.is_some_and(|k| k != 0), "kernelTCP"),
                (m.swappiness.is_some_and(|s| s >= 0), "swappiness"),
                (m.disable_oom_killer == Some(true), "disableOOMKiller"),
            ] {
                if set {
                    b.warn(format!("linux.resources.memory.{what} has no cgroup v2 interface: ignored"));
                }
            }
        }
    }
    Ok(())
}

/// runc's rule: v1 swap is memory+swap, v2 swap is swap alone. `None` means "don't write".
pub fn swap_to_v2(limit: i64, swap: i64) -> Result<Option<i64>, String> {
    match (limit, swap) {
        (-1, 0) => Ok(Some(-1)),
        (_, 0) => Ok(None),
        (_, -1) => Ok(Some(-1)),
        (0 | -1, _) => Err("a swap limit needs a memory limit".into()),
        (l, _) if l < 0 => Err(format!("invalid memory limit {l}")),
        (l, s) if s < l => Err(format!("memory+swap {s} must be at least the memory limit {l}")),
        (l, s) => Ok(Some(s - l)),
    }
}

fn block_io(b: &mut Builder, resources: &Resources, facts: &Facts) -> Result<(), Refused> {
    let Some(io) = &resources.block_io else { return Ok(()) };
    if io == &Default::default() {
        return Ok(());
    }
    let v = b.version(Controller::Blkio, "blockIO")?;
    let c = Controller::Blkio;
    let throttles = [
        (&io.throttle_read_bps_device, "blkio.throttle.read_bps_device", "rbps"),
        (&io.throttle_write_bps_device, "blkio.throttle.write_bps_device", "wbps"),
        (&io.throttle_read_iops_device, "blkio.throttle.read_iops_device", "riops"),
        (&io.throttle_write_iops_device, "blkio.throttle.write_iops_device", "wiops"),
    ];
    match v {
        Version::V1 => {
            let prefix = if facts.bfq { "blkio.bfq." } else { "blkio." };
            if let Some(w) = io.weight.filter(|w| *w != 0) {
                b.push(c, v, format!("{prefix}weight"), w.to_string());
            }
            if let Some(w) = io.leaf_weight.filter(|w| *w != 0) {
                b.push(c, v, "blkio.leaf_weight", w.to_string());
            }
            for d in &io.weight_device {
                if let Some(w) = d.weight {
                    b.push(c, v, format!("{prefix}weight_device"), format!("{}:{} {w}", d.major, d.minor));
                }
                if let Some(w) = d.leaf_weight {
                    b.push(c, v, "blkio.leaf_weight_device", format!("{}:{} {w}", d.major, d.minor));
                }
            }
            for (devices, file, _) in throttles {
                for d in devices {
                    b.push(c, v, file, format!("{}:{} {}", d.major, d.minor, d.rate));
                }
            }
        }
        Version::V2 => {
            if let Some(w) = io.weight.filter(|w| *w != 0) {
                if facts.bfq {
                    b.push(c, v, "io.bfq.weight", w.to_string());
                } else {
                    b.push(c, v, "io.weight", format!("default {}", blkio_to_io_weight(w)));
                }
            }
            for d in &io.weight_device {
                match d.weight {
                    Some(w) if facts.bfq => b.push(c, v, "io.bfq.weight", format!("{}:{} {w}", d.major, d.minor)),
                    Some(_) => b.warn("linux.resources.blockIO.weightDevice needs the BFQ scheduler on cgroup v2: ignored"),
                    None => {}
                }
            }
            if io.leaf_weight.is_some() || io.weight_device.iter().any(|d| d.leaf_weight.is_some()) {
                b.warn("linux.resources.blockIO leaf weights have no cgroup v2 interface: ignored");
            }
            for (devices, _, key) in throttles {
                for d in devices {
                    b.push(c, v, "io.max", format!("{}:{} {key}={}", d.major, d.minor, d.rate));
                }
            }
        }
    }
    Ok(())
}

fn hugetlb(b: &mut Builder, resources: &Resources, facts: &Facts) -> Result<(), Refused> {
    for limit in &resources.hugepage_limits {
        let size = &limit.page_size;
        let digits = size.trim_end_matches(['K', 'M', 'G', 'B']);
        let valid = size.len() > 2 && size.ends_with('B') && !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()) && size.len() == digits.len() + 2;
        if !valid {
            return Err(refused("hugepageLimits.pageSize", format!("{size:?} is not a size like 2MB or 1GB")));
        }
        let v = b.version(Controller::Hugetlb, "hugepageLimits")?;
        let (file, rsvd) = match v {
            Version::V1 => (format!("hugetlb.{size}.limit_in_bytes"), format!("hugetlb.{size}.rsvd.limit_in_bytes")),
            Version::V2 => (format!("hugetlb.{size}.max"), format!("hugetlb.{size}.rsvd.max")),
        };
        b.push(Controller::Hugetlb, v, file, limit.limit.to_string());
        if facts.hugetlb_rsvd {
            b.push(Controller::Hugetlb, v, rsvd, limit.limit.to_string());
        }
    }
    Ok(())
}

fn network(b: &mut Builder, resources: &Resources) -> Result<(), Refused> {
    let Some(net) = &resources.network else { return Ok(()) };
    if let Some(id) = net.class_id {
        match b.version(Controller::NetCls, "network.classID")? {
            Version::V1 => b.push(Controller::NetCls, Version::V1, "net_cls.classid", id.to_string()),
            Version::V2 => return Err(refused("network.classID", "net_cls has no cgroup v2 interface")),
        }
    }
    for p in &net.priorities {
        match b.version(Controller::NetPrio, "network.priorities")? {
            Version::V1 => b.push(Controller::NetPrio, Version::V1, "net_prio.ifpriomap", format!("{} {}", p.name, p.priority)),
            Version::V2 => return Err(refused("network.priorities", "net_prio has no cgroup v2 interface")),
        }
    }
    Ok(())
}

fn unified(b: &mut Builder, resources: &Resources) -> Result<(), Refused> {
    for (key, value) in &resources.unified {
        let field = format!("unified.{key}");
        if key.is_empty() || key.contains('/') || key.starts_with('.') {
            return Err(refused(&field, "must name a file of the cgroup, without '/'"));
        }
        let controller = Controller::of_v2_file(key);
        // `cgroup.*` files need only a v2 directory; others need their controller on v2.
        if (b.version_of)(controller) != Some(Version::V2) {
            return Err(refused(&field, format!("needs cgroup v2, but {} is on cgroup v1 (or absent) here", if controller == Controller::Core { "this host" } else { controller.v2_name() })));
        }
        b.push(controller, Version::V2, key.clone(), value.clone());
    }
    Ok(())
}

#[cfg(test)]
#[path = "writes_tests.rs"]
mod tests;
