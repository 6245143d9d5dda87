//! Bad input: one clear line naming the field or path, a non-zero exit, and
//! nothing left behind (no state dir, mount, cgroup or process).

mod common;
use common::*;
use serde_json::json;

/// Creates, expects failure with `want` in a one-line message, and a clean host.
fn create_fails(env: &Env, want: &str) {
    let (ok, err) = env.create();
    assert!(!ok, "create succeeded; wanted an error with {want:?}");
    assert!(err.contains(want), "wanted {want:?} in {err:?}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err:?}");
    env.assert_clean();
}

#[test]
fn malformed_config_names_line_column_and_field() {
    if skip_unless_root() {
        return;
    }
    let env = Env::new("badjson", &["true"]);
    env.write_config();
    std::fs::write(env.bundle.join("config.json"), "{\"ociVersion\": \"1.0.0\",\n \"process\": {\"cwd\": \"/\", \"user\": {\"uid\": \"root\"}}}").unwrap();
    let bundle = env.bundle.to_string_lossy().into_owned();
    let out = hull(&env.root, &["create", "--bundle", &bundle, &env.id]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("line 2") && err.contains("process.user.uid"), "{err}");
    std::fs::write(env.bundle.join("config.json"), "{\"ociVersion\": ").unwrap();
    let err = stderr(&hull(&env.root, &["create", "--bundle", &bundle, &env.id]));
    assert!(err.contains("line 1"), "{err}");
    env.assert_clean();
}

#[test]
fn missing_config_and_missing_rootfs() {
    if skip_unless_root() {
        return;
    }
    let env = Env::new("noconfig", &["true"]);
    let empty = env.dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = hull(&env.root, &["create", "--bundle", empty.to_str().unwrap(), &env.id]);
    assert!(stderr(&out).contains("config.json not found"), "{}", stderr(&out));
    assert!(!env.state_dir().exists());

    let mut env = Env::new("norootfs", &["true"]);
    env.config["root"]["path"] = json!("missing-rootfs");
    create_fails(&env, "root.path: rootfs");
}

#[test]
fn existing_id_is_refused_and_the_first_container_survives() {
    if skip_unless_root() {
        return;
    }
    let env = Env::new("dup", &["sleep", "1000"]);
    let (ok, err) = env.create();
    assert!(ok, "{err}");
    let (ok, err) = env.create();
    assert!(!ok && err.contains("already exists"), "{err}");
    assert_eq!(env.state()["status"], "created");
    hull_ok(&env.root, &["delete", &env.id]);
    env.assert_clean();
}

#[test]
fn unknown_ids_and_bad_ids() {
    if skip_unless_root() {
        return;
    }
    let env = Env::new("ids", &["true"]);
    for verb in [&["start"][..], &["state"], &["kill"], &["delete"]] {
        let mut args = verb.to_vec();
        args.push("no-such-container");
        let out = hull(&env.root, &args);
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr(&out).contains("does not exist"), "{args:?}: {}", stderr(&out));
    }
    let bundle = env.bundle.to_string_lossy().into_owned();
    env.write_config();
    for bad in ["a/b", "..", "../../etc", ""] {
        let out = hull(&env.root, &["create", "--bundle", &bundle, bad]);
        assert!(!out.status.success(), "{bad:?}");
        assert!(stderr(&out).contains("invalid container id"), "{bad:?}: {}", stderr(&out));
    }
    assert!(!env.root.exists() || std::fs::read_dir(&env.root).unwrap().next().is_none(), "nothing created under the root");
}

#[test]
fn unknown_namespace_type() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("nstype", &["true"]);
    env.config["linux"]["namespaces"].as_array_mut().unwrap().push(json!({ "type": "pids" }));
    create_fails(&env, "linux.namespaces[6].type: unknown namespace type \"pids\"");
}

#[test]
fn namespace_path_that_is_not_a_namespace() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("nspath", &["true"]);
    for ns in env.config["linux"]["namespaces"].as_array_mut().unwrap() {
        if ns["type"] == "network" {
            ns["path"] = json!("/etc/hostname");
        }
    }
    create_fails(&env, "network namespace path /etc/hostname is not a network namespace");
    let mut env = Env::new("nspath2", &["true"]);
    for ns in env.config["linux"]["namespaces"].as_array_mut().unwrap() {
        if ns["type"] == "ipc" {
            ns["path"] = json!("/proc/self/ns/net");
        }
    }
    create_fails(&env, "is not a ipc namespace");
}

#[test]
fn missing_executable_fails_create() {
    if skip_unless_root() {
        return;
    }
    let env = Env::new("noexec", &["no-such-program", "arg"]);
    create_fails(&env, "exec: \"no-such-program\": executable file not found in $PATH");
    let env = Env::new("noexec2", &["/bin/nope"]);
    create_fails(&env, "\"/bin/nope\"");
}

#[test]
fn limits_the_kernel_refuses() {
    if skip_unless_root() {
        return;
    }
    // The hard RLIMIT_NOFILE here is 20000 and CAP_SYS_RESOURCE is absent: raising it fails.
    let mut env = Env::new("rlimit", &["true"]);
    env.config["process"]["rlimits"] = json!([{ "type": "RLIMIT_NOFILE", "soft": 1048576, "hard": 1048576 }]);
    create_fails(&env, "process.rlimits RLIMIT_NOFILE: soft 1048576 hard 1048576");
    let mut env = Env::new("rlimitbad", &["true"]);
    env.config["process"]["rlimits"] = json!([{ "type": "RLIMIT_NOPE", "soft": 1, "hard": 1 }]);
    create_fails(&env, "process.rlimits[0].type: unknown rlimit");
}

#[test]
fn unsupported_fields_are_refused_not_ignored() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("seccomp", &["true"]);
    env.config["linux"]["seccomp"] = json!({ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{ "names": ["mkdir"], "action": "SCMP_ACT_NOTIFY" }] });
    create_fails(&env, "linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY is not supported");
    let mut env = Env::new("apparmor", &["true"]);
    env.config["process"]["apparmorProfile"] = json!("docker-default");
    create_fails(&env, "process.apparmorProfile");
}

#[test]
fn systemd_cgroup_fails_clearly() {
    if skip_unless_root() {
        return;
    }
    let env = Env::new("systemd", &["true"]);
    env.write_config();
    let bundle = env.bundle.to_string_lossy().into_owned();
    let out = hull(&env.root, &["--systemd-cgroup", "create", "--bundle", &bundle, &env.id]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("systemd is not running"), "{}", stderr(&out));
    env.assert_clean();
}

#[test]
fn bad_flags_and_usage() {
    let out = hull(std::path::Path::new("/tmp/unused"), &["create", "--nope", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("flag provided but not defined: -nope"), "{}", stderr(&out));
    let out = hull(std::path::Path::new("/tmp/unused"), &["frobnicate"]);
    assert!(!out.status.success());
    let out = hull(std::path::Path::new("/tmp/unused"), &["kill", "x", "SIGNOPE"]);
    assert!(stderr(&out).contains("unknown signal"), "{}", stderr(&out));
}
