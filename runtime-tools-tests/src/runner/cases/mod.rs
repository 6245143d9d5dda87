//! The cases: each names the requirement it checks and either passes, fails
//! with a reason, or is skipped because this host cannot run it.

mod cgroups;
mod config;
mod hooks;
mod lifecycle;
mod terminal;

use crate::bundle::{Bundle, BundleError, Template};
use crate::exec::{self, ExecError};
use crate::host::Host;
use crate::runtime::Runtime;
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why a case did not pass.
#[derive(Debug)]
pub enum NotPass {
    Fail(String),
    Skip(String),
}

impl From<ExecError> for NotPass {
    fn from(e: ExecError) -> Self {
        NotPass::Fail(e.to_string())
    }
}

impl From<BundleError> for NotPass {
    fn from(e: BundleError) -> Self {
        NotPass::Fail(format!("suite error: {e}"))
    }
}

impl From<std::io::Error> for NotPass {
    fn from(e: std::io::Error) -> Self {
        NotPass::Fail(format!("suite error: {e}"))
    }
}

pub type CaseResult = Result<(), NotPass>;

/// Appends `item` to the array `v[key]`, making the array if needed.
pub fn push(v: &mut serde_json::Value, key: &str, item: serde_json::Value) {
    if let Some(a) = v.get_mut(key).and_then(serde_json::Value::as_array_mut) {
        a.push(item);
    } else {
        v[key] = serde_json::json!([item]);
    }
}

pub fn fail<T>(msg: impl Into<String>) -> Result<T, NotPass> {
    Err(NotPass::Fail(msg.into()))
}

pub fn skip<T>(msg: impl Into<String>) -> Result<T, NotPass> {
    Err(NotPass::Skip(msg.into()))
}

/// Fails with `msg` unless `cond`.
pub fn ensure(cond: bool, msg: impl FnOnce() -> String) -> CaseResult {
    if cond { Ok(()) } else { Err(NotPass::Fail(msg())) }
}

pub struct Case {
    pub name: &'static str,
    /// The spec file and the MUST/SHOULD sentence the case checks.
    pub cite: &'static str,
    pub run: Box<dyn Fn(&Ctx) -> CaseResult>,
}

pub fn case(name: &'static str, cite: &'static str, run: impl Fn(&Ctx) -> CaseResult + 'static) -> Case {
    Case { name, cite, run: Box::new(run) }
}

/// Everything a case may use, for one runtime.
pub struct Ctx<'a> {
    pub rt: &'a Runtime,
    pub host: &'a Host,
    pub template: &'a Template,
    /// Where bundles go; removed at the end whatever happens.
    pub work: &'a Path,
    seq: Cell<usize>,
}

/// A container id and its bundle, torn down on drop: `delete --force`,
/// then the bundle directory and any cgroup directories the case named.
pub struct Scope<'a> {
    pub rt: &'a Runtime,
    pub id: String,
    pub dir: PathBuf,
    pub ids: Vec<String>,
    pub cgroups: Vec<String>,
}

impl Drop for Scope<'_> {
    fn drop(&mut self) {
        self.rt.force_delete(&self.id);
        for id in &self.ids {
            self.rt.force_delete(id);
        }
        let mut names = self.cgroups.clone();
        names.push(self.id.clone());
        names.extend(self.ids.iter().cloned());
        remove_cgroups(&names);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const CGROUP_SUPER_MAGIC: i64 = 0x0027_e0eb;
const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;
const TMPFS_MAGIC: i64 = 0x0102_1994;

fn fs_type(path: &Path) -> Option<i64> {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).ok()?;
    // SAFETY: statfs is plain old data that statfs(2) fills.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: c is NUL-terminated and st is writable.
    if unsafe { libc::statfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    #[allow(clippy::unnecessary_cast)]
    Some(st.f_type as i64)
}

/// The cgroup directories (on a cgroup filesystem) named `name` under any
/// hierarchy in /sys/fs/cgroup.
pub fn cgroup_dirs(name: &str) -> Vec<PathBuf> {
    let name = name.trim_start_matches('/');
    let mut out = Vec::new();
    let mut candidates = vec![Path::new("/sys/fs/cgroup").join(name)];
    if let Ok(entries) = std::fs::read_dir("/sys/fs/cgroup") {
        candidates.extend(entries.filter_map(Result::ok).map(|e| e.path().join(name)));
    }
    for p in candidates {
        if p.is_dir() && matches!(fs_type(&p), Some(CGROUP_SUPER_MAGIC | CGROUP2_SUPER_MAGIC)) {
            out.push(p);
        }
    }
    out
}

/// Removes what runtimes left under /sys/fs/cgroup for names this suite
/// made up (unique per run): empty cgroups by rmdir, so nothing another
/// process uses is touched; and plain directories a runtime made on the
/// tmpfs that holds the hierarchies (crun does, where the runner unmounted
/// the unified hierarchy in its private mount namespace).
pub fn remove_cgroups(names: &[String]) {
    for name in names {
        let rel = name.trim_start_matches('/');
        if rel.is_empty() || rel.contains("..") {
            continue;
        }
        for p in cgroup_dirs(rel) {
            let _ = std::fs::remove_dir(&p);
        }
        let Ok(entries) = std::fs::read_dir("/sys/fs/cgroup") else { continue };
        for e in entries.filter_map(Result::ok) {
            let p = e.path().join(rel);
            if p.is_dir() && fs_type(&p) == Some(TMPFS_MAGIC) {
                let _ = std::fs::remove_dir_all(&p);
            }
        }
    }
}

impl<'a> Ctx<'a> {
    pub fn new(rt: &'a Runtime, host: &'a Host, template: &'a Template, work: &'a Path) -> Ctx<'a> {
        Ctx { rt, host, template, work, seq: Cell::new(0) }
    }

    /// A fresh container id, unique on this host for this run.
    pub fn id(&self) -> String {
        let n = self.seq.get() + 1;
        self.seq.set(n);
        format!("rtt-{}-{}-{n}", std::process::id(), self.rt.name.chars().filter(char::is_ascii_alphanumeric).collect::<String>())
    }

    /// A new bundle and the scope that cleans it up.
    pub fn bundle(&self) -> Result<(Bundle, Scope<'a>), NotPass> {
        let id = self.id();
        let dir = self.work.join(&id);
        let scope = Scope { rt: self.rt, id: id.clone(), dir: dir.clone(), ids: Vec::new(), cgroups: Vec::new() };
        let bundle = Bundle::new(self.template, dir, &self.host.facts)?;
        Ok((bundle, scope))
    }
}

/// The checker's verdict from its TAP output.
pub fn judge_checker(f: &exec::Finished) -> CaseResult {
    let failed: Vec<&str> = f.stdout.lines().filter(|l| l.starts_with("not ok")).collect();
    let passed = f.stdout.lines().filter(|l| l.starts_with("ok ")).count();
    if !failed.is_empty() {
        return fail(failed.join("\n"));
    }
    if !f.stdout.contains("# checker done") {
        return fail(format!("the checker did not run to the end ({})", f.describe()));
    }
    if !f.ok() {
        return fail(format!("run exited with {}", f.describe()));
    }
    ensure(passed > 0, || "the checker made no checks".into())
}

/// How long a container running the checker may take.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// Builds a bundle that runs the checker with `groups`, lets `tweak` adjust
/// it, runs it with `run` and judges the checker's output.
pub fn checker_case(ctx: &Ctx, groups: &[&str], tweak: impl FnOnce(&mut Bundle, &mut Scope) -> CaseResult) -> CaseResult {
    checker_case_then(ctx, groups, tweak, |_| Ok(()))
}

/// As `checker_case`, then `after` looks at the bundle before it goes.
pub fn checker_case_then(
    ctx: &Ctx,
    groups: &[&str],
    tweak: impl FnOnce(&mut Bundle, &mut Scope) -> CaseResult,
    after: impl FnOnce(&Bundle) -> CaseResult,
) -> CaseResult {
    let (mut b, mut scope) = ctx.bundle()?;
    b.run_checker(groups);
    tweak(&mut b, &mut scope)?;
    b.write()?;
    let mut cmd = ctx.rt.command();
    cmd.arg("run").arg("--bundle").arg(&b.dir).arg(&scope.id);
    let f = exec::run(cmd, &ctx.rt.scratch, &format!("{} run", ctx.rt.name), RUN_TIMEOUT)?;
    judge_checker(&f)?;
    after(&b)
}

/// Builds a bundle with `tweak` applied and expects `create` to fail and to
/// leave no container behind.
pub fn expect_create_error(ctx: &Ctx, tweak: impl FnOnce(&mut Bundle, &mut Scope) -> CaseResult) -> CaseResult {
    let (mut b, mut scope) = ctx.bundle()?;
    b.config["process"]["args"] = serde_json::json!(["/bin/true"]);
    tweak(&mut b, &mut scope)?;
    b.write()?;
    let f = ctx.rt.call(&["create", "--bundle", &b.dir.to_string_lossy(), &scope.id])?;
    if f.ok() {
        return fail("create succeeded; an error was required");
    }
    if let Ok(s) = ctx.rt.state(&scope.id) {
        return fail(format!("create failed but a container was left: {s}"));
    }
    // runtime.md: generating an error MUST leave the state of the environment
    // as if the operation were never attempted: no mount, no cgroup left.
    let dir = b.dir.to_string_lossy().into_owned();
    let mounts: Vec<String> = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default().lines().filter(|l| l.contains(dir.as_str())).map(str::to_string).collect();
    ensure(mounts.is_empty(), || format!("the failed create left mounts: {mounts:?}"))?;
    let cgroups = cgroup_dirs(&scope.id);
    ensure(cgroups.is_empty(), || format!("the failed create left cgroups: {cgroups:?}"))
}

pub fn all() -> Vec<Case> {
    let mut v = config::cases();
    v.extend(cgroups::cases());
    v.extend(lifecycle::cases());
    v.extend(hooks::cases());
    v.extend(terminal::cases());
    v
}
