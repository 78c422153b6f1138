//! Snapshot tests of every output format for examples/ (tests/snapshots/). A change to a
//! format shows here as a diff; regenerate a snapshot with the command in its assertion message.

use crate::util::{examples, iamtrim, root, s};

#[test]
fn every_format_matches_its_snapshot() {
    let ex = examples();
    for (args, file) in [
        (vec!["--format", "json"], "examples.json"),
        (vec!["--format", "terraform"], "examples.tf"),
        (vec!["--format", "terraform", "--terraform-style", "document"], "examples.document.tf"),
        (vec!["--format", "cloudformation"], "examples.cfn.yaml"),
        (vec!["--format", "sam"], "examples.sam.yaml"),
        (vec!["--conditions", "--format", "json"], "examples.conditions.json"),
        (vec!["--conditions", "--format", "terraform"], "examples.conditions.tf"),
        (
            vec!["--conditions", "--format", "terraform", "--terraform-style", "document"],
            "examples.conditions.document.tf",
        ),
        (vec!["--conditions", "--format", "cloudformation"], "examples.conditions.cfn.yaml"),
        (vec!["--conditions", "--format", "sam"], "examples.conditions.sam.yaml"),
    ] {
        let mut full = vec!["generate", "--logs", s(&ex), "--role", "dev-app-role", "--quiet"];
        full.extend(args.iter().copied());
        let r = iamtrim(&full);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let want = std::fs::read_to_string(root().join("tests/snapshots").join(file)).unwrap();
        assert_eq!(
            r.stdout,
            want,
            "{file} changed; if intended: iamtrim {} > tests/snapshots/{file}",
            full[1..].join(" ")
        );
        // Deterministic: a second run gives the same bytes.
        assert_eq!(iamtrim(&full).stdout, r.stdout, "{file}");
    }
    // The JSON snapshot is the documented policy.
    assert_eq!(
        std::fs::read_to_string(root().join("tests/snapshots/examples.json")).unwrap(),
        std::fs::read_to_string(root().join("docs/examples-policy.json")).unwrap()
    );
}
