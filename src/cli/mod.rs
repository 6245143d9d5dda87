//! The command line, as runc 1.1 spells it. Parsing only: no syscalls here.

pub mod flags;

use flags::{FlagError, FlagSpec, Parsed, flag, option, parse, parse_all};
use std::path::PathBuf;

pub const DEFAULT_ROOT: &str = "/run/hull";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug)]
pub struct Global {
    pub root: PathBuf,
    pub log: Option<PathBuf>,
    pub log_format: LogFormat,
    pub debug: bool,
    pub systemd_cgroup: bool,
}

#[derive(Debug, Default)]
pub struct CreateArgs {
    pub id: String,
    pub bundle: PathBuf,
    pub pid_file: Option<PathBuf>,
    pub console_socket: Option<PathBuf>,
    pub no_pivot: bool,
    pub no_new_keyring: bool,
    pub preserve_fds: u32,
}

/// `hull update`: runc's flags, kept as given (update.rs gives them meaning).
#[derive(Debug, Default)]
pub struct UpdateArgs {
    pub id: String,
    /// A JSON file of linux.resources, or "-" for stdin.
    pub resources: Option<String>,
    /// (flag name, value) for every resource flag given, in UPDATE_FLAGS' names.
    pub values: Vec<(&'static str, String)>,
}

/// The resource flags of `runc update`; `cpu-shares` is accepted for `cpu-share`.
pub const UPDATE_FLAGS: &[&str] = &[
    "blkio-weight", "cpu-period", "cpu-quota", "cpu-burst", "cpu-rt-period", "cpu-rt-runtime", "cpu-share",
    "cpuset-cpus", "cpuset-mems", "kernel-memory", "kernel-memory-tcp", "memory", "memory-reservation",
    "memory-swap", "pids-limit", "l3-cache-schema", "mem-bw-schema",
];

const UPDATE: &[FlagSpec] = &[
    option(&["resources", "r"]),
    option(&["blkio-weight"]),
    option(&["cpu-period"]),
    option(&["cpu-quota"]),
    option(&["cpu-burst"]),
    option(&["cpu-rt-period"]),
    option(&["cpu-rt-runtime"]),
    option(&["cpu-share", "cpu-shares"]),
    option(&["cpuset-cpus"]),
    option(&["cpuset-mems"]),
    option(&["kernel-memory"]),
    option(&["kernel-memory-tcp"]),
    option(&["memory"]),
    option(&["memory-reservation"]),
    option(&["memory-swap"]),
    option(&["pids-limit"]),
    option(&["l3-cache-schema"]),
    option(&["mem-bw-schema"]),
];

#[derive(Debug, Default)]
pub struct ExecArgs {
    pub id: String,
    pub command: Vec<String>,
    pub process: Option<PathBuf>,
    pub console_socket: Option<PathBuf>,
    pub pid_file: Option<PathBuf>,
    pub detach: bool,
    pub tty: bool,
    pub cwd: Option<String>,
    pub env: Vec<String>,
    pub user: Option<String>,
    pub additional_gids: Vec<String>,
    pub caps: Vec<String>,
    pub no_new_privs: bool,
    pub apparmor: Option<String>,
    pub process_label: Option<String>,
    pub preserve_fds: u32,
    pub ignore_paused: bool,
}

#[derive(Debug)]
pub enum Command {
    Create(CreateArgs),
    Run { create: CreateArgs, detach: bool, keep: bool, no_subreaper: bool },
    Start { id: String },
    Exec(ExecArgs),
    State { id: String },
    Kill { id: String, signal: String, all: bool },
    Delete { id: String, force: bool },
    Pause { id: String },
    Resume { id: String },
    Update(UpdateArgs),
    Events { id: String, stats: bool, interval: std::time::Duration },
    Ps { id: String, json: bool, ps_args: Vec<String> },
    List { json: bool, quiet: bool },
    Spec { bundle: PathBuf, rootless: bool },
    Features,
    Version,
    Help,
}

pub struct Invocation {
    pub global: Global,
    pub command: Command,
}

const GLOBAL: &[FlagSpec] = &[
    option(&["root"]),
    option(&["log"]),
    option(&["log-format"]),
    flag(&["debug"]),
    flag(&["systemd-cgroup"]),
    option(&["rootless"]),
    option(&["criu"]),
    flag(&["version", "v"]),
    flag(&["help", "h"]),
];

const CREATE: &[FlagSpec] = &[
    option(&["bundle", "b"]),
    option(&["pid-file"]),
    option(&["console-socket"]),
    flag(&["no-pivot"]),
    flag(&["no-new-keyring"]),
    option(&["preserve-fds"]),
];

const EXEC: &[FlagSpec] = &[
    option(&["process", "p"]),
    option(&["console-socket"]),
    option(&["pid-file"]),
    flag(&["detach", "d"]),
    flag(&["tty", "t"]),
    option(&["cwd"]),
    option(&["env", "e"]),
    option(&["user", "u"]),
    option(&["additional-gids", "g"]),
    option(&["cap", "c"]),
    flag(&["no-new-privs"]),
    option(&["apparmor"]),
    option(&["process-label"]),
    option(&["preserve-fds"]),
    option(&["cgroup"]),
    flag(&["ignore-paused"]),
];

const RUN: &[FlagSpec] = &[
    option(&["bundle", "b"]),
    option(&["pid-file"]),
    option(&["console-socket"]),
    flag(&["no-pivot"]),
    flag(&["no-new-keyring"]),
    option(&["preserve-fds"]),
    flag(&["detach", "d"]),
    flag(&["keep"]),
    flag(&["no-subreaper"]),
];

pub fn parse_args(args: &[String]) -> Result<Invocation, FlagError> {
    let (parsed, used) = parse(GLOBAL, args)?;
    let global = Global {
        root: parsed.value("root").map_or_else(|| PathBuf::from(DEFAULT_ROOT), PathBuf::from),
        log: parsed.value("log").filter(|l| !l.is_empty()).map(PathBuf::from),
        log_format: match parsed.value("log-format") {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(FlagError::BadValue { name: "log-format".into(), value: other.into(), reason: "must be text or json".into() });
            }
        },
        debug: parsed.flag("debug")?,
        systemd_cgroup: parsed.flag("systemd-cgroup")?,
    };
    if parsed.flag("version")? {
        return Ok(Invocation { global, command: Command::Version });
    }
    let rest = &args[used..];
    let Some((verb, rest)) = rest.split_first() else {
        return Ok(Invocation { global, command: Command::Help });
    };
    let command = match verb.as_str() {
        "create" => Command::Create(create_args(&parse_all(CREATE, rest)?)?),
        "run" => {
            let p = parse_all(RUN, rest)?;
            Command::Run {
                create: create_args(&p)?,
                detach: p.flag("detach")?,
                keep: p.flag("keep")?,
                no_subreaper: p.flag("no-subreaper")?,
            }
        }
        "start" => Command::Start { id: one_id(&parse_all(&[], rest)?, "start")? },
        "exec" => Command::Exec(exec_args(&parse_all(EXEC, rest)?)?),
        "state" => Command::State { id: one_id(&parse_all(&[], rest)?, "state")? },
        "kill" => {
            let p = parse_all(&[flag(&["all", "a"])], rest)?;
            let (id, signal) = match p.positionals.as_slice() {
                [id] => (id.clone(), "SIGTERM".to_string()),
                [id, signal] => (id.clone(), signal.clone()),
                _ => return Err(FlagError::Usage("kill: usage: hull kill [--all] <container-id> [signal]".into())),
            };
            Command::Kill { id, signal, all: p.flag("all")? }
        }
        "delete" => {
            let p = parse_all(&[flag(&["force", "f"])], rest)?;
            Command::Delete { id: one_id(&p, "delete")?, force: p.flag("force")? }
        }
        "pause" => Command::Pause { id: one_id(&parse_all(&[], rest)?, "pause")? },
        "resume" => Command::Resume { id: one_id(&parse_all(&[], rest)?, "resume")? },
        "update" => {
            let p = parse_all(UPDATE, rest)?;
            let values = UPDATE_FLAGS.iter().filter_map(|name| p.value(name).map(|v| (*name, v.to_string()))).collect();
            Command::Update(UpdateArgs { id: one_id(&p, "update")?, resources: p.value("resources").map(String::from), values })
        }
        "events" => {
            let p = parse_all(&[flag(&["stats"]), option(&["interval"])], rest)?;
            let interval = match p.value("interval") {
                None => std::time::Duration::from_secs(5),
                Some(v) => flags::go_duration(v).filter(|d| !d.is_zero()).ok_or_else(|| FlagError::BadValue { name: "interval".into(), value: v.into(), reason: "not a positive duration like 5s or 100ms".into() })?,
            };
            Command::Events { id: one_id(&p, "events")?, stats: p.flag("stats")?, interval }
        }
        "ps" => {
            let p = parse_all(&[option(&["format", "f"])], rest)?;
            let json = match p.value("format") {
                None | Some("table") => false,
                Some("json") => true,
                Some(other) => {
                    return Err(FlagError::BadValue { name: "format".into(), value: other.into(), reason: "must be table or json".into() });
                }
            };
            let Some((id, ps_args)) = p.positionals.split_first() else {
                return Err(FlagError::Usage("ps: usage: hull ps [--format table|json] <container-id> [ps options]".into()));
            };
            let ps_args = ps_args.strip_prefix(&["--".to_string()]).unwrap_or(ps_args).to_vec();
            Command::Ps { id: id.clone(), json, ps_args }
        }
        "list" => {
            let p = parse_all(&[option(&["format", "f"]), flag(&["quiet", "q"])], rest)?;
            let json = match p.value("format") {
                None | Some("table") => false,
                Some("json") => true,
                Some(other) => {
                    return Err(FlagError::BadValue { name: "format".into(), value: other.into(), reason: "must be table or json".into() });
                }
            };
            Command::List { json, quiet: p.flag("quiet")? }
        }
        "spec" => {
            let p = parse_all(&[option(&["bundle", "b"]), flag(&["rootless"])], rest)?;
            Command::Spec { bundle: PathBuf::from(p.value("bundle").unwrap_or(".")), rootless: p.flag("rootless")? }
        }
        "features" => Command::Features,
        "help" | "h" => Command::Help,
        other => return Err(FlagError::Usage(format!("no such command: {other:?} (see hull help)"))),
    };
    Ok(Invocation { global, command })
}

fn create_args(p: &Parsed) -> Result<CreateArgs, FlagError> {
    Ok(CreateArgs {
        id: one_id(p, "create")?,
        bundle: PathBuf::from(p.value("bundle").unwrap_or(".")),
        pid_file: p.value("pid-file").filter(|v| !v.is_empty()).map(PathBuf::from),
        console_socket: p.value("console-socket").filter(|v| !v.is_empty()).map(PathBuf::from),
        no_pivot: p.flag("no-pivot")?,
        no_new_keyring: p.flag("no-new-keyring")?,
        preserve_fds: p.number("preserve-fds")?.unwrap_or(0),
    })
}

fn exec_args(p: &Parsed) -> Result<ExecArgs, FlagError> {
    let Some((id, command)) = p.positionals.split_first() else {
        return Err(FlagError::Usage("exec: usage: hull exec [options] <container-id> <command> [args...]".into()));
    };
    if command.is_empty() && p.value("process").is_none() {
        return Err(FlagError::Usage("exec: a command or --process is required".into()));
    }
    if !p.values("cgroup").is_empty() {
        return Err(FlagError::Usage("exec: --cgroup is not supported by hull yet".into()));
    }
    let some = |name| p.value(name).filter(|v| !v.is_empty()).map(String::from);
    Ok(ExecArgs {
        id: id.clone(),
        command: command.to_vec(),
        process: some("process").map(PathBuf::from),
        console_socket: some("console-socket").map(PathBuf::from),
        pid_file: some("pid-file").map(PathBuf::from),
        detach: p.flag("detach")?,
        tty: p.flag("tty")?,
        cwd: some("cwd"),
        env: p.values("env").to_vec(),
        user: some("user"),
        additional_gids: p.values("additional-gids").to_vec(),
        caps: p.values("cap").to_vec(),
        no_new_privs: p.flag("no-new-privs")?,
        apparmor: some("apparmor"),
        process_label: some("process-label"),
        preserve_fds: p.number("preserve-fds")?.unwrap_or(0),
        ignore_paused: p.flag("ignore-paused")?,
    })
}

fn one_id(p: &Parsed, verb: &str) -> Result<String, FlagError> {
    match p.positionals.as_slice() {
        [id] => Ok(id.clone()),
        [] => Err(FlagError::Usage(format!("{verb}: requires exactly 1 argument: the container id"))),
        _ => Err(FlagError::Usage(format!("{verb}: requires exactly 1 argument, got {:?}", p.positionals))),
    }
}

pub const USAGE: &str = "hull: an OCI container runtime

usage: hull [global options] command [command options] [arguments...]

commands:
  create   create a container from a bundle, stopped before its process runs
  start    run the process of a created container
  exec     run another process in a running container
  run      create and start a container, then wait for it
  state    print a container's state as JSON
  kill     send a signal to a container's init (or, with --all, every process)
  delete   delete a container and everything made for it
  list     list containers
  pause    freeze every process of a container
  resume   thaw a paused container
  update   change a container's resource limits (runc's flags, or --resources FILE|-)
  events   stream a container's stats and OOM events (--stats: print stats once)
  ps       list a container's processes (--format table|json; extra args go to ps)
  spec     write a default config.json
  features print what this runtime supports, as JSON

global options:
  --root DIR           state directory (default /run/hull)
  --log FILE           log to FILE instead of stderr
  --log-format FORMAT  text or json
  --debug              log debug messages
  --systemd-cgroup     use systemd for cgroups (not supported: refused)
  --version, -v        print the version
";

#[cfg(test)]
mod tests {
    use super::*;

    fn invoke(s: &str) -> Invocation {
        let args: Vec<String> = s.split_whitespace().map(String::from).collect();
        parse_args(&args).unwrap()
    }

    #[test]
    fn containerd_create() {
        let inv = invoke("--root /r --log /b/log.json --log-format json create --bundle /b --pid-file /b/init.pid --no-pivot ctr");
        assert_eq!(inv.global.root, PathBuf::from("/r"));
        assert_eq!(inv.global.log_format, LogFormat::Json);
        let Command::Create(c) = inv.command else { panic!() };
        assert_eq!(c.id, "ctr");
        assert_eq!(c.bundle, PathBuf::from("/b"));
        assert_eq!(c.pid_file, Some(PathBuf::from("/b/init.pid")));
        assert!(c.no_pivot);
    }

    #[test]
    fn kill_forms() {
        let Command::Kill { id, signal, all } = invoke("kill --all c 9").command else { panic!() };
        assert_eq!((id.as_str(), signal.as_str(), all), ("c", "9", true));
        let Command::Kill { signal, .. } = invoke("kill c").command else { panic!() };
        assert_eq!(signal, "SIGTERM");
    }

    #[test]
    fn cgroup_verbs() {
        let Command::Update(u) = invoke("update --resources=- --memory 64m --cpu-shares 512 -pids-limit=5 c").command else { panic!() };
        assert_eq!(u.resources.as_deref(), Some("-"));
        assert_eq!(u.values, [("cpu-share", "512".to_string()), ("memory", "64m".to_string()), ("pids-limit", "5".to_string())]);
        assert_eq!(u.id, "c");
        let Command::Events { stats, interval, .. } = invoke("events --interval=250ms c").command else { panic!() };
        assert_eq!((stats, interval), (false, std::time::Duration::from_millis(250)));
        let Command::Events { stats, .. } = invoke("events --stats c").command else { panic!() };
        assert!(stats);
        let Command::Ps { id, json, ps_args } = invoke("ps --format json c -o pid,comm").command else { panic!() };
        assert_eq!((id.as_str(), json, ps_args), ("c", true, vec!["-o".to_string(), "pid,comm".to_string()]));
        assert!(matches!(invoke("pause c").command, Command::Pause { .. }));
    }

    #[test]
    fn exec_forms() {
        let Command::Exec(e) = invoke("exec --process /p.json --detach --pid-file /x.pid c").command else { panic!() };
        assert_eq!((e.id.as_str(), e.detach), ("c", true));
        assert_eq!(e.process, Some(PathBuf::from("/p.json")));
        let Command::Exec(e) = invoke("exec -e A=1 -e B=2 -u 1000:1000 -t c ls -la /").command else { panic!() };
        assert_eq!(e.env, ["A=1", "B=2"]);
        assert_eq!(e.command, ["ls", "-la", "/"]);
        assert!(e.tty);
        let args: Vec<String> = ["exec", "c"].iter().map(|s| s.to_string()).collect();
        assert!(parse_args(&args).is_err());
    }

    #[test]
    fn run_flags() {
        let Command::Run { detach, no_subreaper, create, .. } = invoke("run -d -no-subreaper -b x c").command else { panic!() };
        assert!(detach && no_subreaper);
        assert_eq!(create.bundle, PathBuf::from("x"));
    }
}
