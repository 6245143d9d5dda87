//! 100 sequential and 20 concurrent `hull run` of /bin/true: every one exits 0
//! and leaves no state dir, cgroup, mount or process behind.

mod common;
use common::*;

#[test]
fn hundred_sequential_runs() {
    if skip_unless_root() {
        return;
    }
    let env = Env::new("seq", &["true"]);
    env.write_config();
    let bundle = env.bundle.to_string_lossy().into_owned();
    for i in 0..100 {
        let id = format!("{}-{i}", env.id);
        let out = hull(&env.root, &["run", "--bundle", &bundle, &id]);
        assert!(out.status.success(), "run {i}: {}", stderr(&out));
    }
    assert_eq!(std::fs::read_dir(&env.root).unwrap().count(), 0, "state dirs left behind");
    env.assert_clean();
}

#[test]
fn twenty_concurrent_runs() {
    if skip_unless_root() {
        return;
    }
    let env = Env::new("conc", &["true"]);
    env.write_config();
    let bundle = env.bundle.to_string_lossy().into_owned();
    let children: Vec<_> = (0..20)
        .map(|i| {
            std::process::Command::new(HULL)
                .arg("--root")
                .arg(&env.root)
                .args(["run", "--bundle", &bundle, &format!("{}-{i}", env.id)])
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "run {i}: {}", stderr(&out));
    }
    assert_eq!(std::fs::read_dir(&env.root).unwrap().count(), 0, "state dirs left behind");
    env.assert_clean();
}
