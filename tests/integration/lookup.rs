//! `--source lookup` against the loopback fake of the LookupEvents API: same policy as local
//! files for the same (management) events, throttling retried, paging followed to the end with
//! no page lost or fetched twice, a malformed record reported, and an interrupted run resumed
//! from the page cache.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::fake_cloudtrail::{Behaviour, FakeCloudTrail};
use crate::util::{command, example_records, iamtrim, iamtrim_env, read_json, s, AWS_TEST_ENV};

fn epoch(record: &serde_json::Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(record["eventTime"].as_str().unwrap()).unwrap().timestamp()
}

/// The examples' management events, the only ones LookupEvents holds.
fn management_events() -> Vec<serde_json::Value> {
    example_records().into_iter().filter(|r| r["managementEvent"] == true).collect()
}

/// Events for the fake, in `regions` (each a copy with its awsRegion), plus one malformed record.
fn fake_events(regions: &[&str], malformed: bool) -> Vec<(String, i64, String)> {
    let mut out = Vec::new();
    for region in regions {
        for mut r in management_events() {
            r["awsRegion"] = serde_json::Value::String(region.to_string());
            out.push((region.to_string(), epoch(&r), r.to_string()));
        }
    }
    if malformed {
        out.push(("us-east-1".into(), 1_790_856_000, "{\"eventVersion\": \"1.10\", \"userIdentity\": {".into()));
    }
    out
}

/// The policy of the same management events read from a local file.
fn local_policy(regions: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("mgmt.jsonl");
    let lines: String = fake_events(regions, false).into_iter().map(|(_, _, j)| j + "\n").collect();
    std::fs::write(&f, lines).unwrap();
    let r =
        iamtrim(&["generate", "--logs", s(&f), "--role", "dev-app-role", "--from", "2026-10-01", "--to", "2026-10-07"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stdout
}

fn lookup_args<'a>(fake: &'a FakeCloudTrail, regions: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "generate",
        "--source",
        "lookup",
        "--role",
        "dev-app-role",
        "--from",
        "2026-10-01",
        "--to",
        "2026-10-07",
        "--endpoint-url",
        fake.url.as_str(),
    ];
    for r in regions {
        a.extend(["--region", r]);
    }
    a.extend_from_slice(extra);
    a
}

/// Asserts every page was fetched once: no (region, day, token) served twice.
fn assert_no_page_twice(fake: &FakeCloudTrail) {
    let mut seen = BTreeSet::new();
    for l in fake.log().iter().filter(|l| l.outcome == "page") {
        assert!(seen.insert((l.region.clone(), l.start, l.token.clone())), "page fetched twice: {l:?}");
    }
}

#[test]
fn lookup_gives_the_local_policy_despite_throttling_empty_pages_and_a_bad_record() {
    let fake = FakeCloudTrail::start(
        fake_events(&["us-east-1"], true),
        Behaviour { throttle_every: 3, empty_pages: 1, page_size: 10, ..Behaviour::default() },
    );
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let cache = dir.path().join("cache");
    // The malformed record is a gap (--allow-incomplete: the policy of the rest, exit 0).
    let args = lookup_args(
        &fake,
        &["us-east-1"],
        &["--cache", s(&cache), "--lookup-rate", "50", "--report", s(&report), "--allow-incomplete"],
    );
    let r = iamtrim_env(&args, AWS_TEST_ENV);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, local_policy(&["us-east-1"]));
    assert!(
        r.stderr.contains("iamtrim: INCOMPLETE (1 gap)") && r.stderr.contains("records lookup:us-east-1:2026-10-01"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("LookupEvents returns management events only"), "{}", r.stderr);
    let log = fake.log();
    assert!(log.iter().filter(|l| l.outcome == "throttled").count() >= 3, "the fake throttled: {log:?}");
    assert!(log.iter().any(|l| l.outcome == "empty"));
    assert_no_page_twice(&fake);
    let rep = read_json(&report);
    crate::util::assert_reconciles(&rep);
    let rejected = rep["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert!(rejected[0]["file"].as_str().unwrap().starts_with("lookup:us-east-1:2026-10-01"), "{rejected:?}");
    assert!(rejected[0]["location"].as_str().unwrap().starts_with("Events["), "{rejected:?}");
    let stats = &rep["source_stats"][0];
    assert_eq!(stats["region"], "us-east-1");
    assert!(stats["throttled"].as_u64().unwrap() >= 3);
    // The account for the cache key came from STS GetCallerIdentity (served by the fake).
    assert!(cache.join("lookup/123456789012/us-east-1/2026-10-03").is_dir());
}

#[test]
fn an_interrupted_lookup_resumes_from_the_cache_and_a_rerun_fetches_nothing_old() {
    let events = fake_events(&["us-east-1"], false);
    let fake =
        FakeCloudTrail::start(events, Behaviour { page_size: 5, hang_after_pages: Some(4), ..Behaviour::default() });
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let args =
        lookup_args(&fake, &["us-east-1"], &["--cache", s(&cache), "--lookup-rate", "50", "--account", "123456789012"]);

    let mut child = command(&args, AWS_TEST_ENV)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    // Four pages served and the fifth request arrived: the fourth page is in the cache.
    while !fake.log().iter().any(|l| l.outcome == "hung") {
        assert!(Instant::now() < deadline, "the run never reached the hang: {:?}", fake.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let first: Vec<_> = fake.log().into_iter().filter(|l| l.outcome == "page").map(|l| (l.start, l.token)).collect();
    assert_eq!(first.len(), 4);

    fake.release();
    let before = fake.log().len();
    let r = iamtrim_env(&args, AWS_TEST_ENV);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, local_policy(&["us-east-1"]));
    let second: Vec<_> =
        fake.log()[before..].iter().filter(|l| l.outcome == "page").map(|l| (l.start, l.token.clone())).collect();
    for p in &first {
        assert!(!second.contains(p), "page {p:?} was fetched again after the interruption");
    }
    assert!(!second.is_empty());
    assert!(r.stderr.contains("4 from cache"), "{}", r.stderr);

    // Every day of October is long over, so all are complete in the cache: a re-run asks nothing.
    let before = fake.lookups();
    let again = iamtrim_env(&args, AWS_TEST_ENV);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.stdout, r.stdout);
    assert_eq!(fake.lookups(), before, "a re-run over cached days fetched pages");
    // --no-cache fetches everything again.
    let mut no_cache = args.clone();
    no_cache.retain(|a| *a != "--cache" && *a != s(&cache));
    no_cache.push("--no-cache");
    let fresh = iamtrim_env(&no_cache, AWS_TEST_ENV);
    assert_eq!(fresh.stdout, r.stdout);
    assert!(fake.lookups() > before);
}

#[test]
fn three_regions_are_fetched_concurrently_each_paced_with_no_page_lost() {
    let regions = ["us-east-1", "us-west-2", "eu-west-1"];
    let fake = FakeCloudTrail::start(
        fake_events(&regions, false),
        Behaviour { throttle_every: 7, page_size: 20, ..Behaviour::default() },
    );
    // Default pacing: 2 requests per second per region.
    let args = lookup_args(&fake, &regions, &["--no-cache", "--account", "123456789012"]);
    let started = Instant::now();
    let r = iamtrim_env(&args, AWS_TEST_ENV);
    let wall = started.elapsed();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, local_policy(&regions));
    for region in regions {
        assert!(
            r.stdout.contains(&format!("arn:aws:sqs:{region}:123456789012:dev-jobs")) || r.stdout.contains(region),
            "{region} missing"
        );
        assert!(r.stderr.contains(&format!("lookup {region}:")), "{}", r.stderr);
    }
    assert_no_page_twice(&fake);
    // The pacing figures, for the record (not asserted: no timed tests).
    let log = fake.log();
    for region in regions {
        let times: Vec<f64> = log.iter().filter(|l| l.region == region).map(|l| l.at.as_secs_f64()).collect();
        let span = times.last().unwrap() - times.first().unwrap();
        eprintln!(
            "pacing {region}: {} requests over {span:.2} s = {:.2} requests/s",
            times.len(),
            (times.len() - 1) as f64 / span.max(1e-9)
        );
    }
    eprintln!("wall {:.2} s; iamtrim said:\n{}", wall.as_secs_f64(), r.stderr);
}

#[test]
fn lookup_errors_are_clear() {
    let fake = FakeCloudTrail::start(Vec::new(), Behaviour::default());
    // No credentials anywhere.
    let r = iamtrim_env(&lookup_args(&fake, &["us-east-1"], &["--no-cache"]), &[("AWS_REGION", "us-east-1")]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("no AWS credentials found"), "{}", r.stderr);
    // A region where LookupEvents is denied: the run names the permission; other regions go on.
    let r = iamtrim_env(
        &lookup_args(&fake, &[crate::fake_cloudtrail::DENIED_REGION], &["--no-cache", "--account", "1"]),
        AWS_TEST_ENV,
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("access denied reading LookupEvents in ap-south-2: iamtrim needs cloudtrail:LookupEvents"),
        "{}",
        r.stderr
    );
    let r = iamtrim_env(
        &lookup_args(
            &fake,
            &[crate::fake_cloudtrail::DENIED_REGION, "us-east-1"],
            &["--no-cache", "--account", "1", "--lookup-rate", "50"],
        ),
        AWS_TEST_ENV,
    );
    // The denied region is a gap; the other region held no event of the role.
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(
        r.stderr.contains("lookup-region lookup ap-south-2") && r.stderr.contains("no event of role"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("warning: region ap-south-2 was not read"), "{}", r.stderr);
    // A source of no known kind: the message lists the kinds there are.
    let r = iamtrim_env(&["generate", "--source", "athena", "--role", "x"], AWS_TEST_ENV);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--source `athena` is none of `lookup`, s3://, athena:// or lake://"), "{}", r.stderr);
}

#[test]
fn profile_credentials_and_region_come_from_the_shared_files() {
    let fake = FakeCloudTrail::start(fake_events(&["eu-west-1"], false), Behaviour::default());
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let credentials = dir.path().join("credentials");
    std::fs::write(&config, "[profile audit]\nregion = eu-west-1\n").unwrap();
    std::fs::write(&credentials, "[audit]\naws_access_key_id = AKIAAUDIT\naws_secret_access_key = secret\n").unwrap();
    let env = [("AWS_CONFIG_FILE", s(&config)), ("AWS_SHARED_CREDENTIALS_FILE", s(&credentials))];
    let args = [
        "generate",
        "--source",
        "lookup",
        "--profile",
        "audit",
        "--role",
        "dev-app-role",
        "--from",
        "2026-10-01",
        "--to",
        "2026-10-07",
        "--endpoint-url",
        fake.url.as_str(),
        "--no-cache",
        "--lookup-rate",
        "50",
    ];
    let r = iamtrim_env(&args, &env);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The region came from the profile: the fake saw eu-west-1 in the credential scope.
    assert!(fake.log().iter().all(|l| l.region == "eu-west-1"), "{:?}", fake.log());
    assert_eq!(r.stdout, local_policy(&["eu-west-1"]));
    // Without the profile there are no credentials.
    let r =
        iamtrim_env(&args.iter().filter(|a| !["--profile", "audit"].contains(a)).copied().collect::<Vec<_>>(), &env);
    assert_eq!(r.code, 1, "{}", r.stderr);
}

#[test]
fn lookup_in_govcloud_is_asked_in_us_gov_west_1_and_builds_govcloud_arns() {
    // The examples' management events as GovCloud records: every ARN in aws-us-gov.
    let events: Vec<(String, i64, String)> = management_events()
        .into_iter()
        .map(|mut r| {
            r["awsRegion"] = serde_json::Value::String("us-gov-west-1".into());
            let text = r.to_string().replace("arn:aws:", "arn:aws-us-gov:").replace("us-east-1", "us-gov-west-1");
            ("us-gov-west-1".to_string(), epoch(&r), text)
        })
        .collect();
    let fake = FakeCloudTrail::start(events, Behaviour { throttle_every: 4, page_size: 20, ..Behaviour::default() });
    let mut args = lookup_args(&fake, &["us-gov-west-1"], &["--no-cache", "--account", "123456789012"]);
    args[3] = "--principal";
    args[4] = "arn:aws-us-gov:iam::123456789012:role/dev-app-role";
    let r = iamtrim_env(
        &args,
        &[("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_REGION", "us-gov-west-1")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(fake.log().iter().all(|l| l.region == "us-gov-west-1"), "{:?}", fake.log());
    assert!(!r.stdout.contains("arn:aws:"), "{}", r.stdout);
    assert!(r.stdout.contains("arn:aws-us-gov:sqs:us-gov-west-1:123456789012:dev-jobs"), "{}", r.stdout);
    assert_no_page_twice(&fake);
    // --all-regions in GovCloud reads GovCloud's regions, not the commercial ones.
    let mut all = lookup_args(&fake, &[], &["--no-cache", "--account", "123456789012", "--all-regions"]);
    all[3] = "--principal";
    all[4] = "arn:aws-us-gov:iam::123456789012:role/dev-app-role";
    let r = iamtrim_env(
        &all,
        &[("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_REGION", "us-gov-west-1")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let regions: BTreeSet<String> = fake.log().iter().map(|l| l.region.clone()).collect();
    assert_eq!(regions, BTreeSet::from(["us-gov-east-1".to_string(), "us-gov-west-1".to_string()]));
    assert!(r.stderr.contains("the 2 regions of partition aws-us-gov"), "{}", r.stderr);
}
