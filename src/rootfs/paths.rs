//! Resolving a path inside the rootfs as if the rootfs were `/`: symlinks,
//! absolute or relative, can never lead out of it.

use std::io;
use std::path::{Component, Path, PathBuf};

const MAX_SYMLINKS: usize = 40;

/// `root` joined with `unsafe_path`, every symlink resolved inside `root`.
/// Components that do not exist yet are kept as they are.
pub fn secure_join(root: &Path, unsafe_path: &Path) -> io::Result<PathBuf> {
    let mut pending: Vec<PathBuf> = vec![unsafe_path.to_path_buf()];
    let mut resolved = PathBuf::new();
    let mut links = 0;
    while let Some(path) = pending.pop() {
        let mut components = path.components().peekable();
        while let Some(component) = components.next() {
            match component {
                Component::RootDir => resolved = PathBuf::new(),
                Component::CurDir | Component::Prefix(_) => {}
                Component::ParentDir => {
                    resolved.pop();
                }
                Component::Normal(name) => {
                    let candidate = resolved.join(name);
                    let full = root.join(&candidate);
                    match std::fs::read_link(&full) {
                        Ok(target) => {
                            links += 1;
                            if links > MAX_SYMLINKS {
                                return Err(io::Error::from_raw_os_error(libc::ELOOP));
                            }
                            let rest: PathBuf = components.by_ref().collect();
                            if !rest.as_os_str().is_empty() {
                                pending.push(rest);
                            }
                            pending.push(target);
                            break;
                        }
                        Err(_) => resolved = candidate,
                    }
                }
            }
        }
    }
    Ok(root.join(resolved))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn symlinks_stay_inside() {
        let root = std::env::temp_dir().join(format!("hull-securejoin-{}", std::process::id()));
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        symlink("/etc", root.join("abs")).unwrap();
        symlink("../../../../..", root.join("a/b/up")).unwrap();
        symlink("b", root.join("a/rel")).unwrap();
        assert_eq!(secure_join(&root, Path::new("/abs/passwd")).unwrap(), root.join("etc/passwd"));
        assert_eq!(secure_join(&root, Path::new("/a/b/up/etc")).unwrap(), root.join("etc"));
        assert_eq!(secure_join(&root, Path::new("/a/rel/x")).unwrap(), root.join("a/b/x"));
        assert_eq!(secure_join(&root, Path::new("../../x")).unwrap(), root.join("x"));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
