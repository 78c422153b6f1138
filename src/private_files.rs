//! Files that hold every principal's activity (the LookupEvents page cache, the usage store):
//! directories iamtrim creates are 0700 and files 0600, so other users of the machine cannot
//! read them. Directories that already exist keep their mode.

use std::io;
use std::path::Path;

/// Creates `dir` and its missing parents, each new one readable by its owner only.
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Writes `bytes` to `path`, created (or truncated) readable by its owner only.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write as _;
    let mut f = open_options().open(path)?;
    f.write_all(bytes)
}

/// Creates `path` empty, readable by its owner only, when it does not exist yet.
pub fn touch(path: &Path) -> io::Result<()> {
    let mut o = open_options();
    o.truncate(false);
    o.open(path).map(|_| ())
}

fn open_options() -> std::fs::OpenOptions {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn new_directories_are_0700_and_files_0600() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        super::create_dir_all(&dir).unwrap();
        super::write(&dir.join("f"), b"x").unwrap();
        super::touch(&dir.join("g")).unwrap();
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(&tmp.path().join("a")), mode(&dir)), (0o700, 0o700));
        assert_eq!((mode(&dir.join("f")), mode(&dir.join("g"))), (0o600, 0o600));
    }
}
