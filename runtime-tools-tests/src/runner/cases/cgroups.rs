//! Cgroup cases (config-linux.md#control-groups): placement by cgroupsPath,
//! resource values read from inside, removal on delete.

use super::{Case, push, CaseResult, Ctx, case, ensure, expect_create_error, fail, skip};
use crate::exec;
use serde_json::{Value, json};

pub fn cases() -> Vec<Case> {
    vec![
        cgroup_case("cgroups-path", &[], |_| Ok(())),
        cgroup_case("cgroups-memory", &["cgroups"], |r| {
            r["memory"] = json!({"limit": 67108864});
            Ok(())
        }),
        cgroup_case("cgroups-pids", &["cgroups"], |r| {
            r["pids"] = json!({"limit": 99});
            Ok(())
        }),
        cgroup_case("cgroups-cpu", &["cgroups"], |r| {
            r["cpu"] = json!({"shares": 512});
            Ok(())
        }),
        case("systemd-cgroup", "config-linux.md#cgroups-path: with --systemd-cgroup, cgroupsPath is slice:prefix:name.", |ctx| {
            if !ctx.host.systemd {
                return skip("no systemd on this host");
            }
            fail("systemd hosts are not covered yet")
        }),
        case("cgroups-unified-unknown", "config-linux.md#unified: The runtime MUST generate an error when the configuration refers to a cgroup controller that is not present or that cannot be enabled.", |ctx| {
            expect_create_error(ctx, |b, scope| {
                let path = format!("/{}", scope.id);
                scope.cgroups.push(path.clone());
                b.config["linux"]["cgroupsPath"] = json!(path);
                b.config["linux"]["resources"]["unified"] = json!({"nosuchcontroller.max": "1"});
                Ok(())
            })
        }),
    ]
}

/// A cgroup case: a unique cgroupsPath, the cgroup mount, `resources` set by
/// `tweak`; the checker reads the values, then the runner checks that
/// delete removed the cgroup.
fn cgroup_case(name: &'static str, extra: &'static [&'static str], tweak: fn(&mut Value) -> CaseResult) -> Case {
    let cite = match name {
        "cgroups-path" => "config-linux.md#cgroups-path: the runtime MUST take the path to be relative to the cgroups mount point; runtime.md: Deleting a container MUST delete the resources that were created during the create step.",
        _ => "config-linux.md#control-groups: You can configure a container's cgroups via the resources field (runtime.md: all properties MUST be applied).",
    };
    case(name, cite, move |ctx: &Ctx| {
        let (mut b, mut scope) = ctx.bundle()?;
        let path = format!("/{}", scope.id);
        scope.cgroups.push(path.clone());
        let mut groups = vec!["cgroups"];
        groups.extend(extra.iter().filter(|g| **g != "cgroups"));
        b.run_checker(&groups);
        b.config["linux"]["cgroupsPath"] = json!(path);
        // Without a cgroup namespace the checker sees the full path.
        b.config["linux"]["namespaces"] = json!([{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}]);
        push(&mut b.config, "mounts", crate::bundle::cgroup_mount());
        tweak(&mut b.config["linux"]["resources"])?;
        b.write()?;
        let mut cmd = ctx.rt.command();
        cmd.arg("run").arg("--bundle").arg(&b.dir).arg(&scope.id);
        let f = exec::run(cmd, &ctx.rt.scratch, &format!("{} run", ctx.rt.name), super::RUN_TIMEOUT)?;
        super::judge_checker(&f)?;
        let _ = ctx.rt.call(&["delete", &scope.id]);
        let left: Vec<String> = super::cgroup_dirs(&scope.id).iter().map(|p| p.display().to_string()).collect();
        ensure(left.is_empty(), || format!("delete left the container's cgroups: {left:?}"))
    })
}
