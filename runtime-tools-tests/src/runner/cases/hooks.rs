//! Hook cases (config.md#posix-platform-hooks, runtime.md#lifecycle): each
//! hook is busybox sh appending its name to a log, saving the state it got on
//! stdin and the uts namespace it ran in.

use super::lifecycle::{Live, create_live};
use super::{Case, CaseResult, Ctx, NotPass, case, ensure, fail};
use serde_json::{Value, json};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

/// A hook entry that logs as `name`, then exits with `code`.
fn hook(dir: &str, name: &str, code: i32) -> Value {
    // Hooks in the container namespace may not see the bundle's host path
    // after pivot_root; the log directory is also bind-mounted at /hooks.
    let script = format!(
        "L={dir}; [ -d $L ] || L=/hooks; echo {name} >> $L/order; cat > $L/{name}.state; readlink /proc/self/ns/uts > $L/{name}.uts; exit {code}"
    );
    json!({"path": "/bin/busybox", "args": ["sh", "-c", script]})
}

struct Hooks {
    dir: PathBuf,
}

impl Hooks {
    fn order(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("order")).unwrap_or_default().lines().map(str::to_string).collect()
    }

    fn state(&self, name: &str) -> Result<Value, NotPass> {
        let text = std::fs::read_to_string(self.dir.join(format!("{name}.state"))).map_err(|e| NotPass::Fail(format!("hook {name} left no state: {e}")))?;
        serde_json::from_str(&text).map_err(|e| NotPass::Fail(format!("hook {name} got invalid state JSON ({e}): {text:?}")))
    }

    /// The uts namespace inode a hook ran in.
    fn uts(&self, name: &str) -> Option<u64> {
        let text = std::fs::read_to_string(self.dir.join(format!("{name}.uts"))).ok()?;
        text.trim().strip_prefix("uts:[")?.strip_suffix(']')?.parse().ok()
    }
}

/// Exit code that stands for "block until released" (see `Unblock`).
const BLOCK: i32 = -1;

/// Releases a hook blocked reading the `block` FIFO, if one still is: a
/// writer that opens and closes it gives the reader EOF, and it exits.
struct Unblock(PathBuf);

impl Drop for Unblock {
    fn drop(&mut self) {
        use std::os::unix::fs::OpenOptionsExt;
        let _ = std::fs::OpenOptions::new().write(true).custom_flags(libc::O_NONBLOCK).open(&self.0);
    }
}

/// Sets up hooks with `codes` (name -> exit code, 0 unless listed; BLOCK
/// makes the hook wait on a FIFO, with a timeout of one second).
fn with_hooks<'a>(ctx: &Ctx<'a>, codes: &[(&str, i32)]) -> Result<(Result<Live<'a>, NotPass>, Hooks, super::Scope<'a>), NotPass> {
    // The log lives outside the bundle the container deletes nothing of, in
    // its own scope so it survives a failed create.
    let (_, scope) = ctx.bundle()?;
    let dir = scope.dir.join("hooks");
    std::fs::create_dir_all(&dir)?;
    let fifo = std::ffi::CString::new(dir.join("block").as_os_str().as_encoded_bytes()).map_err(|e| NotPass::Fail(e.to_string()))?;
    // SAFETY: fifo is a NUL-terminated path.
    if unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) } != 0 {
        return Err(std::io::Error::last_os_error().into());
    }
    let d = dir.to_string_lossy().into_owned();
    let code = |n: &str| codes.iter().find(|(k, _)| *k == n).map_or(0, |(_, c)| *c);
    let h = |n: &str| {
        if code(n) == BLOCK {
            let script = format!("echo {n} >> {d}/order; exec cat {d}/block");
            json!({"path": "/bin/busybox", "args": ["sh", "-c", script], "timeout": 1})
        } else {
            hook(&d, n, code(n))
        }
    };
    let live = create_live(ctx, |b| {
        b.config["hooks"] = json!({
            "prestart": [h("prestart-1"), h("prestart-2")],
            "createRuntime": [h("createRuntime")],
            "createContainer": [h("createContainer")],
            "startContainer": [h("startContainer")],
            "poststart": [h("poststart")],
            "poststop": [h("poststop-1"), h("poststop-2")],
        });
        let mounts = b.config["mounts"].as_array_mut();
        if let Some(m) = mounts {
            m.push(json!({"destination": "/hooks", "type": "bind", "source": d, "options": ["rbind", "rw"]}));
        }
        Ok(())
    });
    Ok((live, Hooks { dir }, scope))
}

const CREATE_HOOKS: &[&str] = &["prestart-1", "prestart-2", "createRuntime", "createContainer"];

fn start_and_stop(ctx: &Ctx, live: &mut Live) -> CaseResult {
    let f = ctx.rt.call(&["start", live.id()])?;
    ensure(f.ok(), || format!("start failed: {}", f.describe()))?;
    live.started()?;
    live.release()?;
    let f = ctx.rt.call(&["delete", live.id()])?;
    ensure(f.ok(), || format!("delete failed: {}", f.describe()))
}

fn expect_order(h: &Hooks, want: &[&str], when: &str) -> CaseResult {
    let got = h.order();
    ensure(got == want, || format!("{when}: hooks ran as {got:?}, want {want:?}"))
}

pub fn cases() -> Vec<Case> {
    vec![
        case("hooks-order", "config.md#posix-platform-hooks: Hooks MUST be called in the listed order (prestart before createRuntime, createContainer after createRuntime, startContainer before the program, poststart before start returns, poststop before delete returns).", |ctx| {
            let (live, h, _scope) = with_hooks(ctx, &[])?;
            let mut live = live?;
            expect_order(&h, CREATE_HOOKS, "after create")?;
            let f = ctx.rt.call(&["start", live.id()])?;
            ensure(f.ok(), || format!("start failed: {}", f.describe()))?;
            let mut want: Vec<&str> = CREATE_HOOKS.to_vec();
            want.extend(["startContainer", "poststart"]);
            expect_order(&h, &want, "when start returned")?;
            live.started()?;
            live.release()?;
            let f = ctx.rt.call(&["delete", live.id()])?;
            ensure(f.ok(), || format!("delete failed: {}", f.describe()))?;
            want.extend(["poststop-1", "poststop-2"]);
            expect_order(&h, &want, "when delete returned")
        }),
        case("hooks-state-stdin", "config.md#posix-platform-hooks: The state of the container MUST be passed to hooks over stdin.", |ctx| {
            let (live, h, _scope) = with_hooks(ctx, &[])?;
            let mut live = live?;
            let id = live.id().to_string();
            let bundle = live.bundle.dir.canonicalize()?;
            start_and_stop(ctx, &mut live)?;
            for name in ["prestart-1", "createRuntime", "createContainer", "startContainer", "poststart", "poststop-1"] {
                let s = h.state(name)?;
                ensure(s.get("id").and_then(Value::as_str) == Some(id.as_str()), || format!("{name}: state id is not {id}: {s}"))?;
                ensure(s.get("ociVersion").and_then(Value::as_str).is_some(), || format!("{name}: state has no ociVersion: {s}"))?;
                ensure(s.get("bundle").and_then(Value::as_str).map(PathBuf::from) == Some(bundle.clone()), || format!("{name}: state bundle is not {}: {s}", bundle.display()))?;
                ensure(s.get("status").and_then(Value::as_str).is_some(), || format!("{name}: state has no status: {s}"))?;
            }
            Ok(())
        }),
        case("hooks-namespaces", "config.md#posix-platform-hooks: prestart, createRuntime, poststart and poststop hooks MUST be executed in the runtime namespace; createContainer and startContainer hooks MUST be executed in the container namespace.", |ctx| {
            let (live, h, _scope) = with_hooks(ctx, &[])?;
            let mut live = live?;
            let container = std::fs::metadata(format!("/proc/{}/ns/uts", live.pid))?.ino();
            let runtime = ctx.host.facts.ns.get("uts").copied();
            start_and_stop(ctx, &mut live)?;
            for name in ["prestart-1", "createRuntime", "poststart", "poststop-1"] {
                ensure(h.uts(name) == runtime, || format!("{name} ran in uts namespace {:?}, the runtime's is {runtime:?}", h.uts(name)))?;
            }
            for name in ["createContainer", "startContainer"] {
                ensure(h.uts(name) == Some(container), || format!("{name} ran in uts namespace {:?}, the container's is {container}", h.uts(name)))?;
            }
            Ok(())
        }),
        case("hooks-createruntime-fails", "runtime.md#lifecycle: If any createRuntime hook fails, the runtime MUST generate an error, stop the container, and continue the lifecycle at step 12.", |ctx| {
            let (live, h, _scope) = with_hooks(ctx, &[("createRuntime", 1)])?;
            let live = match live {
                Ok(live) => live,
                Err(NotPass::Fail(m)) if m.starts_with("create failed:") => {
                    let order = h.order();
                    ensure(!order.iter().any(|n| n == "createContainer"), || format!("createContainer ran after createRuntime failed: {order:?}"))?;
                    return Ok(());
                }
                Err(e) => return Err(e),
            };
            fail(format!("create succeeded although createRuntime failed (container pid {})", live.pid))
        }),
        case("hooks-createcontainer-fails", "runtime.md#lifecycle: If any createContainer hook fails, the runtime MUST generate an error, stop the container, and continue the lifecycle at step 12.", |ctx| {
            let (live, _h, _scope) = with_hooks(ctx, &[("createContainer", 1)])?;
            match live {
                Ok(live) => fail(format!("create succeeded although createContainer failed (container pid {})", live.pid)),
                Err(NotPass::Fail(m)) if m.starts_with("create failed:") => Ok(()),
                Err(e) => Err(e),
            }
        }),
        case("hooks-startcontainer-fails", "runtime.md#lifecycle: If any startContainer hook fails, the runtime MUST generate an error, stop the container, and continue the lifecycle at step 12.", |ctx| {
            let (live, h, _scope) = with_hooks(ctx, &[("startContainer", 1)])?;
            let mut live = live?;
            let f = ctx.rt.call(&["start", live.id()])?;
            ensure(!f.ok(), || "start succeeded although the startContainer hook failed".into())?;
            let said = live.line()?;
            ensure(said.is_none(), || format!("the program ran although startContainer failed: it said {said:?}"))?;
            live.wait_gone()?;
            let order = h.order();
            ensure(!order.iter().any(|n| n == "poststart"), || format!("poststart ran after startContainer failed: {order:?}"))
        }),
        case("hooks-timeout", "config.md#posix-platform-hooks: timeout is the number of seconds before aborting the hook (a createRuntime hook that outlives it fails create).", |ctx| {
            let (live, h, _scope) = with_hooks(ctx, &[("createRuntime", BLOCK)])?;
            let _release = Unblock(h.dir.join("block"));
            match live {
                Ok(live) => fail(format!("create succeeded although createRuntime outlived its timeout (container pid {})", live.pid)),
                Err(NotPass::Fail(m)) if m.starts_with("create failed:") => Ok(()),
                Err(e) => Err(e),
            }
        }),
        case("hooks-failure-runs-poststop", "runtime.md#lifecycle: If any prestart hook fails, the runtime MUST generate an error, stop the container, and continue the lifecycle at step 12 (step 13: the poststop hooks MUST be invoked).", |ctx| {
            let (live, h, _scope) = with_hooks(ctx, &[("prestart-1", 1)])?;
            if live.is_ok() {
                return fail("create succeeded although a prestart hook failed");
            }
            let order = h.order();
            ensure(order.iter().any(|n| n == "poststop-1"), || format!("poststop did not run after the failed create: {order:?}"))
        }),
        case("hooks-poststart-fails", "runtime.md#lifecycle: If any poststart hook fails, the runtime MUST generate an error, stop the container, and continue the lifecycle at step 12.", |ctx| {
            let (live, _h, _scope) = with_hooks(ctx, &[("poststart", 1)])?;
            let live = live?;
            let f = ctx.rt.call(&["start", live.id()])?;
            ensure(!f.ok(), || "start succeeded although the poststart hook failed".into())?;
            live.wait_gone()?;
            match ctx.rt.status(live.id()) {
                Ok(s) => ensure(s == "stopped", || format!("after the failed poststart the container is {s}")),
                Err(_) => Ok(()),
            }
        }),
        case("hooks-poststop-fails", "runtime.md#lifecycle: If any poststop hook fails, the runtime MUST log a warning, but the remaining hooks and lifecycle continue as if the hook had succeeded.", |ctx| {
            let (live, h, _scope) = with_hooks(ctx, &[("poststop-1", 1)])?;
            let mut live = live?;
            start_and_stop(ctx, &mut live)?;
            let order = h.order();
            ensure(order.iter().any(|n| n == "poststop-2"), || format!("the second poststop hook did not run: {order:?}"))?;
            ensure(ctx.rt.state(live.id()).is_err(), || "the container still exists after delete".into())
        }),
    ]
}
