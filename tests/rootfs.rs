//! The container's filesystem (issue 6): mounts, /dev, masked and read-only
//! paths, pivot, and the attacks that must not escape, each checked from
//! inside a real container.

mod common;
use common::*;
use serde_json::{Value, json};
use std::os::unix::fs::{MetadataExt, symlink};
use std::path::{Path, PathBuf};

fn add_mount(env: &mut Env, mount: Value) {
    env.config["mounts"].as_array_mut().unwrap().push(mount);
}

fn rootfs(env: &Env) -> PathBuf {
    env.bundle.join("rootfs")
}

/// A directory on the host, inside this test's own directory.
fn host_dir(env: &Env, name: &str) -> PathBuf {
    let dir = env.dir.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn host_mounts_under(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let dir = dir.to_string_lossy().into_owned();
    text.lines().filter(|l| l.split(' ').nth(4).is_some_and(|mp| mp.starts_with(&dir))).map(str::to_string).collect()
}

/// Asserts create/run failed, left nothing behind, and said `needle` on one line.
fn assert_refused(env: &Env, err: &str, needle: &str) {
    assert!(err.contains(needle), "expected {needle:?} in {err:?}");
    assert_eq!(err.trim_end().lines().filter(|l| l.contains(needle)).count(), 1, "one line: {err:?}");
    env.assert_clean();
    assert!(host_mounts_under(&env.dir).is_empty(), "mounts left on the host: {:?}", host_mounts_under(&env.dir));
}

/// The mountinfo line (inside the container) of `mountpoint`, from `out`.
fn line_for<'a>(out: &'a str, mountpoint: &str) -> &'a str {
    out.lines().rfind(|l| l.split(' ').nth(4) == Some(mountpoint)).unwrap_or_else(|| panic!("{mountpoint} not mounted: {out}"))
}

#[test]
fn docker_volume_is_shared_with_the_host() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("volume", &["sh", "-c", "cat /data/from-host && echo inside > /data/from-container"]);
    let volume = host_dir(&env, "volume");
    std::fs::write(volume.join("from-host"), "host\n").unwrap();
    add_mount(&mut env, json!({"destination": "/data", "type": "bind", "source": volume, "options": ["rbind", "rprivate"]}));
    assert_eq!(env.run_ok(), "host\n");
    assert_eq!(std::fs::read_to_string(volume.join("from-container")).unwrap(), "inside\n");
    env.assert_clean();
}

#[test]
fn docker_read_only_volume_gives_erofs() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("volume-ro", &["sh", "-c", "touch /data/x 2>&1; cat /data/f"]);
    let volume = host_dir(&env, "volume");
    std::fs::write(volume.join("f"), "readable\n").unwrap();
    add_mount(&mut env, json!({"destination": "/data", "type": "bind", "source": volume, "options": ["rbind", "ro", "rprivate"]}));
    let out = env.run_ok();
    assert!(out.contains("Read-only file system"), "{out}");
    assert!(out.contains("readable"), "{out}");
    assert!(!volume.join("x").exists());
}

#[test]
fn bind_of_a_file_creates_a_file_destination() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("bind-file", &["sh", "-c", "cat /etc/deep/config.txt; test -f /etc/deep/config.txt && echo file"]);
    let file = env.dir.join("config.txt");
    std::fs::create_dir_all(&env.dir).unwrap();
    std::fs::write(&file, "setting=1\n").unwrap();
    add_mount(&mut env, json!({"destination": "/etc/deep/config.txt", "source": file, "options": ["bind", "ro"]}));
    assert_eq!(env.run_ok(), "setting=1\nfile\n");
}

#[test]
fn relative_bind_source_is_relative_to_the_bundle() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("bind-rel", &["cat", "/data/f"]);
    std::fs::create_dir_all(env.bundle.join("vol")).unwrap();
    std::fs::write(env.bundle.join("vol/f"), "bundle\n").unwrap();
    add_mount(&mut env, json!({"destination": "/data", "source": "vol", "options": ["bind"]}));
    assert_eq!(env.run_ok(), "bundle\n");
}

#[test]
fn per_mount_flags_reach_the_mount() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("flags", &["cat", "/proc/self/mountinfo"]);
    let volume = host_dir(&env, "volume");
    add_mount(&mut env, json!({"destination": "/data", "type": "bind", "source": volume, "options": ["bind", "nosuid", "nodev", "noexec", "noatime", "nosymfollow"]}));
    add_mount(&mut env, json!({"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["strictatime", "ro", "mode=700", "size=1m"]}));
    let out = env.run_ok();
    let data: Vec<&str> = line_for(&out, "/data").split(' ').nth(5).unwrap().split(',').collect();
    for flag in ["nosuid", "nodev", "noexec", "noatime", "nosymfollow"] {
        assert!(data.contains(&flag), "{flag} missing: {data:?}");
    }
    let scratch = line_for(&out, "/scratch");
    assert!(scratch.contains(" ro,") && !scratch.contains("relatime"), "{scratch}");
    assert!(scratch.contains("size=1024k") && scratch.contains("mode=700"), "{scratch}");
}

#[test]
fn unknown_option_refused_by_the_kernel_names_mount_and_option() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("bad-opt", &["true"]);
    add_mount(&mut env, json!({"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "frobnicate=3"]}));
    let (code, _, err) = env.run();
    assert_ne!(code, 0);
    assert_refused(&env, &err, "frobnicate");
    assert!(err.contains("/scratch") && err.contains("tmpfs") && err.contains("not know"), "{err}");
}

#[test]
fn unknown_option_the_filesystem_accepts_is_passed_as_data() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("data-opt", &["cat", "/proc/self/mountinfo"]);
    add_mount(&mut env, json!({"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["nr_inodes=123"]}));
    let out = env.run_ok();
    assert!(line_for(&out, "/scratch").contains("nr_inodes=123"), "{out}");
}

#[test]
fn recursive_read_only_reaches_submounts() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("rro", &["sh", "-c", "touch /top/x 2>&1; touch /top/sub/x 2>&1; touch /plain/sub/y && echo sub-writable"]);
    let volume = host_dir(&env, "volume");
    let sub = host_dir(&env, "volume/sub");
    // A private submount, made and removed inside this test's own directory.
    let made = std::process::Command::new("mount").args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"]).arg(&sub).status().unwrap();
    assert!(made.success());
    let _ = std::process::Command::new("mount").arg("--make-private").arg(&sub).status();
    add_mount(&mut env, json!({"destination": "/top", "source": volume, "options": ["rbind", "rro"]}));
    add_mount(&mut env, json!({"destination": "/plain", "source": volume, "options": ["rbind", "ro"]}));
    let (code, out, err) = env.run();
    // Unmounted before any assertion, so a failure leaves nothing on the host.
    let _ = std::process::Command::new("umount").arg(&sub).status();
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.matches("Read-only file system").count(), 2, "{out}");
    assert!(out.contains("sub-writable"), "plain ro is not recursive: {out}");
}

#[test]
fn propagation_option_applies_to_the_mount() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("propagation", &["cat", "/proc/self/mountinfo"]);
    let volume = host_dir(&env, "volume");
    add_mount(&mut env, json!({"destination": "/data", "source": volume, "options": ["rbind", "shared"]}));
    add_mount(&mut env, json!({"destination": "/other", "source": volume, "options": ["rbind", "unbindable"]}));
    let out = env.run_ok();
    assert!(line_for(&out, "/data").contains(" shared:"), "{out}");
    assert!(line_for(&out, "/other").contains(" unbindable"), "{out}");
}

#[test]
fn rootfs_propagation_applies_to_the_new_root() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("rootprop", &["cat", "/proc/self/mountinfo"]);
    env.config["linux"]["rootfsPropagation"] = json!("rshared");
    let shared = env.run_ok();
    assert!(line_for(&shared, "/").contains(" shared:"), "{shared}");
    env.config["linux"]["rootfsPropagation"] = json!("private");
    let private = env.run_ok();
    let line = line_for(&private, "/");
    assert!(!line.contains("master:") && !line.contains("shared:"), "{line}");
    assert!(host_mounts_under(&env.dir).is_empty(), "the shared root leaked mounts to the host");
}

#[test]
fn readonly_root_gives_erofs() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("ro-root", &["sh", "-c", "touch /newfile 2>&1; touch /tmp/x 2>&1; true"]);
    env.config["root"]["readonly"] = json!(true);
    let out = env.run_ok();
    assert_eq!(out.matches("Read-only file system").count(), 2, "{out}");
    assert!(!rootfs(&env).join("newfile").exists());
}

#[test]
fn masked_file_and_directory_show_nothing() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("masked", &["sh", "-c", "cat /etc/secret; ls /secrets; echo end"]);
    std::fs::write(rootfs(&env).join("etc/secret"), "password\n").unwrap();
    std::fs::create_dir_all(rootfs(&env).join("secrets")).unwrap();
    std::fs::write(rootfs(&env).join("secrets/key"), "k\n").unwrap();
    env.config["linux"]["maskedPaths"] = json!(["/etc/secret", "/secrets", "/does/not/exist", "/proc/timer_list"]);
    assert_eq!(env.run_ok(), "end\n");
}

#[test]
fn readonly_path_write_gives_erofs() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("ro-path", &["sh", "-c", "echo 1 > /proc/sys/kernel/ns_last_pid; touch /data/x 2>&1; touch /tmp/ok && echo tmp-writable"]);
    std::fs::create_dir_all(rootfs(&env).join("data")).unwrap();
    env.config["root"]["readonly"] = json!(false);
    env.config["linux"]["readonlyPaths"] = json!(["/proc/sys", "/data", "/not/there"]);
    let (code, out, err) = env.run();
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("Read-only file system") && out.contains("Read-only file system"), "out {out:?} err {err:?}");
    assert!(out.contains("tmp-writable"), "{out}");
}

#[test]
fn devices_have_their_numbers_mode_and_owner() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("devices", &["stat", "-c", "%F %t %T %a %u %g", "/dev/fuse", "/dev/sub/pipe"]);
    env.config["linux"]["devices"] = json!([
        {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o640, "uid": 1000, "gid": 1001},
        {"path": "/dev/sub/pipe", "type": "p", "fileMode": 0o600}
    ]);
    assert_eq!(env.run_ok(), "character special file a e5 640 1000 1001\nfifo 0 0 600 0 0\n");
}

#[test]
fn default_devices_and_dev_symlinks() {
    if skip_unless_root() {
        return;
    }
    let script = "stat -c '%n %t %T %a' /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty; for l in fd stdin stdout stderr ptmx; do readlink /dev/$l; done; test -d /dev/pts && test -d /dev/shm && echo dirs";
    let env = Env::new("default-dev", &["sh", "-c", script]);
    let out = env.run_ok();
    let expected = "/dev/null 1 3 666\n/dev/zero 1 5 666\n/dev/full 1 7 666\n/dev/random 1 8 666\n/dev/urandom 1 9 666\n/dev/tty 5 0 666\n\
                    /proc/self/fd\n/proc/self/fd/0\n/proc/self/fd/1\n/proc/self/fd/2\npts/ptmx\ndirs\n";
    assert_eq!(out, expected);
}

#[test]
fn idmapped_mount_shows_the_mapped_owner() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("idmap", &["stat", "-c", "%u %g", "/data/owned"]);
    let volume = host_dir(&env, "volume");
    std::fs::write(volume.join("owned"), "x").unwrap();
    std::os::unix::fs::chown(volume.join("owned"), Some(1000), Some(1000)).unwrap();
    let map = json!([{"containerID": 1000, "hostID": 4242, "size": 1}]);
    add_mount(&mut env, json!({"destination": "/data", "source": volume, "options": ["rbind", "idmap"], "uidMappings": map, "gidMappings": map}));
    assert_eq!(env.run_ok(), "4242 4242\n");
    assert_eq!(std::fs::metadata(volume.join("owned")).unwrap().uid(), 1000, "the host's file is untouched");
}

#[test]
fn idmap_without_mappings_or_user_namespace_is_refused() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("idmap-bad", &["true"]);
    let volume = host_dir(&env, "volume");
    add_mount(&mut env, json!({"destination": "/data", "source": volume, "options": ["rbind", "idmap"]}));
    let (code, _, err) = env.run();
    assert_ne!(code, 0);
    assert_refused(&env, &err, "needs a user namespace");
}

#[test]
fn no_pivot_runs_in_the_rootfs() {
    if skip_unless_root() {
        return;
    }
    let env = Env::new("no-pivot", &["sh", "-c", "cat /etc/group | head -1; ls /"]);
    let bundle = env.bundle.to_string_lossy().into_owned();
    let out = env.hull(&["run", "--no-pivot", "--bundle", &bundle, &env.id]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("root:x:0:\n"), "{text}");
    assert!(text.contains("bin") && !text.contains("boot"), "{text}");
    env.assert_clean();
}

#[test]
fn cgroup_mount_under_cgroup_namespace_shows_own_cgroup_read_only() {
    if skip_unless_root() {
        return;
    }
    // The root of a hierarchy has no pids.max: seeing one means the container's own cgroup.
    let env = Env::new("cgns", &["sh", "-c", "test -e /sys/fs/cgroup/pids/pids.max && echo own; cat /proc/self/cgroup | grep pids; echo 1 > /sys/fs/cgroup/pids/pids.max; true"]);
    let (code, out, err) = env.run();
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("own\n") && out.contains(":pids:/\n"), "{out}");
    assert!(err.contains("Read-only file system"), "{err}");
}

#[test]
fn cgroup_mount_without_cgroup_namespace_binds_own_cgroup() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("no-cgns", &["sh", "-c", "test -e /sys/fs/cgroup/pids/pids.max && echo own; true"]);
    env.config["linux"]["namespaces"].as_array_mut().unwrap().retain(|n| n["type"] != "cgroup");
    let out = env.run_ok();
    assert!(out.starts_with("own\n"), "{out}");
}

#[test]
fn cgroup2_mount_shows_the_unified_hierarchy() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("cgroup2", &["sh", "-c", "test -e /sys/fs/cgroup/cgroup.procs && echo v2; grep /sys/fs/cgroup /proc/self/mountinfo"]);
    for m in env.config["mounts"].as_array_mut().unwrap() {
        if m["destination"] == "/sys/fs/cgroup" {
            m["type"] = json!("cgroup2");
        }
    }
    let out = env.run_ok();
    assert!(out.starts_with("v2\n") && out.contains(" - cgroup2 ") && out.contains(" ro,"), "{out}");
}

#[test]
fn tmpcopyup_starts_with_the_image_contents() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("copyup", &["sh", "-c", "cat /data/keep; readlink /data/link; stat -c '%a %u' /data/sub/f; echo new > /data/new"]);
    let data = rootfs(&env).join("data");
    std::fs::create_dir_all(data.join("sub")).unwrap();
    std::fs::write(data.join("keep"), "image\n").unwrap();
    std::fs::write(data.join("sub/f"), "").unwrap();
    std::os::unix::fs::chown(data.join("sub/f"), Some(7), Some(7)).unwrap();
    std::fs::set_permissions(data.join("sub/f"), std::os::unix::fs::PermissionsExt::from_mode(0o640)).unwrap();
    symlink("/etc/passwd", data.join("link")).unwrap();
    add_mount(&mut env, json!({"destination": "/data", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup"]}));
    assert_eq!(env.run_ok(), "image\n/etc/passwd\n640 7\n");
    assert!(!data.join("new").exists(), "writes go to the tmpfs, not the image");
}

#[test]
fn mount_label_is_ignored_while_selinux_is_disabled() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("label", &["true"]);
    env.config["linux"]["mountLabel"] = json!("system_u:object_r:container_file_t:s0:c1,c2");
    env.run_ok();
}

#[test]
fn features_lists_the_mount_options() {
    let out = hull(Path::new("/nonexistent"), &["features"]);
    let features: Value = serde_json::from_slice(&out.stdout).unwrap();
    let options: Vec<&str> = features["mountOptions"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    for option in ["rro", "rnosuid", "ratime", "idmap", "ridmap", "tmpcopyup", "nosymfollow", "rslave", "bind"] {
        assert!(options.contains(&option), "{option} missing");
    }
    assert_eq!(features["linux"]["mountExtensions"]["idmap"]["enabled"], json!(true));
}

#[test]
fn failed_mount_names_it_and_leaves_nothing() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("fail", &["true"]);
    let missing = env.dir.join("missing-source");
    add_mount(&mut env, json!({"destination": "/data", "type": "bind", "source": missing, "options": ["rbind", "ro"]}));
    let (ok, err) = env.create();
    assert!(!ok);
    assert_refused(&env, &err, "No such file or directory");
    let line = err.lines().find(|l| l.contains("No such file")).unwrap();
    for part in ["mounts[", "/data", "bind", "missing-source", "rbind", "ro"] {
        assert!(line.contains(part), "{part} missing from {line}");
    }
}

// ---- attacks: each must fail to escape ----

#[test]
fn symlinked_destination_stays_inside_the_rootfs() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("dest-link", &["sh", "-c", "echo pwned > /evil/marker; ls /evil"]);
    let target = host_dir(&env, "host-side");
    std::fs::write(target.join("host-file"), "host").unwrap();
    symlink(&target, rootfs(&env).join("evil")).unwrap();
    add_mount(&mut env, json!({"destination": "/evil", "type": "tmpfs", "source": "tmpfs"}));
    let out = env.run_ok();
    assert_eq!(out, "marker\n", "the container must not see host files");
    assert!(!target.join("marker").exists(), "written on the host");
    assert!(host_mounts_under(&env.dir).is_empty());
    // The link was followed inside the rootfs: the target path was created there.
    assert!(rootfs(&env).join(target.strip_prefix("/").unwrap()).is_dir());
}

#[test]
fn dotdot_symlink_in_bind_destination_stays_inside() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("dotdot", &["sh", "-c", "ls /a/up/etc/group"]);
    std::fs::create_dir_all(rootfs(&env).join("a")).unwrap();
    symlink("../../../../../../../../..", rootfs(&env).join("a/up")).unwrap();
    let volume = host_dir(&env, "volume");
    std::fs::write(volume.join("group"), "").unwrap();
    add_mount(&mut env, json!({"destination": "/a/up/etc", "source": volume, "options": ["bind"]}));
    env.run_ok();
    // /a/up/etc is the container's /etc: the host's /etc has no mount on it.
    let host = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!host.lines().any(|l| l.split(' ').nth(4) == Some("/etc")), "mounted over the host's /etc");
}

#[test]
fn symlinked_device_path_stays_inside_the_rootfs() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("dev-link", &["stat", "-c", "%t %T", "/dev/fuse"]);
    // The image's /dev is a link to a host path: with no /dev mount, nodes go through it.
    without_dev_mounts(&mut env);
    env.config["linux"]["maskedPaths"] = json!([]);
    let target = host_dir(&env, "host-dev");
    std::fs::remove_dir(rootfs(&env).join("dev")).unwrap();
    symlink(&target, rootfs(&env).join("dev")).unwrap();
    env.config["linux"]["devices"] = json!([{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}]);
    assert_eq!(env.run_ok(), "a e5\n");
    assert!(!target.join("fuse").exists(), "a device node was made on the host");
}

#[test]
fn symlinked_masked_path_stays_inside_the_rootfs() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("mask-link", &["cat", "/etc/link"]);
    let secret = env.dir.join("host-secret");
    std::fs::write(&secret, "host").unwrap();
    // Inside the rootfs the link's target names the image's own copy.
    let inside = rootfs(&env).join(secret.strip_prefix("/").unwrap());
    std::fs::create_dir_all(inside.parent().unwrap()).unwrap();
    std::fs::write(&inside, "image").unwrap();
    symlink(&secret, rootfs(&env).join("etc/link")).unwrap();
    env.config["linux"]["maskedPaths"] = json!(["/etc/link"]);
    assert_eq!(env.run_ok(), "", "the image's file is masked");
    assert!(host_mounts_under(&env.dir).is_empty(), "the host's file was masked");
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "host");
}

#[test]
fn proc_destination_that_is_a_symlink_is_refused() {
    if skip_unless_root() {
        return;
    }
    let env = Env::new("proc-link", &["true"]);
    let fake = host_dir(&env, "fake-proc");
    std::fs::remove_dir(rootfs(&env).join("proc")).unwrap();
    symlink(&fake, rootfs(&env).join("proc")).unwrap();
    let (code, _, err) = env.run();
    assert_ne!(code, 0);
    assert_refused(&env, &err, "ordinary directory");
}

#[test]
fn sys_destination_that_is_a_symlink_is_refused() {
    if skip_unless_root() {
        return;
    }
    let env = Env::new("sys-link", &["true"]);
    let fake = host_dir(&env, "fake-sys");
    std::fs::remove_dir(rootfs(&env).join("sys")).unwrap();
    symlink(&fake, rootfs(&env).join("sys")).unwrap();
    let (code, _, err) = env.run();
    assert_ne!(code, 0);
    assert_refused(&env, &err, "ordinary directory");
}

#[test]
fn mount_inside_proc_is_refused() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("in-proc", &["true"]);
    let file = env.dir.join("core");
    std::fs::write(&file, "|/bin/evil").unwrap();
    add_mount(&mut env, json!({"destination": "/proc/sys/kernel/core_pattern", "source": file, "options": ["bind"]}));
    let (code, _, err) = env.run();
    assert_ne!(code, 0);
    assert_refused(&env, &err, "inside /proc");
}

#[test]
fn destination_resolving_into_procfs_is_refused() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("into-proc", &["true"]);
    symlink("/proc/sys/kernel", rootfs(&env).join("innocent")).unwrap();
    add_mount(&mut env, json!({"destination": "/innocent", "type": "tmpfs", "source": "tmpfs"}));
    let (code, _, err) = env.run();
    assert_ne!(code, 0);
    assert_refused(&env, &err, "resolves into procfs");
}

fn without_dev_mounts(env: &mut Env) {
    env.config["mounts"].as_array_mut().unwrap().retain(|m| !m["destination"].as_str().unwrap().starts_with("/dev"));
}

#[test]
fn fake_dev_null_file_cannot_defeat_masks() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("fake-null", &["cat", "/proc/timer_list"]);
    without_dev_mounts(&mut env);
    std::fs::write(rootfs(&env).join("dev/null"), "not null").unwrap();
    let (code, _, err) = env.run();
    assert_ne!(code, 0);
    assert_refused(&env, &err, "not the null device");
}

#[test]
fn fake_dev_null_symlink_cannot_defeat_masks() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("link-null", &["cat", "/proc/timer_list"]);
    without_dev_mounts(&mut env);
    symlink("/proc/sys/kernel/core_pattern", rootfs(&env).join("dev/null")).unwrap();
    let (code, _, err) = env.run();
    assert_ne!(code, 0);
    assert_refused(&env, &err, "opening /dev/null: Too many levels of symbolic links");
}

#[test]
fn sysctl_write_does_not_follow_a_mount_over_procfs() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("sysctl-bind", &["true"]);
    let decoy = env.dir.join("decoy");
    std::fs::write(&decoy, "untouched").unwrap();
    // A createContainer hook runs in the container's mount namespace before pivot_root:
    // it plants a file over the sysctl hull is about to write.
    let target = rootfs(&env).join("proc/sys/net/ipv4/ip_forward");
    let script = format!("mount --bind {} {}", decoy.display(), target.display());
    env.config["hooks"] = json!({"createContainer": [{"path": "/bin/sh", "args": ["sh", "-c", script]}]});
    env.config["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": "1"});
    let (code, _, err) = env.run();
    assert_ne!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&decoy).unwrap(), "untouched");
    assert_refused(&env, &err, "net.ipv4.ip_forward");
    assert!(err.contains("cross-device"), "refused for leaving the procfs mount: {err}");
}

#[test]
fn cwd_through_an_inherited_host_fd_is_refused() {
    if skip_unless_root() {
        return;
    }
    use std::os::unix::process::CommandExt;
    let mut env = Env::new("cwd-fd", &["sh", "-c", "ls ."]);
    env.config["process"]["cwd"] = json!("/proc/self/fd/3");
    env.write_config();
    let host = host_dir(&env, "host-secret");
    let dir = std::fs::File::open(&host).unwrap();
    let raw = std::os::fd::AsRawFd::as_raw_fd(&dir);
    let mut cmd = std::process::Command::new(HULL);
    cmd.arg("--root").arg(&env.root).args(["run", "--preserve-fds", "1", "--bundle"]).arg(&env.bundle).arg(&env.id);
    cmd.stdin(std::process::Stdio::null());
    // SAFETY: dup2 is async-signal-safe; it runs in the forked child before exec.
    unsafe {
        cmd.pre_exec(move || if libc::dup2(raw, 3) == 3 { Ok(()) } else { Err(std::io::Error::last_os_error()) });
    }
    let out = cmd.output().unwrap();
    assert!(!out.status.success(), "cwd reached the host: {}", String::from_utf8_lossy(&out.stdout));
    assert_refused(&env, &stderr(&out), "process.cwd");
}

#[test]
fn console_symlink_is_not_followed() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("console", &["sh", "-c", "echo pwned > /dev/console"]);
    // The image's own /dev (where the link is planted), with a devpts for the pty.
    env.config["mounts"].as_array_mut().unwrap().retain(|m| m["destination"] != "/dev");
    env.config["linux"]["maskedPaths"] = json!([]);
    symlink("pts/ptmx", rootfs(&env).join("dev/ptmx")).unwrap();
    env.config["process"]["terminal"] = json!(true);
    let victim = env.dir.join("victim");
    std::fs::write(&victim, "host file").unwrap();
    symlink(&victim, rootfs(&env).join("dev/console")).unwrap();
    let socket_path = env.dir.join("console.sock");
    let listener = std::os::unix::net::UnixListener::bind(&socket_path).unwrap();
    // Holds the engine's end until the container is gone; hull only sends on it.
    let holder = std::thread::spawn(move || listener.accept().map(|(stream, _)| stream));
    let bundle = env.bundle.to_string_lossy().into_owned();
    let socket = socket_path.to_string_lossy().into_owned();
    let (ok, err) = env.detached(&["create", "--console-socket", &socket, "--bundle", &bundle, &env.id]);
    assert!(ok, "{err}");
    let _console = holder.join().unwrap().unwrap();
    let init_mounts = std::fs::read_to_string(format!("/proc/{}/mountinfo", env.pid())).unwrap();
    assert!(init_mounts.lines().any(|l| l.contains(" /dev/console ") && l.contains(" - devpts ")), "the pty is not on /dev/console: {init_mounts}");
    let console = rootfs(&env).join("dev/console");
    assert!(!std::fs::symlink_metadata(&console).unwrap().file_type().is_symlink(), "the symlink was kept");
    assert!(host_mounts_under(&env.dir).is_empty(), "a mount reached the host");
    hull_ok(&env.root, &["delete", "--force", &env.id]);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "host file");
}

// ---- in a user namespace ----

fn with_user_namespace(env: &mut Env) {
    env.config["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "user"}));
    let map = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    env.config["linux"]["uidMappings"] = map.clone();
    env.config["linux"]["gidMappings"] = map;
}

#[test]
fn devices_in_a_user_namespace_are_bound_from_the_host() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("userns-dev", &["sh", "-c", "stat -c '%t %T' /dev/fuse /dev/null; grep -c ' /dev/fuse ' /proc/self/mountinfo"]);
    with_user_namespace(&mut env);
    env.config["linux"]["devices"] = json!([{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o666}]);
    assert_eq!(env.run_ok(), "a e5\n1 3\n1\n");
}

#[test]
fn idmapped_mount_in_a_user_namespace_maps_host_owners() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("userns-idmap", &["sh", "-c", "stat -c '%u %g' /data/f /own/f; touch /data/x 2>&1; true"]);
    with_user_namespace(&mut env);
    let volume = host_dir(&env, "volume");
    std::fs::write(volume.join("f"), "x").unwrap();
    std::os::unix::fs::chown(volume.join("f"), Some(0), Some(0)).unwrap();
    // The container's root cannot create directories in an image it does not own.
    std::fs::create_dir_all(rootfs(&env).join("data")).unwrap();
    std::fs::create_dir_all(rootfs(&env).join("own")).unwrap();
    add_mount(&mut env, json!({"destination": "/data", "source": volume, "options": ["rbind", "idmap", "ro"]}));
    let map = json!([{"containerID": 0, "hostID": 100007, "size": 65536}]);
    add_mount(&mut env, json!({"destination": "/own", "source": volume, "options": ["rbind", "ridmap"], "uidMappings": map, "gidMappings": map}));
    let out = env.run_ok();
    assert_eq!(out.lines().take(2).collect::<Vec<_>>(), ["0 0", "7 7"], "{out}");
    assert!(out.contains("Read-only file system"), "{out}");
}

#[test]
fn read_only_bind_in_a_user_namespace_keeps_locked_flags() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("locked", &["sh", "-c", "grep ' /data ' /proc/self/mountinfo; touch /data/x 2>&1; true"]);
    with_user_namespace(&mut env);
    let volume = host_dir(&env, "volume");
    // nosuid and nodev on this mount are locked for the container's user namespace.
    let made = std::process::Command::new("mount").args(["-t", "tmpfs", "-o", "nosuid,nodev,size=1m", "tmpfs"]).arg(&volume).status().unwrap();
    assert!(made.success());
    let _ = std::process::Command::new("mount").arg("--make-private").arg(&volume).status();
    std::fs::create_dir_all(rootfs(&env).join("data")).unwrap();
    add_mount(&mut env, json!({"destination": "/data", "source": volume, "options": ["rbind", "ro"]}));
    let result = env.run();
    let _ = std::process::Command::new("umount").arg(&volume).status();
    let (code, out, err) = result;
    assert_eq!(code, 0, "{err}");
    let flags = out.lines().next().unwrap_or_default().split(' ').nth(5).unwrap_or_default().to_string();
    assert!(flags.starts_with("ro,") && flags.contains("nosuid") && flags.contains("nodev"), "{out}");
    assert!(out.contains("Read-only file system"), "{out}");
}

#[test]
fn destination_swapped_for_a_symlink_during_setup_stays_inside() {
    if skip_unless_root() {
        return;
    }
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let mut env = Env::new("swap", &["sh", "-c", "echo pwned > /data/marker"]);
    let host = host_dir(&env, "host-side");
    let root = rootfs(&env);
    std::fs::create_dir_all(root.join("data")).unwrap();
    symlink(&host, root.join("data-link")).unwrap();
    add_mount(&mut env, json!({"destination": "/data", "type": "tmpfs", "source": "tmpfs"}));
    env.write_config();
    // Swaps /data between a directory and a symlink to the host for as long as containers start.
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let stop = stop.clone();
        let (a, b) = (std::ffi::CString::new(root.join("data").into_os_string().into_encoded_bytes()).unwrap(), std::ffi::CString::new(root.join("data-link").into_os_string().into_encoded_bytes()).unwrap());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                // SAFETY: two valid C strings; RENAME_EXCHANGE swaps the two names atomically.
                unsafe { libc::renameat2(libc::AT_FDCWD, a.as_ptr(), libc::AT_FDCWD, b.as_ptr(), libc::RENAME_EXCHANGE) };
            }
        })
    };
    for _ in 0..10 {
        let _ = env.run();
        let _ = hull(&env.root, &["delete", "--force", &env.id]);
    }
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    assert!(!host.join("marker").exists(), "the container wrote on the host");
    assert!(host_mounts_under(&env.dir).is_empty(), "a mount reached the host: {:?}", host_mounts_under(&env.dir));
}

#[test]
fn tmpfs_without_mode_takes_the_mode_of_the_directory_it_covers() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("tmpfs-mode", &["stat", "-c", "%a", "/private", "/fresh"]);
    std::fs::create_dir_all(rootfs(&env).join("private")).unwrap();
    std::fs::set_permissions(rootfs(&env).join("private"), std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    add_mount(&mut env, json!({"destination": "/private", "type": "tmpfs", "source": "tmpfs"}));
    add_mount(&mut env, json!({"destination": "/fresh", "type": "tmpfs", "source": "tmpfs"}));
    assert_eq!(env.run_ok(), "700\n1777\n");
}

#[test]
fn remount_option_changes_an_earlier_mount() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("remount", &["sh", "-c", "touch /scratch/x 2>&1; grep ' /scratch ' /proc/self/mountinfo; true"]);
    add_mount(&mut env, json!({"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}));
    add_mount(&mut env, json!({"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["remount", "ro", "size=2m"]}));
    let out = env.run_ok();
    assert!(out.contains("Read-only file system"), "{out}");
    assert_eq!(out.matches(" /scratch ").count(), 1, "remounted, not stacked: {out}");
    assert!(out.contains("size=2048k"), "{out}");
}

#[test]
fn missing_cwd_is_created_even_under_a_read_only_root() {
    if skip_unless_root() {
        return;
    }
    let mut env = Env::new("cwd-made", &["pwd"]);
    env.config["process"]["cwd"] = json!("/work/dir");
    env.config["root"]["readonly"] = json!(true);
    assert_eq!(env.run_ok(), "/work/dir\n");
}
