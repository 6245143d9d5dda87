//! Root integration tests: real containers from a busybox bundle, checked
//! from inside. Each test gets its own state root and bundle directory.
#![allow(dead_code)]

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

pub const HULL: &str = env!("CARGO_BIN_EXE_hull");

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Skips (returns true) unless running as root with busybox-static present.
pub fn skip_unless_root() -> bool {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root");
        return true;
    }
    if !Path::new("/bin/busybox").exists() {
        panic!("busybox-static is missing: apt-get install busybox-static (make test does)");
    }
    false
}

/// A state root, a bundle and a container id unique to one test.
pub struct Env {
    pub dir: PathBuf,
    pub root: PathBuf,
    pub bundle: PathBuf,
    pub id: String,
    pub config: Value,
}

impl Env {
    /// A bundle whose process runs `args`, with hull's default config (no terminal).
    pub fn new(test: &str, args: &[&str]) -> Env {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let id = format!("t-{test}-{}-{n}", std::process::id());
        let dir = std::env::temp_dir().join(format!("hull-test-{id}"));
        let _ = std::fs::remove_dir_all(&dir);
        let bundle = dir.join("bundle");
        let root = dir.join("state");
        make_rootfs(&bundle.join("rootfs"));
        let mut config = hull::container::spec::default_spec(false);
        config["process"]["terminal"] = json!(false);
        config["process"]["args"] = json!(args);
        Env { dir, root, bundle, id, config }
    }

    pub fn write_config(&self) {
        std::fs::write(self.bundle.join("config.json"), serde_json::to_vec_pretty(&self.config).unwrap()).unwrap();
    }

    /// Runs hull with this test's --root; the config is written first.
    pub fn hull(&self, args: &[&str]) -> Output {
        self.write_config();
        hull(&self.root, args)
    }

    /// `hull run` in the foreground; returns (exit code, stdout, stderr).
    pub fn run(&self) -> (i32, String, String) {
        let bundle = self.bundle.to_string_lossy().into_owned();
        let out = self.hull(&["run", "--bundle", &bundle, &self.id]);
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    }

    /// Runs the container and asserts it exited 0; returns its stdout.
    pub fn run_ok(&self) -> String {
        let (code, out, err) = self.run();
        assert_eq!(code, 0, "hull run failed: stdout {out:?} stderr {err:?}");
        out
    }

    /// `hull create`: the init inherits hull's stdio, so it gets files, not
    /// pipes the test would wait on; returns (success, stderr).
    pub fn create(&self) -> (bool, String) {
        let bundle = self.bundle.to_string_lossy().into_owned();
        self.detached(&["create", "--bundle", &bundle, &self.id])
    }

    /// Runs hull with stdout and stderr going to files in the test dir.
    pub fn detached(&self, args: &[&str]) -> (bool, String) {
        self.write_config();
        let out = self.dir.join("container.out");
        let err = self.dir.join("hull.err");
        let status = Command::new(HULL)
            .arg("--root")
            .arg(&self.root)
            .args(args)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .status()
            .unwrap();
        (status.success(), std::fs::read_to_string(err).unwrap_or_default())
    }

    /// What the container wrote to stdout so far (after `create`/`run -d`).
    pub fn container_output(&self) -> String {
        std::fs::read_to_string(self.dir.join("container.out")).unwrap_or_default()
    }

    pub fn state(&self) -> Value {
        let out = hull(&self.root, &["state", &self.id]);
        assert!(out.status.success(), "state failed: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    pub fn state_dir(&self) -> PathBuf {
        self.root.join(&self.id)
    }

    /// Asserts nothing of the container is left: state dir, cgroups, processes.
    pub fn assert_clean(&self) {
        assert!(!self.state_dir().exists(), "state dir {} left behind", self.state_dir().display());
        for entry in std::fs::read_dir("/sys/fs/cgroup").into_iter().flatten().flatten() {
            let cg = entry.path().join(&self.id);
            assert!(!cg.exists(), "cgroup {} left behind", cg.display());
        }
        let bundle = self.bundle.to_string_lossy().into_owned();
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        assert!(!mounts.contains(&bundle), "a mount under {bundle} left behind");
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            if let Ok(root) = std::fs::read_link(entry.path().join("root")) {
                assert!(!root.starts_with(&self.bundle), "process {:?} left in the container", entry.file_name());
            }
        }
    }

    /// The init's pid from `state`.
    pub fn pid(&self) -> i32 {
        self.state()["pid"].as_i64().unwrap() as i32
    }

    /// Blocks until the process `pid` has exited (pidfd), at most 10 s.
    pub fn wait_exit(pid: i32) {
        // SAFETY: pidfd_open takes a pid and flags.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as i32;
        if fd < 0 {
            return;
        }
        let mut pfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut pfd, 1, 10_000) };
        // SAFETY: fd is ours.
        unsafe { libc::close(fd) };
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = hull(&self.root, &["delete", "--force", &self.id]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A busybox-static rootfs with every applet linked.
pub fn make_rootfs(rootfs: &Path) {
    for dir in ["bin", "proc", "sys", "dev", "etc", "tmp", "root"] {
        std::fs::create_dir_all(rootfs.join(dir)).unwrap();
    }
    std::fs::copy("/bin/busybox", rootfs.join("bin/busybox")).unwrap();
    let list = Command::new("/bin/busybox").arg("--list").output().unwrap();
    for applet in String::from_utf8_lossy(&list.stdout).lines().filter(|a| *a != "busybox") {
        let _ = std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(applet));
    }
    std::fs::write(rootfs.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n").unwrap();
    std::fs::write(rootfs.join("etc/group"), "root:x:0:\nnogroup:x:65534:\n").unwrap();
}

/// Runs hull with `--root`, stdin from /dev/null.
pub fn hull(root: &Path, args: &[&str]) -> Output {
    Command::new(HULL).arg("--root").arg(root).args(args).stdin(Stdio::null()).output().unwrap()
}

pub fn hull_ok(root: &Path, args: &[&str]) -> Output {
    let out = hull(root, args);
    assert!(out.status.success(), "hull {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
