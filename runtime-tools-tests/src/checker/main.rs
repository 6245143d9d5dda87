//! The checker: runs as the container's process, reads the config.json the
//! runtime was given (a copy placed in the rootfs) and verifies from inside
//! what the container sees. One TAP line per check, each naming the spec
//! section it comes from.
//!
//! Usage: `checker CONFIG HOST_FACTS GROUP...` where GROUP selects which
//! families of checks run (the runner picks the ones a case is about).
//! Exit status: 0 when every check passed, 1 otherwise. A panic is caught and
//! reported as a failing check, never swallowed.

mod console;
mod facts;
mod fs;
mod mountinfo;
mod proc;
mod tap;

use serde_json::Value;
use std::panic::AssertUnwindSafe;
use tap::Tap;

/// One family of checks.
type Group = fn(&mut Tap, &Value, &facts::Host);

/// Every group the checker knows, by name.
const GROUPS: &[(&str, Group)] = &[
    ("namespaces", proc::namespaces),
    ("hostname", proc::hostname),
    ("user", proc::user),
    ("cwd", proc::cwd),
    ("env", proc::env),
    ("rlimits", proc::rlimits),
    ("caps", proc::capabilities),
    ("nnp", proc::no_new_privs),
    ("oom", proc::oom_score_adj),
    ("sysctl", proc::sysctl),
    ("idmap", proc::id_mappings),
    ("time", proc::time_offsets),
    ("personality", proc::personality),
    ("seccomp", proc::seccomp),
    ("mounts", fs::mounts),
    ("masked", fs::masked_paths),
    ("readonly", fs::readonly_paths),
    ("devices", fs::devices),
    ("device-access", fs::device_access),
    ("default-devices", fs::default_devices),
    ("dev-symlinks", fs::dev_symlinks),
    ("rootfs", fs::rootfs_readonly),
    ("cgroups", fs::cgroups),
    ("console", console::console),
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut tap = Tap::default();
    if args.len() < 4 {
        tap.check("checker", "usage: checker CONFIG HOST_FACTS GROUP...", false, "");
        std::process::exit(tap.finish());
    }
    let config = match std::fs::read_to_string(&args[1]).map_err(|e| e.to_string()).and_then(|s| {
        serde_json::from_str::<Value>(&s).map_err(|e| e.to_string())
    }) {
        Ok(v) => v,
        Err(e) => {
            tap.check("checker", format!("read config {}", args[1]), false, e);
            std::process::exit(tap.finish());
        }
    };
    let host = match facts::Host::load(&args[2]) {
        Ok(h) => h,
        Err(e) => {
            tap.check("checker", format!("read host facts {}", args[2]), false, e);
            std::process::exit(tap.finish());
        }
    };
    for wanted in &args[3..] {
        match GROUPS.iter().find(|(name, _)| name == wanted) {
            Some((name, run)) => {
                let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
                    let mut inner = Tap::default();
                    run(&mut inner, &config, &host);
                    inner
                }));
                match outcome {
                    Ok(inner) => tap.absorb(inner),
                    Err(_) => tap.check("checker", format!("group {name} panicked"), false, ""),
                }
            }
            None => tap.check("checker", format!("unknown group {wanted}"), false, ""),
        }
    }
    std::process::exit(tap.finish());
}
