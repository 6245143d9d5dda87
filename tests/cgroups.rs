//! cgroups (issue 7) with real containers: limits seen from inside and in the
//! cgroup files, pause/resume, update, events, ps, kill --all, cleanup.
//! Synchronisation is through FIFOs in the rootfs: a blocking open waits for
//! the container, and every wait is bounded so a broken container fails the
//! test instead of hanging it.

mod common;
use common::*;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

/// Runs `f` on a thread and panics if it does not finish in time.
fn bounded<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(WAIT).unwrap_or_else(|_| panic!("timed out: {what}"))
}

/// A FIFO at `/<name>` inside the container.
fn fifo(env: &Env, name: &str) -> PathBuf {
    let path = env.bundle.join("rootfs").join(name);
    let c = std::ffi::CString::new(path.to_string_lossy().as_bytes()).unwrap();
    // SAFETY: a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o666) }, 0, "mkfifo {}", path.display());
    path
}

/// Blocks until the container opens the FIFO for reading, then writes a line.
fn send(path: &Path, line: &str) {
    let (path, line) = (path.to_path_buf(), format!("{line}\n"));
    bounded("writing to a container's FIFO", move || std::fs::OpenOptions::new().write(true).open(&path).unwrap().write_all(line.as_bytes()).unwrap());
}

/// Blocks until the container writes the FIFO and closes it; returns what it wrote.
fn receive(path: &Path) -> String {
    let path = path.to_path_buf();
    bounded("reading a container's FIFO", move || {
        let mut text = String::new();
        std::fs::File::open(&path).unwrap().read_to_string(&mut text).unwrap();
        text.trim().to_string()
    })
}

/// `hull run --detach`, the container's stdio going to files in the test directory.
fn run_detached(env: &Env) {
    let bundle = env.bundle.to_string_lossy().into_owned();
    let (ok, err) = env.detached(&["run", "--detach", "--bundle", &bundle, &env.id]);
    assert!(ok, "run --detach failed: {err}");
}

fn cgroup_dir(env: &Env, hierarchy: &str) -> PathBuf {
    Path::new("/sys/fs/cgroup").join(hierarchy).join(&env.id)
}

fn cgroup_file(env: &Env, hierarchy: &str, file: &str) -> String {
    let path = cgroup_dir(env, hierarchy).join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).trim().to_string()
}

fn resources(env: &mut Env, value: Value) {
    for (k, v) in value.as_object().unwrap() {
        env.config["linux"]["resources"][k] = v.clone();
    }
}

fn hull_stdin(env: &Env, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(HULL).arg("--root").arg(&env.root).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn stats(env: &Env) -> Value {
    let out = hull_ok(&env.root, &["events", "--stats", &env.id]);
    let event: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((event["type"].as_str(), event["id"].as_str()), (Some("stats"), Some(env.id.as_str())));
    event["data"].clone()
}

fn delete_and_check_clean(env: &Env) {
    hull_ok(&env.root, &["delete", "--force", &env.id]);
    env.assert_clean();
}

#[test]
fn memory_limit_oom_kills_and_events_reports_it() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("oom", &["sh", "-c", "read x < /go; dd if=/dev/zero of=/dev/null bs=64M count=1"]);
    resources(&mut env, json!({ "memory": { "limit": 16 * 1024 * 1024 } }));
    let go = fifo(&env, "go");
    run_detached(&env);
    assert_eq!(cgroup_file(&env, "memory", "memory.limit_in_bytes"), (16 * 1024 * 1024).to_string());
    let mut events = Command::new(HULL).arg("--root").arg(&env.root).args(["events", "--interval=100ms", &env.id]).stdout(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(events.stdout.take().unwrap()).lines();
    // The first stats line means the OOM listener is registered (it is set up before the first tick).
    let first = bounded("first stats event", move || {
        let line = lines.next().unwrap().unwrap();
        (line, lines)
    });
    let (first, mut lines) = first;
    assert_eq!(serde_json::from_str::<Value>(&first).unwrap()["type"], "stats");
    send(&go, "allocate");
    let saw_oom = bounded("an oom event", move || lines.any(|l| serde_json::from_str::<Value>(&l.unwrap()).unwrap()["type"] == "oom"));
    assert!(saw_oom, "events ended without an oom event");
    // events ends by itself once the OOM-killed container has stopped.
    let status = bounded("events to exit", move || events.wait().unwrap());
    assert!(status.success());
    assert!(cgroup_file(&env, "memory", "memory.oom_control").contains("oom_kill 1"));
    assert_eq!(env.state()["status"], "stopped");
    delete_and_check_clean(&env);
}

#[test]
fn pids_limit_stops_a_fork_loop() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("pids", &["sh", "-c", "exec 3<>/hold; i=0; while [ $i -lt 40 ]; do cat <&3 & i=$((i+1)); echo $i; done"]);
    resources(&mut env, json!({ "pids": { "limit": 8 } }));
    fifo(&env, "hold");
    let (_, out, err) = env.run();
    let forked: usize = out.lines().last().and_then(|l| l.trim().parse().ok()).unwrap_or(0);
    // The shell itself is one of the 8.
    assert_eq!(forked, 7, "stdout {out:?}");
    assert!(err.contains("can't fork"), "stderr {err:?}");
    env.assert_clean();
}

#[test]
fn cpu_quota_period_shares_and_cpuset_land_in_the_files() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("cpu", &["sh", "-c", "grep Cpus_allowed_list /proc/self/status > /out"]);
    resources(&mut env, json!({ "cpu": { "quota": 50000, "period": 100000, "shares": 512, "cpus": "0", "mems": "0" } }));
    let out = fifo(&env, "out");
    run_detached(&env);
    assert_eq!(cgroup_file(&env, "cpu", "cpu.cfs_quota_us"), "50000");
    assert_eq!(cgroup_file(&env, "cpu", "cpu.cfs_period_us"), "100000");
    assert_eq!(cgroup_file(&env, "cpu", "cpu.shares"), "512");
    assert_eq!(cgroup_file(&env, "cpuset", "cpuset.cpus"), "0");
    assert_eq!(cgroup_file(&env, "cpuset", "cpuset.mems"), "0");
    // On this hybrid host the container is in the cgroup2 tree as well.
    if Path::new("/sys/fs/cgroup/unified").exists() {
        assert!(cgroup_dir(&env, "unified").exists());
    }
    assert_eq!(receive(&out).split_whitespace().collect::<Vec<_>>(), ["Cpus_allowed_list:", "0"]);
    delete_and_check_clean(&env);
}

#[test]
fn pause_freezes_and_resume_runs_again() {
    if skip_unless_root() {
        return;
    }
    let env = Env::new("pause", &["sh", "-c", "while read line < /in; do echo \"ack $line\" > /out; done"]);
    let (input, output) = (fifo(&env, "in"), fifo(&env, "out"));
    run_detached(&env);
    send(&input, "1");
    assert_eq!(receive(&output), "ack 1");
    hull_ok(&env.root, &["pause", &env.id]);
    assert_eq!(env.state()["status"], "paused");
    assert_eq!(cgroup_file(&env, "freezer", "freezer.state"), "FROZEN");
    for pid in cgroup_file(&env, "freezer", "cgroup.procs").lines() {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        assert!(status.contains("State:\tD"), "pid {pid} not frozen: {status}");
    }
    let err = stderr(&hull(&env.root, &["pause", &env.id]));
    assert!(err.contains("paused"), "{err}");
    hull_ok(&env.root, &["resume", &env.id]);
    assert_eq!(env.state()["status"], "running");
    send(&input, "2");
    assert_eq!(receive(&output), "ack 2");
    delete_and_check_clean(&env);
}

#[test]
fn update_changes_a_running_containers_limits() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("update", &["sh", "-c", "exec 3<>/hold; exec cat <&3"]);
    resources(&mut env, json!({ "memory": { "limit": 32 * 1024 * 1024 }, "pids": { "limit": 10 } }));
    fifo(&env, "hold");
    run_detached(&env);
    hull_ok(&env.root, &["update", "--memory", "64m", "--pids-limit=20", "--cpu-quota", "20000", "--cpu-period", "100000", "--cpu-share", "256", "--cpuset-cpus", "1", &env.id]);
    assert_eq!(cgroup_file(&env, "memory", "memory.limit_in_bytes"), (64 * 1024 * 1024).to_string());
    assert_eq!(cgroup_file(&env, "pids", "pids.max"), "20");
    assert_eq!(cgroup_file(&env, "cpu", "cpu.cfs_quota_us"), "20000");
    assert_eq!(cgroup_file(&env, "cpu", "cpu.shares"), "256");
    assert_eq!(cgroup_file(&env, "cpuset", "cpuset.cpus"), "1");
    // containerd's form: the resources JSON on stdin.
    let out = hull_stdin(&env, &["update", "--resources=-", &env.id], r#"{"memory":{"limit":50331648},"pids":{"limit":30},"cpu":{"quota":30000}}"#);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(cgroup_file(&env, "memory", "memory.limit_in_bytes"), "50331648");
    assert_eq!(cgroup_file(&env, "pids", "pids.max"), "30");
    assert_eq!(cgroup_file(&env, "cpu", "cpu.cfs_quota_us"), "30000");
    // podman's form: a file, and a flag wins over it.
    let file = env.dir.join("resources.json");
    std::fs::write(&file, r#"{"pids":{"limit":40},"memory":{"limit":41943040}}"#).unwrap();
    hull_ok(&env.root, &["update", &format!("--resources={}", file.display()), "--pids-limit", "45", &env.id]);
    assert_eq!(cgroup_file(&env, "pids", "pids.max"), "45");
    assert_eq!(cgroup_file(&env, "memory", "memory.limit_in_bytes"), "41943040");
    // Memory and memory+swap: whichever grows is written first, or the kernel refuses.
    if cgroup_dir(&env, "memory").join("memory.memsw.limit_in_bytes").exists() {
        hull_ok(&env.root, &["update", "--memory", "96m", "--memory-swap", "128m", &env.id]);
        assert_eq!(cgroup_file(&env, "memory", "memory.memsw.limit_in_bytes"), (128 * 1024 * 1024).to_string());
        hull_ok(&env.root, &["update", "--memory", "32m", "--memory-swap", "32m", &env.id]);
        assert_eq!(cgroup_file(&env, "memory", "memory.limit_in_bytes"), (32 * 1024 * 1024).to_string());
        assert_eq!(cgroup_file(&env, "memory", "memory.memsw.limit_in_bytes"), (32 * 1024 * 1024).to_string());
    }
    // A value the kernel refuses is reported with the file, the value and the errno.
    let err = stderr(&hull(&env.root, &["update", "--cpuset-cpus", "63", &env.id]));
    assert!(err.contains("cpuset.cpus") && err.contains("\"63\"") && err.contains("os error"), "{err}");
    delete_and_check_clean(&env);
}

#[test]
fn events_stats_numbers_move_with_the_load() {
    if skip_unless_root() {
        return;
    }
    let script = "read x < /go; i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; big=$(head -c 20000000 /dev/zero | tr '\\0' a); echo done > /out; read x < /go";
    let env = Env::new("stats", &["sh", "-c", script]);
    let (go, out) = (fifo(&env, "go"), fifo(&env, "out"));
    run_detached(&env);
    let before = stats(&env);
    send(&go, "load");
    assert_eq!(receive(&out), "done");
    let after = stats(&env);
    let cpu = |s: &Value| s["cpu"]["usage"]["total"].as_u64().unwrap();
    let memory = |s: &Value| s["memory"]["usage"]["usage"].as_u64().unwrap();
    assert!(cpu(&after) > cpu(&before) + 10_000_000, "cpu {} -> {}", cpu(&before), cpu(&after));
    assert!(memory(&after) > memory(&before) + 15_000_000, "memory {} -> {}", memory(&before), memory(&after));
    assert!(after["memory"]["usage"]["max"].as_u64().unwrap() >= memory(&after));
    assert_eq!(after["pids"]["current"], 1);
    send(&go, "stop");
    delete_and_check_clean(&env);
}

#[test]
fn ps_lists_the_containers_pids() {
    if skip_unless_root() {
        return;
    }
    let env = Env::new("ps", &["sh", "-c", "exec 3<>/hold; cat <&3 & cat <&3 & echo ready > /out; wait"]);
    let out = fifo(&env, "out");
    fifo(&env, "hold");
    run_detached(&env);
    assert_eq!(receive(&out), "ready");
    let json: Vec<i32> = serde_json::from_slice(&hull_ok(&env.root, &["ps", "--format", "json", &env.id]).stdout).unwrap();
    let mut expected: Vec<i32> = cgroup_file(&env, "pids", "cgroup.procs").lines().map(|l| l.parse().unwrap()).collect();
    let mut got = json.clone();
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
    assert_eq!(got.len(), 3, "sh and two cats");
    assert!(json.contains(&env.state()["pid"].as_i64().unwrap().try_into().unwrap()));
    let table = String::from_utf8(hull_ok(&env.root, &["ps", &env.id, "-o", "pid,comm"]).stdout).unwrap();
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows[0].split_whitespace().collect::<Vec<_>>(), ["PID", "COMMAND"]);
    assert_eq!(rows.iter().filter(|r| r.ends_with(" cat")).count(), 2, "{table}");
    delete_and_check_clean(&env);
}

#[test]
fn kill_all_signals_every_process_without_a_pid_namespace() {
    if skip_unless_root() {
        return;
    }
    // Without its own pid namespace, killing the init would leave the cats running.
    let mut env = Env::new("killall", &["sh", "-c", "exec 3<>/hold; cat <&3 & cat <&3 & echo ready > /out; wait"]);
    let namespaces = env.config["linux"]["namespaces"].as_array().unwrap().iter().filter(|n| n["type"] != "pid").cloned().collect();
    env.config["linux"]["namespaces"] = Value::Array(namespaces);
    let out = fifo(&env, "out");
    fifo(&env, "hold");
    run_detached(&env);
    assert_eq!(receive(&out), "ready");
    let pids: Vec<i32> = cgroup_file(&env, "pids", "cgroup.procs").lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(pids.len(), 3);
    let pidfds: Vec<_> = pids.iter().map(|p| hull::sys::pidfd_open(*p).unwrap()).collect();
    hull_ok(&env.root, &["kill", "--all", &env.id, "KILL"]);
    for (pid, fd) in pids.iter().zip(&pidfds) {
        assert!(hull::sys::pidfd_wait_exit(fd, 10_000).unwrap(), "pid {pid} survived kill --all");
    }
    assert_eq!(cgroup_file(&env, "freezer", "freezer.state"), "THAWED");
    delete_and_check_clean(&env);
}

#[test]
fn a_value_the_kernel_refuses_fails_create_and_leaves_nothing() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("refused", &["true"]);
    resources(&mut env, json!({ "pids": { "limit": 5 }, "cpu": { "quota": 500, "period": 100000 } }));
    let (ok, err) = env.create();
    assert!(!ok);
    assert!(err.contains("cpu.cfs_quota_us") && err.contains("\"500\"") && err.contains("os error 22"), "{err}");
    env.assert_clean();
}

#[test]
fn resources_this_host_lacks_or_systemd_are_refused_clearly() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("lacks", &["true"]);
    resources(&mut env, json!({ "network": { "classID": 1048577 } }));
    let (_, err) = env.create();
    assert!(err.contains("linux.resources.network.classID: the net_cls controller is not available"), "{err}");
    env.assert_clean();
    // Here hugetlb exists only in cgroup2, and its root does not delegate it: hull says
    // where it would have to be enabled rather than change a cgroup it did not make.
    if Path::new("/sys/fs/cgroup/unified").exists() && !Path::new("/sys/fs/cgroup/hugetlb").exists() {
        env.config["linux"]["resources"] = json!({ "hugepageLimits": [{ "pageSize": "2MB", "limit": 2097152 }] });
        let (_, err) = env.create();
        assert!(err.contains("the hugetlb controller is not enabled") && err.contains("/sys/fs/cgroup/unified/cgroup.subtree_control"), "{err}");
        env.assert_clean();
    }
    env.config["linux"]["resources"] = json!({});
    env.config["linux"]["cgroupsPath"] = json!("/");
    let (_, err) = env.create();
    assert!(err.contains("names a hierarchy's root"), "{err}");
    env.assert_clean();
    env.config["linux"]["cgroupsPath"] = json!("system.slice:hull:x");
    let (_, err) = env.create();
    assert!(err.contains("slice:prefix:name path needs --systemd-cgroup"), "{err}");
    env.assert_clean();
    let bundle = env.bundle.to_string_lossy().into_owned();
    let err = stderr(&hull(&env.root, &["--systemd-cgroup", "create", "--bundle", &bundle, &env.id]));
    assert!(err.contains("--systemd-cgroup") && err.contains("systemd is not running"), "{err}");
    env.assert_clean();
}

#[test]
fn v2_device_filter_allows_the_defaults_and_denies_the_rest() {
    if skip_unless_root() {
        return;
    }
    // Any cgroup2 directory can carry the program, the hybrid host's unified tree too.
    let mount = ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"].into_iter().map(Path::new).find(|m| m.join("cgroup.controllers").exists());
    let Some(mount) = mount else {
        eprintln!("skipped: no cgroup2 mount");
        return;
    };
    let dir = mount.join(format!("hull-test-bpf-{}", std::process::id()));
    std::fs::create_dir(&dir).unwrap();
    let deny_all: Vec<hull::spec::resources::DeviceRule> = serde_json::from_str(r#"[{"allow":false,"access":"rwm"}]"#).unwrap();
    let attached = hull::cgroups::bpf::attach_device_filter(&dir, &deny_all);
    let script = format!("echo $$ > {}/cgroup.procs; head -c1 /dev/null && echo null-ok; head -c1 /dev/kmsg >/dev/null 2>&1 || echo kmsg-denied", dir.display());
    let out = Command::new("/bin/busybox").args(["sh", "-c", &script]).output().unwrap();
    let removed = std::fs::remove_dir(&dir);
    attached.unwrap();
    removed.unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().collect::<Vec<_>>(), ["null-ok", "kmsg-denied"], "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn pod_containers_share_a_parent_cgroup() {
    if skip_unless_root() {
        return;
    }
    let pod = format!("hull-test-pod-{}", std::process::id());
    let _cleanup = RemovePod(pod.clone());
    let mut envs = Vec::new();
    for name in ["poda", "podb"] {
        let mut env = Env::new(name, &["sh", "-c", "exec 3<>/hold; echo ready > /out; exec cat <&3"]);
        env.config["linux"]["cgroupsPath"] = json!(format!("/{pod}/{}", env.id));
        resources(&mut env, json!({ "pids": { "limit": 5 } }));
        fifo(&env, "hold");
        let out = fifo(&env, "out");
        run_detached(&env);
        assert_eq!(receive(&out), "ready");
        envs.push(env);
    }
    let parent = Path::new("/sys/fs/cgroup/pids").join(&pod);
    for env in &envs {
        let procs = std::fs::read_to_string(parent.join(&env.id).join("cgroup.procs")).unwrap();
        assert_eq!(procs.trim(), env.state()["pid"].to_string());
    }
    // Deleting one leaves the other running in its own cgroup.
    hull_ok(&envs[0].root, &["delete", "--force", &envs[0].id]);
    assert!(!parent.join(&envs[0].id).exists());
    assert_eq!(envs[1].state()["status"], "running");
    hull_ok(&envs[1].root, &["delete", "--force", &envs[1].id]);
    // The parent is the pod's (made on the way, as runc does); hull removes only the containers'.
    for hierarchy in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        let dir = hierarchy.path().join(&pod);
        if dir.exists() {
            assert_eq!(std::fs::read_dir(&dir).unwrap().flatten().filter(|e| e.path().is_dir()).count(), 0, "{} has children left", dir.display());
        }
    }
}

/// Removes the test's pod parent cgroups (after the containers' Env drops have run).
struct RemovePod(String);

impl Drop for RemovePod {
    fn drop(&mut self) {
        for hierarchy in std::fs::read_dir("/sys/fs/cgroup").into_iter().flatten().flatten() {
            let _ = std::fs::remove_dir(hierarchy.path().join(&self.0));
        }
    }
}

#[test]
fn the_container_reads_its_own_limits_under_sys_fs_cgroup() {
    if skip_unless_root() {
        return;
    }
    if !Path::new("/sys/fs/cgroup/memory").exists() {
        eprintln!("skipped: no cgroup v1 memory hierarchy");
        return;
    }
    let mut env = Env::new("inside", &["sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max"]);
    resources(&mut env, json!({ "memory": { "limit": 48 * 1024 * 1024 }, "pids": { "limit": 42 } }));
    let out = env.run_ok();
    assert_eq!(out.split_whitespace().collect::<Vec<_>>(), [(48 * 1024 * 1024).to_string(), "42".to_string()]);
    env.assert_clean();
}
