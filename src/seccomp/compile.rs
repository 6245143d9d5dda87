//! Profile to classic BPF, pure. The program's shape:
//!
//! ```text
//!  ld arch
//!  arch == x86_64?  ── ld nr; nr >= X32 bit? ── x32 rules (or kill if x32 not listed)
//!                                            └─ x86_64 rules
//!  arch == i386?    ── (only if SCMP_ARCH_X86 is listed) ld nr; i386 rules
//!  ret KILL_PROCESS    (any other architecture)
//!
//!  rules: a binary search on nr (nr >= pivot?) down to runs of a few checks:
//!    nr == N? ── rule 1: arg conditions ANDed ── ret action
//!                rule 2: ...                       (rules ORed: the first that matches wins)
//!                ret default
//!    ret default
//! ```
//!
//! Every branch ends in its own `ret`, so blocks are composed by prefixing a
//! guard that skips them: no label resolution. A syscall costs about
//! log2(rules) checks; the kernel also caches the verdict for syscalls whose
//! action does not depend on their arguments.

use super::profile::{ArgCondition, Seccomp, SyscallRule};
use super::{Program, SeccompError, tables};

const BPF_LD_W_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
const BPF_JEQ_K: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
const BPF_JGT_K: u16 = (libc::BPF_JMP | libc::BPF_JGT | libc::BPF_K) as u16;
const BPF_JGE_K: u16 = (libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K) as u16;
const BPF_JA: u16 = (libc::BPF_JMP | libc::BPF_JA) as u16;
const BPF_AND_K: u16 = (libc::BPF_ALU | libc::BPF_AND | libc::BPF_K) as u16;
const BPF_RET_K: u16 = (libc::BPF_RET | libc::BPF_K) as u16;
const BPF_MAXINSNS: usize = 4096;

const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;
const AUDIT_ARCH_I386: u32 = 0x4000_0003;
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

// Offsets in struct seccomp_data.
const OFFSET_NR: u32 = 0;
const OFFSET_ARCH: u32 = 4;
const OFFSET_ARGS: u32 = 16;

pub const RET_KILL_PROCESS: u32 = 0x8000_0000;
pub const RET_KILL_THREAD: u32 = 0x0000_0000;
pub const RET_TRAP: u32 = 0x0003_0000;
pub const RET_ERRNO: u32 = 0x0005_0000;
pub const RET_TRACE: u32 = 0x7ff0_0000;
pub const RET_LOG: u32 = 0x7ffc_0000;
pub const RET_ALLOW: u32 = 0x7fff_0000;

/// What `hull features` reports: exactly what `compile` accepts.
pub const ACTIONS: &[&str] =
    &["SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG"];
pub const OPERATORS: &[&str] = &["SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"];
pub const ARCHES: &[&str] = &["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"];
pub const FLAGS: &[&str] =
    &["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"];

const FIELD: &str = "linux.seccomp";

fn insn(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

fn ret(value: u32) -> libc::sock_filter {
    insn(BPF_RET_K, 0, 0, value)
}

fn load(offset: u32) -> libc::sock_filter {
    insn(BPF_LD_W_ABS, 0, 0, offset)
}

/// `body` runs when `code k` is true; otherwise it is skipped. Far skips go through `ja`.
fn guarded(out: &mut Vec<libc::sock_filter>, code: u16, k: u32, body: &[libc::sock_filter]) {
    match u8::try_from(body.len()) {
        Ok(len) => out.push(insn(code, 0, len, k)),
        Err(_) => {
            out.push(insn(code, 1, 0, k));
            out.push(insn(BPF_JA, 0, 0, body.len() as u32));
        }
    }
    out.extend_from_slice(body);
}

/// One ABI's view: which table names its syscalls, what to add to their numbers,
/// and whether its arguments are 32-bit (only the low word is compared, as libseccomp does).
struct Abi {
    table: &'static [(&'static str, u32)],
    nr_base: u32,
    args_32bit: bool,
}

fn syscall_number(abi: &Abi, name: &str) -> Option<u32> {
    abi.table.binary_search_by(|(n, _)| n.cmp(&name)).ok().map(|i| abi.table[i].1 + abi.nr_base)
}

/// A rule checked against the profile, ready to emit for any ABI.
struct Checked<'a> {
    rule: &'a SyscallRule,
    index: usize,
    action: u32,
    ops: Vec<Op>,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Op {
    Ne,
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
    MaskedEq,
}

pub fn compile(profile: &Seccomp) -> Result<Program, SeccompError> {
    let default = action(&profile.default_action, profile.default_errno_ret, &format!("{FIELD}.defaultAction"), &format!("{FIELD}.defaultErrnoRet"))?;
    let flags = flags(&profile.flags)?;
    let mut x86 = false;
    let mut x32 = false;
    for (i, arch) in profile.architectures.iter().enumerate() {
        match arch.as_str() {
            "SCMP_ARCH_X86_64" => {}
            "SCMP_ARCH_X86" => x86 = true,
            "SCMP_ARCH_X32" => x32 = true,
            other => return Err(unknown(format!("{FIELD}.architectures[{i}]"), "architecture (hull supports SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32)", other)),
        }
    }
    let mut rules = Vec::with_capacity(profile.syscalls.len());
    for (index, rule) in profile.syscalls.iter().enumerate() {
        let path = format!("{FIELD}.syscalls[{index}]");
        if rule.names.is_empty() {
            return Err(SeccompError::Invalid { path: format!("{path}.names"), reason: "must name at least one syscall".into() });
        }
        let action = action(&rule.action, rule.errno_ret, &format!("{path}.action"), &format!("{path}.errnoRet"))?;
        let ops = rule.args.iter().enumerate().map(|(a, arg)| check_arg(arg, &format!("{path}.args[{a}]"))).collect::<Result<Vec<_>, _>>()?;
        // libseccomp refuses a rule that repeats the default action, and runc skips it: it changes nothing.
        if action != default {
            rules.push(Checked { rule, index, action, ops });
        }
    }

    let x86_64_abi = Abi { table: tables::X86_64, nr_base: 0, args_32bit: false };
    let x32_abi = Abi { table: tables::X32, nr_base: X32_SYSCALL_BIT, args_32bit: false };
    let i386_abi = Abi { table: tables::X86, nr_base: 0, args_32bit: true };

    let mut x86_64_section = vec![load(OFFSET_NR)];
    let x32_rules = if x32 { abi_rules(&x32_abi, &rules, default)? } else { vec![ret(RET_KILL_PROCESS)] };
    guarded(&mut x86_64_section, BPF_JGE_K, X32_SYSCALL_BIT, &x32_rules);
    x86_64_section.extend(abi_rules(&x86_64_abi, &rules, default)?);

    let mut filter = vec![load(OFFSET_ARCH)];
    guarded(&mut filter, BPF_JEQ_K, AUDIT_ARCH_X86_64, &x86_64_section);
    if x86 {
        let mut i386_section = vec![load(OFFSET_NR)];
        i386_section.extend(abi_rules(&i386_abi, &rules, default)?);
        guarded(&mut filter, BPF_JEQ_K, AUDIT_ARCH_I386, &i386_section);
    }
    filter.push(ret(RET_KILL_PROCESS));
    if filter.len() > BPF_MAXINSNS {
        return Err(SeccompError::Invalid {
            path: format!("{FIELD}.syscalls"),
            reason: format!("the profile compiles to {} BPF instructions, more than the kernel's limit of {BPF_MAXINSNS}", filter.len()),
        });
    }
    Ok(Program { filter, flags })
}

/// The syscall blocks for one ABI as a binary search over syscall numbers,
/// with the default action for numbers no rule names.
fn abi_rules(abi: &Abi, rules: &[Checked], default: u32) -> Result<Vec<libc::sock_filter>, SeccompError> {
    // (nr, rule) for every name this ABI has (names it lacks are skipped); the stable sort
    // keeps the profile's order among the rules of one syscall: the first match wins.
    let mut named: Vec<(u32, &Checked)> = Vec::with_capacity(rules.len());
    for rule in rules {
        for name in &rule.rule.names {
            if let Some(nr) = syscall_number(abi, name) {
                named.push((nr, rule));
            }
        }
    }
    named.sort_by_key(|(nr, _)| *nr);
    let mut blocks: Vec<(u32, Vec<libc::sock_filter>)> = Vec::new();
    for group in named.chunk_by(|a, b| a.0 == b.0) {
        let mut block = Vec::new();
        let mut unconditional = false;
        for (_, rule) in group {
            emit_rule(&mut block, abi, rule)?;
            if rule.ops.is_empty() {
                // Later rules for this syscall can never be reached.
                unconditional = true;
                break;
            }
        }
        if !unconditional {
            block.push(ret(default));
        }
        blocks.push((group[0].0, block));
    }
    Ok(search(&blocks, default))
}

/// Below this many syscalls a linear chain of checks is as short as more splits.
const LINEAR_AT_MOST: usize = 4;

/// `nr >= pivot` halves the sorted blocks until a few are left to check in a row.
/// Every block ends in a ret, so skipping one leaves A holding nr for the next check.
fn search(blocks: &[(u32, Vec<libc::sock_filter>)], default: u32) -> Vec<libc::sock_filter> {
    let mut out = Vec::new();
    if blocks.len() <= LINEAR_AT_MOST {
        for (nr, block) in blocks {
            guarded(&mut out, BPF_JEQ_K, *nr, block);
        }
        out.push(ret(default));
        return out;
    }
    let (low, high) = blocks.split_at(blocks.len() / 2);
    guarded(&mut out, BPF_JGE_K, high[0].0, &search(high, default));
    out.extend(search(low, default));
    out
}

/// A jump target inside one rule.
#[derive(Clone, Copy)]
enum Target {
    /// Skip this many instructions (0: the next one).
    Skip(u8),
    /// The rule does not match: go past its `ret`.
    Fail,
}

struct Pending {
    code: u16,
    k: u32,
    jt: Target,
    jf: Target,
}

fn emit_rule(out: &mut Vec<libc::sock_filter>, abi: &Abi, rule: &Checked) -> Result<(), SeccompError> {
    use Target::{Fail, Skip};
    let next = Skip(0);
    let mut code: Vec<Pending> = Vec::new();
    let mut push = |code_: u16, k: u32, jt: Target, jf: Target| code.push(Pending { code: code_, k, jt, jf });
    for (arg, op) in rule.rule.args.iter().zip(&rule.ops) {
        let lo_offset = OFFSET_ARGS + 8 * arg.index;
        let hi_offset = lo_offset + 4;
        let (hi, lo) = ((arg.value >> 32) as u32, arg.value as u32);
        let (hi2, lo2) = ((arg.value_two >> 32) as u32, arg.value_two as u32);
        if abi.args_32bit {
            push(BPF_LD_W_ABS, lo_offset, next, next);
            match op {
                Op::Eq => push(BPF_JEQ_K, lo, next, Fail),
                Op::Ne => push(BPF_JEQ_K, lo, Fail, next),
                Op::Gt => push(BPF_JGT_K, lo, next, Fail),
                Op::Ge => push(BPF_JGE_K, lo, next, Fail),
                Op::Lt => push(BPF_JGE_K, lo, Fail, next),
                Op::Le => push(BPF_JGT_K, lo, Fail, next),
                Op::MaskedEq => {
                    push(BPF_AND_K, lo, next, next);
                    push(BPF_JEQ_K, lo2, next, Fail);
                }
            }
            continue;
        }
        // 64-bit: the high words decide unless they are equal, then the low words do.
        push(BPF_LD_W_ABS, hi_offset, next, next);
        match op {
            Op::Eq => {
                push(BPF_JEQ_K, hi, next, Fail);
                push(BPF_LD_W_ABS, lo_offset, next, next);
                push(BPF_JEQ_K, lo, next, Fail);
            }
            Op::Ne => {
                push(BPF_JEQ_K, hi, next, Skip(2));
                push(BPF_LD_W_ABS, lo_offset, next, next);
                push(BPF_JEQ_K, lo, Fail, next);
            }
            Op::Gt | Op::Ge => {
                push(BPF_JGT_K, hi, Skip(3), next);
                push(BPF_JEQ_K, hi, next, Fail);
                push(BPF_LD_W_ABS, lo_offset, next, next);
                push(if *op == Op::Gt { BPF_JGT_K } else { BPF_JGE_K }, lo, next, Fail);
            }
            Op::Lt | Op::Le => {
                push(BPF_JGT_K, hi, Fail, next);
                push(BPF_JEQ_K, hi, next, Skip(2));
                push(BPF_LD_W_ABS, lo_offset, next, next);
                // lo < v is !(lo >= v); lo <= v is !(lo > v).
                push(if *op == Op::Lt { BPF_JGE_K } else { BPF_JGT_K }, lo, Fail, next);
            }
            Op::MaskedEq => {
                push(BPF_AND_K, hi, next, next);
                push(BPF_JEQ_K, hi2, next, Fail);
                push(BPF_LD_W_ABS, lo_offset, next, next);
                push(BPF_AND_K, lo, next, next);
                push(BPF_JEQ_K, lo2, next, Fail);
            }
        }
    }
    // The rule is `code` then `ret action`; Fail lands just past that ret.
    let len = code.len() + 1;
    for (j, p) in code.iter().enumerate() {
        let resolve = |t: Target| match t {
            Skip(n) => Ok(n),
            Fail => u8::try_from(len - j - 1).map_err(|_| SeccompError::Invalid {
                path: format!("{FIELD}.syscalls[{}].args", rule.index),
                reason: "too many conditions for one rule".into(),
            }),
        };
        let jumps = p.code & 0x07 == libc::BPF_JMP as u16;
        let (jt, jf) = if jumps { (resolve(p.jt)?, resolve(p.jf)?) } else { (0, 0) };
        out.push(insn(p.code, jt, jf, p.k));
    }
    out.push(ret(rule.action));
    Ok(())
}

fn check_arg(arg: &ArgCondition, path: &str) -> Result<Op, SeccompError> {
    if arg.index > 5 {
        return Err(SeccompError::Invalid { path: format!("{path}.index"), reason: format!("{} is not an argument index (0 to 5)", arg.index) });
    }
    Ok(match arg.op.as_str() {
        "SCMP_CMP_NE" => Op::Ne,
        "SCMP_CMP_LT" => Op::Lt,
        "SCMP_CMP_LE" => Op::Le,
        "SCMP_CMP_EQ" => Op::Eq,
        "SCMP_CMP_GE" => Op::Ge,
        "SCMP_CMP_GT" => Op::Gt,
        "SCMP_CMP_MASKED_EQ" => Op::MaskedEq,
        other => return Err(unknown(format!("{path}.op"), "operator", other)),
    })
}

/// The `SECCOMP_RET_*` value of an action; only ERRNO and TRACE take an errno.
fn action(name: &str, errno: Option<u32>, path: &str, errno_path: &str) -> Result<u32, SeccompError> {
    let value = match name {
        "SCMP_ACT_ERRNO" => return Ok(RET_ERRNO | (errno.unwrap_or(libc::EPERM as u32) & 0xffff)),
        "SCMP_ACT_TRACE" => return Ok(RET_TRACE | (errno.unwrap_or(libc::EPERM as u32) & 0xffff)),
        "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => RET_KILL_THREAD,
        "SCMP_ACT_KILL_PROCESS" => RET_KILL_PROCESS,
        "SCMP_ACT_TRAP" => RET_TRAP,
        "SCMP_ACT_ALLOW" => RET_ALLOW,
        "SCMP_ACT_LOG" => RET_LOG,
        "SCMP_ACT_NOTIFY" => {
            return Err(SeccompError::Invalid {
                path: path.into(),
                reason: "SCMP_ACT_NOTIFY is not supported by hull yet (the listenerPath fd hand-off is not built)".into(),
            });
        }
        other => return Err(unknown(path.into(), "action", other)),
    };
    if errno.is_some() {
        return Err(SeccompError::Invalid { path: errno_path.into(), reason: format!("{name} takes no errno (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE do)") });
    }
    Ok(value)
}

fn flags(names: &[String]) -> Result<u32, SeccompError> {
    let mut flags = 0;
    for (i, name) in names.iter().enumerate() {
        flags |= match name.as_str() {
            "SECCOMP_FILTER_FLAG_TSYNC" => 1,
            "SECCOMP_FILTER_FLAG_LOG" => 2,
            "SECCOMP_FILTER_FLAG_SPEC_ALLOW" => 4,
            // Only means something with a notify listener, which hull refuses; the kernel
            // would reject it without one, so it is accepted and left out.
            "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV" => 0,
            other => return Err(unknown(format!("{FIELD}.flags[{i}]"), "flag", other)),
        };
    }
    Ok(flags)
}

fn unknown(path: String, what: &'static str, value: &str) -> SeccompError {
    SeccompError::Unknown { path, what, value: value.into() }
}

#[cfg(test)]
#[path = "compile_tests.rs"]
mod tests;
