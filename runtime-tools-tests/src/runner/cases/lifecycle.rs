//! Lifecycle cases from runtime.md, driven from outside: state, create,
//! start, kill, delete, features.

use super::{Case, CaseResult, Ctx, NotPass, Scope, case, ensure, fail};
use crate::bundle::Bundle;
use crate::exec;
use serde_json::{Value, json};
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::process::Stdio;
use std::time::Duration;

const LINE_TIMEOUT: Duration = Duration::from_secs(20);

/// The program of a lifecycle container: says it started, waits for a line
/// on stdin, says it is done.
const ARGS: &[&str] = &["/bin/sh", "-c", "echo started; read x; echo done"];

/// A container made by `create` whose stdin and stdout we hold.
pub struct Live<'a> {
    pub bundle: Bundle,
    pub scope: Scope<'a>,
    stdin: Option<File>,
    stdout: File,
    pub pid: i32,
}

impl Live<'_> {
    pub fn id(&self) -> &str {
        &self.scope.id
    }

    /// Waits for the container's "started".
    pub fn started(&mut self) -> CaseResult {
        match exec::read_line(&mut self.stdout, LINE_TIMEOUT)? {
            Some(l) if l == "started" => Ok(()),
            other => fail(format!("the container did not say started: {other:?}")),
        }
    }

    /// Lets the program finish and waits for the container process to exit.
    pub fn release(&mut self) -> CaseResult {
        if let Some(mut w) = self.stdin.take() {
            let _ = w.write_all(b"go\n");
        }
        self.wait_gone()
    }

    /// The next line the program writes, if any comes in time.
    pub fn line(&mut self) -> Result<Option<String>, NotPass> {
        Ok(exec::read_line(&mut self.stdout, LINE_TIMEOUT)?)
    }

    pub fn wait_gone(&self) -> CaseResult {
        ensure(exec::wait_pid_gone(self.pid, LINE_TIMEOUT)?, || format!("container process {} did not exit", self.pid))
    }

    /// True when the running program is busybox from the bundle's rootfs.
    pub fn runs_user_program(&self) -> Result<bool, NotPass> {
        let exe = std::fs::metadata(format!("/proc/{}/exe", self.pid))?;
        let bb = std::fs::metadata(self.bundle.rootfs().join("bin/busybox"))?;
        Ok(exe.ino() == bb.ino() && exe.dev() == bb.dev())
    }
}

/// Creates a container running ARGS (after `tweak`) and checks create worked.
pub fn create_live<'a>(ctx: &Ctx<'a>, tweak: impl FnOnce(&mut Bundle) -> CaseResult) -> Result<Live<'a>, NotPass> {
    let (mut bundle, scope) = ctx.bundle()?;
    bundle.config["process"]["args"] = json!(ARGS);
    tweak(&mut bundle)?;
    bundle.write()?;
    let (in_r, in_w) = exec::pipe()?;
    let (out_r, out_w) = exec::pipe()?;
    let f = ctx.rt.create_with(&bundle.dir, &scope.id, Stdio::from(in_r), Stdio::from(out_w))?;
    if !f.ok() {
        // runtime.md#create: a failed create MUST NOT leave a new container.
        if let Ok(left) = ctx.rt.state(&scope.id) {
            return fail(format!("create failed and left a container ({left}): {}", f.describe()));
        }
        return fail(format!("create failed: {}", f.describe()));
    }
    let state = ctx.rt.state(&scope.id).map_err(NotPass::Fail)?;
    let Some(pid) = state.get("pid").and_then(Value::as_i64).and_then(|p| i32::try_from(p).ok()).filter(|p| *p > 0) else {
        return fail(format!("state after create has no pid: {state}"));
    };
    Ok(Live { bundle, scope, stdin: Some(in_w), stdout: out_r, pid })
}

fn start(ctx: &Ctx, live: &mut Live) -> CaseResult {
    let f = ctx.rt.call(&["start", live.id()])?;
    ensure(f.ok(), || format!("start failed: {}", f.describe()))?;
    live.started()
}

fn expect_status(ctx: &Ctx, id: &str, want: &str) -> CaseResult {
    let got = ctx.rt.status(id).map_err(NotPass::Fail)?;
    ensure(got == want, || format!("status is {got:?}, want {want:?}"))
}

fn expect_error(ctx: &Ctx, args: &[&str], what: &str) -> CaseResult {
    let f = ctx.rt.call(args)?;
    ensure(!f.ok(), || format!("{what} succeeded; an error was required"))
}

pub fn cases() -> Vec<Case> {
    vec![
        case("state-created", "runtime.md#state: ociVersion, id, status, pid (REQUIRED when created or running on Linux), bundle (the absolute path to the bundle), annotations; the format MUST adhere to state-schema.json.", |ctx| {
            let live = create_live(ctx, |b| {
                b.config["annotations"] = json!({"org.example.key": "value"});
                Ok(())
            })?;
            let s = ctx.rt.state(live.id()).map_err(NotPass::Fail)?;
            let field = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let v = field("ociVersion");
            ensure(v.split(['-', '+']).next().unwrap_or("").split('.').filter(|p| p.parse::<u64>().is_ok()).count() == 3, || format!("ociVersion is not SemVer: {s}"))?;
            ensure(field("id") == live.id(), || format!("id: {s}"))?;
            ensure(field("status") == "created", || format!("status: {s}"))?;
            let bundle = live.bundle.dir.canonicalize()?;
            ensure(std::path::Path::new(&field("bundle")) == bundle, || format!("bundle is not {}: {s}", bundle.display()))?;
            ensure(s.get("annotations") == Some(&json!({"org.example.key": "value"})), || format!("annotations: {s}"))?;
            ensure(std::path::Path::new(&format!("/proc/{}", live.pid)).exists(), || format!("pid {} is not a live process", live.pid))
        }),
        case("create-does-not-run-program", "runtime.md#create: process.args MUST NOT be applied until triggered by the start operation.", |ctx| {
            let mut live = create_live(ctx, |_| Ok(()))?;
            ensure(!exec::has_data(&live.stdout)?, || "the program wrote output before start".into())?;
            ensure(!live.runs_user_program()?, || "the container process already runs the user program after create".into())?;
            start(ctx, &mut live)?;
            ensure(live.runs_user_program()?, || "after start the container process is not the user program".into())
        }),
        case("state-running", "runtime.md#state: running: the container process has executed the user-specified program but has not exited.", |ctx| {
            let mut live = create_live(ctx, |_| Ok(()))?;
            start(ctx, &mut live)?;
            expect_status(ctx, live.id(), "running")
        }),
        case("state-stopped", "runtime.md#state: stopped: the container process has exited.", |ctx| {
            let mut live = create_live(ctx, |_| Ok(()))?;
            start(ctx, &mut live)?;
            live.release()?;
            expect_status(ctx, live.id(), "stopped")
        }),
        case("operations-unknown-id", "runtime.md: Attempting to query a container that does not exist MUST generate an error; start of a container that is not created, kill of one neither created nor running, delete of one not stopped MUST generate an error.", |ctx| {
            let id = format!("{}-never-created", ctx.id());
            for op in ["state", "start", "kill", "delete"] {
                expect_error(ctx, &[op, &id], &format!("{op} of a container that does not exist"))?;
            }
            Ok(())
        }),
        case("operations-need-id", "runtime.md#operations: state, create, start, kill and delete MUST generate an error if not provided the container ID (create: the path to the bundle and the container ID).", |ctx| {
            let (b, _scope) = ctx.bundle()?;
            b.write()?;
            let bundle = b.dir.to_string_lossy().into_owned();
            for args in [vec!["state"], vec!["start"], vec!["kill"], vec!["delete"], vec!["create", "--bundle", bundle.as_str()]] {
                let f = ctx.rt.call(&args)?;
                ensure(!f.ok(), || format!("`{}` without an id succeeded", args.join(" ")))?;
            }
            Ok(())
        }),
        case("create-invalid-id", "runtime.md#create: If the ID provided is not unique ... or is not valid in any other way, the implementation MUST generate an error and a new container MUST NOT be created.", |ctx| {
            let (b, _scope) = ctx.bundle()?;
            b.write()?;
            let bundle = b.dir.to_string_lossy().into_owned();
            for id in ["../rtt-escape", "rtt/slash"] {
                let f = ctx.rt.call(&["create", "--bundle", &bundle, id])?;
                if f.ok() {
                    ctx.rt.force_delete(id);
                    return fail(format!("create accepted the id {id:?}"));
                }
            }
            Ok(())
        }),
        case("create-duplicate-id", "runtime.md#create: If the ID provided is not unique across all containers within the scope of the runtime, the implementation MUST generate an error and a new container MUST NOT be created.", |ctx| {
            let live = create_live(ctx, |_| Ok(()))?;
            let (other, _scope) = ctx.bundle()?;
            other.write()?;
            expect_error(ctx, &["create", "--bundle", &other.dir.to_string_lossy(), live.id()], "a second create with the same id")?;
            let s = ctx.rt.state(live.id()).map_err(NotPass::Fail)?;
            ensure(s.get("pid").and_then(Value::as_i64) == Some(i64::from(live.pid)) && s.get("status") == Some(&json!("created")), || format!("the first container changed: {s}"))?;
            ensure(s.get("bundle").and_then(Value::as_str).map(std::path::PathBuf::from) == live.bundle.dir.canonicalize().ok(), || format!("the first container's bundle changed: {s}"))
        }),
        case("start-running", "runtime.md#start: Attempting to start a container that is not created MUST have no effect on the container and MUST generate an error.", |ctx| {
            let mut live = create_live(ctx, |_| Ok(()))?;
            start(ctx, &mut live)?;
            expect_error(ctx, &["start", live.id()], "start of a running container")?;
            expect_status(ctx, live.id(), "running")?;
            ensure(!exec::has_data(&live.stdout)?, || "the program ran a second time".into())
        }),
        case("start-stopped", "runtime.md#start: Attempting to start a container that is not created MUST have no effect on the container and MUST generate an error.", |ctx| {
            let mut live = create_live(ctx, |_| Ok(()))?;
            start(ctx, &mut live)?;
            live.release()?;
            expect_error(ctx, &["start", live.id()], "start of a stopped container")?;
            expect_status(ctx, live.id(), "stopped")
        }),
        case("start-no-process", "runtime.md#start: This operation MUST generate an error if process was not set.", |ctx| {
            let (mut b, scope) = ctx.bundle()?;
            if let Some(o) = b.config.as_object_mut() {
                o.remove("process");
            }
            b.write()?;
            let created = ctx.rt.call(&["create", "--bundle", &b.dir.to_string_lossy(), &scope.id])?;
            if !created.ok() {
                return Ok(());
            }
            expect_error(ctx, &["start", &scope.id], "start without process")
        }),
        case("config-frozen-after-create", "runtime.md#lifecycle: Any updates to config.json after this step MUST NOT affect the container.", |ctx| {
            let mut live = create_live(ctx, |_| Ok(()))?;
            let mut changed = live.bundle.config.clone();
            changed["process"]["args"] = json!(["/bin/sh", "-c", "echo changed; read x"]);
            std::fs::write(live.bundle.dir.join("config.json"), serde_json::to_string(&changed).unwrap_or_default())?;
            start(ctx, &mut live)
        }),
        case("kill-running", "runtime.md#kill: This operation MUST send the specified signal to the container process.", |ctx| {
            let mut live = create_live(ctx, |_| Ok(()))?;
            start(ctx, &mut live)?;
            // Engines send signal numbers (ENGINES.md: `kill ID 9`).
            let f = ctx.rt.call(&["kill", live.id(), "9"])?;
            ensure(f.ok(), || format!("kill 9 failed: {}", f.describe()))?;
            live.wait_gone()?;
            expect_status(ctx, live.id(), "stopped")
        }),
        case("kill-signal", "runtime.md#kill: This operation MUST send the specified signal to the container process.", |ctx| {
            let mut live = create_live(ctx, |b| {
                b.config["process"]["args"] = json!(["/bin/sh", "-c", "trap 'echo got-usr1; exit 0' USR1; echo started; read x; echo done"]);
                Ok(())
            })?;
            start(ctx, &mut live)?;
            let f = ctx.rt.call(&["kill", live.id(), "USR1"])?;
            ensure(f.ok(), || format!("kill USR1 failed: {}", f.describe()))?;
            let line = live.line()?;
            ensure(line.as_deref() == Some("got-usr1"), || format!("the container said {line:?} instead of got-usr1"))
        }),
        case("kill-created", "runtime.md#kill: a container that is created may be sent a signal (only containers neither created nor running MUST refuse).", |ctx| {
            let live = create_live(ctx, |_| Ok(()))?;
            let f = ctx.rt.call(&["kill", live.id(), "KILL"])?;
            ensure(f.ok(), || format!("kill failed: {}", f.describe()))?;
            live.wait_gone()?;
            expect_status(ctx, live.id(), "stopped")
        }),
        case("kill-stopped", "runtime.md#kill: Attempting to send a signal to a container that is neither created nor running MUST have no effect on the container and MUST generate an error.", |ctx| {
            let mut live = create_live(ctx, |_| Ok(()))?;
            start(ctx, &mut live)?;
            live.release()?;
            expect_error(ctx, &["kill", live.id(), "KILL"], "kill of a stopped container")?;
            expect_status(ctx, live.id(), "stopped")
        }),
        case("delete-running", "runtime.md#delete: Attempting to delete a container that is not stopped MUST have no effect on the container and MUST generate an error.", |ctx| {
            let mut live = create_live(ctx, |_| Ok(()))?;
            start(ctx, &mut live)?;
            expect_error(ctx, &["delete", live.id()], "delete of a running container")?;
            expect_status(ctx, live.id(), "running")?;
            ensure(std::path::Path::new(&format!("/proc/{}", live.pid)).exists(), || "the container process is gone".into())
        }),
        case("delete-created", "runtime.md#delete: Attempting to delete a container that is not stopped MUST have no effect on the container and MUST generate an error.", |ctx| {
            let live = create_live(ctx, |_| Ok(()))?;
            expect_error(ctx, &["delete", live.id()], "delete of a created container")?;
            expect_status(ctx, live.id(), "created")
        }),
        case("delete-stopped", "runtime.md#delete: Deleting a container MUST delete the resources that were created during the create step.", |ctx| {
            let mut live = create_live(ctx, |_| Ok(()))?;
            start(ctx, &mut live)?;
            live.release()?;
            let f = ctx.rt.call(&["delete", live.id()])?;
            ensure(f.ok(), || format!("delete failed: {}", f.describe()))?;
            ensure(ctx.rt.state(live.id()).is_err(), || "state still answers after delete".into())?;
            ensure(live.bundle.rootfs().join("bin/busybox").exists(), || "delete removed the bundle, which it did not create".into())
        }),
        case("delete-force-running", "runtime.md#delete: Deleting a container MUST delete the resources that were created during the create step (runc's delete --force on a running container).", |ctx| {
            let mut live = create_live(ctx, |_| Ok(()))?;
            start(ctx, &mut live)?;
            let f = ctx.rt.call(&["delete", "--force", live.id()])?;
            ensure(f.ok(), || format!("delete --force failed: {}", f.describe()))?;
            live.wait_gone()?;
            ensure(ctx.rt.state(live.id()).is_err(), || "state still answers after delete --force".into())
        }),
        case("features", "features.md: ociVersionMin and ociVersionMax (REQUIRED); ociVersionMax MUST NOT be less than ociVersionMin; The Features structure MUST NOT contain properties that are not defined in this version of the specification.", |ctx| {
            features(ctx).map(|_| ())
        }),
        case("features-oci-version", "features.md: The runtime MUST accept this value (ociVersionMin, ociVersionMax) as the ociVersion property of config.json.", |ctx| {
            let feats = features(ctx)?;
            for key in ["ociVersionMin", "ociVersionMax"] {
                let Some(v) = feats.get(key).and_then(Value::as_str) else { return fail(format!("features has no {key}")) };
                let mut live = create_live(ctx, |b| {
                    b.config["ociVersion"] = json!(v);
                    Ok(())
                })
                .map_err(|e| match e {
                    NotPass::Fail(m) => NotPass::Fail(format!("ociVersion {v} ({key}): {m}")),
                    other => other,
                })?;
                start(ctx, &mut live)?;
            }
            Ok(())
        }),
        case("features-honest-seccomp", "features.md: linux.seccomp.enabled: whether seccomp support is compiled in (a runtime that says so MUST then accept a seccomp config, and one that does not must refuse it rather than ignore it).", |ctx| {
            let feats = features(ctx)?;
            let enabled = feats.pointer("/linux/seccomp/enabled").and_then(Value::as_bool).unwrap_or(false);
            let attempt = create_live(ctx, |b| {
                b.config["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["kcmp"], "action": "SCMP_ACT_ERRNO"}]});
                Ok(())
            });
            match (enabled, attempt) {
                (true, Ok(_)) | (false, Err(NotPass::Fail(_))) => Ok(()),
                (true, Err(e)) => fail(format!("features says seccomp is enabled but a seccomp config fails: {e:?}")),
                (false, Ok(_)) => fail("features says seccomp is not enabled but a seccomp config was accepted"),
                (_, Err(e)) => Err(e),
            }
        }),
        case("pid-file", "runtime.md#state: pid is the ID of the container process (ENGINES.md: create --pid-file holds the init's pid, decimal, no newline).", |ctx| {
            let (mut b, scope) = ctx.bundle()?;
            b.config["process"]["args"] = json!(["/bin/true"]);
            b.write()?;
            let pid_file = b.dir.join("init.pid");
            let f = ctx.rt.call(&["create", "--bundle", &b.dir.to_string_lossy(), "--pid-file", &pid_file.to_string_lossy(), &scope.id])?;
            ensure(f.ok(), || format!("create failed: {}", f.describe()))?;
            let text = std::fs::read_to_string(&pid_file)?;
            let s = ctx.rt.state(&scope.id).map_err(NotPass::Fail)?;
            let want = s.get("pid").and_then(Value::as_i64).map(|p| p.to_string()).unwrap_or_default();
            ensure(text == want, || format!("pid file holds {text:?}, state pid is {want}"))
        }),
        case("exec-joins-container", "ENGINES.md: exec --process F runs a process inside the container (runc's exec; not a spec operation).", |ctx| {
            let mut live = create_live(ctx, |_| Ok(()))?;
            start(ctx, &mut live)?;
            let f = ctx.rt.call(&["exec", live.id(), "/bin/hostname"])?;
            ensure(f.ok(), || format!("exec failed: {}", f.describe()))?;
            ensure(f.stdout.trim() == "conformance", || format!("exec saw hostname {:?}", f.stdout.trim()))
        }),
        case("exec-process-file", "ENGINES.md: exec --process F (a process.json as engines write it) runs that process in the container (runc's exec; not a spec operation).", |ctx| {
            let mut live = create_live(ctx, |_| Ok(()))?;
            start(ctx, &mut live)?;
            let process = json!({"terminal": false, "user": {"uid": 1000, "gid": 1000}, "args": ["/bin/sh", "-c", "echo $(id -u):$(id -g):$PWD:$CONF"],
                "env": ["PATH=/bin", "CONF=exec-env"], "cwd": "/tmp", "noNewPrivileges": true});
            let file = live.bundle.dir.join("exec-process.json");
            std::fs::write(&file, process.to_string())?;
            let f = ctx.rt.call(&["exec", "--process", &file.to_string_lossy(), live.id()])?;
            ensure(f.ok(), || format!("exec --process failed: {}", f.describe()))?;
            ensure(f.stdout.trim() == "1000:1000:/tmp:exec-env", || format!("exec ran as {:?}, want 1000:1000:/tmp:exec-env", f.stdout.trim()))
        }),
        case("exec-stopped-fails", "ENGINES.md: exec runs in a running container; one that is stopped has nothing to join (runc's exec errors).", |ctx| {
            let mut live = create_live(ctx, |_| Ok(()))?;
            start(ctx, &mut live)?;
            // Only meaningful where exec works at all.
            let f = ctx.rt.call(&["exec", live.id(), "/bin/true"])?;
            ensure(f.ok(), || format!("exec into a running container failed: {}", f.describe()))?;
            live.release()?;
            let f = ctx.rt.call(&["exec", live.id(), "/bin/true"])?;
            ensure(!f.ok(), || "exec into a stopped container succeeded".into())
        }),
    ]
}

fn features(ctx: &Ctx) -> Result<Value, NotPass> {
    let f = ctx.rt.call(&["features"])?;
    ensure(f.ok(), || format!("features failed: {}", f.describe()))?;
    let v: Value = serde_json::from_str(&f.stdout).map_err(|e| NotPass::Fail(format!("features output is not JSON: {e}")))?;
    let version = |k: &str| -> Result<(u64, u64, u64), NotPass> {
        let s = v.get(k).and_then(Value::as_str).ok_or_else(|| NotPass::Fail(format!("features has no {k}")))?;
        let core = s.split(['-', '+']).next().unwrap_or("");
        let n: Vec<u64> = core.split('.').filter_map(|p| p.parse().ok()).collect();
        if n.len() != 3 {
            return fail(format!("{k} {s:?} is not SemVer"));
        }
        Ok((n[0], n[1], n[2]))
    };
    let (min, max) = (version("ociVersionMin")?, version("ociVersionMax")?);
    ensure(max >= min, || format!("ociVersionMax {max:?} is less than ociVersionMin {min:?}"))?;
    const HOOKS: &[&str] = &["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"];
    if let Some(h) = v.get("hooks") {
        let Some(list) = h.as_array() else { return fail("hooks is not an array") };
        for x in list {
            ensure(x.as_str().is_some_and(|s| HOOKS.contains(&s)), || format!("unknown hook {x}"))?;
        }
    }
    const TOP: &[&str] = &["ociVersionMin", "ociVersionMax", "hooks", "mountOptions", "linux", "annotations", "potentiallyUnsafeConfigAnnotations"];
    const LINUX: &[&str] = &["namespaces", "capabilities", "cgroup", "seccomp", "apparmor", "selinux", "memoryPolicy", "intelRdt", "mountExtensions", "netDevices"];
    let unknown = |o: Option<&serde_json::Map<String, Value>>, known: &[&str]| -> Vec<String> {
        o.map(|m| m.keys().filter(|k| !known.contains(&k.as_str())).cloned().collect()).unwrap_or_default()
    };
    let extra: Vec<String> = unknown(v.as_object(), TOP).into_iter().chain(unknown(v.get("linux").and_then(Value::as_object), LINUX).into_iter().map(|k| format!("linux.{k}"))).collect();
    ensure(extra.is_empty(), || format!("features holds properties the spec does not define: {extra:?}"))?;
    if let Some(m) = v.get("mountOptions") {
        ensure(m.as_array().is_some_and(|a| a.iter().all(Value::is_string)), || "mountOptions is not an array of strings".into())?;
    }
    Ok(v)
}
