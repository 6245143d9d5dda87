//! The cgroup v2 device allow-list: an eBPF program of type CGROUP_DEVICE,
//! attached to the container's cgroup. v2 has no devices.allow file.
//!
//! `program` is pure: rules in, instructions out. The program looks at each
//! rule from the last to the first (the last matching rule wins, as later v1
//! writes override earlier ones) and denies whatever no rule matches.
//!
//! Context the kernel passes (struct bpf_cgroup_dev_ctx): u32 access_type
//! (device type in the low 16 bits, access in the high 16), u32 major, u32 minor.

use super::CgroupError;
use super::devices::ALWAYS_ALLOWED;
use crate::spec::resources::DeviceRule;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

const DEV_BLOCK: i32 = 1;
const DEV_CHAR: i32 = 2;
const ACC_MKNOD: i32 = 1;
const ACC_READ: i32 = 2;
const ACC_WRITE: i32 = 4;

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 2;

/// struct bpf_insn.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    pub code: u8,
    /// dst register in the low nibble, src in the high one.
    pub regs: u8,
    pub off: i16,
    pub imm: i32,
}

const fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn { code, regs: dst | (src << 4), off, imm }
}

/// r[dst] = *(u32 *)(r[src] + off)
const fn load_word(dst: u8, src: u8, off: i16) -> Insn {
    insn(0x61, dst, src, off, 0)
}
const fn and_imm(dst: u8, imm: i32) -> Insn {
    insn(0x54, dst, 0, 0, imm)
}
const fn rsh_imm(dst: u8, imm: i32) -> Insn {
    insn(0x74, dst, 0, 0, imm)
}
const fn mov_reg(dst: u8, src: u8) -> Insn {
    insn(0xbc, dst, src, 0, 0)
}
const fn mov_imm(dst: u8, imm: i32) -> Insn {
    insn(0xb7, dst, 0, 0, imm)
}
/// if r[dst] != imm, skip `off` instructions.
const fn jump_ne(dst: u8, imm: i32, off: i16) -> Insn {
    insn(0x55, dst, 0, off, imm)
}
const EXIT: Insn = insn(0x95, 0, 0, 0, 0);

/// The rules as the kernel sees them: spec rules, then the devices every container gets.
fn all_rules(rules: &[DeviceRule]) -> Vec<DeviceRule> {
    let mut all = rules.to_vec();
    all.extend(ALWAYS_ALLOWED.iter().map(|&(kind, major, minor, access)| DeviceRule {
        allow: true,
        kind: Some(kind.to_string()),
        major: Some(major),
        minor: Some(minor),
        access: Some(access.to_string()),
    }));
    all
}

pub fn program(rules: &[DeviceRule]) -> Result<Vec<Insn>, String> {
    // r2 = device type, r3 = requested access, r4 = major, r5 = minor.
    let mut prog = vec![load_word(2, 1, 0), and_imm(2, 0xffff), load_word(3, 1, 0), rsh_imm(3, 16), load_word(4, 1, 4), load_word(5, 1, 8)];
    for rule in all_rules(rules).iter().rev() {
        super::devices::rule_text(rule)?;
        // Each check is (instructions, index of the jump within them).
        let mut checks: Vec<Vec<Insn>> = Vec::new();
        match rule.kind.as_deref().unwrap_or("a") {
            "b" => checks.push(vec![jump_ne(2, DEV_BLOCK, 0)]),
            "c" => checks.push(vec![jump_ne(2, DEV_CHAR, 0)]),
            _ => {}
        }
        let access = rule.access.as_deref().unwrap_or("rwm");
        let allowed = access.chars().map(|c| match c {
            'r' => ACC_READ,
            'w' => ACC_WRITE,
            _ => ACC_MKNOD,
        });
        let mask = allowed.fold(0, |m, a| m | a);
        if mask != ACC_READ | ACC_WRITE | ACC_MKNOD {
            // Matches only if every requested access is one the rule names.
            checks.push(vec![mov_reg(1, 3), and_imm(1, !mask), jump_ne(1, 0, 0)]);
        }
        for (number, reg) in [(rule.major, 4), (rule.minor, 5)] {
            if let Some(n) = number.filter(|n| *n >= 0) {
                let n = i32::try_from(n).map_err(|_| format!("device number {n} is out of range"))?;
                checks.push(vec![jump_ne(reg, n, 0)]);
            }
        }
        let unconditional = checks.is_empty();
        let block_len: usize = checks.iter().map(Vec::len).sum::<usize>() + 2;
        let mut at = 0;
        for check in checks {
            for mut i in check {
                at += 1;
                if i.code == 0x55 {
                    // Past the rest of this block: the next (earlier) rule.
                    i.off = (block_len - at) as i16;
                }
                prog.push(i);
            }
        }
        prog.push(mov_imm(0, i32::from(rule.allow)));
        prog.push(EXIT);
        // A rule that matches everything decides alone; the verifier rejects code after it.
        if unconditional {
            return Ok(prog);
        }
    }
    prog.push(mov_imm(0, 0));
    prog.push(EXIT);
    Ok(prog)
}

#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

#[repr(C)]
#[derive(Default)]
struct ProgAttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
}

/// Loads the filter for `rules` and attaches it to the cgroup `dir`. The cgroup keeps
/// the program alive after our fd closes; it goes when the cgroup is removed.
pub fn attach_device_filter(dir: &Path, rules: &[DeviceRule]) -> Result<(), CgroupError> {
    let prog = program(rules).map_err(CgroupError::Devices)?;
    let license = c"Apache";
    let mut name = [0u8; 16];
    name[..10].copy_from_slice(b"hull_devcg");
    let attr = ProgLoadAttr {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: prog.len() as u32,
        insns: prog.as_ptr() as u64,
        license: license.as_ptr() as u64,
        prog_name: name,
        ..Default::default()
    };
    let sys_err = |what: &'static str| move |source| CgroupError::Io { what, path: dir.to_path_buf(), source };
    let load = |attr: &ProgLoadAttr| {
        // SAFETY: attr is a valid bpf_attr prefix of the size passed; insns, license and
        // the log buffer point to live memory for the duration of the call.
        crate::sys::cvt_long(unsafe { libc::syscall(libc::SYS_bpf, BPF_PROG_LOAD, attr as *const ProgLoadAttr, std::mem::size_of::<ProgLoadAttr>()) })
    };
    let fd = match load(&attr) {
        Ok(fd) => fd,
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) || e.raw_os_error() == Some(libc::EACCES) => {
            // Load again with the verifier's log, which says what it disliked.
            let mut log = vec![0u8; 1 << 16];
            let verbose = ProgLoadAttr { log_level: 1, log_size: log.len() as u32, log_buf: log.as_mut_ptr() as u64, ..attr };
            let again = load(&verbose);
            let text = String::from_utf8_lossy(log.split(|b| *b == 0).next().unwrap_or_default()).trim().to_string();
            return Err(CgroupError::Devices(format!("the kernel refused the eBPF device filter ({e}): {}", if again.is_ok() { "(loaded on retry)".into() } else { text })));
        }
        Err(e) => return Err(sys_err("loading the eBPF device filter for")(e)),
    };
    // SAFETY: a new fd returned by the kernel, owned by nobody else.
    let prog_fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    let cgroup = crate::sys::open(dir, libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC, 0).map_err(sys_err("opening cgroup"))?;
    let attach = ProgAttachAttr {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_bpf_fd: prog_fd.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
        ..Default::default()
    };
    // SAFETY: attach is a valid bpf_attr prefix of the size passed.
    crate::sys::cvt_long(unsafe { libc::syscall(libc::SYS_bpf, BPF_PROG_ATTACH, &attach as *const ProgAttachAttr, std::mem::size_of::<ProgAttachAttr>()) })
        .map_err(sys_err("attaching the eBPF device filter to"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_becomes_checks_that_skip_to_the_next_rule() {
        let rule = DeviceRule { allow: true, kind: Some("c".into()), major: Some(10), minor: Some(200), access: Some("rw".into()) };
        let prog = program(std::slice::from_ref(&rule)).unwrap();
        // Prologue 6, then the last default rule first; the spec rule is the last block.
        let block = &prog[prog.len() - 2 - 8..prog.len() - 2];
        assert_eq!(
            block,
            [
                jump_ne(2, DEV_CHAR, 7),
                mov_reg(1, 3),
                and_imm(1, !(ACC_READ | ACC_WRITE)),
                jump_ne(1, 0, 4),
                jump_ne(4, 10, 3),
                jump_ne(5, 200, 2),
                mov_imm(0, 1),
                EXIT,
            ]
        );
        assert_eq!(&prog[prog.len() - 2..], [mov_imm(0, 0), EXIT]);
    }

    #[test]
    fn wildcards_emit_no_checks_and_bad_rules_are_refused() {
        let deny_all = DeviceRule { allow: false, ..Default::default() };
        let prog = program(std::slice::from_ref(&deny_all)).unwrap();
        // The deny-all rule matches everything: it ends the program, with no default after it.
        let n = prog.len();
        assert_eq!(&prog[n - 2..], [mov_imm(0, 0), EXIT]);
        // Just before it, the first default rule, `c *:* m`: type and access, no numbers.
        assert_eq!(&prog[n - 8..n - 2], [jump_ne(2, DEV_CHAR, 5), mov_reg(1, 3), and_imm(1, !ACC_MKNOD), jump_ne(1, 0, 2), mov_imm(0, 1), EXIT]);
        assert!(program(&[DeviceRule { allow: true, kind: Some("z".into()), ..Default::default() }]).is_err());
    }
}
