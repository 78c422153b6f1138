//! The panther-analysis corpus (451 real-shaped records): every emitted action exists in the
//! catalog, every generated ARN fits one of the action's templates, coverage of real operations
//! made by IAM users and roles is at least 95%, and made-up event names are never mapped.

use iamtrim::catalog::ActionCatalog;
use iamtrim::coverage;
use iamtrim::event::Event;
use iamtrim::mapper::{Call, EventMapper, Mapping};
use iamtrim::source::{read_file, Item};

use crate::util::{iamtrim, panther, s};

/// Maps every record of the corpus; returns (action, resources) of each use.
fn all_uses() -> Vec<(String, String, Vec<String>)> {
    let mapper = EventMapper::new(ActionCatalog::embedded());
    let mut out = Vec::new();
    read_file(&panther(), &mut |item| {
        if let Item::Record { json, .. } = item {
            if let Ok(e) = Event::from_json(json) {
                if let Mapping::Actions(uses) = mapper.map(&e) {
                    for u in uses {
                        out.push((format!("{} {}", e.event_source, e.event_name), u.action, u.resources));
                    }
                }
            }
        }
    });
    out
}

#[test]
fn the_mapping_memo_gives_every_record_of_the_corpus_the_mappers_own_answer_every_time_it_is_seen() {
    let mapper = EventMapper::new(ActionCatalog::embedded());
    let mut records = Vec::new();
    read_file(&panther(), &mut |item| {
        if let Item::Record { json, .. } = item {
            records.push(json.to_string());
        }
    });
    let events: Vec<Event<'_>> = records.iter().filter_map(|json| Event::from_json(json).ok()).collect();
    assert!(events.len() > 400, "only {} records", events.len());
    // A call is kept the second time it is seen: from the third, the answer is the kept one.
    let mut kept = std::collections::HashMap::new();
    for round in 0..3 {
        for (i, e) in events.iter().enumerate() {
            let memo = mapper.map_memoized(&Call::of(e));
            assert_eq!(memo.answer.as_ref().ok(), Some(&mapper.map(e)), "record {i}, round {round}");
            if round == 2 {
                assert!(memo.id.is_some() && memo.id == kept[&i], "record {i}: mapped again in round {round}");
            }
            kept.insert(i, memo.id);
        }
    }
}

#[test]
fn every_emitted_action_exists_in_the_catalog() {
    let catalog = ActionCatalog::embedded();
    let uses = all_uses();
    assert!(uses.len() > 300, "only {} action uses", uses.len());
    for (event, action, _) in &uses {
        let found = catalog.action_by_name(action).unwrap_or_else(|| panic!("{event}: {action} is not in the catalog"));
        assert_eq!(&found.name, action);
    }
}

#[test]
fn every_generated_arn_matches_one_of_the_actions_templates() {
    let catalog = ActionCatalog::embedded();
    let mut arns = 0;
    for (event, action, resources) in all_uses() {
        let a = catalog.action_by_name(&action).unwrap();
        for arn in resources {
            if arn == "*" {
                // `*` only where no resource is sure to be named: the action has no resource
                // type the catalog marks required.
                assert!(
                    !a.resource_types.iter().any(|rt| rt.required),
                    "{event}: {action} got `*` but requires a resource"
                );
                continue;
            }
            let fits = a
                .resource_types
                .iter()
                .any(|rt| catalog.templates(a.prefix(), &rt.name).iter().any(|t| t.matches(&arn)));
            assert!(fits, "{event}: {arn} fits no template of {action}");
            arns += 1;
        }
    }
    assert!(arns > 100, "only {arns} ARNs checked");
}

#[test]
fn coverage_of_iam_user_and_role_pairs_is_at_least_95_percent() {
    let report = coverage::measure(&[panther()], &EventMapper::new(ActionCatalog::embedded()));
    assert_eq!(report.records_read, 451);
    assert_eq!(report.all_principals.pairs, 194);
    let f = &report.iam_users_and_roles;
    assert!(f.real_operation_pairs > 150, "{f:?}");
    assert!(
        f.coverage_percent >= 95.0,
        "coverage {f:?}; unmapped: {:?}",
        report.pair_details.iter().filter(|p| p.status == "unmapped").collect::<Vec<_>>()
    );
    // Made-up names in the fixtures are reported, never mapped.
    for (source, name) in [
        ("iam.amazonaws.com", "NotCreateUser"),
        ("s3.amazonaws.com", "SetQueueAttributes"),
        ("ec2.amazonaws.com", "DeleteBucketEncryption"),
    ] {
        let p = report
            .pair_details
            .iter()
            .find(|p| p.source == source && p.name == name)
            .unwrap_or_else(|| panic!("{source} {name} missing"));
        assert_eq!(p.status, "not_an_operation", "{p:?}");
        assert!(p.actions.is_empty());
    }
}

#[test]
fn coverage_command_prints_the_figures_and_json() {
    let r = iamtrim(&["coverage", "--logs", s(&panther())]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("IAM users and roles: 189 distinct eventSource/eventName pairs"), "{}", r.stdout);
    assert!(r.stdout.contains("iam.amazonaws.com NotCreateUser"), "{}", r.stdout);
    let r = iamtrim(&["coverage", "--logs", s(&panther()), "--json"]);
    assert_eq!(r.code, 0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["iam_users_and_roles"]["coverage_percent"].as_f64().unwrap() >= 95.0);
    assert_eq!(v["records_read"], 451);
}

#[test]
fn generating_for_each_corpus_role_reconciles_and_grants_only_catalog_actions() {
    let catalog = ActionCatalog::embedded();
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    for role in [
        "arn:aws:iam::123456789012:role/tester",
        "example-role",
        "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/us-west-2/SampleRole",
    ] {
        let r = iamtrim(&["generate", "--logs", s(&panther()), "--role", role, "--report", s(&report), "--quiet"]);
        assert_eq!(r.code, 0, "{role}: {}", r.stderr);
        let policy: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        let rep = crate::util::read_json(&report);
        crate::util::assert_reconciles(&rep);
        assert!(rep["records_matched"].as_u64().unwrap() > 0, "{role}");
        for st in policy["Statement"].as_array().unwrap() {
            for a in st["Action"].as_array().unwrap() {
                assert!(catalog.action_by_name(a.as_str().unwrap()).is_some(), "{role}: {a}");
            }
        }
    }
}
