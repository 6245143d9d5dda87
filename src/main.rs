//! The `hull` binary: parse, set up logging, run, map the error to an exit code.

use hull::cli::{self, Command};
use hull::container::{self, ContainerError};
use hull::logging;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let invocation = match cli::parse_args(&args) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("hull: {e}");
            std::process::exit(2);
        }
    };
    let global = &invocation.global;
    logging::init(global.log.clone(), global.log_format, global.debug);
    let result: Result<i32, ContainerError> = match &invocation.command {
        Command::Create(args) => container::create::create(global, args, container::create::Console::Detached).map(|_| 0),
        Command::Run { create, detach, keep, no_subreaper } => container::run::run(global, create, *detach, *keep, *no_subreaper),
        Command::Exec(args) => container::exec::exec(global, args),
        Command::Start { id } => container::start::start(global, id).map(|()| 0),
        Command::State { id } => container::info::state(global, id).map(|()| 0),
        Command::Kill { id, signal, all } => container::kill::kill(global, id, signal, *all).map(|()| 0),
        Command::Delete { id, force } => container::delete::delete(global, id, *force).map(|()| 0),
        Command::Pause { id } => container::pause::pause(global, id).map(|()| 0),
        Command::Resume { id } => container::resume::resume(global, id).map(|()| 0),
        Command::Update(args) => container::update::update(global, args).map(|()| 0),
        Command::Events { id, stats, interval } => container::events::events(global, id, *stats, *interval).map(|()| 0),
        Command::Ps { id, json, ps_args } => container::ps::ps(global, id, *json, ps_args).map(|()| 0),
        Command::List { json, quiet } => container::info::list(global, *json, *quiet).map(|()| 0),
        Command::Spec { bundle, rootless } => container::spec::spec(bundle, *rootless).map(|()| 0),
        Command::Features => container::features::features().map(|()| 0),
        Command::Version => {
            println!("hull version {}\nspec: 1.3.0", env!("CARGO_PKG_VERSION"));
            Ok(0)
        }
        Command::Help => {
            print!("{}", cli::USAGE);
            Ok(0)
        }
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            let message = e.to_string();
            if global.log.is_some() {
                logging::log(logging::Level::Error, &message);
            }
            eprintln!("hull: {message}");
            std::process::exit(1);
        }
    }
}
