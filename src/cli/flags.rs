//! Go `flag`-style parsing, as runc's urfave/cli does it: `-name` and
//! `--name` are the same flag, a value follows as `=v` or as the next word,
//! a bool may be `--name=false`, and parsing stops at the first positional
//! word or at `--`.

use std::collections::HashMap;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FlagError {
    #[error("flag provided but not defined: -{0}")]
    Unknown(String),
    #[error("flag needs an argument: -{0}")]
    MissingValue(String),
    #[error("invalid boolean value {value:?} for -{name}")]
    BadBool { name: String, value: String },
    #[error("invalid value {value:?} for -{name}: {reason}")]
    BadValue { name: String, value: String, reason: String },
    #[error("{0}")]
    Usage(String),
}

/// One flag a command accepts: every spelling, and whether it takes a value.
pub struct FlagSpec {
    pub names: &'static [&'static str],
    pub takes_value: bool,
}

pub const fn flag(names: &'static [&'static str]) -> FlagSpec {
    FlagSpec { names, takes_value: false }
}

pub const fn option(names: &'static [&'static str]) -> FlagSpec {
    FlagSpec { names, takes_value: true }
}

/// What was given, keyed by each flag's first name.
#[derive(Debug, Default)]
pub struct Parsed {
    values: HashMap<&'static str, Vec<String>>,
    pub positionals: Vec<String>,
}

impl Parsed {
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values.get(name).and_then(|v| v.last()).map(String::as_str)
    }

    pub fn values(&self, name: &str) -> &[String] {
        self.values.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn flag(&self, name: &str) -> Result<bool, FlagError> {
        match self.value(name) {
            None => Ok(false),
            Some("" | "true" | "1" | "t" | "T" | "TRUE" | "True") => Ok(true),
            Some("false" | "0" | "f" | "F" | "FALSE" | "False") => Ok(false),
            Some(other) => Err(FlagError::BadBool { name: name.into(), value: other.into() }),
        }
    }

    pub fn number<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, FlagError>
    where
        T::Err: std::fmt::Display,
    {
        self.value(name)
            .map(|v| {
                v.parse()
                    .map_err(|e: T::Err| FlagError::BadValue { name: name.into(), value: v.into(), reason: e.to_string() })
            })
            .transpose()
    }
}

/// Parses `args` against `specs`; stops at the first word that is not a flag.
pub fn parse(specs: &[FlagSpec], args: &[String]) -> Result<(Parsed, usize), FlagError> {
    let mut parsed = Parsed::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        if arg == "--" {
            i += 1;
            break;
        }
        let Some(body) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')).filter(|b| !b.is_empty()) else {
            break;
        };
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (body, None),
        };
        let spec = specs
            .iter()
            .find(|s| s.names.contains(&name))
            .ok_or_else(|| FlagError::Unknown(name.to_string()))?;
        let value = match (spec.takes_value, inline) {
            (_, Some(v)) => v.to_string(),
            (false, None) => String::new(),
            (true, None) => {
                i += 1;
                args.get(i).cloned().ok_or_else(|| FlagError::MissingValue(name.to_string()))?
            }
        };
        parsed.values.entry(spec.names[0]).or_default().push(value);
        i += 1;
    }
    Ok((parsed, i))
}

/// Parses a whole command: flags, then positionals (which may not hold flags).
pub fn parse_all(specs: &[FlagSpec], args: &[String]) -> Result<Parsed, FlagError> {
    let (mut parsed, used) = parse(specs, args)?;
    parsed.positionals = args[used..].to_vec();
    Ok(parsed)
}

/// A Go `time.Duration` string: "5s", "100ms", "1m30s", "1.5h", "250us".
pub fn go_duration(text: &str) -> Option<std::time::Duration> {
    let mut rest = text;
    let mut total = 0f64;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += number * seconds;
    }
    Some(std::time::Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECS: &[FlagSpec] = &[option(&["bundle", "b"]), flag(&["detach", "d"]), flag(&["no-subreaper"]), option(&["interval"])];

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn go_spellings() {
        let p = parse_all(SPECS, &words("-b /x --detach -no-subreaper --interval=5s id extra")).unwrap();
        assert_eq!(p.value("bundle"), Some("/x"));
        assert!(p.flag("detach").unwrap());
        assert!(p.flag("no-subreaper").unwrap());
        assert_eq!(p.value("interval"), Some("5s"));
        assert_eq!(p.positionals, ["id", "extra"]);
        let p = parse_all(SPECS, &words("--bundle=/y --detach=false id")).unwrap();
        assert_eq!(p.value("bundle"), Some("/y"));
        assert!(!p.flag("detach").unwrap());
    }

    #[test]
    fn stops_at_first_positional_and_double_dash() {
        let p = parse_all(SPECS, &words("id -d")).unwrap();
        assert_eq!(p.positionals, ["id", "-d"]);
        let p = parse_all(SPECS, &words("-- -d")).unwrap();
        assert_eq!(p.positionals, ["-d"]);
    }

    #[test]
    fn durations() {
        use std::time::Duration;
        assert_eq!(go_duration("5s"), Some(Duration::from_secs(5)));
        assert_eq!(go_duration("100ms"), Some(Duration::from_millis(100)));
        assert_eq!(go_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(go_duration("1.5s"), Some(Duration::from_millis(1500)));
        for bad in ["", "5", "s", "5x", "1..2s"] {
            assert_eq!(go_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn errors() {
        assert_eq!(parse_all(SPECS, &words("--nope")).unwrap_err(), FlagError::Unknown("nope".into()));
        assert_eq!(parse_all(SPECS, &words("--bundle")).unwrap_err(), FlagError::MissingValue("bundle".into()));
        assert!(parse_all(SPECS, &words("--detach=maybe")).unwrap().flag("detach").is_err());
    }
}
