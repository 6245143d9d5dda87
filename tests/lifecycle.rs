//! The container lifecycle (issue 3), checked with real containers.

mod common;
use common::*;
use serde_json::json;

#[test]
fn run_shows_isolation_from_inside() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("iso", &["sh", "-c", "echo pid=$$; hostname; id -u; for n in pid net mnt ipc uts; do readlink /proc/self/ns/$n; done"]);
    env.config["hostname"] = json!("box");
    let out = env.run_ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "pid=1");
    assert_eq!(lines[1], "box");
    assert_eq!(lines[2], "0");
    for (line, ns) in lines[3..].iter().zip(["pid", "net", "mnt", "ipc", "uts"]) {
        let host = std::fs::read_link(format!("/proc/self/ns/{ns}")).unwrap();
        assert_ne!(*line, host.to_string_lossy(), "{ns} namespace is the host's");
    }
    env.assert_clean();
}
