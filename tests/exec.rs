//! `hull exec`: a second process in a running container sees what its init sees.

mod common;
use common::*;
use serde_json::json;

/// A running container whose init sleeps; dropped with the Env.
fn running(test: &str, edit: impl FnOnce(&mut Env)) -> Env {
    let mut env = Env::new(test, &["sleep", "1000"]);
    env.config["hostname"] = json!("exechost");
    edit(&mut env);
    let bundle = env.bundle.to_string_lossy().into_owned();
    let (ok, err) = env.detached(&["run", "-d", "--bundle", &bundle, &env.id]);
    assert!(ok, "{err}");
    env
}

fn exec(env: &Env, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["exec"];
    all.extend_from_slice(args);
    let out = hull(&env.root, &all);
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), stderr(&out))
}

#[test]
fn exec_joins_the_containers_namespaces() {
    if skip_unless_root() {
        return;
    }
    let env = running("execns", |_| {});
    let pid = env.pid();
    let (code, out, err) = exec(&env, &[&env.id, "sh", "-c", "hostname; for n in pid net mnt ipc uts; do readlink /proc/self/ns/$n; done; ls /proc | grep -c '^[0-9]'"]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "exechost");
    for (line, ns) in lines[1..6].iter().zip(["pid", "net", "mnt", "ipc", "uts"]) {
        assert_eq!(*line, std::fs::read_link(format!("/proc/{pid}/ns/{ns}")).unwrap().to_string_lossy(), "{ns}");
    }
    let (code, _, _) = exec(&env, &[&env.id, "sh", "-c", "exit 9"]);
    assert_eq!(code, 9);
    // The exec'd process is in the container's cgroups: under the container's cgroup
    // namespace (rooted at its cgroup) it sees exactly what the init sees.
    let (_, out, _) = exec(&env, &[&env.id, "sh", "-c", "cat /proc/self/cgroup; echo --; cat /proc/1/cgroup"]);
    let (own, init) = out.split_once("--\n").unwrap_or_default();
    assert!(!own.is_empty() && own == init, "{out}");
}

#[test]
fn exec_process_file_as_engines_send_it() {
    if skip_unless_root() {
        return;
    }
    let env = running("execproc", |_| {});
    let process = json!({
        "args": ["sh", "-c", "id -u; id -g; pwd; echo $GREETING; grep NoNewPrivs /proc/self/status"],
        "env": ["PATH=/bin", "GREETING=hello"],
        "cwd": "/tmp",
        "user": { "uid": 65534, "gid": 65534 },
        "noNewPrivileges": true,
        "terminal": false
    });
    let file = env.dir.join("process.json");
    std::fs::write(&file, process.to_string()).unwrap();
    let (code, out, err) = exec(&env, &["--process", file.to_str().unwrap(), &env.id]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "65534\n65534\n/tmp\nhello\nNoNewPrivs:\t1\n");
}

#[test]
fn exec_detached_writes_the_pid_file() {
    if skip_unless_root() {
        return;
    }
    let env = running("execdetach", |_| {});
    let pid_file = env.dir.join("exec.pid");
    let (ok, err) = env.detached(&["exec", "-d", "--pid-file", pid_file.to_str().unwrap(), &env.id, "sleep", "1000"]);
    assert!(ok, "{err}");
    let pid: i32 = std::fs::read_to_string(&pid_file).unwrap().parse().unwrap();
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap();
    assert_eq!(comm.trim(), "sleep");
    let init = env.pid();
    assert_eq!(
        std::fs::read_link(format!("/proc/{pid}/ns/pid")).unwrap(),
        std::fs::read_link(format!("/proc/{init}/ns/pid")).unwrap()
    );
    hull_ok(&env.root, &["delete", "--force", &env.id]);
    Env::wait_exit(pid);
    env.assert_clean();
}

#[test]
fn exec_into_a_user_namespace_container() {
    if skip_unless_root() {
        return;
    }
    let env = running("execuserns", |env| {
        env.config["linux"]["namespaces"].as_array_mut().unwrap().push(json!({ "type": "user" }));
        env.config["linux"]["uidMappings"] = json!([{ "containerID": 0, "hostID": 100000, "size": 65536 }]);
        env.config["linux"]["gidMappings"] = json!([{ "containerID": 0, "hostID": 100000, "size": 65536 }]);
        env.config["mounts"] = hull::container::spec::default_spec(true)["mounts"].clone();
    });
    let (code, out, err) = exec(&env, &[&env.id, "sh", "-c", "id -u; cat /proc/self/uid_map; exit 4"]);
    assert_eq!(code, 4, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "0");
    assert_eq!(lines[1].split_whitespace().collect::<Vec<_>>(), ["0", "100000", "65536"]);
}

#[test]
fn exec_errors() {
    if skip_unless_root() {
        return;
    }
    let env = running("execerr", |_| {});
    let (code, _, err) = exec(&env, &[&env.id, "no-such-program"]);
    assert_ne!(code, 0);
    assert!(err.contains("executable file not found"), "{err}");
    let (code, _, err) = exec(&env, &["no-such-container", "true"]);
    assert_ne!(code, 0);
    assert!(err.contains("does not exist"), "{err}");
    let pid = env.pid();
    hull_ok(&env.root, &["kill", &env.id, "KILL"]);
    Env::wait_exit(pid);
    let (code, _, err) = exec(&env, &[&env.id, "true"]);
    assert_ne!(code, 0);
    assert!(err.contains("stopped"), "{err}");
}
