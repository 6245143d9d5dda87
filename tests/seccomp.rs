//! linux.seccomp: the profile acts inside the container, for its init and for
//! processes `hull exec` adds.

mod common;
use common::*;
use serde_json::{Value, json};

const ALL_ARCHES: [&str; 3] = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"];

/// A bundle whose /tmp is writable, so a denied mkdir is the filter's doing.
fn env(test: &str, args: &[&str]) -> Env {
    let mut env = Env::new(test, args);
    env.config["root"]["readonly"] = json!(false);
    env
}

fn deny(names: &[&str], action: &str) -> Value {
    json!({ "defaultAction": "SCMP_ACT_ALLOW", "architectures": ALL_ARCHES, "syscalls": [{ "names": names, "action": action }] })
}

#[test]
fn denied_mkdir_fails_with_eperm() {
    if skip_unless_root() {
        return;
    }
    let mut env = env("scdeny", &["sh", "-c", "mkdir /tmp/a; echo rc=$?; touch /tmp/f && echo touched"]);
    env.config["linux"]["seccomp"] = deny(&["mkdir", "mkdirat"], "SCMP_ACT_ERRNO");
    let (code, out, err) = env.run();
    assert_eq!(code, 0, "{out} {err}");
    assert!(err.contains("Operation not permitted"), "{err}");
    assert!(out.contains("rc=1") && out.contains("touched"), "{out}");
}

#[test]
fn errno_ret_is_the_errno_seen_inside() {
    if skip_unless_root() {
        return;
    }
    for nnp in [true, false] {
        let mut env = env("scerrno", &["sh", "-c", "mkdir /tmp/a"]);
        env.config["process"]["noNewPrivileges"] = json!(nnp);
        env.config["linux"]["seccomp"] = deny(&["mkdir", "mkdirat"], "SCMP_ACT_ERRNO");
        env.config["linux"]["seccomp"]["syscalls"][0]["errnoRet"] = json!(libc::EROFS);
        let (code, _, err) = env.run();
        assert_eq!(code, 1, "noNewPrivileges {nnp}: {err}");
        assert!(err.contains("Read-only file system"), "noNewPrivileges {nnp}: {err}");
    }
}

#[test]
fn arg_conditions_pick_the_calls() {
    if skip_unless_root() {
        return;
    }
    let script = "touch /tmp/f; chmod 700 /tmp/f; echo first=$?; chmod 755 /tmp/f; echo second=$?";
    let mut env = env("scargs", &["sh", "-c", script]);
    let mode_is_700 = |index: u32| json!([{ "index": index, "value": 0o700, "op": "SCMP_CMP_EQ" }]);
    env.config["linux"]["seccomp"] = json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ALL_ARCHES,
        "syscalls": [
            { "names": ["chmod"], "action": "SCMP_ACT_ERRNO", "args": mode_is_700(1) },
            { "names": ["fchmodat", "fchmodat2"], "action": "SCMP_ACT_ERRNO", "args": mode_is_700(2) },
        ],
    });
    let out = env.run_ok();
    assert!(out.contains("first=1") && out.contains("second=0"), "{out}");
}

#[test]
fn kill_action_kills_with_sigsys() {
    if skip_unless_root() {
        return;
    }
    let mut env = env("sckill", &["mkdir", "/tmp/a"]);
    env.config["linux"]["seccomp"] = deny(&["mkdir", "mkdirat"], "SCMP_ACT_KILL");
    let (code, out, err) = env.run();
    assert_eq!(code, 128 + libc::SIGSYS, "{out} {err}");
}

/// Every syscall of the kernel's table except what Docker's default profile leaves out.
fn docker_like_profile() -> Value {
    const DENIED: &[&str] = &[
        "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module", "delete_module", "finit_module", "get_kernel_syms", "init_module",
        "ioperm", "iopl", "kcmp", "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie", "mount", "move_pages", "name_to_handle_at", "nfsservctl",
        "open_by_handle_at", "perf_event_open", "personality", "pivot_root", "process_vm_readv", "process_vm_writev", "ptrace", "query_module",
        "quotactl", "reboot", "request_key", "setns", "settimeofday", "swapon", "swapoff", "sysfs", "_sysctl", "umount2", "unshare", "uselib",
        "userfaultfd", "ustat", "vserver",
    ];
    let header = std::fs::read_to_string("/usr/include/x86_64-linux-gnu/asm/unistd_64.h").expect("linux-libc-dev's unistd_64.h");
    let names: Vec<&str> = header
        .lines()
        .filter_map(|l| l.strip_prefix("#define __NR_"))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| !DENIED.contains(n))
        .collect();
    assert!(names.len() > 300, "{}", names.len());
    let mut rules: Vec<Value> = vec![json!({ "names": names, "action": "SCMP_ACT_ALLOW" })];
    for persona in [0u64, 8, 131072, 131080, 4294967295] {
        rules.push(json!({ "names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{ "index": 0, "value": persona, "op": "SCMP_CMP_EQ" }] }));
    }
    json!({ "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "architectures": ALL_ARCHES, "syscalls": rules })
}

#[test]
fn docker_like_default_profile_runs_a_shell() {
    if skip_unless_root() {
        return;
    }
    for nnp in [true, false] {
        let script = "mkdir /tmp/d && echo hi > /tmp/d/f && cat /tmp/d/f && ls / >/dev/null && ps >/dev/null && echo ok; unshare -m true || echo unshare-denied";
        let mut env = env("scdocker", &["sh", "-c", script]);
        env.config["process"]["noNewPrivileges"] = json!(nnp);
        env.config["linux"]["seccomp"] = docker_like_profile();
        let (code, out, err) = env.run();
        assert_eq!(code, 0, "noNewPrivileges {nnp}: {out} {err}");
        assert!(out.contains("hi\nok\nunshare-denied"), "noNewPrivileges {nnp}: {out} {err}");
    }
}

#[test]
fn exec_processes_are_filtered_too() {
    if skip_unless_root() {
        return;
    }
    let mut env = env("scexec", &["sleep", "1000"]);
    env.config["linux"]["seccomp"] = deny(&["mkdir", "mkdirat"], "SCMP_ACT_ERRNO");
    let bundle = env.bundle.to_string_lossy().into_owned();
    let (ok, err) = env.detached(&["run", "-d", "--bundle", &bundle, &env.id]);
    assert!(ok, "{err}");
    // A config.json edited after create must not change the container's filter.
    env.config["linux"]["seccomp"] = json!({ "defaultAction": "SCMP_ACT_ALLOW" });
    env.write_config();
    let out = hull(&env.root, &["exec", &env.id, "mkdir", "/tmp/a"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("Operation not permitted"), "{}", stderr(&out));
    let out = hull(&env.root, &["exec", &env.id, "touch", "/tmp/f"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn bad_profiles_are_refused_naming_the_field() {
    if skip_unless_root() {
        return;
    }
    let cases = [
        (json!({ "defaultAction": "SCMP_ACT_NOPE" }), "linux.seccomp.defaultAction"),
        (json!({ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{ "names": ["mkdir"], "action": "SCMP_ACT_NOTIFY" }] }), "linux.seccomp.syscalls[0].action"),
        (json!({ "defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_PPC"] }), "linux.seccomp.architectures[0]"),
    ];
    for (profile, field) in cases {
        let mut env = env("scbad", &["true"]);
        env.config["linux"]["seccomp"] = profile;
        let (code, _, err) = env.run();
        assert_ne!(code, 0);
        assert!(err.contains(field), "{field}: {err}");
        env.assert_clean();
    }
}
