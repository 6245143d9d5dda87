//! TAP output: `ok N - SECTION: what` / `not ok N - SECTION: what # diag`.

use std::fmt::Display;

#[derive(Default)]
pub struct Tap {
    lines: Vec<(bool, String)>,
}

impl Tap {
    /// Records one check. `section` names the spec file and section.
    pub fn check(&mut self, section: &str, what: impl Display, ok: bool, diag: impl Display) {
        let diag = diag.to_string();
        let mut line = format!("{section}: {what}");
        if !ok && !diag.is_empty() {
            line.push_str(&format!(" # {}", diag.replace('\n', " ")));
        }
        self.lines.push((ok, line));
    }

    /// Records `got == want` with both sides shown on failure.
    pub fn eq<T: PartialEq + std::fmt::Debug>(&mut self, section: &str, what: impl Display, got: T, want: T) {
        let ok = got == want;
        self.check(section, what, ok, format!("got {got:?}, want {want:?}"));
    }

    pub fn absorb(&mut self, other: Tap) {
        self.lines.extend(other.lines);
    }

    /// Prints the plan and the lines; returns the exit status.
    pub fn finish(&self) -> i32 {
        println!("1..{}", self.lines.len());
        let mut failed = 0;
        for (i, (ok, line)) in self.lines.iter().enumerate() {
            if *ok {
                println!("ok {} - {line}", i + 1);
            } else {
                failed += 1;
                println!("not ok {} - {line}", i + 1);
            }
        }
        println!("# checker done: {failed} failed");
        i32::from(failed > 0)
    }
}
