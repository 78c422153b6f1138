//! The files iamtrim writes: parts written atomically with only its own stale parts removed,
//! the usage store and the page cache private to their owner, `--help` naming only files that
//! exist.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::fake_cloudtrail::{Behaviour, FakeCloudTrail};
use crate::util::{examples, iamtrim, iamtrim_env, root, s, AWS_TEST_ENV};

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn output_dir_removes_the_stale_parts_it_wrote_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("policies");
    let ex = examples();
    let split = iamtrim(&[
        "generate",
        "--logs",
        s(&ex),
        "--role",
        "dev-app-role",
        "--resources",
        "exact",
        "--output-dir",
        s(&out),
    ]);
    assert_eq!(split.code, 0, "{}", split.stderr);
    assert_eq!(names(&out), [".iamtrim-dev-app-role.manifest", "dev-app-role-1.json", "dev-app-role-2.json"]);
    // Files iamtrim did not write, one named like a part.
    std::fs::write(out.join("dev-app-role-notes.json"), "mine").unwrap();
    std::fs::write(out.join("dev-app-role-3.json"), "mine too").unwrap();
    std::fs::write(out.join("other-role.json"), "{}").unwrap();
    let one = iamtrim(&["generate", "--logs", s(&ex), "--role", "dev-app-role", "--output-dir", s(&out)]);
    assert_eq!(one.code, 0, "{}", one.stderr);
    assert_eq!(
        names(&out),
        [
            ".iamtrim-dev-app-role.manifest",
            "dev-app-role-3.json",
            "dev-app-role-notes.json",
            "dev-app-role.json",
            "other-role.json"
        ]
    );
    assert!(one.stderr.contains("removed") && one.stderr.contains("dev-app-role-2.json"), "{}", one.stderr);
    assert_eq!(
        std::fs::read_to_string(out.join("dev-app-role.json")).unwrap(),
        std::fs::read_to_string(root().join("docs/examples-policy.json")).unwrap()
    );
    assert_eq!(std::fs::read_to_string(out.join("dev-app-role-3.json")).unwrap(), "mine too");
}

#[test]
fn an_unwritable_output_fails_before_any_source_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let ex = examples();
    for args in [
        vec!["--output", "/nonexistent/p.json"],
        vec!["--report", "/nonexistent/r.json"],
        vec!["--output", s(dir.path())],
    ] {
        let mut a = vec!["generate", "--logs", s(&ex), "--role", "dev-app-role"];
        a.extend(args.iter().copied());
        let r = iamtrim(&a);
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert!(r.stderr.contains("cannot write"), "{}", r.stderr);
        assert!(!r.stderr.contains("records:"), "nothing was read first: {}", r.stderr);
    }
}

#[test]
fn a_bare_store_goes_to_the_data_dir_and_the_store_and_cache_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let ex = examples();
    let r = iamtrim_env(
        &[
            "generate",
            "--logs",
            s(&ex),
            "--role",
            "dev-app-role",
            "--from",
            "2026-10-01",
            "--to",
            "2026-10-02",
            "--store",
            "--quiet",
        ],
        &[("XDG_DATA_HOME", s(&data))],
    );
    assert_eq!(r.code, 0, "bare --store works as README says: {}", r.stderr);
    let db = data.join("iamtrim/usage.sqlite");
    assert_eq!((mode(&data.join("iamtrim")), mode(&db)), (0o700, 0o600));
    let info = iamtrim_env(&["store", "info"], &[("XDG_DATA_HOME", s(&data))]);
    assert!(info.stdout.contains("2 days"), "{}", info.stdout);

    let fake = FakeCloudTrail::start(Vec::new(), Behaviour::default());
    let cache = dir.path().join("cache");
    let r = iamtrim_env(
        &[
            "generate",
            "--source",
            "lookup",
            "--role",
            "dev-app-role",
            "--from",
            "2026-10-01",
            "--to",
            "2026-10-01",
            "--endpoint-url",
            &fake.url,
            "--region",
            "us-east-1",
            "--cache",
            s(&cache),
            "--lookup-rate",
            "50",
        ],
        AWS_TEST_ENV,
    );
    assert_eq!(r.code, 5, "no event: {}", r.stderr);
    let day = cache.join("lookup/123456789012/us-east-1/2026-10-01");
    assert_eq!((mode(&cache), mode(&cache.join("lookup")), mode(&day)), (0o700, 0o700, 0o700));
    for f in std::fs::read_dir(&day).unwrap() {
        let f = f.unwrap().path();
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
}

#[test]
fn help_names_no_file_that_does_not_exist() {
    for cmd in [
        vec!["--help"],
        vec!["generate", "--help"],
        vec!["diff", "--help"],
        vec!["coverage", "--help"],
        vec!["store", "info", "--help"],
        vec!["store", "forget", "--help"],
    ] {
        let r = iamtrim(&cmd);
        assert_eq!(r.code, 0, "{}", r.stderr);
        for word in r.stdout.split(|c: char| c.is_whitespace() || "()[],;`'\"".contains(c)) {
            let word = word.trim_end_matches(['.', ':']);
            let named = ["docs/", "action-maps/", "scripts/", "examples/"].iter().any(|d| word.starts_with(d));
            if named {
                assert!(root().join(word).exists(), "`{}` names {word}, which does not exist", cmd.join(" "));
            }
        }
    }
}
