//! /proc/self/mountinfo, parsed.

pub struct Mount {
    pub root: String,
    pub mount_point: String,
    /// Per-mount options (ro, nosuid, relatime, ...).
    pub options: Vec<String>,
    /// Optional fields: shared:N, master:N, propagate_from:N, unbindable.
    pub optional: Vec<String>,
    pub fstype: String,
    pub super_options: Vec<String>,
}

impl Mount {
    pub fn has(&self, opt: &str) -> bool {
        self.options.iter().any(|o| o == opt)
    }
}

fn unescape(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 3 < bytes.len() {
            let oct = std::str::from_utf8(&bytes[i + 1..i + 4]).unwrap_or("");
            if let Ok(v) = u8::from_str_radix(oct, 8) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn read() -> Result<Vec<Mount>, String> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").map_err(|e| e.to_string())?;
    let mut mounts = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let Some(dash) = fields.iter().position(|f| *f == "-") else {
            return Err(format!("no separator in mountinfo line {line:?}"));
        };
        if dash < 6 || fields.len() < dash + 3 {
            return Err(format!("short mountinfo line {line:?}"));
        }
        mounts.push(Mount {
            root: unescape(fields[3]),
            mount_point: unescape(fields[4]),
            options: fields[5].split(',').map(str::to_string).collect(),
            optional: fields[6..dash].iter().map(|s| s.to_string()).collect(),
            fstype: fields[dash + 1].to_string(),
            super_options: fields.get(dash + 3).map(|s| s.split(',').map(str::to_string).collect()).unwrap_or_default(),
        });
    }
    Ok(mounts)
}

/// The mount visible at `path`: the last one mounted there.
pub fn top<'a>(mounts: &'a [Mount], path: &str) -> Option<&'a Mount> {
    mounts.iter().rev().find(|m| m.mount_point == path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octal_escapes_are_decoded() {
        assert_eq!(unescape(r"/with\040space"), "/with space");
        assert_eq!(unescape(r"/tab\011x\134"), "/tab\tx\\");
        assert_eq!(unescape(r"/trailing\04"), r"/trailing\04");
    }

    #[test]
    fn top_is_the_last_mount_at_a_place() {
        let m = |p: &str, fstype: &str| Mount { root: "/".into(), mount_point: p.into(), options: vec![], optional: vec![], fstype: fstype.into(), super_options: vec![] };
        let table = vec![m("/order", "tmpfs"), m("/other", "proc"), m("/order", "sysfs")];
        assert_eq!(top(&table, "/order").map(|m| m.fstype.as_str()), Some("sysfs"));
        assert!(top(&table, "/none").is_none());
    }
}
