//! The five capability sets of process.capabilities, as bit masks.
//!
//! config.md: a capability that cannot be mapped to the kernel or cannot be
//! granted is logged as a warning, and the container still starts. So the
//! parent plans the sets against its own bounding set, warns once, and the
//! init applies exactly the plan.

use crate::spec::config::Capabilities;
use crate::spec::validate::capability;

#[derive(Debug, thiserror::Error)]
pub enum CapError {
    #[error("reading our own capabilities from /proc/self/status: {0}")]
    Own(std::io::Error),
    #[error("dropping capability {index} from the bounding set: {source}")]
    Bounding { index: u32, source: std::io::Error },
    #[error("capset(effective {effective:#x}, permitted {permitted:#x}, inheritable {inheritable:#x}): {source}")]
    Capset { effective: u64, permitted: u64, inheritable: u64, source: std::io::Error },
    #[error("raising ambient capability {index}: {source}")]
    Ambient { index: u32, source: std::io::Error },
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CapSets {
    /// Held now and not wanted in the bounding set.
    pub drop_bounding: u64,
    pub effective: u64,
    pub inheritable: u64,
    pub permitted: u64,
    pub ambient: u64,
}

/// The bounding set of this process, which is what any container can be granted.
pub fn own_bounding_set() -> Result<u64, CapError> {
    let status = crate::sys::read_proc("/proc/self/status").map_err(CapError::Own)?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapBnd:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .ok_or_else(|| CapError::Own(std::io::Error::new(std::io::ErrorKind::InvalidData, "no CapBnd line")))
}

/// The plan for this host's bounding set, each capability left out logged as a warning.
pub fn plan_for_this_host(caps: &Capabilities) -> Result<CapSets, CapError> {
    let (sets, warnings) = CapSets::plan(caps, own_bounding_set()?);
    for warning in warnings {
        crate::logging::warn(&warning);
    }
    Ok(sets)
}

impl CapSets {
    /// What the config asks for, less what cannot be granted here; each
    /// capability left out is named in one of the returned warnings.
    pub fn plan(caps: &Capabilities, grantable: u64) -> (CapSets, Vec<String>) {
        let mut warnings = Vec::new();
        let mut mask = |set: &str, names: &[String]| {
            let mut bits = 0u64;
            for name in names {
                match capability(name) {
                    Ok(cap) if grantable & (1 << cap.index()) != 0 => bits |= 1 << cap.index(),
                    Ok(_) => warnings.push(format!("process.capabilities.{set}: {name} cannot be granted on this host; left out")),
                    Err(reason) => warnings.push(format!("process.capabilities.{set}: {reason}; left out")),
                }
            }
            bits
        };
        let sets = CapSets {
            drop_bounding: grantable & !mask("bounding", &caps.bounding),
            effective: mask("effective", &caps.effective),
            inheritable: mask("inheritable", &caps.inheritable),
            permitted: mask("permitted", &caps.permitted),
            ambient: mask("ambient", &caps.ambient),
        };
        (sets, warnings)
    }

    /// Drops from the bounding set; must run while we still hold CAP_SETPCAP.
    pub fn apply_bounding(&self) -> Result<(), CapError> {
        for index in bits(self.drop_bounding) {
            crate::sys::prctl(libc::PR_CAPBSET_DROP, index.into()).map_err(|source| CapError::Bounding { index, source })?;
        }
        Ok(())
    }

    /// Sets effective, permitted and inheritable in one capset (any order of
    /// separate calls would pass through a state the kernel refuses), then ambient.
    pub fn apply_process(&self) -> Result<(), CapError> {
        #[repr(C)]
        struct Header {
            version: u32,
            pid: i32,
        }
        #[repr(C)]
        struct Data {
            effective: u32,
            permitted: u32,
            inheritable: u32,
        }
        const VERSION_3: u32 = 0x2008_0522;
        let (e, p, i) = (self.effective, self.permitted, self.inheritable);
        let mut header = Header { version: VERSION_3, pid: 0 };
        let data = [
            Data { effective: e as u32, permitted: p as u32, inheritable: i as u32 },
            Data { effective: (e >> 32) as u32, permitted: (p >> 32) as u32, inheritable: (i >> 32) as u32 },
        ];
        // SAFETY: header and two data structs are the layout capset v3 expects.
        crate::sys::cvt_long(unsafe { libc::syscall(libc::SYS_capset, &mut header as *mut Header, data.as_ptr()) })
            .map_err(|source| CapError::Capset { effective: e, permitted: p, inheritable: i, source })?;
        crate::sys::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong)
            .map_err(|source| CapError::Ambient { index: 0, source })?;
        for index in bits(self.ambient) {
            // SAFETY: prctl(PR_CAP_AMBIENT, RAISE, cap) takes integers only.
            crate::sys::cvt(unsafe { libc::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_RAISE, index as libc::c_ulong, 0, 0) })
                .map_err(|source| CapError::Ambient { index, source })?;
        }
        Ok(())
    }
}

fn bits(mask: u64) -> impl Iterator<Item = u32> {
    (0..64).filter(move |i| mask & (1 << i) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(names: &[&str]) -> Capabilities {
        let list: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        Capabilities { bounding: list.clone(), effective: list.clone(), inheritable: vec![], permitted: list, ambient: vec![] }
    }

    #[test]
    fn plans_masks_and_drops() {
        let all = (1u64 << 41) - 1;
        let (sets, warnings) = CapSets::plan(&caps(&["CAP_KILL", "CAP_NET_BIND_SERVICE"]), all);
        assert!(warnings.is_empty());
        assert_eq!(sets.effective, (1 << 5) | (1 << 10));
        assert_eq!(sets.drop_bounding, all & !((1 << 5) | (1 << 10)));
    }

    #[test]
    fn ungrantable_and_unknown_capabilities_only_warn() {
        let without_sys_resource = ((1u64 << 41) - 1) & !(1 << 24);
        let (sets, warnings) = CapSets::plan(&caps(&["CAP_SYS_RESOURCE", "CAP_NOPE", "CAP_KILL"]), without_sys_resource);
        assert_eq!(sets.permitted, 1 << 5);
        assert_eq!(warnings.len(), 6, "{warnings:?}");
        assert!(warnings[0].contains("CAP_SYS_RESOURCE cannot be granted"), "{warnings:?}");
        assert!(warnings[1].contains("CAP_NOPE"), "{warnings:?}");
    }
}
