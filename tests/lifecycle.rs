//! The container lifecycle (issue 3), checked with real containers.

mod common;
use common::*;
use serde_json::json;

#[test]
fn run_shows_isolation_from_inside() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("iso", &["sh", "-c", "echo pid=$$; hostname; id -u; for n in pid net mnt ipc uts cgroup; do readlink /proc/self/ns/$n; done; cut -d: -f3 /proc/self/cgroup | sort -u"]);
    env.config["hostname"] = json!("box");
    let out = env.run_ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "pid=1");
    assert_eq!(lines[1], "box");
    assert_eq!(lines[2], "0");
    for (line, ns) in lines[3..9].iter().zip(["pid", "net", "mnt", "ipc", "uts", "cgroup"]) {
        let host = std::fs::read_link(format!("/proc/self/ns/{ns}")).unwrap();
        assert_ne!(*line, host.to_string_lossy(), "{ns} namespace is the host's");
    }
    // The cgroup namespace was made after the init joined its cgroups: they are its root.
    assert_eq!(lines[9..], ["/"], "cgroup paths seen inside");
    env.assert_clean();
}

#[test]
fn create_start_kill_delete_transitions() {
    if skip_unless_root() {
        return;
    }
    let env = Env::new("states", &["sleep", "1000"]);
    let pid_file = env.dir.join("init.pid");
    let bundle = env.bundle.to_string_lossy().into_owned();
    let (ok, err) = env.detached(&["create", "--bundle", &bundle, "--pid-file", pid_file.to_str().unwrap(), &env.id]);
    assert!(ok, "create failed: {err}");
    let state = env.state();
    assert_eq!(state["status"], "created");
    let pid = env.pid();
    assert_eq!(std::fs::read_to_string(&pid_file).unwrap(), pid.to_string(), "pid file: decimal, no newline");
    for field in ["ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner"] {
        assert!(state.get(field).is_some(), "state lacks {field}: {state}");
    }
    assert_eq!(state["id"], env.id.as_str());
    assert_eq!(state["bundle"], bundle.as_str());
    // The init waits at the barrier: it has not exec'd sleep yet.
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap();
    assert_ne!(comm.trim(), "sleep");

    hull_ok(&env.root, &["start", &env.id]);
    assert_eq!(env.state()["status"], "running");
    let out = hull(&env.root, &["start", &env.id]);
    assert!(!out.status.success(), "start of a running container must fail");
    let out = hull(&env.root, &["delete", &env.id]);
    assert!(!out.status.success() && stderr(&out).contains("not stopped"), "{}", stderr(&out));
    assert_eq!(env.state()["status"], "running");

    hull_ok(&env.root, &["kill", &env.id, "KILL"]);
    Env::wait_exit(pid);
    let state = env.state();
    assert_eq!(state["status"], "stopped");
    assert_eq!(state["pid"], 0);
    let out = hull(&env.root, &["kill", &env.id]);
    assert!(!out.status.success(), "kill of a stopped container must fail");
    let out = hull(&env.root, &["start", &env.id]);
    assert!(!out.status.success(), "start of a stopped container must fail");
    hull_ok(&env.root, &["delete", &env.id]);
    env.assert_clean();
    let out = hull(&env.root, &["delete", &env.id]);
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
    hull_ok(&env.root, &["delete", "--force", &env.id]);
}

#[test]
fn delete_of_created_container_kills_its_init() {
    if skip_unless_root() {
        return;
    }
    let env = Env::new("delcreated", &["true"]);
    let (ok, err) = env.create();
    assert!(ok, "{err}");
    let pid = env.pid();
    hull_ok(&env.root, &["delete", &env.id]);
    Env::wait_exit(pid);
    env.assert_clean();
}

#[test]
fn delete_force_stops_a_running_container() {
    if skip_unless_root() {
        return;
    }
    let env = Env::new("delforce", &["sleep", "1000"]);
    let bundle = env.bundle.to_string_lossy().into_owned();
    let (ok, err) = env.detached(&["run", "-d", "--bundle", &bundle, &env.id]);
    assert!(ok, "{err}");
    assert_eq!(env.state()["status"], "running");
    let pid = env.pid();
    hull_ok(&env.root, &["delete", "--force", &env.id]);
    Env::wait_exit(pid);
    env.assert_clean();
}

#[test]
fn exit_codes_pass_through_run() {
    if skip_unless_root() {
        return;
    }
    let env = Env::new("exit7", &["sh", "-c", "exit 7"]);
    assert_eq!(env.run().0, 7);
    env.assert_clean();
    // Without a pid namespace of its own the shell is not an init, so SIGKILL to itself works.
    let mut env = Env::new("exitsig", &["sh", "-c", "kill -9 $$"]);
    env.config["linux"]["namespaces"].as_array_mut().unwrap().retain(|n| n["type"] != "pid");
    assert_eq!(env.run().0, 128 + 9);
    env.assert_clean();
}

#[test]
fn kill_signal_names_reach_the_init() {
    if skip_unless_root() {
        return;
    }
    // The shell's trap proves the signal arrived as USR1, not as a kill.
    let env = Env::new("killusr1", &["sh", "-c", "trap 'echo got-usr1; exit 3' USR1; echo ready; while :; do sleep 1; done"]);
    let bundle = env.bundle.to_string_lossy().into_owned();
    let (ok, err) = env.detached(&["run", "-d", "--bundle", &bundle, &env.id]);
    assert!(ok, "{err}");
    let pid = env.pid();
    wait_for_output(&env, "ready");
    hull_ok(&env.root, &["kill", &env.id, "SIGUSR1"]);
    Env::wait_exit(pid);
    assert!(env.container_output().contains("got-usr1"), "{}", env.container_output());
    hull_ok(&env.root, &["delete", &env.id]);
    env.assert_clean();
}

/// Waits for the container's stdout file to contain `text`, using inotify-free
/// blocking reads of a FIFO would need the container's cooperation; the file
/// is written once by the container, so a bounded poll of its size suffices.
fn wait_for_output(env: &Env, text: &str) {
    for _ in 0..1000 {
        if env.container_output().contains(text) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("container never printed {text:?}");
}

#[test]
fn process_attributes_are_applied() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new(
        "attrs",
        &["sh", "-c", "id -u; id -g; id -G; umask; pwd; echo $FOO; ulimit -n; ulimit -Hn; grep -E 'CapBnd|CapEff|NoNewPrivs' /proc/self/status; cat /proc/self/oom_score_adj"],
    );
    env.config["process"]["user"] = json!({ "uid": 65534, "gid": 65534, "additionalGids": [5, 10], "umask": 23 });
    env.config["process"]["cwd"] = json!("/tmp");
    env.config["process"]["env"] = json!(["PATH=/bin", "FOO=bar"]);
    env.config["process"]["rlimits"] = json!([{ "type": "RLIMIT_NOFILE", "soft": 123, "hard": 456 }]);
    env.config["process"]["oomScoreAdj"] = json!(500);
    let out = env.run_ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "65534");
    assert_eq!(lines[1], "65534");
    assert_eq!(lines[2], "65534 5 10");
    assert_eq!(lines[3], "0027");
    assert_eq!(lines[4], "/tmp");
    assert_eq!(lines[5], "bar");
    assert_eq!(lines[6], "123");
    assert_eq!(lines[7], "456");
    // CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE: bits 29, 5, 10. A non-root
    // user without ambient caps loses the effective set at exec.
    assert_eq!(lines[8], "CapEff:\t0000000000000000");
    assert_eq!(lines[9], "CapBnd:\t0000000020000420");
    assert_eq!(lines[10], "NoNewPrivs:\t1");
    assert_eq!(lines[11], "500");
    env.assert_clean();
}

#[test]
fn root_keeps_exactly_the_configured_capabilities() {
    if skip_unless_root() {
        return;
    }
    let env = Env::new("caps", &["grep", "-E", "Cap(Inh|Prm|Eff|Bnd|Amb)", "/proc/self/status"]);
    let out = env.run_ok();
    assert_eq!(
        out,
        "CapInh:\t0000000000000000\nCapPrm:\t0000000020000420\nCapEff:\t0000000020000420\nCapBnd:\t0000000020000420\nCapAmb:\t0000000000000000\n"
    );
}

#[test]
fn sysctl_and_domainname_in_own_namespaces() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("sysctl", &["sh", "-c", "cat /proc/sys/net/ipv4/ip_forward; cat /proc/sys/kernel/domainname"]);
    env.config["linux"]["sysctl"] = json!({ "net.ipv4.ip_forward": "1" });
    env.config["domainname"] = json!("example.org");
    assert_eq!(env.run_ok(), "1\nexample.org\n");
}

#[test]
fn joins_a_namespace_by_path() {
    if skip_unless_root() {
        return;
    }
    let first = Env::new("nsowner", &["sleep", "1000"]);
    let bundle = first.bundle.to_string_lossy().into_owned();
    let (ok, err) = first.detached(&["run", "-d", "--bundle", &bundle, &first.id]);
    assert!(ok, "{err}");
    let pid = first.pid();
    let mut second = Env::new("nsjoiner", &["sh", "-c", "readlink /proc/self/ns/net; readlink /proc/self/ns/uts"]);
    let namespaces = second.config["linux"]["namespaces"].as_array_mut().unwrap();
    for ns in namespaces.iter_mut() {
        if ns["type"] == "network" {
            ns["path"] = json!(format!("/proc/{pid}/ns/net"));
        }
    }
    let out = second.run_ok();
    let owner_net = std::fs::read_link(format!("/proc/{pid}/ns/net")).unwrap();
    let owner_uts = std::fs::read_link(format!("/proc/{pid}/ns/uts")).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], owner_net.to_string_lossy(), "the joined network namespace");
    assert_ne!(lines[1], owner_uts.to_string_lossy(), "uts was asked new");
    hull_ok(&first.root, &["delete", "--force", &first.id]);
}

#[test]
fn user_namespace_maps_ids() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("userns", &["sh", "-c", "id -u; cat /proc/self/uid_map; cat /proc/self/gid_map; ls -n /bin/busybox"]);
    let namespaces = env.config["linux"]["namespaces"].as_array_mut().unwrap();
    namespaces.push(json!({ "type": "user" }));
    env.config["linux"]["uidMappings"] = json!([{ "containerID": 0, "hostID": 100000, "size": 65536 }]);
    env.config["linux"]["gidMappings"] = json!([{ "containerID": 0, "hostID": 100000, "size": 65536 }]);
    // As `hull spec --rootless` writes it: a user namespace cannot mount the
    // host's cgroup hierarchies, and sysfs comes bound from the host.
    env.config["mounts"] = hull::container::spec::default_spec(true)["mounts"].clone();
    let out = env.run_ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "0");
    assert_eq!(lines[1].split_whitespace().collect::<Vec<_>>(), ["0", "100000", "65536"]);
    assert_eq!(lines[2].split_whitespace().collect::<Vec<_>>(), ["0", "100000", "65536"]);
    // Host root's files are unmapped inside: they show as the overflow id.
    assert!(lines[3].contains("65534"), "{}", lines[3]);
    env.assert_clean();
}

#[test]
fn time_namespace_offsets() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("timens", &["cut", "-d.", "-f1", "/proc/uptime"]);
    env.config["linux"]["namespaces"].as_array_mut().unwrap().push(json!({ "type": "time" }));
    env.config["linux"]["timeOffsets"] = json!({ "boottime": { "secs": 10_000_000, "nanosecs": 0 } });
    let uptime: u64 = env.run_ok().trim().parse().unwrap();
    assert!(uptime >= 10_000_000, "uptime {uptime} lacks the boottime offset");
    env.assert_clean();
}

#[test]
fn hooks_run_in_order_with_state_on_stdin() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("hooks", &["true"]);
    let log = env.dir.join("hooks.log");
    let hook = |name: &str| {
        let script = format!("read -r state; echo \"{name} $state\" >> {}", log.display());
        json!({ "path": "/bin/sh", "args": ["sh", "-c", script] })
    };
    // startContainer runs inside the container: its path and log are the container's.
    let start_hook = json!({ "path": "/bin/sh", "args": ["sh", "-c", "echo startContainer >> /hooks.log"] });
    env.config["root"]["readonly"] = json!(false);
    env.config["hooks"] = json!({
        "prestart": [hook("prestart")],
        "createRuntime": [hook("createRuntime")],
        "createContainer": [hook("createContainer")],
        "startContainer": [start_hook],
        "poststart": [hook("poststart")],
        "poststop": [hook("poststop")],
    });
    env.run_ok();
    let text = std::fs::read_to_string(&log).unwrap();
    let order: Vec<&str> = text.lines().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(order, ["prestart", "createRuntime", "createContainer", "poststart", "poststop"]);
    for line in text.lines() {
        let (name, state) = line.split_once(' ').unwrap();
        let state: serde_json::Value = serde_json::from_str(state).unwrap_or_else(|e| panic!("{name}: {e}: {state}"));
        assert_eq!(state["id"], env.id.as_str(), "{name}");
        let want = match name {
            "poststart" => "running",
            "poststop" => "stopped",
            _ => "creating",
        };
        assert_eq!(state["status"], want, "{name}");
    }
    let inside = std::fs::read_to_string(env.bundle.join("rootfs/hooks.log")).unwrap();
    assert_eq!(inside, "startContainer\n");
    env.assert_clean();
}

#[test]
fn failing_create_runtime_hook_fails_create_and_rolls_back() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("hookfail", &["true"]);
    env.config["hooks"] = json!({ "createRuntime": [{ "path": "/bin/sh", "args": ["sh", "-c", "echo nope >&2; exit 4"] }] });
    let (ok, err) = env.create();
    assert!(!ok);
    assert!(err.contains("createRuntime hook /bin/sh failed: exit status 4: nope"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    env.assert_clean();
}

#[test]
fn failing_start_hooks_fail_start_and_stop_the_container() {
    if skip_unless_root() {
        return;
    }
    // runtime.md steps 7 and 9: an error, and the container stopped.
    let mut env = Env::new("poststartfail", &["sleep", "1000"]);
    env.config["hooks"] = json!({ "poststart": [{ "path": "/bin/sh", "args": ["sh", "-c", "exit 3"] }] });
    let (ok, err) = env.create();
    assert!(ok, "{err}");
    let out = hull(&env.root, &["start", &env.id]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("poststart hook /bin/sh failed: exit status 3"), "{}", stderr(&out));
    assert_eq!(env.state()["status"], "stopped");
    hull_ok(&env.root, &["delete", &env.id]);
    env.assert_clean();

    let mut env = Env::new("startcontainerfail", &["sleep", "1000"]);
    env.config["hooks"] = json!({ "startContainer": [{ "path": "/bin/sh", "args": ["sh", "-c", "echo inside-fails >&2; exit 5"] }] });
    let (ok, err) = env.create();
    assert!(ok, "{err}");
    let pid = env.pid();
    let out = hull(&env.root, &["start", &env.id]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("startContainer hook /bin/sh failed: exit status 5: inside-fails"), "{}", stderr(&out));
    Env::wait_exit(pid);
    assert_eq!(env.state()["status"], "stopped");
    hull_ok(&env.root, &["delete", &env.id]);
    env.assert_clean();
}

#[test]
fn failing_create_hook_runs_poststop() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("hookpoststop", &["true"]);
    let marker = env.dir.join("poststop-ran");
    env.config["hooks"] = json!({
        "createContainer": [{ "path": "/bin/false" }],
        "poststop": [{ "path": "/bin/sh", "args": ["sh", "-c", format!("touch {}", marker.display())] }],
    });
    let (ok, err) = env.create();
    assert!(!ok && err.contains("createContainer hook /bin/false failed"), "{err}");
    assert!(marker.exists(), "runtime.md step 12: poststop runs after a failed create hook");
    env.assert_clean();
}

#[test]
fn ungrantable_capabilities_warn_and_the_rest_apply() {
    if skip_unless_root() {
        return;
    }
    // CAP_SYS_RESOURCE is outside this host's bounding set; CAP_NOPE is no capability.
    let mut env = Env::new("capwarn", &["grep", "CapEff", "/proc/self/status"]);
    let wanted = json!(["CAP_KILL", "CAP_SYS_RESOURCE", "CAP_NOPE"]);
    env.config["process"]["capabilities"] = json!({ "bounding": wanted, "effective": wanted, "permitted": wanted });
    let (code, out, err) = env.run();
    assert_eq!(code, 0, "{err}");
    let own = std::fs::read_to_string("/proc/self/status").unwrap();
    let bounding = own.lines().find_map(|l| l.strip_prefix("CapBnd:")).map(|h| u64::from_str_radix(h.trim(), 16).unwrap()).unwrap();
    let expected = (1u64 << 5) | (bounding & (1 << 24));
    assert_eq!(out.trim(), format!("CapEff:\t{expected:016x}"));
    assert!(err.contains("CAP_NOPE"), "a warning names it: {err}");
    if bounding & (1 << 24) == 0 {
        assert!(err.contains("CAP_SYS_RESOURCE cannot be granted"), "{err}");
    }
}

#[test]
fn preserve_fds_passes_exactly_those_fds() {
    if skip_unless_root() {
        return;
    }
    let env = Env::new("fds", &["sh", "-c", "cat <&3; ls /proc/self/fd | tr '\\n' ' '"]);
    env.write_config();
    let secret = env.dir.join("secret");
    std::fs::write(&secret, "through fd 3\n").unwrap();
    let script = format!(
        "exec 3<{} 4<{}; exec {HULL} --root {} run --preserve-fds 1 --bundle {} {}",
        secret.display(),
        secret.display(),
        env.root.display(),
        env.bundle.display(),
        env.id
    );
    let out = std::process::Command::new("/bin/sh").args(["-c", &script]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("through fd 3"));
    // 0-2, the preserved 3, and the fd ls opens for /proc/self/fd.
    assert_eq!(lines.next().map(str::trim), Some("0 1 2 3 4"), "fd 4 was not preserved but ls' own fd is 4");
}

#[test]
fn console_socket_receives_the_pty_master() {
    if skip_unless_root() {
        return;
    }
    use std::os::unix::net::UnixListener;
    let mut env = Env::new("tty", &["sh", "-c", "tty; echo hello-tty"]);
    env.config["process"]["terminal"] = json!(true);
    let socket = env.dir.join("console.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    let bundle = env.bundle.to_string_lossy().into_owned();
    let (ok, err) = env.detached(&["create", "--bundle", &bundle, "--console-socket", socket.to_str().unwrap(), &env.id]);
    assert!(ok, "{err}");
    let (stream, _) = listener.accept().unwrap();
    let master = hull::tty::receive_fd(std::os::fd::AsRawFd::as_raw_fd(&stream)).unwrap();
    hull_ok(&env.root, &["start", &env.id]);
    let mut text = String::new();
    let mut file = std::fs::File::from(master);
    let mut buf = [0u8; 256];
    // Read until the shell has printed everything (EIO once the pty's slave closes).
    while let Ok(n) = std::io::Read::read(&mut file, &mut buf) {
        if n == 0 {
            break;
        }
        text.push_str(&String::from_utf8_lossy(&buf[..n]));
        if text.contains("hello-tty") {
            break;
        }
    }
    assert!(text.contains("/dev/pts/0"), "{text:?}");
    assert!(text.contains("hello-tty"), "{text:?}");
    Env::wait_exit(env.pid());
    hull_ok(&env.root, &["delete", &env.id]);
    env.assert_clean();
}

#[test]
fn state_list_and_json_log() {
    if skip_unless_root() {
        return;
    }
    let env = Env::new("list", &["sleep", "1000"]);
    let (ok, err) = env.create();
    assert!(ok, "{err}");
    let out = hull_ok(&env.root, &["list", "--format", "json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["id"], env.id.as_str());
    assert_eq!(list[0]["status"], "created");
    let out = hull_ok(&env.root, &["list", "-q"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{}\n", env.id));
    let out = hull_ok(&env.root, &["list"]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ID"));

    // containerd reads the last error line of --log.
    let log = env.dir.join("log.json");
    let out = hull(&env.root, &["--log", log.to_str().unwrap(), "--log-format=json", "start", "nope"]);
    assert!(!out.status.success());
    let text = std::fs::read_to_string(&log).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["level"], "error");
    assert!(last["msg"].as_str().unwrap().contains("does not exist"));
    assert!(last["time"].as_str().unwrap().ends_with('Z'));
    hull_ok(&env.root, &["delete", &env.id]);
    env.assert_clean();
}

#[test]
fn foreground_run_relays_the_terminal() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("relay", &["sh", "-c", "tty; echo relayed; exit 5"]);
    env.config["process"]["terminal"] = json!(true);
    let (code, out, err) = env.run();
    assert_eq!(code, 5, "{err}");
    assert!(out.contains("/dev/pts/0") && out.contains("relayed"), "{out:?}");
    env.assert_clean();
}

#[test]
fn session_keyring_is_the_containers_own_unless_no_new_keyring() {
    if skip_unless_root() {
        return;
    }
    let env = Env::new("keyring", &["cat", "/proc/self/stat"]);
    env.write_config();
    // The container's /proc/keys is masked; the host sees the keyring by its name.
    let bundle = env.bundle.to_string_lossy().into_owned();
    let (ok, err) = env.detached(&["create", "--bundle", &bundle, &env.id]);
    assert!(ok, "{err}");
    let keys = std::fs::read_to_string("/proc/keys").unwrap();
    let named = format!(" {}: empty", env.id);
    assert!(keys.lines().any(|l| l.contains(" keyring ") && l.ends_with(&named)), "no keyring named {} in /proc/keys:\n{keys}", env.id);
    hull_ok(&env.root, &["delete", &env.id]);

    let env = Env::new("nokeyring", &["true"]);
    env.write_config();
    let bundle = env.bundle.to_string_lossy().into_owned();
    let (ok, err) = env.detached(&["create", "--no-new-keyring", "--bundle", &bundle, &env.id]);
    assert!(ok, "{err}");
    let keys = std::fs::read_to_string("/proc/keys").unwrap();
    assert!(!keys.contains(&env.id), "--no-new-keyring made a keyring:\n{keys}");
    hull_ok(&env.root, &["delete", &env.id]);
}

#[test]
fn foreground_run_leaves_the_container_reachable() {
    if skip_unless_root() {
        return;
    }
    let env = Env::new("fgstate", &["sh", "-c", "echo up; exec sleep 1000"]);
    env.write_config();
    let mut child = std::process::Command::new(HULL)
        .arg("--root")
        .arg(&env.root)
        .args(["run", "--bundle", env.bundle.to_str().unwrap(), &env.id])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
    assert_eq!(line, "up\n");
    assert_eq!(env.state()["status"], "running", "state must not wait for run to end");
    // An init without a handler ignores TERM; KILL from outside always lands.
    hull_ok(&env.root, &["kill", &env.id, "KILL"]);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(128 + libc::SIGKILL));
    env.assert_clean();
}

#[test]
fn personality_scheduler_io_priority_and_affinity() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("sched", &["sh", "-c", "uname -m; grep -E '^policy' /proc/self/sched; ionice -p $$; grep Cpus_allowed_list /proc/self/status"]);
    env.config["linux"]["personality"] = json!({ "domain": "LINUX32" });
    env.config["process"]["scheduler"] = json!({ "policy": "SCHED_BATCH", "nice": 5 });
    env.config["process"]["ioPriority"] = json!({ "class": "IOPRIO_CLASS_BE", "priority": 6 });
    env.config["process"]["execCPUAffinity"] = json!({ "initial": "0", "final": "1" });
    let out = env.run_ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "i686", "LINUX32 personality");
    assert_eq!(lines[1].split_whitespace().last(), Some("3"), "SCHED_BATCH is policy 3: {}", lines[1]);
    assert_eq!(lines[2], "best-effort: prio 6");
    assert_eq!(lines[3], "Cpus_allowed_list:\t1", "the final affinity applies to the process");
}

#[test]
fn detached_terminal_without_console_socket_is_refused() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("ttydetach", &["true"]);
    env.config["process"]["terminal"] = json!(true);
    let bundle = env.bundle.to_string_lossy().into_owned();
    let (ok, err) = env.detached(&["run", "-d", "--bundle", &bundle, &env.id]);
    assert!(!ok);
    assert!(err.contains("--console-socket"), "{err}");
    env.assert_clean();
}

#[test]
fn debug_logs_the_lifecycle() {
    if skip_unless_root() {
        return;
    }
    let env = Env::new("debuglog", &["true"]);
    let log = env.dir.join("debug.json");
    let bundle = env.bundle.to_string_lossy().into_owned();
    let log_arg = log.to_string_lossy().into_owned();
    let out = env.hull(&["--debug", "--log", &log_arg, "--log-format", "json", "run", "--bundle", &bundle, &env.id]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&log).unwrap();
    let messages: Vec<String> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .inspect(|v| assert_eq!(v["level"], "debug"))
        .map(|v| v["msg"].as_str().unwrap().to_string())
        .collect();
    for step in ["create", "start", "delete"] {
        assert!(messages.iter().any(|m| m.starts_with(&format!("{step} {}", env.id))), "no {step} line in {messages:?}");
    }
    // Without --debug, nothing is logged when all goes well.
    let quiet = env.dir.join("quiet.json");
    let quiet_arg = quiet.to_string_lossy().into_owned();
    let out = env.hull(&["--log", &quiet_arg, "run", "--bundle", &bundle, &env.id]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!quiet.exists() || std::fs::read_to_string(&quiet).unwrap().is_empty());
}
