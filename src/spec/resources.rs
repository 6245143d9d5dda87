//! `linux.resources` of config.json (config-linux.md "Control groups"), typed.
//!
//! The same structs read `hull update --resources` input, which is what
//! containerd and podman send. Unknown properties are ignored. Numbers are
//! signed where engines send -1 for "unlimited" even if the spec says uint.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Default, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resources {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<DeviceRule>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<Memory>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<Cpu>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pids: Option<Pids>,
    #[serde(rename = "blockIO", skip_serializing_if = "Option::is_none")]
    pub block_io: Option<BlockIo>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hugepage_limits: Vec<HugepageLimit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<Network>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rdma: BTreeMap<String, Rdma>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unified: BTreeMap<String, String>,
}

#[derive(Debug, Default, Clone, PartialEq, Deserialize, Serialize)]
pub struct DeviceRule {
    pub allow: bool,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub major: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minor: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<String>,
}

#[derive(Debug, Default, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Memory {
    pub limit: Option<i64>,
    pub reservation: Option<i64>,
    pub swap: Option<i64>,
    pub kernel: Option<i64>,
    #[serde(rename = "kernelTCP")]
    pub kernel_tcp: Option<i64>,
    /// -1 (sent by some engines) means unset.
    pub swappiness: Option<i64>,
    #[serde(rename = "disableOOMKiller")]
    pub disable_oom_killer: Option<bool>,
    pub use_hierarchy: Option<bool>,
    pub check_before_update: Option<bool>,
}

#[derive(Debug, Default, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cpu {
    pub shares: Option<u64>,
    pub quota: Option<i64>,
    pub burst: Option<u64>,
    pub period: Option<u64>,
    pub realtime_runtime: Option<i64>,
    pub realtime_period: Option<u64>,
    pub cpus: Option<String>,
    pub mems: Option<String>,
    pub idle: Option<i64>,
}

#[derive(Debug, Default, Clone, PartialEq, Deserialize, Serialize)]
pub struct Pids {
    pub limit: Option<i64>,
}

#[derive(Debug, Default, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockIo {
    pub weight: Option<u16>,
    pub leaf_weight: Option<u16>,
    #[serde(default)]
    pub weight_device: Vec<WeightDevice>,
    #[serde(default)]
    pub throttle_read_bps_device: Vec<ThrottleDevice>,
    #[serde(default)]
    pub throttle_write_bps_device: Vec<ThrottleDevice>,
    #[serde(default, rename = "throttleReadIOPSDevice")]
    pub throttle_read_iops_device: Vec<ThrottleDevice>,
    #[serde(default, rename = "throttleWriteIOPSDevice")]
    pub throttle_write_iops_device: Vec<ThrottleDevice>,
}

#[derive(Debug, Default, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WeightDevice {
    pub major: i64,
    pub minor: i64,
    pub weight: Option<u16>,
    pub leaf_weight: Option<u16>,
}

#[derive(Debug, Default, Clone, PartialEq, Deserialize, Serialize)]
pub struct ThrottleDevice {
    pub major: i64,
    pub minor: i64,
    pub rate: u64,
}

#[derive(Debug, Default, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HugepageLimit {
    pub page_size: String,
    pub limit: u64,
}

#[derive(Debug, Default, Clone, PartialEq, Deserialize, Serialize)]
pub struct Network {
    #[serde(rename = "classID")]
    pub class_id: Option<u32>,
    #[serde(default)]
    pub priorities: Vec<InterfacePriority>,
}

#[derive(Debug, Default, Clone, PartialEq, Deserialize, Serialize)]
pub struct InterfacePriority {
    pub name: String,
    pub priority: u32,
}

#[derive(Debug, Default, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rdma {
    pub hca_handles: Option<u32>,
    pub hca_objects: Option<u32>,
}

impl Resources {
    /// True when nothing would be written: the common case, kept off the hot path.
    pub fn is_empty(&self) -> bool {
        self == &Resources::default()
            || (self.devices.is_empty()
                && self.memory.as_ref().is_none_or(|m| m == &Memory::default())
                && self.cpu.as_ref().is_none_or(|c| c == &Cpu::default())
                && self.pids.as_ref().is_none_or(|p| p.limit.is_none())
                && self.block_io.as_ref().is_none_or(|b| b == &BlockIo::default())
                && self.hugepage_limits.is_empty()
                && self.network.as_ref().is_none_or(|n| n == &Network::default())
                && self.rdma.is_empty()
                && self.unified.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_parses_and_unknown_ones_are_ignored() {
        let json = r#"{
            "devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw"}],
            "memory": {"limit": 536870912, "reservation": 1, "swap": -1, "kernel": -1, "kernelTCP": -1, "swappiness": 0,
                       "disableOOMKiller": false, "useHierarchy": true, "checkBeforeUpdate": true, "future": 1},
            "cpu": {"shares": 1024, "quota": 1000000, "burst": 1000, "period": 500000, "realtimeRuntime": 950000,
                    "realtimePeriod": 1000000, "cpus": "2-3", "mems": "0-7", "idle": 0},
            "pids": {"limit": 32771},
            "blockIO": {"weight": 10, "leafWeight": 10, "weightDevice": [{"major": 8, "minor": 0, "weight": 500, "leafWeight": 300}],
                        "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 600}],
                        "throttleWriteIOPSDevice": [{"major": 8, "minor": 16, "rate": 300}]},
            "hugepageLimits": [{"pageSize": "2MB", "limit": 209715200}],
            "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 500}]},
            "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}},
            "unified": {"memory.high": "max"},
            "somethingNew": true
        }"#;
        let r: Resources = serde_json::from_str(json).unwrap();
        assert_eq!(r.devices[1].kind.as_deref(), Some("c"));
        assert_eq!(r.memory.as_ref().unwrap().kernel_tcp, Some(-1));
        assert_eq!(r.memory.as_ref().unwrap().disable_oom_killer, Some(false));
        assert_eq!(r.cpu.as_ref().unwrap().realtime_period, Some(1000000));
        assert_eq!(r.block_io.as_ref().unwrap().throttle_write_iops_device[0].rate, 300);
        assert_eq!(r.hugepage_limits[0].page_size, "2MB");
        assert_eq!(r.network.as_ref().unwrap().class_id, Some(1048577));
        assert_eq!(r.rdma["mlx5_1"].hca_objects, Some(10000));
        assert_eq!(r.unified["memory.high"], "max");
        assert!(!r.is_empty());
        assert!(serde_json::from_str::<Resources>(r#"{"memory":{},"cpu":{}}"#).unwrap().is_empty());
    }
}
