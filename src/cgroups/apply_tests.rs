//! The manager against a temporary directory tree laid out like cgroupfs.

use super::*;

struct Tree(PathBuf);

impl Tree {
    fn new(name: &str) -> Tree {
        let root = std::env::temp_dir().join(format!("hull-cgroup-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        Tree(root)
    }

    /// A cgroup directory with empty interface files.
    fn cgroup(&self, dir: &str, files: &[&str]) -> PathBuf {
        let path = self.0.join(dir);
        std::fs::create_dir_all(&path).unwrap();
        for f in files {
            std::fs::write(path.join(f), "").unwrap();
        }
        path
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

fn resources(json: &str) -> Resources {
    serde_json::from_str(json).unwrap()
}

#[test]
fn v1_writes_land_in_each_controllers_directory() {
    let t = Tree::new("v1");
    let memory = t.cgroup("memory/c", &["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"]);
    let pids = t.cgroup("pids/c", &["pids.max"]);
    let cpu = t.cgroup("cpu/c", &["cpu.cfs_quota_us", "cpu.cfs_period_us"]);
    std::fs::write(memory.join("memory.limit_in_bytes"), "9223372036854771712").unwrap();
    let cg = Cgroups::for_test(&[(&memory, &["memory"]), (&pids, &["pids"]), (&cpu, &["cpu"])], None, None);
    let r = resources(r#"{"memory":{"limit":33554432,"swap":33554432},"pids":{"limit":7},"cpu":{"quota":20000,"period":100000}}"#);
    cg.apply(Some(&r), Apply::Create).unwrap();
    assert_eq!(read(&memory.join("memory.limit_in_bytes")), "33554432");
    assert_eq!(read(&memory.join("memory.memsw.limit_in_bytes")), "33554432");
    assert_eq!(read(&pids.join("pids.max")), "7");
    assert_eq!(read(&cpu.join("cpu.cfs_quota_us")), "20000");
    assert_eq!(read(&cpu.join("cpu.cfs_period_us")), "100000");
}

#[test]
fn a_refused_write_names_file_value_and_errno() {
    let t = Tree::new("refused");
    let pids = t.cgroup("pids/c", &[]);
    let cg = Cgroups::for_test(&[(&pids, &["pids"])], None, None);
    let err = cg.apply(Some(&resources(r#"{"pids":{"limit":3}}"#)), Apply::Create).unwrap_err().to_string();
    assert!(err.contains("writing \"3\" to") && err.contains("pids.max") && err.contains("os error 2"), "{err}");
}

#[test]
fn a_controller_the_host_lacks_is_refused_by_name() {
    let t = Tree::new("lacks");
    let memory = t.cgroup("memory/c", &[]);
    let cg = Cgroups::for_test(&[(&memory, &["memory"])], None, None);
    let err = cg.apply(Some(&resources(r#"{"network":{"classID":1}}"#)), Apply::Create).unwrap_err().to_string();
    assert_eq!(err, "linux.resources.network.classID: the net_cls controller is not available on this host");
}

#[test]
fn hybrid_sends_v2_only_controllers_to_the_unified_directory() {
    let t = Tree::new("hybrid");
    let memory = t.cgroup("memory/c", &["memory.limit_in_bytes"]);
    let root = t.cgroup("unified", &[]);
    std::fs::write(root.join("cgroup.controllers"), "hugetlb\n").unwrap();
    let leaf = t.cgroup("unified/c", &["hugetlb.2MB.max"]);
    let cg = Cgroups::for_test(&[(&memory, &["memory"])], Some(&leaf), Some(&root));
    assert_eq!(cg.version_of(Controller::Hugetlb), Some(Version::V2));
    assert_eq!(cg.version_of(Controller::Memory), Some(Version::V1));
    assert_eq!(cg.version_of(Controller::Pids), None);
    let r = resources(r#"{"memory":{"limit":4096},"hugepageLimits":[{"pageSize":"2MB","limit":2097152}]}"#);
    // The parent does not delegate hugetlb: hull says where to enable it and changes nothing above.
    let err = cg.apply(Some(&r), Apply::Create).unwrap_err().to_string();
    assert!(err.contains("hugetlb controller is not enabled") && err.contains("unified/cgroup.subtree_control"), "{err}");
    std::fs::write(leaf.join("cgroup.controllers"), "hugetlb").unwrap();
    cg.apply(Some(&r), Apply::Create).unwrap();
    assert_eq!(read(&leaf.join("hugetlb.2MB.max")), "2097152");
    assert_eq!(read(&memory.join("memory.limit_in_bytes")), "4096");
}

#[test]
fn pure_v2_uses_the_leafs_controllers() {
    let t = Tree::new("v2");
    let leaf = t.cgroup("c", &["memory.max", "pids.max", "cpu.max", "memory.swap.max"]);
    std::fs::write(leaf.join("cgroup.controllers"), "cpu memory pids").unwrap();
    std::fs::write(leaf.join("cpu.max"), "30000 100000\n").unwrap();
    let cg = Cgroups::for_test(&[], Some(&leaf), None);
    let r = resources(r#"{"memory":{"limit":1000,"swap":3000},"pids":{"limit":-1},"cpu":{"period":50000}}"#);
    cg.apply(Some(&r), Apply::Update).unwrap();
    assert_eq!(read(&leaf.join("memory.max")), "1000");
    assert_eq!(read(&leaf.join("memory.swap.max")), "2000");
    assert_eq!(read(&leaf.join("pids.max")), "max");
    assert_eq!(read(&leaf.join("cpu.max")), "30000 50000");
    // Devices on v2 are an eBPF program: attaching it to a plain directory fails, and says so.
    let err = cg.apply(Some(&resources(r#"{"devices":[{"allow":true,"type":"c","major":1,"minor":3}]}"#)), Apply::Create).unwrap_err();
    assert!(err.to_string().contains("eBPF device filter"), "{err}");
}

#[test]
fn nothing_is_read_or_written_without_resources() {
    let cg = Cgroups::for_test(&[(Path::new("/nonexistent/memory/c"), &["memory"])], None, None);
    cg.apply(None, Apply::Create).unwrap();
    cg.apply(Some(&resources(r#"{"memory":{},"cpu":{}}"#)), Apply::Create).unwrap();
}

#[test]
fn v2_create_makes_missing_parents() {
    let t = Tree::new("v2create");
    let leaf = t.0.join("a/b/c");
    let cg = Cgroups::for_test(&[], Some(&leaf), None);
    cg.create().unwrap();
    assert!(leaf.is_dir());
    // An existing directory (another container's parent) is fine.
    cg.create().unwrap();
}
