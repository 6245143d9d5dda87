//! The compiler checked two ways: a small BPF interpreter here runs the
//! program over made-up seccomp_data (every op, every branch), and the real
//! kernel runs it in a spawned thread (no TSYNC: only that thread is filtered).

use super::*;
use crate::seccomp::install;
use crate::seccomp::profile::{ArgCondition, Seccomp, SyscallRule};

const MKDIR: u32 = 83;
const GETPID: u32 = 39;

fn profile(default: &str, rules: Vec<SyscallRule>) -> Seccomp {
    Seccomp { default_action: default.into(), syscalls: rules, ..Default::default() }
}

fn rule(names: &[&str], action: &str, args: Vec<ArgCondition>) -> SyscallRule {
    SyscallRule { names: names.iter().map(|n| n.to_string()).collect(), action: action.into(), errno_ret: None, args }
}

fn arg(index: u32, op: &str, value: u64, value_two: u64) -> ArgCondition {
    ArgCondition { index, value, value_two, op: op.into() }
}

/// Runs the program as the kernel would, over seccomp_data {nr, arch, args}.
fn run(filter: &[libc::sock_filter], arch: u32, nr: u32, args: [u64; 6]) -> u32 {
    let mut data = [0u8; 64];
    data[0..4].copy_from_slice(&nr.to_le_bytes());
    data[4..8].copy_from_slice(&arch.to_le_bytes());
    for (i, a) in args.iter().enumerate() {
        data[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_le_bytes());
    }
    let mut acc = 0u32;
    let mut pc = 0usize;
    loop {
        let i = filter[pc];
        pc += 1;
        match i.code {
            BPF_LD_W_ABS => {
                let k = i.k as usize;
                acc = u32::from_le_bytes(data[k..k + 4].try_into().unwrap());
            }
            BPF_AND_K => acc &= i.k,
            BPF_JA => pc += i.k as usize,
            BPF_JEQ_K | BPF_JGT_K | BPF_JGE_K => {
                let taken = match i.code {
                    BPF_JEQ_K => acc == i.k,
                    BPF_JGT_K => acc > i.k,
                    _ => acc >= i.k,
                };
                pc += if taken { i.jt } else { i.jf } as usize;
            }
            BPF_RET_K => return i.k,
            other => panic!("unexpected opcode {other:#x}"),
        }
    }
}

fn x86_64(filter: &[libc::sock_filter], nr: u32, arg0: u64) -> u32 {
    run(filter, AUDIT_ARCH_X86_64, nr, [arg0, 0, 0, 0, 0, 0])
}

#[test]
fn default_and_named_actions() {
    let p = compile(&profile("SCMP_ACT_ALLOW", vec![rule(&["mkdir", "no_such_syscall"], "SCMP_ACT_ERRNO", vec![])])).unwrap();
    assert_eq!(x86_64(&p.filter, MKDIR, 0), RET_ERRNO | libc::EPERM as u32);
    assert_eq!(x86_64(&p.filter, GETPID, 0), RET_ALLOW);
}

#[test]
fn foreign_abis_never_bypass() {
    let p = compile(&profile("SCMP_ACT_ALLOW", vec![rule(&["mkdir"], "SCMP_ACT_ERRNO", vec![])])).unwrap();
    // x32 and i386 not listed: killed, even for allowed syscalls.
    assert_eq!(x86_64(&p.filter, X32_SYSCALL_BIT | MKDIR, 0), RET_KILL_PROCESS);
    assert_eq!(run(&p.filter, AUDIT_ARCH_I386, 39, [0; 6]), RET_KILL_PROCESS);
    assert_eq!(run(&p.filter, 0xC000_00B7, 34, [0; 6]), RET_KILL_PROCESS, "aarch64");
    let mut listed = profile("SCMP_ACT_ALLOW", vec![rule(&["mkdir"], "SCMP_ACT_ERRNO", vec![])]);
    listed.architectures = vec!["SCMP_ARCH_X86_64".into(), "SCMP_ARCH_X86".into(), "SCMP_ARCH_X32".into()];
    let p = compile(&listed).unwrap();
    let errno = RET_ERRNO | libc::EPERM as u32;
    assert_eq!(x86_64(&p.filter, X32_SYSCALL_BIT | MKDIR, 0), errno, "x32 mkdir has the x86_64 number plus the bit");
    assert_eq!(x86_64(&p.filter, X32_SYSCALL_BIT | GETPID, 0), RET_ALLOW);
    assert_eq!(run(&p.filter, AUDIT_ARCH_I386, 39, [0; 6]), errno, "i386 mkdir is 39");
    assert_eq!(run(&p.filter, AUDIT_ARCH_I386, 20, [0; 6]), RET_ALLOW, "i386 getpid");
}

#[test]
fn errno_ret_and_errors_name_the_path() {
    let mut r = rule(&["mkdir"], "SCMP_ACT_ERRNO", vec![]);
    r.errno_ret = Some(libc::EROFS as u32);
    let mut p = profile("SCMP_ACT_ERRNO", vec![r]);
    p.default_errno_ret = Some(38);
    let prog = compile(&p).unwrap();
    assert_eq!(x86_64(&prog.filter, MKDIR, 0), RET_ERRNO | libc::EROFS as u32);
    assert_eq!(x86_64(&prog.filter, GETPID, 0), RET_ERRNO | 38);

    let err = |p: Seccomp| compile(&p).unwrap_err().to_string();
    assert!(err(profile("SCMP_ACT_NOPE", vec![])).contains("linux.seccomp.defaultAction"));
    assert!(err(profile("SCMP_ACT_ALLOW", vec![rule(&["mkdir"], "SCMP_ACT_BAD", vec![])])).contains("linux.seccomp.syscalls[0].action"));
    assert!(err(profile("SCMP_ACT_ALLOW", vec![rule(&["mkdir"], "SCMP_ACT_NOTIFY", vec![])])).contains("SCMP_ACT_NOTIFY"));
    let bad_op = rule(&["mkdir"], "SCMP_ACT_ERRNO", vec![arg(0, "SCMP_CMP_EQ", 1, 0), arg(1, "SCMP_CMP_XX", 1, 0)]);
    assert!(err(profile("SCMP_ACT_ALLOW", vec![bad_op])).contains("linux.seccomp.syscalls[0].args[1].op"));
    let mut bad_errno = rule(&["mkdir"], "SCMP_ACT_ALLOW", vec![]);
    bad_errno.errno_ret = Some(1);
    assert!(err(profile("SCMP_ACT_ERRNO", vec![bad_errno])).contains("linux.seccomp.syscalls[0].errnoRet"));
    let mut bad_arch = profile("SCMP_ACT_ALLOW", vec![]);
    bad_arch.architectures = vec!["SCMP_ARCH_X86_64".into(), "SCMP_ARCH_MIPS".into()];
    assert!(err(bad_arch).contains("linux.seccomp.architectures[1]"));
    let mut bad_flag = profile("SCMP_ACT_ALLOW", vec![]);
    bad_flag.flags = vec!["SECCOMP_FILTER_FLAG_NOPE".into()];
    assert!(err(bad_flag).contains("linux.seccomp.flags[0]"));
}

#[test]
fn every_operator_on_64_bit_values() {
    let big = 0x0000_0001_0000_0005u64;
    let values = [0, 4, 5, 6, big - 1, big, big + 1, 0x0000_0002_0000_0000, u64::MAX];
    type Check = fn(u64, u64) -> bool;
    let ops: [(&str, Check); 6] = [
        ("SCMP_CMP_EQ", |a, b| a == b),
        ("SCMP_CMP_NE", |a, b| a != b),
        ("SCMP_CMP_LT", |a, b| a < b),
        ("SCMP_CMP_LE", |a, b| a <= b),
        ("SCMP_CMP_GT", |a, b| a > b),
        ("SCMP_CMP_GE", |a, b| a >= b),
    ];
    for (op, check) in ops {
        for operand in [5, big] {
            let p = compile(&profile("SCMP_ACT_ALLOW", vec![rule(&["mkdir"], "SCMP_ACT_ERRNO", vec![arg(0, op, operand, 0)])])).unwrap();
            for v in values {
                let denied = x86_64(&p.filter, MKDIR, v) != RET_ALLOW;
                assert_eq!(denied, check(v, operand), "{v:#x} {op} {operand:#x}");
            }
        }
    }
    let mask = 0xff00_0000_0000_00f0u64;
    let p = compile(&profile("SCMP_ACT_ALLOW", vec![rule(&["mkdir"], "SCMP_ACT_ERRNO", vec![arg(0, "SCMP_CMP_MASKED_EQ", mask, 0x1200_0000_0000_0030)])])).unwrap();
    for v in [0x1234_5678_0000_0030u64, 0x12ff_ffff_ffff_ff3f, 0x1200_0000_0000_0040, 0x1300_0000_0000_0030, 0] {
        assert_eq!(x86_64(&p.filter, MKDIR, v) != RET_ALLOW, v & mask == 0x1200_0000_0000_0030, "{v:#x}");
    }
}

#[test]
fn conditions_and_rules_or() {
    // mkdir is denied when (arg0 == 1 AND arg1 > 10) OR arg0 == 7.
    let rules = vec![
        rule(&["mkdir"], "SCMP_ACT_ERRNO", vec![arg(0, "SCMP_CMP_EQ", 1, 0), arg(1, "SCMP_CMP_GT", 10, 0)]),
        rule(&["mkdir"], "SCMP_ACT_ERRNO", vec![arg(0, "SCMP_CMP_EQ", 7, 0)]),
        rule(&["getpid"], "SCMP_ACT_KILL", vec![]),
    ];
    let p = compile(&profile("SCMP_ACT_ALLOW", rules)).unwrap();
    let denied = |a0, a1| run(&p.filter, AUDIT_ARCH_X86_64, MKDIR, [a0, a1, 0, 0, 0, 0]) != RET_ALLOW;
    assert!(denied(1, 11));
    assert!(!denied(1, 10));
    assert!(!denied(2, 11));
    assert!(denied(7, 0));
    assert_eq!(x86_64(&p.filter, GETPID, 0), RET_KILL_THREAD);
}

#[test]
fn long_profiles_compile_fast_and_use_far_jumps() {
    let names: Vec<&str> = tables::X86_64.iter().map(|(n, _)| *n).filter(|n| *n != "mkdir").collect();
    let mut rules: Vec<SyscallRule> = names.iter().map(|n| rule(&[n], "SCMP_ACT_ALLOW", vec![])).collect();
    rules.push(rule(&["personality"], "SCMP_ACT_ALLOW", vec![arg(0, "SCMP_CMP_EQ", 8, 0)]));
    let mut p = profile("SCMP_ACT_ERRNO", rules);
    p.architectures = ARCHES.iter().map(|a| a.to_string()).collect();
    let started = std::time::Instant::now();
    let prog = compile(&p).unwrap();
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_millis(if cfg!(debug_assertions) { 50 } else { 1 }), "{took:?}");
    assert_eq!(x86_64(&prog.filter, GETPID, 0), RET_ALLOW);
    assert_eq!(x86_64(&prog.filter, MKDIR, 0), RET_ERRNO | libc::EPERM as u32);
    let last = tables::X86_64.iter().find(|(n, _)| *n == "write").unwrap().1;
    assert_eq!(x86_64(&prog.filter, last, 0), RET_ALLOW);
}

/// Installs in a fresh thread (no TSYNC, so only it is filtered) and runs `probe` there.
fn in_filtered_thread<T: Send + 'static>(program: Program, probe: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(move || {
        crate::sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1).unwrap();
        install(&program).unwrap();
        probe()
    })
    .join()
    .unwrap()
}

fn mkdir_errno(dir: &std::path::Path, mode: u32) -> Option<i32> {
    let path = crate::sys::cpath(dir.join(format!("d{mode:o}"))).unwrap();
    // SAFETY: path is a valid C string.
    let rc = unsafe { libc::mkdir(path.as_ptr(), mode) };
    (rc != 0).then(|| std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
}

#[test]
fn kernel_applies_errno_and_arg_conditions() {
    let dir = std::env::temp_dir().join(format!("hull-seccomp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut deny = rule(&["mkdir", "mkdirat"], "SCMP_ACT_ERRNO", vec![arg(1, "SCMP_CMP_EQ", 0o700, 0)]);
    deny.errno_ret = Some(libc::EROFS as u32);
    let mut p = profile("SCMP_ACT_ALLOW", vec![deny]);
    p.architectures = ARCHES.iter().map(|a| a.to_string()).collect();
    let program = compile(&p).unwrap();
    let d = dir.clone();
    let (denied, allowed) = in_filtered_thread(program, move || (mkdir_errno(&d, 0o700), mkdir_errno(&d, 0o755)));
    assert_eq!(denied, Some(libc::EROFS));
    assert_eq!(allowed, None);
    // The main thread is not filtered.
    assert_eq!(mkdir_errno(&dir, 0o700), None);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn search_finds_every_syscall_of_every_abi() {
    // Even-numbered positions in the name table are denied, odd ones allowed by default.
    let denied: Vec<&str> = tables::X86_64.iter().step_by(2).map(|(n, _)| *n).collect();
    let mut p = profile("SCMP_ACT_ALLOW", vec![rule(&denied, "SCMP_ACT_ERRNO", vec![])]);
    p.architectures = ARCHES.iter().map(|a| a.to_string()).collect();
    let prog = compile(&p).unwrap();
    let errno = RET_ERRNO | libc::EPERM as u32;
    let abis = [(AUDIT_ARCH_X86_64, tables::X86_64, 0), (AUDIT_ARCH_X86_64, tables::X32, X32_SYSCALL_BIT), (AUDIT_ARCH_I386, tables::X86, 0)];
    for (arch, table, base) in abis {
        for (name, nr) in table {
            let want = if denied.contains(name) { errno } else { RET_ALLOW };
            assert_eq!(run(&prog.filter, arch, nr + base, [0; 6]), want, "{name} ({arch:#x}, {nr})");
        }
        assert_eq!(run(&prog.filter, arch, base + 5000, [0; 6]), RET_ALLOW, "a number no table has");
    }
}
