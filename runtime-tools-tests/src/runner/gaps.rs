//! known-gaps: `PATTERN  AREA...` per line, `#` comments. PATTERN is a case
//! name or a prefix ending in `*`. A listed case must fail (or be skipped);
//! a listed case that passes is an error, so the list stays honest. A
//! pattern starting with `~` marks a race that fails only sometimes: its
//! passing is not an error.

#[derive(Debug, thiserror::Error)]
pub enum GapsError {
    #[error("cannot read known-gaps {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("known-gaps {path} line {line}: a pattern needs an area after it")]
    NoArea { path: String, line: usize },
}

pub struct Gap {
    pub pattern: String,
    pub area: String,
    /// Fails only sometimes (`~` before the pattern).
    pub intermittent: bool,
}

pub struct Gaps {
    pub list: Vec<Gap>,
}

impl Gaps {
    pub fn load(path: &str) -> Result<Gaps, GapsError> {
        let text = std::fs::read_to_string(path).map_err(|source| GapsError::Read { path: path.into(), source })?;
        let mut list = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.splitn(2, char::is_whitespace);
            let raw = parts.next().unwrap_or("");
            let intermittent = raw.starts_with('~');
            let pattern = raw.trim_start_matches('~').to_string();
            let area = parts.next().unwrap_or("").trim().to_string();
            if area.is_empty() {
                return Err(GapsError::NoArea { path: path.into(), line: i + 1 });
            }
            list.push(Gap { pattern, area, intermittent });
        }
        Ok(Gaps { list })
    }

    /// The gap covering `case`, if any.
    pub fn find(&self, case: &str) -> Option<&Gap> {
        self.list.iter().find(|g| match g.pattern.strip_suffix('*') {
            Some(prefix) => case.starts_with(prefix),
            None => g.pattern == case,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gaps(text: &str) -> Gaps {
        let dir = std::env::temp_dir().join(format!("rtt-gaps-test-{}-{}", std::process::id(), text.len()));
        std::fs::write(&dir, text).unwrap();
        let g = Gaps::load(dir.to_str().unwrap());
        let _ = std::fs::remove_file(&dir);
        g.unwrap()
    }

    #[test]
    fn exact_names_prefixes_and_intermittent_races() {
        let g = gaps("# comment\n\nseccomp-*   seccomp (no issue yet)\ndelete-created  issue 3\n~hooks-order  a race\n");
        assert_eq!(g.find("seccomp-errno").map(|g| g.area.as_str()), Some("seccomp (no issue yet)"));
        assert!(g.find("delete-created").is_some());
        assert!(g.find("delete-created-too").is_none());
        assert!(g.find("hooks-order").is_some_and(|g| g.intermittent));
        assert!(g.find("baseline").is_none());
    }

    #[test]
    fn a_pattern_without_an_area_is_refused() {
        let dir = std::env::temp_dir().join(format!("rtt-gaps-noarea-{}", std::process::id()));
        std::fs::write(&dir, "lonely-case\n").unwrap();
        let r = Gaps::load(dir.to_str().unwrap());
        let _ = std::fs::remove_file(&dir);
        assert!(matches!(r, Err(GapsError::NoArea { line: 1, .. })));
    }
}
