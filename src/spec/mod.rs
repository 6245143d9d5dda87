//! PURE: load config.json, validate it, and turn it into a plan.
//!
//! Nothing here touches kernel state, so all of it is unit-tested without root.

pub mod config;
pub mod namespaces;
pub mod resources;
pub mod validate;

pub use config::Spec;

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("config.json not found in bundle {0}")]
    MissingConfig(PathBuf),
    #[error("reading {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("parsing {path}: {message} at line {line} column {column} (field {field})")]
    Parse { path: PathBuf, message: String, line: usize, column: usize, field: String },
    #[error("config.json: {field}: {reason}")]
    Invalid { field: String, reason: String },
    #[error("config.json: {0}")]
    Seccomp(#[from] crate::seccomp::SeccompError),
}

impl SpecError {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        SpecError::Invalid { field: field.into(), reason: reason.into() }
    }
}

/// Reads `<bundle>/config.json`; parse errors name line, column and the JSON path.
pub fn load(bundle: &Path) -> Result<Spec, SpecError> {
    let path = bundle.join("config.json");
    let text = match std::fs::read(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(SpecError::MissingConfig(bundle.to_path_buf())),
        Err(source) => return Err(SpecError::Read { path, source }),
    };
    parse(&text).map_err(|e| match e {
        SpecError::Parse { message, line, column, field, .. } => SpecError::Parse { path, message, line, column, field },
        other => other,
    })
}

pub fn parse(text: &[u8]) -> Result<Spec, SpecError> {
    let de = &mut serde_json::Deserializer::from_slice(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        SpecError::Parse {
            path: PathBuf::new(),
            message: strip_position(&inner.to_string()),
            line: inner.line(),
            column: inner.column(),
            field,
        }
    })
}

/// serde_json appends " at line L column C"; we print the position once, ourselves.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_error_names_line_column_and_field() {
        let err = parse(b"{\"ociVersion\":\"1.0.0\",\n\"process\":{\"cwd\":\"/\",\"user\":{\"uid\":\"zero\"}}}").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("line 2"), "{text}");
        assert!(text.contains("process.user.uid"), "{text}");
    }

    #[test]
    fn unknown_properties_are_ignored() {
        let spec = parse(br#"{"ociVersion":"1.0.0","somethingNew":1,"root":{"path":"rootfs","x":2}}"#).unwrap();
        assert_eq!(spec.root.unwrap().path, "rootfs");
    }
}
