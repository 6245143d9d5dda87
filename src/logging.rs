//! Logging to `--log` in runc's two formats. Engines read the json form:
//! one logrus-style object per line, `{"level":"error","msg":"...","time":"..."}`.

use crate::cli::LogFormat;
use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

struct Logger {
    file: Option<PathBuf>,
    format: LogFormat,
    debug: bool,
}

static LOGGER: OnceLock<Logger> = OnceLock::new();

pub fn init(file: Option<PathBuf>, format: LogFormat, debug: bool) {
    let _ = LOGGER.set(Logger { file, format, debug });
}

#[derive(Clone, Copy)]
pub enum Level {
    Debug,
    Warn,
    Error,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Warn => "warning",
            Level::Error => "error",
        }
    }
}

/// Writes one line to the log file; without `--log`, warnings and errors go to stderr.
pub fn log(level: Level, msg: &str) {
    let Some(logger) = LOGGER.get() else {
        eprintln!("{msg}");
        return;
    };
    if matches!(level, Level::Debug) && !logger.debug {
        return;
    }
    let line = format_line(logger.format, level, msg, SystemTime::now());
    let written = logger.file.as_ref().is_some_and(|path| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(line.as_bytes()))
            .is_ok()
    });
    if !written && !matches!(level, Level::Debug) {
        let _ = std::io::stderr().write_all(line.as_bytes());
    }
}

pub fn warn(msg: &str) {
    log(Level::Warn, msg);
}

pub fn debug(msg: impl FnOnce() -> String) {
    if LOGGER.get().is_some_and(|l| l.debug) {
        log(Level::Debug, &msg());
    }
}

fn format_line(format: LogFormat, level: Level, msg: &str, now: SystemTime) -> String {
    let time = rfc3339(now);
    match format {
        LogFormat::Json => {
            let obj = serde_json::json!({ "level": level.name(), "msg": msg, "time": time });
            format!("{obj}\n")
        }
        LogFormat::Text => format!("time=\"{time}\" level={} msg={}\n", level.name(), serde_json::Value::from(msg)),
    }
}

/// UTC time as RFC 3339 with nanoseconds, e.g. 2026-11-25T20:47:57.123456789Z.
pub fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86400, secs % 86400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_nanos()
    )
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rfc3339_known_dates() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000000000Z");
        let t = UNIX_EPOCH + Duration::new(1_795_639_677, 5);
        assert_eq!(rfc3339(t), "2026-11-25T20:47:57.000000005Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.000000000Z");
    }

    #[test]
    fn json_line_is_logrus_shaped() {
        let line = format_line(LogFormat::Json, Level::Error, "boom \"x\"", UNIX_EPOCH);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["level"], "error");
        assert_eq!(v["msg"], "boom \"x\"");
        assert_eq!(v["time"], "1970-01-01T00:00:00.000000000Z");
    }
}
