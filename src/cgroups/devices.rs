//! PURE: the device allow-list of `linux.resources.devices` as cgroup v1
//! devices.allow / devices.deny writes.
//!
//! As runc does, the rules are followed by the devices every container gets
//! (null, zero, full, tty, random, urandom, ptmx, pts, tun, and mknod of anything),
//! since engines never list them.

use crate::spec::resources::DeviceRule;

/// (type, major, minor, access) of the devices hull always allows; -1 is `*`.
pub const ALWAYS_ALLOWED: &[(char, i64, i64, &str)] = &[
    ('c', -1, -1, "m"),
    ('b', -1, -1, "m"),
    ('c', 1, 3, "rwm"),
    ('c', 1, 8, "rwm"),
    ('c', 1, 7, "rwm"),
    ('c', 5, 0, "rwm"),
    ('c', 1, 5, "rwm"),
    ('c', 1, 9, "rwm"),
    ('c', 136, -1, "rwm"),
    ('c', 5, 2, "rwm"),
    // /dev/net/tun, as runc 1.1 (this host's) allows it.
    ('c', 10, 200, "rwm"),
];

fn number(n: Option<i64>) -> String {
    match n {
        Some(n) if n >= 0 => n.to_string(),
        _ => "*".to_string(),
    }
}

/// One rule in the kernel's syntax: `c 1:3 rwm`.
pub fn rule_text(rule: &DeviceRule) -> Result<String, String> {
    let kind = rule.kind.as_deref().unwrap_or("a");
    if !matches!(kind, "a" | "b" | "c") {
        return Err(format!("type {kind:?} must be a, b or c"));
    }
    let access = rule.access.as_deref().unwrap_or("rwm");
    if access.is_empty() || !access.chars().all(|c| "rwm".contains(c)) {
        return Err(format!("access {access:?} must be made of r, w and m"));
    }
    Ok(format!("{kind} {}:{} {access}", number(rule.major), number(rule.minor)))
}

/// Deny everything, then each rule in order, then the devices every container needs.
pub fn v1_writes(rules: &[DeviceRule]) -> Result<Vec<(&'static str, String)>, String> {
    let mut writes = vec![("devices.deny", "a".to_string())];
    for rule in rules {
        writes.push((if rule.allow { "devices.allow" } else { "devices.deny" }, rule_text(rule)?));
    }
    for &(kind, major, minor, access) in ALWAYS_ALLOWED {
        let rule = DeviceRule { allow: true, kind: Some(kind.to_string()), major: Some(major), minor: Some(minor), access: Some(access.to_string()) };
        writes.push(("devices.allow", rule_text(&rule)?));
    }
    Ok(writes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deny_all_then_rules_then_defaults() {
        let rules = [
            DeviceRule { allow: false, access: Some("rwm".into()), ..Default::default() },
            DeviceRule { allow: true, kind: Some("b".into()), major: Some(8), minor: None, access: Some("r".into()) },
        ];
        let w = v1_writes(&rules).unwrap();
        assert_eq!(w[0], ("devices.deny", "a".to_string()));
        assert_eq!(w[1], ("devices.deny", "a *:* rwm".to_string()));
        assert_eq!(w[2], ("devices.allow", "b 8:* r".to_string()));
        assert_eq!(w[3], ("devices.allow", "c *:* m".to_string()));
        assert!(w.contains(&("devices.allow", "c 1:3 rwm".to_string())));
        assert!(w.contains(&("devices.allow", "c 136:* rwm".to_string())));
    }

    #[test]
    fn bad_rules_are_refused() {
        assert!(rule_text(&DeviceRule { allow: true, kind: Some("x".into()), ..Default::default() }).is_err());
        assert!(rule_text(&DeviceRule { allow: true, access: Some("rx".into()), ..Default::default() }).is_err());
    }
}
