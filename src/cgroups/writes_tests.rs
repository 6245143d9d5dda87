//! The resource-to-file mapping for v1, v2 and hybrid hosts.

use super::*;
use crate::spec::resources::*;

fn all(v: Version) -> impl Fn(Controller) -> Option<Version> {
    move |_| Some(v)
}

fn res(json: &str) -> Resources {
    serde_json::from_str(json).unwrap()
}

fn files(plan: &Plan) -> Vec<(&str, &str)> {
    plan.writes.iter().map(|w| (w.file.as_str(), w.value.as_str())).collect()
}

#[test]
fn empty_resources_write_nothing() {
    for v in [Version::V1, Version::V2] {
        let p = plan(&res(r#"{"memory":{},"cpu":{"shares":0,"quota":0},"pids":{}}"#), &all(v), &Facts::default()).unwrap();
        assert!(p.writes.is_empty(), "{:?}", p.writes);
    }
}

#[test]
fn v1_memory_cpu_pids() {
    let r = res(r#"{"memory":{"limit":1048576,"reservation":524288,"kernelTCP":4096,"swappiness":10,"disableOOMKiller":true,"kernel":1},
                  "cpu":{"shares":512,"quota":50000,"period":100000,"burst":1000,"realtimeRuntime":500,"realtimePeriod":1000,"cpus":"0","mems":"0","idle":0},
                  "pids":{"limit":10}}"#);
    let p = plan(&r, &all(Version::V1), &Facts::default()).unwrap();
    assert_eq!(
        files(&p),
        [
            ("cpuset.cpus", "0"),
            ("cpuset.mems", "0"),
            ("cpu.rt_period_us", "1000"),
            ("cpu.rt_runtime_us", "500"),
            ("cpu.shares", "512"),
            ("cpu.cfs_period_us", "100000"),
            ("cpu.cfs_quota_us", "50000"),
            ("cpu.cfs_burst_us", "1000"),
            ("cpu.idle", "0"),
            ("memory.limit_in_bytes", "1048576"),
            ("memory.soft_limit_in_bytes", "524288"),
            ("memory.kmem.tcp.limit_in_bytes", "4096"),
            ("memory.swappiness", "10"),
            ("memory.oom_control", "1"),
            ("pids.max", "10"),
        ]
    );
    assert_eq!(p.warnings.len(), 1, "kernel memory is ignored with a warning");
    assert_eq!(p.writes[0].controller, Controller::Cpuset);
}

#[test]
fn v1_memory_and_swap_order_follows_the_current_limit() {
    let r = res(r#"{"memory":{"limit":100,"swap":200}}"#);
    let growing = Facts { swap_accounting: true, memory_limit_now: Some(50), ..Default::default() };
    assert_eq!(files(&plan(&r, &all(Version::V1), &growing).unwrap()), [("memory.memsw.limit_in_bytes", "200"), ("memory.limit_in_bytes", "100")]);
    let shrinking = Facts { swap_accounting: true, memory_limit_now: Some(1000), ..Default::default() };
    assert_eq!(files(&plan(&r, &all(Version::V1), &shrinking).unwrap()), [("memory.limit_in_bytes", "100"), ("memory.memsw.limit_in_bytes", "200")]);
}

#[test]
fn v1_unlimited_memory_means_unlimited_swap_only_where_swap_is_accounted() {
    let r = res(r#"{"memory":{"limit":-1}}"#);
    let with = Facts { swap_accounting: true, ..Default::default() };
    assert_eq!(files(&plan(&r, &all(Version::V1), &with).unwrap()), [("memory.memsw.limit_in_bytes", "-1"), ("memory.limit_in_bytes", "-1")]);
    assert_eq!(files(&plan(&r, &all(Version::V1), &Facts::default()).unwrap()), [("memory.limit_in_bytes", "-1")]);
}

#[test]
fn v2_memory_swap_is_converted() {
    let facts = Facts { swap_accounting: true, ..Default::default() };
    let p = plan(&res(r#"{"memory":{"limit":100,"swap":300,"reservation":50}}"#), &all(Version::V2), &facts).unwrap();
    assert_eq!(files(&p), [("memory.swap.max", "200"), ("memory.max", "100"), ("memory.low", "50")]);
    let p = plan(&res(r#"{"memory":{"limit":-1}}"#), &all(Version::V2), &facts).unwrap();
    assert_eq!(files(&p), [("memory.swap.max", "max"), ("memory.max", "max")]);
    // No swap accounting: "unlimited swap" is already true, so nothing to write.
    let p = plan(&res(r#"{"memory":{"limit":-1}}"#), &all(Version::V2), &Facts::default()).unwrap();
    assert_eq!(files(&p), [("memory.max", "max")]);
    assert!(plan(&res(r#"{"memory":{"limit":300,"swap":100}}"#), &all(Version::V2), &facts).is_err());
    assert_eq!(swap_to_v2(0, 5), Err("a swap limit needs a memory limit".to_string()));
}

#[test]
fn v2_check_before_update_refuses_a_limit_below_usage() {
    let facts = Facts { memory_usage_now: Some(1000), ..Default::default() };
    let err = plan(&res(r#"{"memory":{"limit":500,"checkBeforeUpdate":true}}"#), &all(Version::V2), &facts).unwrap_err();
    assert!(err.to_string().contains("below the current usage 1000"), "{err}");
    assert!(plan(&res(r#"{"memory":{"limit":5000,"checkBeforeUpdate":true}}"#), &all(Version::V2), &facts).is_ok());
}

#[test]
fn v2_cpu_conversions() {
    let p = plan(&res(r#"{"cpu":{"shares":1024,"quota":50000,"period":100000,"burst":10,"cpus":"1"}}"#), &all(Version::V2), &Facts::default()).unwrap();
    assert_eq!(files(&p), [("cpuset.cpus", "1"), ("cpu.weight", "39"), ("cpu.max", "50000 100000"), ("cpu.max.burst", "10")]);
    let p = plan(&res(r#"{"cpu":{"quota":-1}}"#), &all(Version::V2), &Facts::default()).unwrap();
    assert_eq!(files(&p), [("cpu.max", "max")]);
    let keep = Facts { cpu_quota_now: Some("20000".into()), ..Default::default() };
    let p = plan(&res(r#"{"cpu":{"period":50000}}"#), &all(Version::V2), &keep).unwrap();
    assert_eq!(files(&p), [("cpu.max", "20000 50000")]);
    assert!(plan(&res(r#"{"cpu":{"realtimeRuntime":5}}"#), &all(Version::V2), &Facts::default()).is_err());
    assert!(plan(&res(r#"{"cpu":{"quota":10,"burst":20}}"#), &all(Version::V1), &Facts::default()).is_err());
    assert_eq!((shares_to_weight(2), shares_to_weight(262144)), (1, 10000));
}

#[test]
fn block_io_both_versions() {
    let r = res(r#"{"blockIO":{"weight":500,"leafWeight":300,"weightDevice":[{"major":8,"minor":0,"weight":400}],
                    "throttleReadBpsDevice":[{"major":8,"minor":0,"rate":600}],"throttleWriteIOPSDevice":[{"major":8,"minor":16,"rate":300}]}}"#);
    let p = plan(&r, &all(Version::V1), &Facts::default()).unwrap();
    assert_eq!(
        files(&p),
        [
            ("blkio.weight", "500"),
            ("blkio.leaf_weight", "300"),
            ("blkio.weight_device", "8:0 400"),
            ("blkio.throttle.read_bps_device", "8:0 600"),
            ("blkio.throttle.write_iops_device", "8:16 300"),
        ]
    );
    let bfq = Facts { bfq: true, ..Default::default() };
    assert_eq!(files(&plan(&r, &all(Version::V1), &bfq).unwrap())[0], ("blkio.bfq.weight", "500"));
    let p = plan(&r, &all(Version::V2), &Facts::default()).unwrap();
    assert_eq!(files(&p), [("io.weight", "default 4950"), ("io.max", "8:0 rbps=600"), ("io.max", "8:16 wiops=300")]);
    assert_eq!(p.writes[0].controller.v2_name(), "io");
}

#[test]
fn hugetlb_network_rdma() {
    let r = res(r#"{"hugepageLimits":[{"pageSize":"2MB","limit":4194304}],"rdma":{"mlx5_1":{"hcaHandles":3}}}"#);
    let rsvd = Facts { hugetlb_rsvd: true, ..Default::default() };
    assert_eq!(
        files(&plan(&r, &all(Version::V1), &rsvd).unwrap()),
        [("hugetlb.2MB.limit_in_bytes", "4194304"), ("hugetlb.2MB.rsvd.limit_in_bytes", "4194304"), ("rdma.max", "mlx5_1 hca_handle=3")]
    );
    assert_eq!(files(&plan(&r, &all(Version::V2), &Facts::default()).unwrap())[0], ("hugetlb.2MB.max", "4194304"));
    assert!(plan(&res(r#"{"hugepageLimits":[{"pageSize":"2M","limit":1}]}"#), &all(Version::V2), &Facts::default()).is_err());
    let net = res(r#"{"network":{"classID":1048577,"priorities":[{"name":"eth0","priority":5}]}}"#);
    assert_eq!(files(&plan(&net, &all(Version::V1), &Facts::default()).unwrap()), [("net_cls.classid", "1048577"), ("net_prio.ifpriomap", "eth0 5")]);
    let err = plan(&net, &all(Version::V2), &Facts::default()).unwrap_err();
    assert_eq!(err.field, "network.classID");
}

#[test]
fn a_missing_controller_is_named() {
    let none = |_| None;
    let err = plan(&res(r#"{"pids":{"limit":5}}"#), &none, &Facts::default()).unwrap_err();
    assert_eq!(err.to_string(), "linux.resources.pids: the pids controller is not available on this host");
}

#[test]
fn hybrid_picks_each_controllers_own_version() {
    // This machine's layout: everything on v1 except hugetlb, which only cgroup2 has.
    let hybrid = |c| match c {
        Controller::Hugetlb | Controller::Core => Some(Version::V2),
        Controller::NetCls | Controller::NetPrio | Controller::Rdma => None,
        _ => Some(Version::V1),
    };
    let r = res(r#"{"memory":{"limit":1000},"hugepageLimits":[{"pageSize":"2MB","limit":2097152}]}"#);
    let p = plan(&r, &hybrid, &Facts::default()).unwrap();
    assert_eq!(p.writes.iter().map(|w| (w.version, w.file.as_str())).collect::<Vec<_>>(), [(Version::V1, "memory.limit_in_bytes"), (Version::V2, "hugetlb.2MB.max")]);
    let err = plan(&res(r#"{"unified":{"memory.high":"1000"}}"#), &hybrid, &Facts::default()).unwrap_err();
    assert!(err.reason.contains("memory is on cgroup v1"), "{err}");
    let p = plan(&res(r#"{"unified":{"cgroup.max.descendants":"5"}}"#), &hybrid, &Facts::default()).unwrap();
    assert_eq!(p.writes[0].controller, Controller::Core);
}

#[test]
fn unified_is_refused_under_v1_and_checked_for_paths() {
    let v1_only = |c| if c == Controller::Core { None } else { Some(Version::V1) };
    assert!(plan(&res(r#"{"unified":{"pids.max":"5"}}"#), &v1_only, &Facts::default()).is_err());
    assert!(plan(&res(r#"{"unified":{"../x":"5"}}"#), &all(Version::V2), &Facts::default()).is_err());
    let p = plan(&res(r#"{"unified":{"memory.high":"5"}}"#), &all(Version::V2), &Facts::default()).unwrap();
    assert_eq!(files(&p), [("memory.high", "5")]);
}

#[test]
fn devices_are_v1_writes_or_nothing_here_on_v2() {
    let r = res(r#"{"devices":[{"allow":false,"access":"rwm"}]}"#);
    let p = plan(&r, &all(Version::V1), &Facts::default()).unwrap();
    assert_eq!(files(&p)[0], ("devices.deny", "a"));
    assert!(plan(&r, &all(Version::V2), &Facts::default()).unwrap().writes.is_empty());
}
