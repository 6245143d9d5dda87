//! The five capability sets of process.capabilities.

use crate::spec::config::Capabilities;
use crate::spec::validate::capability;
use caps::{CapSet, CapsHashSet};

#[derive(Debug, thiserror::Error)]
pub enum CapError {
    #[error("{0}")]
    Name(String),
    #[error("capset(effective {effective:#x}, permitted {permitted:#x}, inheritable {inheritable:#x}): {source}")]
    Capset { effective: u64, permitted: u64, inheritable: u64, source: std::io::Error },
    #[error("dropping {cap} from the bounding set: {source}")]
    Bounding { cap: String, source: std::io::Error },
    #[error("setting the {set} capability set: {source}")]
    Set { set: &'static str, source: caps::errors::CapsError },
}

pub struct CapSets {
    bounding: CapsHashSet,
    effective: CapsHashSet,
    inheritable: CapsHashSet,
    permitted: CapsHashSet,
    ambient: CapsHashSet,
}

fn set_of(names: &[String]) -> Result<CapsHashSet, CapError> {
    names.iter().map(|n| capability(n).map_err(CapError::Name)).collect()
}

impl CapSets {
    pub fn from_spec(caps: &Capabilities) -> Result<CapSets, CapError> {
        Ok(CapSets {
            bounding: set_of(&caps.bounding)?,
            effective: set_of(&caps.effective)?,
            inheritable: set_of(&caps.inheritable)?,
            permitted: set_of(&caps.permitted)?,
            ambient: set_of(&caps.ambient)?,
        })
    }

    /// Drops what is not in the bounding set; must run while we still hold CAP_SETPCAP.
    /// Dropping a capability that is already gone succeeds, so we do not ask first.
    pub fn apply_bounding(&self) -> Result<(), CapError> {
        for cap in caps::all().into_iter().filter(|c| !self.bounding.contains(c)) {
            match crate::sys::prctl(libc::PR_CAPBSET_DROP, cap.index().into()) {
                Ok(()) => {}
                // A capability newer than this kernel: it has nothing to drop.
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {}
                Err(source) => return Err(CapError::Bounding { cap: cap.to_string(), source }),
            }
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
        #[derive(Clone, Copy, Default)]
        struct Data {
            effective: u32,
            permitted: u32,
            inheritable: u32,
        }
        const VERSION_3: u32 = 0x2008_0522;
        let mask = |set: &CapsHashSet| set.iter().fold(0u64, |m, c| m | (1u64 << c.index()));
        let (e, p, i) = (mask(&self.effective), mask(&self.permitted), mask(&self.inheritable));
        let mut header = Header { version: VERSION_3, pid: 0 };
        let data = [
            Data { effective: e as u32, permitted: p as u32, inheritable: i as u32 },
            Data { effective: (e >> 32) as u32, permitted: (p >> 32) as u32, inheritable: (i >> 32) as u32 },
        ];
        // SAFETY: header and two data structs are the layout capset v3 expects.
        crate::sys::cvt_long(unsafe { libc::syscall(libc::SYS_capset, &mut header as *mut Header, data.as_ptr()) })
            .map_err(|source| CapError::Capset { effective: e, permitted: p, inheritable: i, source })?;
        caps::clear(None, CapSet::Ambient).map_err(|source| CapError::Set { set: "ambient", source })?;
        for cap in &self.ambient {
            caps::raise(None, CapSet::Ambient, *cap).map_err(|source| CapError::Set { set: "ambient", source })?;
        }
        Ok(())
    }
}
