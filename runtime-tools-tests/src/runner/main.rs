//! The runner: builds bundles, drives each runtime through its command line,
//! prints TAP per case (one column per runtime when several are given) and
//! the summary line `conformance: N passed, N failed, N skipped`.
//!
//! Usage: runner --runtime PATH [--runtime PATH...] [--known-gaps FILE]
//!               [--checker PATH] [--busybox PATH] [--only PREFIX] [-v] [--list]
//! RUNTIME=PATH stands for one --runtime. A runtime whose file name is `hull`
//! is held to runtime-tools-tests/known-gaps, another one to
//! known-gaps.<name> if it exists, unless --known-gaps says otherwise.

mod bundle;
mod cases;
mod exec;
mod gaps;
mod host;
mod runtime;

use cases::{Case, Ctx, NotPass};
use gaps::Gaps;
use runtime::Runtime;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
enum RunnerError {
    #[error("{0}")]
    Usage(String),
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
    #[error(transparent)]
    Bundle(#[from] bundle::BundleError),
    #[error(transparent)]
    Gaps(#[from] gaps::GapsError),
}

struct Options {
    runtimes: Vec<PathBuf>,
    known_gaps: Option<String>,
    checker: PathBuf,
    busybox: PathBuf,
    only: Option<String>,
    verbose: bool,
    list: bool,
}

fn parse_args() -> Result<Options, RunnerError> {
    let mut args = std::env::args().skip(1);
    let exe_dir = std::env::current_exe().ok().and_then(|p| p.parent().map(Path::to_path_buf)).unwrap_or_default();
    let mut o = Options { runtimes: Vec::new(), known_gaps: None, checker: exe_dir.join("checker"), busybox: PathBuf::from("/bin/busybox"), only: None, verbose: false, list: false };
    while let Some(a) = args.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        let mut value = |name: &str| inline.clone().or_else(|| args.next()).ok_or_else(|| RunnerError::Usage(format!("{name} needs a value")));
        match flag.as_str() {
            "--runtime" => o.runtimes.push(PathBuf::from(value("--runtime")?)),
            "--known-gaps" => o.known_gaps = Some(value("--known-gaps")?),
            "--checker" => o.checker = PathBuf::from(value("--checker")?),
            "--busybox" => o.busybox = PathBuf::from(value("--busybox")?),
            "--only" => o.only = Some(value("--only")?),
            "-v" | "--verbose" => o.verbose = true,
            "--list" => o.list = true,
            "-h" | "--help" => {
                return Err(RunnerError::Usage("usage: runner --runtime PATH [--runtime PATH...] [--known-gaps FILE] [--checker PATH] [--busybox PATH] [--only PREFIX] [-v]".into()));
            }
            other => return Err(RunnerError::Usage(format!("unknown argument {other}"))),
        }
    }
    if o.runtimes.is_empty()
        && let Ok(r) = std::env::var("RUNTIME")
    {
        o.runtimes.extend(r.split_whitespace().map(PathBuf::from));
    }
    if o.runtimes.is_empty() && !o.list {
        return Err(RunnerError::Usage("no runtime: pass --runtime PATH or set RUNTIME".into()));
    }
    Ok(o)
}

/// The suite's temp dir; removed on drop, whatever happened.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir, RunnerError> {
        let mut template = *b"/tmp/runtime-tools-tests.XXXXXX\0";
        // SAFETY: template is a writable NUL-terminated buffer ending in XXXXXX.
        let p = unsafe { libc::mkdtemp(template.as_mut_ptr().cast()) };
        if p.is_null() {
            return Err(RunnerError::Io { what: "mkdtemp".into(), source: std::io::Error::last_os_error() });
        }
        let s = String::from_utf8_lossy(&template[..template.len() - 1]).into_owned();
        // Containers in a user namespace must reach their rootfs through it.
        std::fs::set_permissions(&s, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .map_err(|source| RunnerError::Io { what: format!("chmod {s}"), source })?;
        Ok(TempDir(PathBuf::from(s)))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[derive(Clone)]
enum Verdict {
    Pass,
    Fail(String),
    Skip(String),
}

struct Column {
    rt: Runtime,
    gaps: Option<Gaps>,
    results: Vec<Verdict>,
    secs: f64,
}

impl Column {
    fn counts(&self) -> (usize, usize, usize) {
        let p = self.results.iter().filter(|v| matches!(v, Verdict::Pass)).count();
        let f = self.results.iter().filter(|v| matches!(v, Verdict::Fail(_))).count();
        (p, f, self.results.len() - p - f)
    }

    /// What is wrong with result `i` against the known gaps, if anything.
    fn unexpected(&self, case: &Case, i: usize) -> Option<String> {
        let gap = self.gaps.as_ref().and_then(|g| g.find(case.name));
        match (&self.results[i], gap) {
            (Verdict::Fail(_), None) => Some("fails".into()),
            (Verdict::Pass, Some(g)) if !g.intermittent => Some(format!("passes but is listed in known-gaps ({}): remove it", g.area)),
            _ => None,
        }
    }
}

/// Set by SIGINT/SIGTERM: the remaining cases are skipped and everything is
/// still cleaned up.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

fn catch_signals() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe { libc::signal(sig, on_signal as *const () as libc::sighandler_t) };
    }
}

fn run_column(col: &mut Column, cases: &[Case], host: &host::Host, template: &bundle::Template, work: &Path, tap: bool) {
    let ctx = Ctx::new(&col.rt, host, template, work);
    let started = Instant::now();
    for (i, case) in cases.iter().enumerate() {
        if INTERRUPTED.load(Ordering::SeqCst) {
            col.results.push(Verdict::Skip("interrupted".into()));
            if tap {
                print_tap(col, case, i);
            }
            continue;
        }
        let verdict = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (case.run)(&ctx))) {
            Ok(Ok(())) => Verdict::Pass,
            Ok(Err(NotPass::Fail(m))) => Verdict::Fail(m),
            Ok(Err(NotPass::Skip(m))) => Verdict::Skip(m),
            Err(_) => Verdict::Fail("the runner panicked in this case".into()),
        };
        col.results.push(verdict);
        if tap {
            print_tap(col, case, i);
        }
    }
    col.secs = started.elapsed().as_secs_f64();
}

fn comment(text: &str) {
    for l in text.lines() {
        println!("#   {l}");
    }
}

fn print_tap(col: &Column, case: &Case, i: usize) {
    let n = i + 1;
    let gap = col.gaps.as_ref().and_then(|g| g.find(case.name));
    match (&col.results[i], gap) {
        (Verdict::Pass, None) => println!("ok {n} - {}", case.name),
        (Verdict::Pass, Some(g)) if g.intermittent => println!("ok {n} - {} # passed this time; known-gaps lists it as intermittent ({})", case.name, g.area),
        (Verdict::Pass, Some(g)) => println!("ok {n} - {} # listed in known-gaps ({}) but passes: remove it from the list", case.name, g.area),
        (Verdict::Skip(why), _) => println!("ok {n} - {} # SKIP {why}", case.name),
        (Verdict::Fail(why), g) => {
            match g {
                Some(g) => println!("not ok {n} - {} # TODO known gap: {}", case.name, g.area),
                None => println!("not ok {n} - {}", case.name),
            }
            comment(&format!("requirement: {}", case.cite));
            comment(why);
        }
    }
}

fn main() {
    match real_main() {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("runner: {e}");
            std::process::exit(2);
        }
    }
}

fn real_main() -> Result<i32, RunnerError> {
    let opts = parse_args()?;
    if opts.list {
        // The requirement table of the README: spec file | requirement | case,
        // by file.
        let mut rows: Vec<(String, String, &str)> = cases::all()
            .iter()
            .map(|c| {
                let (file, text) = c.cite.split_once(": ").unwrap_or(("", c.cite));
                (file.to_string(), text.replace('|', "\\|"), c.name)
            })
            .collect();
        rows.sort();
        for (file, text, name) in rows {
            println!("| {file} | {text} | `{name}` |");
        }
        return Ok(0);
    }
    // Containers whose runtime exits are reparented to us, so we can reap them.
    // SAFETY: prctl with an integer argument.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    catch_signals();
    let checker = opts.checker.canonicalize().map_err(|source| RunnerError::Io { what: format!("checker {}", opts.checker.display()), source })?;
    let template = bundle::Template::new(opts.busybox.clone(), checker)?;
    let host = host::Host::probe();
    let tmp = TempDir::new()?;
    let mut cases = cases::all();
    if let Some(only) = &opts.only {
        cases.retain(|c| c.name.starts_with(only.as_str()));
    }
    let explicit_gaps = opts.known_gaps.as_deref().map(Gaps::load).transpose()?;
    // hull is held to known-gaps; a reference runtime to known-gaps.<name>
    // when there is one (what this suite expects of runc 1.1 and crun 1.8).
    let default_gaps = |name: &str| {
        let file = if name == "hull" { "known-gaps".to_string() } else { format!("known-gaps.{name}") };
        Path::new(env!("CARGO_MANIFEST_DIR")).join(file)
    };
    let mut columns = Vec::new();
    for (i, path) in opts.runtimes.iter().enumerate() {
        let binary = path.canonicalize().map_err(|source| RunnerError::Io { what: format!("runtime {}", path.display()), source })?;
        let name = binary.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| format!("runtime{i}"));
        let gaps = match &opts.known_gaps {
            Some(p) => Some(Gaps::load(p)?),
            None if default_gaps(&name).exists() => Some(Gaps::load(&default_gaps(&name).to_string_lossy())?),
            None => None,
        };
        let dirs = ["root", "scratch", "bundles"].map(|d| tmp.0.join(format!("{i}-{d}")));
        for d in &dirs {
            std::fs::create_dir_all(d).map_err(|source| RunnerError::Io { what: format!("mkdir {}", d.display()), source })?;
        }
        let [root, scratch, _] = dirs;
        columns.push(Column { rt: Runtime { binary, name, root, scratch }, gaps, results: Vec::new(), secs: 0.0 });
    }
    drop(explicit_gaps);
    let single = columns.len() == 1;
    if single {
        println!("TAP version 13");
        println!("# runtime: {}", columns[0].rt.binary.display());
        println!("1..{}", cases.len());
    }
    for (i, col) in columns.iter_mut().enumerate() {
        let work = tmp.0.join(format!("{i}-bundles"));
        if !single {
            eprintln!("# running {} cases against {}", cases.len(), col.rt.binary.display());
        }
        run_column(col, &cases, &host, &template, &work, single);
        // Anything a case left behind in this runtime's root goes now.
        if let Ok(f) = col.rt.call(&["list", "--quiet"]) {
            for id in f.stdout.lines().filter(|l| l.starts_with("rtt-")) {
                col.rt.force_delete(id);
            }
        }
    }
    if !single {
        print_table(&columns, &cases, opts.verbose);
    }
    let mut unexpected = 0;
    for col in &columns {
        let (p, f, s) = col.counts();
        for (i, case) in cases.iter().enumerate() {
            if let Some(why) = col.unexpected(case, i) {
                unexpected += 1;
                if col.gaps.is_some() {
                    println!("# {}: {} {why}", col.rt.name, case.name);
                }
            }
        }
        if single {
            println!("# {:.1}s", col.secs);
            println!("conformance: {p} passed, {f} failed, {s} skipped");
        } else {
            println!("conformance: {p} passed, {f} failed, {s} skipped  # {} in {:.1}s", col.rt.name, col.secs);
        }
    }
    reap_all();
    if INTERRUPTED.load(Ordering::SeqCst) {
        println!("# interrupted: the remaining cases were skipped");
        return Ok(130);
    }
    Ok(i32::from(unexpected > 0))
}

fn print_table(columns: &[Column], cases: &[Case], verbose: bool) {
    let width = cases.iter().map(|c| c.name.len()).max().unwrap_or(4).max(4);
    let mut header = format!("{:width$}", "case");
    for c in columns {
        header.push_str(&format!("  {:>8}", c.rt.name));
    }
    println!("{header}");
    for (i, case) in cases.iter().enumerate() {
        let mut row = format!("{:width$}", case.name);
        for c in columns {
            let gap = c.gaps.as_ref().and_then(|g| g.find(case.name));
            let cell = match (&c.results[i], gap.map(|g| g.intermittent)) {
                (Verdict::Pass, None) | (Verdict::Pass, Some(true)) => "ok",
                (Verdict::Pass, Some(false)) => "ok(gap!)",
                (Verdict::Fail(_), Some(_)) => "gap",
                (Verdict::Fail(_), None) => "FAIL",
                (Verdict::Skip(_), _) => "skip",
            };
            row.push_str(&format!("  {cell:>8}"));
        }
        println!("{row}");
    }
    for c in columns {
        for (i, case) in cases.iter().enumerate() {
            match &c.results[i] {
                Verdict::Fail(why) => {
                    let first = if verbose { why.clone() } else { why.lines().next().unwrap_or("").chars().take(200).collect() };
                    println!("# {} {}: {first}", c.rt.name, case.name);
                }
                Verdict::Skip(why) if verbose => println!("# {} {}: skipped: {why}", c.rt.name, case.name),
                _ => {}
            }
        }
    }
}

/// Reaps whatever was reparented to us and has exited.
fn reap_all() {
    loop {
        // SAFETY: WNOHANG wait for any child; returns 0 or -1 when none is ready.
        let r = unsafe { libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) };
        if r <= 0 {
            break;
        }
    }
}
