//! Cases checked from inside by the checker: config.md and config-linux.md.

use super::{Case, push, case, checker_case, ensure, expect_create_error, fail, skip};
use crate::exec;
use serde_json::{Value, json};
use std::os::unix::fs::MetadataExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BASELINE_GROUPS: &[&str] =
    &["namespaces", "hostname", "user", "cwd", "env", "rlimits", "caps", "nnp", "oom", "mounts", "masked", "readonly", "rootfs"];

/// A process holding fresh namespaces for a container to join; killed by
/// its pid and reaped on drop.
struct Holder {
    child: Child,
}

impl Holder {
    fn new(flags: &[&str]) -> Result<Holder, super::NotPass> {
        let mut child = Command::new("unshare")
            .args(flags)
            .args(["--", "/bin/busybox", "sh", "-c", "echo ready; exec cat >/dev/null"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let Some(out) = child.stdout.take() else { return fail("holder has no stdout") };
        let mut out = std::fs::File::from(std::os::fd::OwnedFd::from(out));
        let holder = Holder { child };
        match exec::read_line(&mut out, Duration::from_secs(10))? {
            Some(l) if l == "ready" => Ok(holder),
            other => fail(format!("namespace holder did not start: {other:?}")),
        }
    }

    fn ns(&self, name: &str) -> String {
        format!("/proc/{}/ns/{name}", self.child.id())
    }

    fn inode(&self, name: &str) -> Result<u64, super::NotPass> {
        Ok(std::fs::metadata(self.ns(name))?.ino())
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn set_namespaces(b: &mut crate::bundle::Bundle, list: Value) {
    b.config["linux"]["namespaces"] = list;
}

pub fn cases() -> Vec<Case> {
    vec![
        case("baseline", "runtime.md: The container's runtime environment MUST be created according to the configuration in config.json.", |ctx| {
            checker_case(ctx, BASELINE_GROUPS, |_, _| Ok(()))
        }),
        case("ns-new", "config-linux.md: If `path` is not specified, the runtime MUST create a new container namespace of type `type`.", |ctx| {
            checker_case(ctx, &["namespaces"], |_, _| Ok(()))
        }),
        case("ns-inherit", "config-linux.md: If a namespace type is not specified in the `namespaces` array, the container MUST inherit the runtime namespace of that type.", |ctx| {
            checker_case(ctx, &["namespaces"], |b, _| {
                set_namespaces(b, json!([{"type": "mount"}]));
                if let Some(o) = b.config.as_object_mut() {
                    o.remove("hostname");
                }
                Ok(())
            })
        }),
        case("ns-join-path", "config-linux.md: The runtime MUST place the container process in the namespace associated with that `path`.", |ctx| {
            let holder = Holder::new(&["--uts", "--ipc", "--net", "--cgroup"])?;
            checker_case(ctx, &["namespaces"], |b, _| {
                for (ty, name) in [("uts", "uts"), ("ipc", "ipc"), ("network", "net"), ("cgroup", "cgroup")] {
                    b.facts.joined.insert(ty.to_string(), holder.inode(name)?);
                }
                set_namespaces(b, json!([{"type": "pid"}, {"type": "mount"}, {"type": "cgroup", "path": holder.ns("cgroup")},
                    {"type": "uts", "path": holder.ns("uts")}, {"type": "ipc", "path": holder.ns("ipc")}, {"type": "network", "path": holder.ns("net")}]));
                Ok(())
            })
        }),
        case("ns-join-pid", "config-linux.md: The runtime MUST place the container process in the namespace associated with that `path` (a pid namespace, by its pid_for_children file).", |ctx| {
            // unshare --pid --fork: the holder's children live in the new pid
            // namespace, which its pid_for_children names.
            let holder = Holder::new(&["--pid", "--fork"])?;
            checker_case(ctx, &["namespaces"], |b, _| {
                b.facts.joined.insert("pid".to_string(), holder.inode("pid_for_children")?);
                set_namespaces(b, json!([{"type": "pid", "path": holder.ns("pid_for_children")}, {"type": "mount"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "cgroup"}]));
                Ok(())
            })
        }),
        case("ns-path-wrong-type", "config-linux.md: The runtime MUST generate an error if `path` is not associated with a namespace of type `type`.", |ctx| {
            let holder = Holder::new(&["--net"])?;
            expect_create_error(ctx, |b, _| {
                set_namespaces(b, json!([{"type": "pid"}, {"type": "mount"}, {"type": "uts", "path": holder.ns("net")}]));
                Ok(())
            })
        }),
        case("ns-duplicate", "config-linux.md: If a `namespaces` field contains duplicated namespaces with same `type`, the runtime MUST generate an error.", |ctx| {
            expect_create_error(ctx, |b, _| {
                set_namespaces(b, json!([{"type": "pid"}, {"type": "mount"}, {"type": "uts"}, {"type": "uts"}]));
                Ok(())
            })
        }),
        case("ns-invalid-type", "config.md: Runtimes MUST generate an error when invalid or unsupported values are encountered.", |ctx| {
            expect_create_error(ctx, |b, _| {
                set_namespaces(b, json!([{"type": "pid"}, {"type": "mount"}, {"type": "bogus"}]));
                Ok(())
            })
        }),
        case("ns-user-mappings", "config-linux.md: uidMappings/gidMappings describe the user namespace mappings from the host to the container (runtime.md: all properties MUST be applied).", |ctx| {
            super::checker_case_then(
                ctx,
                &["namespaces", "idmap", "user"],
                |b, _| {
                    push(&mut b.config["linux"], "namespaces", json!({"type": "user"}));
                    b.config["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
                    b.config["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
                    Ok(())
                },
                |b| {
                    // config-linux.md: The runtime SHOULD NOT modify the ownership of referenced filesystems.
                    let md = std::fs::metadata(b.rootfs().join("bin/busybox"))?;
                    ensure((md.uid(), md.gid()) == (0, 0), || format!("the rootfs was chowned to {}:{} for the mapping", md.uid(), md.gid()))
                },
            )
        }),
        case("ns-time-offsets", "config-linux.md: timeOffsets sets the offset for Time Namespace (runtime.md: all properties MUST be applied).", |ctx| {
            if !ctx.host.time_ns {
                return skip("the kernel has no time namespaces");
            }
            checker_case(ctx, &["namespaces", "time"], |b, _| {
                push(&mut b.config["linux"], "namespaces", json!({"type": "time"}));
                b.config["linux"]["timeOffsets"] = json!({"monotonic": {"secs": 86400, "nanosecs": 0}, "boottime": {"secs": 172800, "nanosecs": 500}});
                Ok(())
            })
        }),
        case("hostname-domainname", "runtime.md: All of the properties configured in config.json except for process MUST be applied (config.md#hostname, #domainname).", |ctx| {
            checker_case(ctx, &["hostname"], |b, _| {
                b.config["hostname"] = json!("conf-host");
                b.config["domainname"] = json!("conf.example");
                Ok(())
            })
        }),
        case("user-ids-umask", "config.md#user: uid, gid, additionalGids and umask of the process (runtime.md: the runtime MUST run the user-specified program as specified by process).", |ctx| {
            checker_case(ctx, &["user", "caps", "cwd"], |b, _| {
                b.config["process"]["user"] = json!({"uid": 1000, "gid": 1001, "additionalGids": [2000, 3000], "umask": 23});
                b.config["process"]["cwd"] = json!("/tmp");
                Ok(())
            })
        }),
        case("cwd", "config.md#process: cwd is the working directory that will be set for the executable (runtime.md: MUST run the program as specified by process).", |ctx| {
            checker_case(ctx, &["cwd"], |b, _| {
                b.config["process"]["cwd"] = json!("/conformance");
                Ok(())
            })
        }),
        case("env", "config.md#process: env contains the environment variables of the process (runtime.md: MUST run the program as specified by process).", |ctx| {
            checker_case(ctx, &["env"], |b, _| {
                push(&mut b.config["process"], "env", json!("CONFORMANCE=yes it is"));
                push(&mut b.config["process"], "env", json!("EMPTY="));
                Ok(())
            })
        }),
        case("rlimits", "config.md: For each entry in rlimits, a getrlimit(3) on type MUST succeed; rlim.rlim_cur MUST match the configured value; rlim.rlim_max MUST match the configured value.", |ctx| {
            checker_case(ctx, &["rlimits"], |b, _| {
                b.config["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "soft": 512, "hard": 1000},
                    {"type": "RLIMIT_CORE", "soft": 0, "hard": 0}, {"type": "RLIMIT_NPROC", "soft": 2000, "hard": 4000}]);
                Ok(())
            })
        }),
        case("rlimits-raise", "config.md: rlim.rlim_max MUST match the configured value (a hard limit above the runtime's own).", |ctx| {
            if !ctx.host.has_sys_resource() {
                return skip(format!("CAP_SYS_RESOURCE is not in the bounding set: no runtime can raise RLIMIT_NOFILE above {}", ctx.host.nofile_hard));
            }
            checker_case(ctx, &["rlimits"], |b, _| {
                let hard = ctx.host.nofile_hard.saturating_add(1024);
                b.config["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "soft": hard, "hard": hard}]);
                Ok(())
            })
        }),
        case("rlimits-duplicate", "config.md: If rlimits contains duplicated entries with same type, the runtime MUST generate an error.", |ctx| {
            expect_create_error(ctx, |b, _| {
                b.config["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 100}, {"type": "RLIMIT_NOFILE", "soft": 200, "hard": 200}]);
                Ok(())
            })
        }),
        case("rlimits-unknown", "config.md: The runtime MUST generate an error for any values which cannot be mapped to a relevant kernel interface.", |ctx| {
            expect_create_error(ctx, |b, _| {
                b.config["process"]["rlimits"] = json!([{"type": "RLIMIT_BOGUS", "soft": 100, "hard": 100}]);
                Ok(())
            })
        }),
        case("caps-root", "config.md#linux-process: capabilities: the sets of capabilities for the process (runtime.md: MUST run the program as specified by process).", |ctx| {
            checker_case(ctx, &["caps"], |b, _| {
                b.config["process"]["capabilities"] = json!({"bounding": ["CAP_KILL", "CAP_CHOWN", "CAP_SETUID"], "effective": ["CAP_KILL"],
                    "permitted": ["CAP_KILL", "CAP_CHOWN"], "inheritable": ["CAP_CHOWN"]});
                Ok(())
            })
        }),
        case("caps-ambient", "config.md#linux-process: capabilities.ambient: the ambient capabilities kept for the process (runtime.md: MUST run the program as specified by process).", |ctx| {
            checker_case(ctx, &["caps", "user"], |b, _| {
                let c = json!(["CAP_NET_BIND_SERVICE", "CAP_KILL"]);
                b.config["process"]["user"] = json!({"uid": 1000, "gid": 1000});
                b.config["process"]["capabilities"] = json!({"bounding": c, "effective": c, "permitted": c, "inheritable": c, "ambient": ["CAP_NET_BIND_SERVICE"]});
                Ok(())
            })
        }),
        case("no-new-privileges-on", "config.md#linux-process: noNewPrivileges setting to true prevents the process from gaining additional privileges.", |ctx| {
            checker_case(ctx, &["nnp"], |b, _| {
                b.config["process"]["noNewPrivileges"] = json!(true);
                Ok(())
            })
        }),
        case("no-new-privileges-off", "config.md#linux-process: noNewPrivileges unset leaves the no_new_privs bit as the runtime had it.", |ctx| {
            checker_case(ctx, &["nnp"], |b, _| {
                b.config["process"]["noNewPrivileges"] = json!(false);
                Ok(())
            })
        }),
        case("oom-score-adj-set", "config.md: If oomScoreAdj is set, the runtime MUST set oom_score_adj to the given value.", |ctx| {
            checker_case(ctx, &["oom"], |b, _| {
                b.config["process"]["oomScoreAdj"] = json!(ctx.host.facts.oom_score_adj.max(0) + 100);
                Ok(())
            })
        }),
        case("oom-score-adj-unset", "config.md: If oomScoreAdj is not set, the runtime MUST NOT change the value of oom_score_adj.", |ctx| {
            checker_case(ctx, &["oom"], |_, _| Ok(()))
        }),
        case("oom-score-adj-lower", "config.md: If oomScoreAdj is set, the runtime MUST set oom_score_adj to the given value (below the runtime's own).", |ctx| {
            if !ctx.host.has_sys_resource() {
                return skip("CAP_SYS_RESOURCE is not in the bounding set: no runtime can lower oom_score_adj");
            }
            checker_case(ctx, &["oom"], |b, _| {
                b.config["process"]["oomScoreAdj"] = json!(ctx.host.facts.oom_score_adj - 100);
                Ok(())
            })
        }),
        case("sysctl", "config-linux.md#sysctl: sysctl allows kernel parameters to be modified at runtime for the container (runtime.md: all properties MUST be applied).", |ctx| {
            checker_case(ctx, &["sysctl"], |b, _| {
                b.config["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": "1", "kernel.msgmax": "4096"});
                Ok(())
            })
        }),
        case("mounts-options", "config.md#mounts: Runtimes MUST/SHOULD/MAY implement the following option strings for Linux (the MUST table: ro, rw, nosuid, suid, nodev, dev, noexec, exec, noatime, relatime, strictatime, bind, rbind).", |ctx| {
            checker_case(ctx, &["mounts"], |b, _| {
                let src = b.dir.join("bindsrc");
                std::fs::create_dir_all(src.join("sub"))?;
                let src = src.to_string_lossy().into_owned();
                for m in [
                    json!({"destination": "/opt-a", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "noexec", "ro", "mode=700"]}),
                    json!({"destination": "/opt-b", "type": "tmpfs", "source": "tmpfs", "options": ["rw", "suid", "dev", "exec", "noatime", "mode=1755"]}),
                    json!({"destination": "/opt-c", "type": "tmpfs", "source": "tmpfs", "options": ["relatime", "nodiratime"]}),
                    json!({"destination": "/opt-d", "type": "tmpfs", "source": "tmpfs", "options": ["sync", "dirsync", "lazytime", "atime", "diratime"]}),
                    json!({"destination": "/bind-ro", "type": "bind", "source": src, "options": ["bind", "ro", "nosuid"]}),
                    json!({"destination": "/rbind-rw", "type": "none", "source": src, "options": ["rbind", "rw", "nodev"]}),
                ] {
                    push(&mut b.config, "mounts", m);
                }
                Ok(())
            })
        }),
        case("mounts-defaults", "config.md#mounts: `defaults` is a MUST option (mount(8): rw, suid, dev, exec, auto, nouser, async).", |ctx| {
            checker_case(ctx, &["mounts"], |b, _| {
                push(&mut b.config, "mounts", json!({"destination": "/opt-defaults", "type": "tmpfs", "source": "tmpfs", "options": ["defaults"]}));
                Ok(())
            })
        }),
        case("mounts-options-last-wins", "config.md#mounts: If a custom option string is already recognized by mount(8), the runtime SHOULD follow the behavior of mount(8) (a later option overrides an earlier one).", |ctx| {
            checker_case(ctx, &["mounts"], |b, _| {
                push(&mut b.config, "mounts", json!({"destination": "/opt-last-a", "type": "tmpfs", "source": "tmpfs", "options": ["ro", "rw", "nosuid", "suid", "noexec", "exec"]}));
                push(&mut b.config, "mounts", json!({"destination": "/opt-last-b", "type": "tmpfs", "source": "tmpfs", "options": ["sync", "async", "lazytime", "nolazytime", "noatime", "strictatime"]}));
                Ok(())
            })
        }),
        case("mounts-order", "config.md#mounts: The runtime MUST mount entries in the listed order.", |ctx| {
            checker_case(ctx, &["mounts"], |b, _| {
                push(&mut b.config, "mounts", json!({"destination": "/order", "type": "tmpfs", "source": "first", "options": ["nr_inodes=1000"]}));
                push(&mut b.config, "mounts", json!({"destination": "/order", "type": "tmpfs", "source": "second", "options": ["nr_inodes=2000"]}));
                Ok(())
            })
        }),
        case("mounts-relative-destination", "config.md#mounts: For compatibility with old tools and configurations, it MAY be a relative path, in which case it MUST be interpreted as relative to \"/\".", |ctx| {
            checker_case(ctx, &["mounts"], |b, _| {
                push(&mut b.config, "mounts", json!({"destination": "relative/dir", "type": "tmpfs", "source": "tmpfs", "options": ["mode=711"]}));
                Ok(())
            })
        }),
        case("mounts-propagation", "config.md#mounts: `private`, `rprivate`, `shared`, `rshared`, `unbindable`, `runbindable` (bind mount propagation) are MUST options.", |ctx| {
            checker_case(ctx, &["mounts"], |b, _| {
                push(&mut b.config, "mounts", json!({"destination": "/prop-shared", "type": "tmpfs", "source": "tmpfs", "options": ["shared"]}));
                push(&mut b.config, "mounts", json!({"destination": "/prop-private", "type": "tmpfs", "source": "tmpfs", "options": ["private"]}));
                push(&mut b.config, "mounts", json!({"destination": "/prop-unbindable", "type": "tmpfs", "source": "tmpfs", "options": ["unbindable"]}));
                push(&mut b.config, "mounts", json!({"destination": "/prop-rshared", "type": "tmpfs", "source": "tmpfs", "options": ["rshared"]}));
                push(&mut b.config, "mounts", json!({"destination": "/prop-rprivate", "type": "tmpfs", "source": "tmpfs", "options": ["rprivate"]}));
                push(&mut b.config, "mounts", json!({"destination": "/prop-runbindable", "type": "tmpfs", "source": "tmpfs", "options": ["runbindable"]}));
                Ok(())
            })
        }),
        case("mounts-nosymfollow", "config.md#mounts: `nosymfollow` (SHOULD, kernel 5.10).", |ctx| {
            checker_case(ctx, &["mounts"], |b, _| {
                push(&mut b.config, "mounts", json!({"destination": "/nosymfollow", "type": "tmpfs", "source": "tmpfs", "options": ["nosymfollow"]}));
                Ok(())
            })
        }),
        case("masked-paths", "config-linux.md#masked-paths: maskedPaths will mask over the provided paths inside the container so that they cannot be read (runtime.md: all properties MUST be applied).", |ctx| {
            checker_case(ctx, &["masked"], |b, _| {
                let root = b.rootfs();
                std::fs::write(root.join("masked-file"), "secret\n")?;
                std::fs::create_dir_all(root.join("masked-dir"))?;
                std::fs::write(root.join("masked-dir/inside"), "secret\n")?;
                push(&mut b.config["linux"], "maskedPaths", json!("/masked-file"));
                push(&mut b.config["linux"], "maskedPaths", json!("/masked-dir"));
                Ok(())
            })
        }),
        case("readonly-paths", "config-linux.md#readonly-paths: readonlyPaths will set the provided paths as readonly inside the container (runtime.md: all properties MUST be applied).", |ctx| {
            checker_case(ctx, &["readonly"], |b, _| {
                std::fs::create_dir_all(b.rootfs().join("ro-dir"))?;
                push(&mut b.config["linux"], "readonlyPaths", json!("/ro-dir"));
                Ok(())
            })
        }),
        case("devices", "config-linux.md#devices: devices (array of objects, OPTIONAL) lists devices that MUST be available in the container.", |ctx| {
            checker_case(ctx, &["devices"], |b, _| {
                b.config["linux"]["devices"] = json!([
                    {"path": "/dev/conf-null", "type": "c", "major": 1, "minor": 3, "fileMode": 0o640, "uid": 1234, "gid": 5678},
                    {"path": "/dev/conf-loop", "type": "b", "major": 7, "minor": 200, "fileMode": 0o600, "uid": 0, "gid": 0},
                    {"path": "/dev/conf-fifo", "type": "p", "fileMode": 0o620},
                ]);
                Ok(())
            })
        }),
        case("devices-allowed-list", "config-linux.md#allowed-device-list: The runtime MUST apply entries in the listed order.", |ctx| {
            checker_case(ctx, &["device-access", "default-devices"], |b, _| {
                // Devices no runtime allows by default (its own default list
                // covers null, zero, full, random, urandom, tty, ptmx).
                b.config["linux"]["devices"] = json!([
                    {"path": "/dev/conf-tun", "type": "c", "major": 10, "minor": 200, "fileMode": 0o666},
                    {"path": "/dev/conf-fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o666},
                    {"path": "/dev/conf-rtc", "type": "c", "major": 254, "minor": 0, "fileMode": 0o666},
                ]);
                // Allow 10:200 and 10:229, then deny 10:229 again: order decides.
                b.config["linux"]["resources"]["devices"] = json!([
                    {"allow": false, "access": "rwm"},
                    {"allow": true, "type": "c", "major": 10, "minor": 200, "access": "rwm"},
                    {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rwm"},
                    {"allow": false, "type": "c", "major": 10, "minor": 229, "access": "rwm"},
                ]);
                Ok(())
            })
        }),
        case("mounts-bind-file", "config.md#mounts: `bind` is a MUST option (a file bind-mounted onto a file, read-only, as Docker volumes are).", |ctx| {
            checker_case(ctx, &["mounts"], |b, _| {
                let src = b.dir.join("volume-file");
                std::fs::write(&src, "from the host\n")?;
                push(&mut b.config, "mounts", json!({"destination": "/etc/conf-volume", "type": "bind", "source": src, "options": ["rbind", "ro"]}));
                Ok(())
            })
        }),
        case("default-devices", "config-linux.md#default-devices: In addition to any devices configured with this setting, the runtime MUST also supply: /dev/null, /dev/zero, /dev/full, /dev/random, /dev/urandom, /dev/tty, /dev/ptmx.", |ctx| {
            checker_case(ctx, &["default-devices"], |_, _| Ok(()))
        }),
        case("dev-symlinks", "runtime-linux.md: runtimes MUST create the following symlinks if the source file exists after processing mounts: /dev/fd, /dev/stdin, /dev/stdout, /dev/stderr.", |ctx| {
            checker_case(ctx, &["dev-symlinks"], |_, _| Ok(()))
        }),
        case("rootfs-readonly", "config.md#root: If true then the root filesystem MUST be read-only inside the container.", |ctx| {
            checker_case(ctx, &["rootfs"], |b, _| {
                b.config["root"]["readonly"] = json!(true);
                Ok(())
            })
        }),
        case("rootfs-propagation-shared", "config-linux.md#rootfs-mount-propagation: rootfsPropagation sets the rootfs's mount propagation; shared: the rootfs mount belongs to a new peer group.", |ctx| {
            checker_case(ctx, &["rootfs"], |b, _| {
                b.config["linux"]["rootfsPropagation"] = json!("shared");
                Ok(())
            })
        }),
        case("rootfs-propagation-private", "config-linux.md#rootfs-mount-propagation: rootfsPropagation sets the rootfs's mount propagation; private: the rootfs mount doesn't receive mount propagation events.", |ctx| {
            checker_case(ctx, &["rootfs"], |b, _| {
                b.config["linux"]["rootfsPropagation"] = json!("private");
                Ok(())
            })
        }),
        case("rootfs-propagation-unbindable", "config-linux.md#rootfs-mount-propagation: rootfsPropagation sets the rootfs's mount propagation; unbindable: the rootfs mount is a private mount that cannot be bind-mounted.", |ctx| {
            checker_case(ctx, &["rootfs"], |b, _| {
                b.config["linux"]["rootfsPropagation"] = json!("unbindable");
                Ok(())
            })
        }),
        case("rootfs-missing", "config.md#root: A directory MUST exist at the path declared by the field (runtime.md: if the runtime cannot apply a property it MUST generate an error).", |ctx| {
            expect_create_error(ctx, |b, _| {
                b.config["root"]["path"] = json!("no-such-rootfs");
                Ok(())
            })
        }),
        case("unknown-properties", "config.md#extensibility: Runtimes MAY log unknown properties but MUST otherwise ignore them.", |ctx| {
            checker_case(ctx, &["hostname"], |b, _| {
                b.config["org.example.conformance"] = json!({"anything": [1, 2]});
                b.config["linux"]["org.example.linux-extension"] = json!(true);
                b.config["annotations"] = json!({"org.example.unknown": "value"});
                Ok(())
            })
        }),
        case("personality", "config-linux.md#personality: personality sets the Linux execution personality (runtime.md: all properties MUST be applied).", |ctx| {
            checker_case(ctx, &["personality"], |b, _| {
                b.config["linux"]["personality"] = json!({"domain": "LINUX32"});
                Ok(())
            })
        }),
        case("seccomp-errno", "config-linux.md#seccomp: Seccomp provides application sandboxing mechanism in the Linux kernel (errnoRet: the errno return code to use).", |ctx| {
            checker_case(ctx, &["seccomp"], |b, _| {
                b.config["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                    "syscalls": [{"names": ["kcmp"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18}]});
                Ok(())
            })
        }),
        case("apparmor", "config.md#linux-process: apparmorProfile specifies the name of the AppArmor profile for the process.", |ctx| {
            if !ctx.host.apparmor {
                return skip("no AppArmor on this host");
            }
            checker_case(ctx, &["hostname"], |b, _| {
                b.config["process"]["apparmorProfile"] = json!("unconfined");
                Ok(())
            })
        }),
        case("selinux", "config.md#linux-process: selinuxLabel specifies the SELinux label for the process.", |ctx| {
            if !ctx.host.selinux {
                return skip("no SELinux on this host");
            }
            fail("no SELinux label to test with on this host")
        }),
        case("intelrdt-no-resctrl", "config-linux.md#intelrdt: If no mounted resctrl pseudo-filesystem is available in the runtime mount namespace, the runtime MUST generate an error.", |ctx| {
            let mounted = std::fs::read_to_string("/proc/self/mounts").map(|m| m.lines().any(|l| l.split(' ').nth(2) == Some("resctrl"))).unwrap_or(true);
            if mounted {
                return skip("resctrl is mounted on this host");
            }
            expect_create_error(ctx, |b, _| {
                b.config["linux"]["intelRdt"] = json!({"closID": "rtt-conformance"});
                Ok(())
            })
        }),
        case("netdevices-missing", "config-linux.md#network-devices: The runtime MUST check if moving the network interface to the container namespace is possible (a missing interface is an error).", |ctx| {
            expect_create_error(ctx, |b, _| {
                b.config["linux"]["netDevices"] = json!({"rtt-nosuch0": {}});
                Ok(())
            })
        }),
        case("ns-path-relative", "config-linux.md#namespaces: This value MUST be an absolute path in the runtime mount namespace (config.md: runtimes MUST generate an error when invalid values are encountered).", |ctx| {
            expect_create_error(ctx, |b, _| {
                set_namespaces(b, json!([{"type": "pid"}, {"type": "mount"}, {"type": "uts", "path": "proc/self/ns/uts"}]));
                Ok(())
            })
        }),
        case("cwd-relative", "config.md#process: cwd: This value MUST be an absolute path (config.md: runtimes MUST generate an error when invalid values are encountered).", |ctx| {
            expect_create_error(ctx, |b, _| {
                b.config["process"]["cwd"] = json!("tmp");
                Ok(())
            })
        }),
        case("console-size-ignored", "config.md#process: Runtimes MUST ignore consoleSize if terminal is false or unset.", |ctx| {
            checker_case(ctx, &["cwd"], |b, _| {
                b.config["process"]["consoleSize"] = json!({"height": 25, "width": 80});
                Ok(())
            })
        }),
        case("caps-ungrantable", "config.md#linux-process: Any value which cannot be mapped to a relevant kernel interface, or cannot be granted otherwise MUST be logged as a warning by the runtime. Runtimes SHOULD NOT fail if the container configuration requests capabilities that cannot be granted.", |ctx| {
            if ctx.host.has_sys_resource() {
                return skip("CAP_SYS_RESOURCE is grantable on this host: no capability to ask for that cannot be granted");
            }
            checker_case(ctx, &["env"], |b, _| {
                let c = json!(["CAP_KILL", "CAP_SYS_RESOURCE"]);
                b.config["process"]["capabilities"] = json!({"bounding": c, "effective": c, "permitted": c});
                Ok(())
            })
        }),
        case("devices-path-clash", "config-linux.md#devices: If a file already exists at path that does not match the requested device, the runtime MUST generate an error.", |ctx| {
            expect_create_error(ctx, |b, _| {
                std::fs::write(b.rootfs().join("conformance/clash"), "a regular file\n")?;
                b.config["linux"]["devices"] = json!([{"path": "/conformance/clash", "type": "c", "major": 1, "minor": 3}]);
                Ok(())
            })
        }),
        case("annotations-empty-key", "config.md#annotations: Keys MUST NOT be an empty string (config.md: runtimes MUST generate an error when invalid values are encountered).", |ctx| {
            expect_create_error(ctx, |b, _| {
                b.config["annotations"] = json!({"": "empty key"});
                Ok(())
            })
        }),
        case("sysctl-unknown", "runtime.md#lifecycle: If the runtime is unable to create the environment specified in the config.json, it MUST generate an error (a sysctl the kernel does not have).", |ctx| {
            expect_create_error(ctx, |b, _| {
                b.config["linux"]["sysctl"] = json!({"net.ipv4.rtt_no_such_key": "1"});
                Ok(())
            })
        }),
        case("oom-score-adj-invalid", "config.md: Runtimes MUST generate an error when invalid or unsupported values are encountered (oomScoreAdj outside -1000..1000).", |ctx| {
            expect_create_error(ctx, |b, _| {
                b.config["process"]["oomScoreAdj"] = json!(5000);
                Ok(())
            })
        }),
        case("oci-version-invalid", "config.md: ociVersion MUST be in SemVer v2.0.0 format (config.md: runtimes MUST generate an error when invalid or unsupported values are encountered).", |ctx| {
            expect_create_error(ctx, |b, _| {
                b.config["ociVersion"] = json!("not-a-version");
                Ok(())
            })
        }),
        case("mounts-missing-source", "runtime.md#create: If the runtime cannot apply a property as specified in the configuration, it MUST generate an error and a new container MUST NOT be created (a bind mount of a source that does not exist).", |ctx| {
            expect_create_error(ctx, |b, _| {
                let missing = b.dir.join("no-such-source");
                push(&mut b.config, "mounts", json!({"destination": "/missing", "type": "bind", "source": missing, "options": ["rbind"]}));
                Ok(())
            })
        }),
        case("devices-invalid-type", "config-linux.md#devices: type of device: c, b, u or p (config.md: runtimes MUST generate an error when invalid or unsupported values are encountered).", |ctx| {
            expect_create_error(ctx, |b, _| {
                b.config["linux"]["devices"] = json!([{"path": "/dev/conf-bad", "type": "x", "major": 1, "minor": 3}]);
                Ok(())
            })
        }),
        case("hooks-relative-path", "config.md#posix-platform-hooks: This specification extends the IEEE standard in that path MUST be absolute (config.md: runtimes MUST generate an error when invalid values are encountered).", |ctx| {
            expect_create_error(ctx, |b, _| {
                b.config["hooks"] = json!({"createRuntime": [{"path": "bin/true"}]});
                Ok(())
            })
        }),
        case("hooks-timeout-zero", "config.md#posix-platform-hooks: If set, timeout MUST be greater than zero (config.md: runtimes MUST generate an error when invalid values are encountered).", |ctx| {
            expect_create_error(ctx, |b, _| {
                b.config["hooks"] = json!({"createRuntime": [{"path": "/bin/true", "timeout": 0}]});
                Ok(())
            })
        }),
    ]
}
