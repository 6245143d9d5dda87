//! What the runner knew about the runtime's side: namespace inodes of the
//! runtime namespace, the inodes of namespaces the config joins by path, and
//! the values the container inherits when the config leaves them unset.

use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize, Default)]
pub struct Host {
    /// `/proc/self/ns/<name>` inode of the runtime namespace, by /proc name.
    #[serde(default)]
    pub ns: BTreeMap<String, u64>,
    /// Inode each `namespaces[].path` of the config refers to, by config type.
    #[serde(default)]
    pub joined: BTreeMap<String, u64>,
    pub oom_score_adj: i64,
    pub no_new_privs: u32,
}

impl Host {
    pub fn load(path: &str) -> Result<Host, String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        serde_json::from_str(&text).map_err(|e| e.to_string())
    }
}
