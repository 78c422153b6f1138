//! Command-line interface: argument parsing, the `generate` and `coverage` commands, exit codes.
//! Data goes to stdout (or `--output`), messages for people to stderr. The only module that
//! prints: the library below it returns what it found.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::catalog::ActionCatalog;
use crate::coverage;
use crate::filter::{BadRole, BadTime, RoleFilter, TimeRange};
use crate::mapper::EventMapper;
use crate::report::RunReport;
use crate::source;
use crate::synth;
use crate::text::visible;
use crate::usage::{self, Selection};

/// Success.
pub const EXIT_OK: i32 = 0;
/// Nothing could be read, or output could not be written.
pub const EXIT_ERROR: i32 = 1;
/// Bad arguments.
pub const EXIT_USAGE: i32 = 2;
/// `diff --fail-on` found what it was told to fail on.
pub const EXIT_DIFF: i32 = 3;
/// INCOMPLETE: something could not be read (a corrupt file, a failed S3 object, LookupEvents
/// region or query, days older than the source keeps). `generate` still wrote the policy of what
/// was read; `diff` refused to call anything unused. `--allow-incomplete` turns this into 0.
pub const EXIT_INCOMPLETE: i32 = 4;
/// The old name of [`EXIT_INCOMPLETE`] (`--strict` and some input was rejected).
pub const EXIT_REJECTED: i32 = EXIT_INCOMPLETE;
/// The role has no event in what was read: nothing to generate or compare.
pub const EXIT_NO_ACTIVITY: i32 = 5;

const EXIT_CODES: &str = "Exit status: 0 success; 1 nothing readable, an AWS error, or output not writable; 2 bad arguments \
(or a role name that matched several accounts); 3 diff --fail-on found what it was told to fail on; 4 INCOMPLETE: something \
could not be read (the policy covers what was read; diff calls nothing unused), unless --allow-incomplete; 5 the role has \
no event in what was read.";

/// iamtrim: the least-privilege IAM policy a role needs, from what it did (CloudTrail).
#[derive(Debug, Parser)]
#[command(name = "iamtrim", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate the policy a role needs from CloudTrail logs.
    #[command(after_help = EXIT_CODES)]
    Generate(Box<GenerateArgs>),
    /// Compare a role's current policies with what it used.
    #[command(after_help = EXIT_CODES)]
    Diff(Box<DiffArgs>),
    /// Measure how many eventSource/eventName pairs of a corpus map to IAM actions.
    #[command(after_help = EXIT_CODES)]
    Coverage(CoverageArgs),
    /// The incremental usage store (`--store`).
    #[command(subcommand)]
    Store(StoreCommand),
}

/// `iamtrim store ...`.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// What the store holds: per role and source, the days stored and the records of the role.
    Info {
        /// The database (default: the user's data dir, e.g. ~/.local/share/iamtrim/usage.sqlite).
        #[arg(long, value_name = "PATH")]
        store: Option<PathBuf>,
        /// JSON on stdout instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Drop the stored days of a role (all, or from --from to --to), so the next run reads them
    /// from the source again.
    Forget {
        /// The database (default: the user's data dir, e.g. ~/.local/share/iamtrim/usage.sqlite).
        #[arg(long, value_name = "PATH")]
        store: Option<PathBuf>,
        /// The role, as given to --role when the days were stored (case-insensitive).
        #[arg(long)]
        role: String,
        /// First day to drop (UTC date, 2026-10-01).
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// Last day to drop, inclusive.
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
    },
}

/// Where the activity comes from and whose it is (shared by `generate` and `diff`).
#[derive(Debug, Args)]
pub struct InputArgs {
    /// CloudTrail log files or directories (searched recursively): trail files
    /// ({"Records":[...]}, .json or .json.gz), JSON Lines of records, or saved
    /// `aws cloudtrail lookup-events` output.
    #[arg(long, required_unless_present = "source", conflicts_with = "source", num_args = 1.., value_name = "PATH")]
    pub logs: Vec<PathBuf>,
    /// Read from AWS instead of files: `lookup` (the CloudTrail LookupEvents API: management
    /// events of the last 90 days), `s3://BUCKET[/PREFIX]` (trail log files; data events too),
    /// `athena://DATABASE.TABLE?workgroup=W&output=s3://...` (an Athena query over a CloudTrail
    /// table returns distinct call shapes with counts) or `lake://EVENT_DATA_STORE` (the same
    /// query in CloudTrail Lake).
    #[arg(long, value_name = "SOURCE")]
    pub source: Option<String>,
    /// AWS region: for `lookup`, the regions to read (repeatable; default: the profile's);
    /// for `s3://`, only these trail regions (the bucket's own region is found by itself).
    #[arg(long = "region", value_name = "REGION")]
    pub regions: Vec<String>,
    /// With `--source lookup`: every commercial region (iamtrim's list; a region the account has
    /// not enabled is reported and skipped).
    #[arg(long, conflicts_with = "regions")]
    pub all_regions: bool,
    /// Named profile from the AWS config files (default: AWS_PROFILE, else the default chain).
    #[arg(long)]
    pub profile: Option<String>,
    /// Send every AWS request to this endpoint (a moto server, a VPC endpoint, ...).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// With `s3://`: only these accounts (repeatable). With `lookup`: the account, for the cache
    /// key (default: asked of STS).
    #[arg(long = "account", value_name = "ID")]
    pub accounts: Vec<String>,
    /// With `lookup`: cache pages here (default: the user cache dir, e.g. ~/.cache/iamtrim).
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
    pub cache: Option<PathBuf>,
    /// With `lookup`: neither read nor write the page cache.
    #[arg(long)]
    pub no_cache: bool,
    /// With `s3://`: objects downloaded at once.
    #[arg(long, default_value_t = 32, value_name = "N")]
    pub concurrency: usize,
    /// With `lookup`: requests per second per region (the API allows 2; lower it when other
    /// tools share the quota).
    #[arg(long, default_value_t = 2.0, value_name = "N")]
    pub lookup_rate: f64,
    /// Keep aggregated usage per role and UTC day in this SQLite database and read from the
    /// source only the days it does not hold (default without a value: the user's data dir,
    /// e.g. ~/.local/share/iamtrim/usage.sqlite). Needs a window (--days, --from/--to).
    #[arg(long, value_name = "PATH", num_args = 0..=1)]
    #[allow(clippy::option_option)]
    pub store: Option<Option<PathBuf>>,
    /// With `athena://` or `lake://`: print the SQL iamtrim would run on stdout, and exit.
    #[arg(long)]
    pub print_sql: bool,
    /// With `athena://DATABASE.TABLE`: print the CREATE TABLE (with partition projection) for
    /// the trail files at this location (s3://BUCKET/[PREFIX/]AWSLogs/ACCOUNT/CloudTrail/REGION/)
    /// on stdout, and exit.
    #[arg(long, value_name = "S3_LOCATION")]
    pub athena_create_table: Option<String>,
    /// The role: its ARN (arn:aws:iam::123456789012:role/NAME) or its name. Matches every
    /// session of the role.
    #[arg(long)]
    pub role: String,
    /// Start of the window: a date (2026-10-01, UTC) or an RFC 3339 time.
    #[arg(long, conflicts_with = "days")]
    pub from: Option<String>,
    /// End of the window, inclusive: a date (the whole day, UTC) or an RFC 3339 time.
    #[arg(long, conflicts_with = "days")]
    pub to: Option<String>,
    /// The window is the last N days up to now. Default: every event in the logs.
    #[arg(long, value_name = "N")]
    pub days: Option<u32>,
    /// Exit 0 although something could not be read (corrupt files, failed S3 objects, LookupEvents
    /// regions or queries). The output still says INCOMPLETE and lists what was not read, and
    /// `diff` says "not seen in what could be read" instead of "never used".
    #[arg(long)]
    pub allow_incomplete: bool,
    /// Count calls that failed with this error code as proof the permission is used (repeatable),
    /// beside the codes action-maps/error-codes.json lists as failing after authorization.
    #[arg(long = "count-error", value_name = "CODE")]
    pub count_errors: Vec<String>,
    /// Read at most this many MiB (decompressed) of one log document or JSON Lines line; a
    /// larger one (a decompression bomb, a runaway file) is a rejected, named gap.
    #[arg(long, value_name = "MB", default_value_t = crate::source::DEFAULT_MAX_DOCUMENT_MB as u16, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_document_mb: u16,
    /// Read at most this many MiB of one record; a larger one is a rejected record.
    #[arg(long, value_name = "MB", default_value_t = crate::source::DEFAULT_MAX_RECORD_MB as u16, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_record_mb: u16,
}

/// `iamtrim generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Activity to read.
    #[command(flatten)]
    pub input: InputArgs,
    /// Write the policy here instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Write a JSON report (counts, rejected records, denied and unmapped calls, evidence per action).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Kept for scripts: any input that could not be read now exits 4 (INCOMPLETE) by default.
    #[arg(long, conflicts_with = "allow_incomplete")]
    pub strict: bool,
    /// Resource generalization: `exact` (every ARN seen), `prefix` (many ARNs in one bucket,
    /// table or log group collapse to their longest common path plus *), `service` (* for
    /// every action).
    #[arg(long, value_enum, default_value = "prefix")]
    pub resources: ResourcesArg,
    /// With `--resources prefix`: more ARNs than this in one container are collapsed.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub max_arns_per_statement: usize,
    /// Output format: the policy JSON, Terraform, a CloudFormation template, or a SAM `Policies:` block.
    #[arg(long, value_enum, default_value = "json")]
    pub format: PolicyFormat,
    /// When the policy is over the 6,144-character managed policy limit, write it split into
    /// several policies here (`<role>-1.json`, ...) instead of stdout.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Print, for each statement, the events (source, name, count, first and last seen) that
    /// justify each action, and why implied permissions are there.
    #[arg(long)]
    pub explain: bool,
    /// Add conditions from how the calls were made: aws:RequestedRegion (the regions seen),
    /// aws:SourceVpce (when every call came through one VPC endpoint), kms:ViaService or
    /// aws:CalledVia (when every call was made by a service on the role's behalf).
    #[arg(long)]
    pub conditions: bool,
    /// With `--format terraform`: an `aws_iam_policy` resource with jsonencode, or an
    /// `aws_iam_policy_document` data source.
    #[arg(long, value_enum, default_value = "resource")]
    pub terraform_style: TerraformStyle,
    /// Print no summary on stderr (warnings and errors still go there).
    #[arg(long, short)]
    pub quiet: bool,
}

/// `generate --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PolicyFormat {
    /// IAM policy JSON.
    Json,
    /// Terraform.
    Terraform,
    /// A CloudFormation template (YAML) with an AWS::IAM::ManagedPolicy.
    Cloudformation,
    /// The Policies: block of an AWS::Serverless::Function.
    Sam,
}

/// `--terraform-style`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TerraformStyle {
    /// resource "aws_iam_policy" with jsonencode.
    Resource,
    /// data "aws_iam_policy_document".
    Document,
}

/// `--resources`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ResourcesArg {
    /// Every ARN seen.
    Exact,
    /// Collapse many ARNs of one container to a common prefix.
    Prefix,
    /// `*` for every action.
    Service,
}

/// Output format of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    /// For people at a terminal (colour unless NO_COLOR or not a terminal).
    Terminal,
    /// For a pull-request comment.
    Markdown,
    /// For machines.
    Json,
}

/// What makes `diff` exit 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Something is granted and never used.
    Unused,
    /// Something used (or tried) is not granted.
    NotGranted,
    /// Either.
    Any,
}

/// `iamtrim diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Activity to read.
    #[command(flatten)]
    pub input: InputArgs,
    /// Compare with these policies instead of the role's in IAM: policy files (JSON), or AWS
    /// managed policies by ARN or name (resolved from the bundled copies).
    #[arg(long, num_args = 1.., value_name = "FILE|ARN|NAME")]
    pub current: Vec<String>,
    /// With --current: this permissions boundary (file, ARN or name).
    #[arg(long, value_name = "FILE|ARN|NAME", requires = "current")]
    pub boundary: Option<String>,
    /// Resolve AWS managed policies from the bundled copies instead of IAM.
    #[arg(long)]
    pub offline: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "terminal")]
    pub format: DiffFormat,
    /// Exit 3 when this part of the diff is not empty.
    #[arg(long, value_enum, value_name = "unused|not-granted|any")]
    pub fail_on: Option<FailOn>,
    /// Write the diff here instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `iamtrim coverage`.
#[derive(Debug, Args)]
pub struct CoverageArgs {
    /// CloudTrail log files or directories.
    #[arg(long, required = true, num_args = 1.., value_name = "PATH")]
    pub logs: Vec<PathBuf>,
    /// Print the full report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Errors that end a command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// `--role` is malformed.
    #[error(transparent)]
    Role(#[from] BadRole),
    /// `--from`/`--to` is malformed.
    #[error(transparent)]
    Time(#[from] BadTime),
    /// `--from` is after `--to`.
    #[error("--from ({from}) is after --to ({to})")]
    EmptyWindow {
        /// From.
        from: String,
        /// To.
        to: String,
    },
    /// No log could be read.
    #[error("{0}")]
    NothingReadable(String),
    /// A bare role name matched roles of several accounts.
    #[error("{0}")]
    Ambiguous(String),
    /// The role has no event in what was read.
    #[error("{message}")]
    NoActivity {
        /// What was read and whose activity it held.
        message: String,
        /// Something could not be read as well.
        incomplete: bool,
    },
    /// An AWS source failed.
    #[cfg(feature = "aws")]
    #[error(transparent)]
    Aws(#[from] crate::aws::AwsError),
    /// `--source` is not one iamtrim knows.
    #[error("{0}")]
    BadSource(String),
    /// A policy given with --current cannot be used.
    #[error("{0}")]
    Policy(String),
    /// Output could not be written.
    #[error("cannot write `{path}`: {source}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

impl CliError {
    /// The exit status for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Role(_)
            | CliError::Time(_)
            | CliError::EmptyWindow { .. }
            | CliError::BadSource(_)
            | CliError::Ambiguous(_) => EXIT_USAGE,
            CliError::NoActivity { incomplete: true, .. } => EXIT_INCOMPLETE,
            CliError::NoActivity { incomplete: false, .. } => EXIT_NO_ACTIVITY,
            #[cfg(feature = "aws")]
            CliError::Aws(crate::aws::AwsError::BadSource(_)) => EXIT_USAGE,
            #[cfg(feature = "aws")]
            CliError::Aws(_) => EXIT_ERROR,
            CliError::NothingReadable(_) | CliError::Write { .. } | CliError::Policy(_) => EXIT_ERROR,
        }
    }
}

/// Runs the command line `args` (including the program name) and returns the exit status.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
        }
    };
    let result = match cli.command {
        Command::Generate(a) => generate(&a),
        Command::Diff(a) => run_diff(&a),
        Command::Coverage(a) => run_coverage(&a),
        Command::Store(StoreCommand::Info { store, json }) => store_info(store.as_deref(), json),
        Command::Store(StoreCommand::Forget { store, role, from, to }) => {
            store_forget(store.as_deref(), &role, from.as_deref(), to.as_deref())
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("iamtrim: error: {}", crate::text::terminal_safe(&e.to_string()));
            e.exit_code()
        }
    }
}

fn write_out(path: Option<&Path>, text: &str) -> Result<(), CliError> {
    match path {
        Some(p) => std::fs::write(p, text).map_err(|source| CliError::Write { path: p.display().to_string(), source }),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|_| out.flush())
                .map_err(|source| CliError::Write { path: "stdout".into(), source })
        }
    }
}

/// A progress bar on stderr when it is a terminal, nothing otherwise.
fn progress_bar(len: usize, what: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() || len < 2 {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    let style =
        indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} files · {elapsed} · eta {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(what.to_string());
    bar
}

/// The activity of a run.
struct Collected {
    role: RoleFilter,
    window: String,
    usage: usage::Usage,
    source_stats: Option<serde_json::Value>,
    /// No log file was found at all (local source).
    no_files: bool,
}

/// `--role` and the window (`--days`, or `--from`/`--to`), checked.
fn role_and_window(input: &InputArgs) -> Result<(RoleFilter, TimeRange), CliError> {
    let role = RoleFilter::parse(&input.role)?;
    let range = match input.days {
        Some(d) => TimeRange::try_last_days(d, chrono::Utc::now()).ok_or_else(|| {
            CliError::BadSource(format!(
                "--days {d} reaches before the earliest date iamtrim can represent; give a smaller number"
            ))
        })?,
        None => TimeRange::parse(input.from.as_deref(), input.to.as_deref())?,
    };
    if let (Some(f), Some(t)) = (range.from, range.to) {
        if f > t {
            return Err(CliError::EmptyWindow { from: f.to_rfc3339(), to: t.to_rfc3339() });
        }
    }
    Ok((role, range))
}

/// Reads the activity `input` names.
fn collect(input: &InputArgs) -> Result<Collected, CliError> {
    let (role, range) = role_and_window(input)?;
    let mapper = EventMapper::new(ActionCatalog::embedded());
    let limits = crate::source::ReadLimits {
        max_document: usize::from(input.max_document_mb) << 20,
        max_record: usize::from(input.max_record_mb) << 20,
    };
    let selection = Selection {
        role: Some(role.clone()),
        range,
        counted_errors: crate::evidence::CountedErrors::new(&input.count_errors),
        limits,
    };
    if let Some(store) = &input.store {
        let (usage, stats) = collect_with_store(store.as_deref(), input, &selection, &mapper)?;
        let window = range.to_string();
        debug_assert!(usage.reconciles());
        one_account(&role, &usage)?;
        return Ok(Collected { role, window, usage, source_stats: Some(stats), no_files: false });
    }
    let (usage, no_files, source_stats) = read_source(input, &selection, &mapper)?;
    let window = if range.is_bounded() { range.to_string() } else { "all events in the logs".to_string() };
    debug_assert!(usage.reconciles());
    one_account(&role, &usage)?;
    Ok(Collected { role, window, usage, source_stats, no_files })
}

/// A bare role name matches in every account; when it matched roles of more than one, the
/// activity of different roles would be merged: refuse, and name the ARNs to choose from.
fn one_account(role: &RoleFilter, usage: &usage::Usage) -> Result<(), CliError> {
    if role.account().is_some() {
        return Ok(());
    }
    let mut by_account: std::collections::BTreeMap<String, (Vec<&str>, u64)> = std::collections::BTreeMap::new();
    for (arn, n) in &usage.matched_roles {
        let account = crate::arn::Arn::parse(arn).map(|a| a.account.to_string()).unwrap_or_default();
        let e = by_account.entry(account).or_default();
        e.0.push(arn);
        e.1 += n;
    }
    if by_account.len() < 2 {
        return Ok(());
    }
    let list: Vec<String> = by_account
        .iter()
        .map(|(account, (arns, n))| {
            format!("  account {}: {} ({n} records)", visible(account), visible(&arns.join(", ")))
        })
        .collect();
    Err(CliError::Ambiguous(format!(
        "role name `{}` matched roles in {} accounts; iamtrim never merges two accounts' activity. Pass one ARN with --role:\n{}",
        role.name(),
        by_account.len(),
        list.join("\n")
    )))
}

/// The message for a role with no event in what was read: what was read, the principals seen
/// most, and the role names closest to the one asked for.
fn no_activity(c: &Collected) -> CliError {
    let usage = &c.usage;
    let mut seen: Vec<(&String, &u64)> = usage.principals_seen.iter().collect();
    seen.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let top: Vec<String> = seen.iter().take(5).map(|(p, n)| format!("{} ({n})", visible(p))).collect();
    let wanted = c.role.name().to_ascii_lowercase();
    let mut names: Vec<(usize, String)> = usage
        .principals_seen
        .keys()
        .filter_map(|p| p.split_once(":role/").map(|(_, path)| path.rsplit('/').next().unwrap_or(path).to_string()))
        .map(|n| (edit_distance(&wanted, &n.to_ascii_lowercase()), n))
        .filter(|(d, n)| *d <= (n.len().max(wanted.len()) / 3).max(2))
        .collect();
    names.sort();
    names.dedup();
    let closest: Vec<String> = names.into_iter().take(3).map(|(_, n)| visible(&n).into_owned()).collect();
    let mut message = format!(
        "no event of role {} in {}: {} records read, {} rejected, {} of other principals, {} outside the window",
        c.role.as_str(),
        c.window,
        usage.records_read,
        usage.records_rejected,
        usage.filtered.other_principal,
        usage.filtered.outside_window
    );
    if !top.is_empty() {
        message.push_str(&format!("\n  principals seen most: {}", top.join(", ")));
    }
    if !closest.is_empty() {
        message.push_str(&format!("\n  closest role names: {}", closest.join(", ")));
    }
    message.push_str("\n  nothing is generated or compared from no events");
    if let Some(line) = incomplete_line(usage, false, "and the role has no event in what could be read") {
        message.push('\n');
        message.push_str(&line);
    }
    CliError::NoActivity { message, incomplete: !usage.is_complete() }
}

/// Levenshtein distance, for suggesting role names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The last line of a run that could not read everything (its first line says so too).
fn incomplete_line(usage: &usage::Usage, allow: bool, what: &str) -> Option<String> {
    if usage.is_complete() {
        return None;
    }
    let n = usage.gaps.len();
    let tail = if allow { "(--allow-incomplete: exit 0)" } else { "(exit 4; --allow-incomplete to accept)" };
    Some(format!("iamtrim: INCOMPLETE: {n} gap{} (listed above): {what} {tail}", if n == 1 { "" } else { "s" }))
}

/// Prints the last line of an incomplete run; returns the exit status it leads to.
fn incomplete_ending(usage: &usage::Usage, allow: bool, what: &str) -> i32 {
    match incomplete_line(usage, allow, what) {
        None => EXIT_OK,
        Some(line) => {
            eprintln!("{line}");
            if allow {
                EXIT_OK
            } else {
                EXIT_INCOMPLETE
            }
        }
    }
}

/// Reads the window of `selection` from the source `input` names.
fn read_source(
    input: &InputArgs,
    selection: &Selection,
    mapper: &EventMapper<'_>,
) -> Result<(usage::Usage, bool, Option<serde_json::Value>), CliError> {
    let range = selection.range;
    Ok(match &input.source {
        None => {
            let found = source::discover(&input.logs, &range);
            let bar = progress_bar(found.files.len(), "reading");
            let no_files = found.files.is_empty() && found.skipped_by_date == 0;
            let usage = usage::collect_local(found, selection, mapper, &|n| bar.set_position(n));
            bar.finish_and_clear();
            (usage, no_files, None)
        }
        Some(src) => {
            let (usage, stats) = remote(src, input, selection)?;
            (usage, false, Some(stats))
        }
    })
}

/// The source as the store keys it: local paths (absolute), or the remote source with the
/// regions and accounts that narrow it.
#[cfg(feature = "store")]
fn store_source_key(input: &InputArgs) -> String {
    let mut key = store_source(input);
    let counted = crate::evidence::CountedErrors::new(&input.count_errors);
    if !counted.is_empty() {
        key.push_str(&format!(" count-errors={}", counted.codes().collect::<Vec<_>>().join(",")));
    }
    key
}

/// The source part of [`store_source_key`].
#[cfg(feature = "store")]
fn store_source(input: &InputArgs) -> String {
    match &input.source {
        None => {
            let paths: Vec<String> = input
                .logs
                .iter()
                .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()).display().to_string())
                .collect();
            format!("logs:{}", paths.join(","))
        }
        Some(src) => {
            let mut key = src.clone();
            if input.all_regions {
                key.push_str(" regions=all");
            } else if !input.regions.is_empty() {
                key.push_str(&format!(" regions={}", input.regions.join(",")));
            }
            if !input.accounts.is_empty() {
                key.push_str(&format!(" accounts={}", input.accounts.join(",")));
            }
            key
        }
    }
}

/// `--store`: the window day by day, each day from the store when it holds it, else from the
/// source (and stored when the day is whole and over).
#[cfg(feature = "store")]
fn collect_with_store(
    path: Option<&Path>,
    input: &InputArgs,
    selection: &Selection,
    mapper: &EventMapper<'_>,
) -> Result<(usage::Usage, serde_json::Value), CliError> {
    use crate::store::{window_days, UsageStore};
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => UsageStore::default_path().ok_or_else(|| {
            CliError::BadSource("--store: no data directory (set XDG_DATA_HOME or HOME, or give a path)".into())
        })?,
    };
    let (Some(from), Some(to)) =
        (selection.range.from, selection.range.to.or_else(|| selection.range.from.map(|_| chrono::Utc::now())))
    else {
        return Err(CliError::BadSource(
            "--store keeps usage per day: give a window with --days N or --from (and --to)".into(),
        ));
    };
    let store = UsageStore::open(&path).map_err(|e| CliError::NothingReadable(e.to_string()))?;
    let role = selection.role.as_ref().map(|r| r.as_str().to_string()).unwrap_or_default();
    let key = store_source_key(input);
    let mut total = usage::Usage::default();
    let (mut from_store, mut read, mut stored, mut not_stored_incomplete) = (Vec::new(), Vec::new(), 0u64, Vec::new());
    // What this run read from the source (the totals include the stored days' counts).
    let (mut files_from_source, mut records_from_source, mut records_from_store) = (0u64, 0u64, 0u64);
    for d in window_days(from, to, chrono::Utc::now()) {
        if d.storable {
            if let Some(u) = store.get(&role, &key, d.day).map_err(|e| CliError::NothingReadable(e.to_string()))? {
                records_from_store += u.records_read;
                total = total.merge(u);
                from_store.push(d.day);
                continue;
            }
        }
        let day_selection = Selection { range: TimeRange { from: Some(d.from), to: Some(d.to) }, ..selection.clone() };
        let (u, _, _) = read_source(input, &day_selection, mapper)?;
        files_from_source += u.files_read;
        records_from_source += u.records_read;
        // A day is stored only when everything of it was read.
        if d.storable && u.is_complete() {
            store.put(&role, &key, d.day, &u).map_err(|e| CliError::NothingReadable(e.to_string()))?;
            stored += 1;
        } else if d.storable {
            not_stored_incomplete.push(d.day);
        }
        read.push(d.day);
        total = total.merge(u);
    }
    let days = |v: &[chrono::NaiveDate]| v.iter().map(|d| d.to_string()).collect::<Vec<_>>();
    eprintln!(
        "store {}: {} days from the store ({} records), {} days read from the source ({} files, {} records; {} days stored, today, partial and incomplete days never are{})",
        store.path().display(),
        from_store.len(),
        records_from_store,
        read.len(),
        files_from_source,
        records_from_source,
        stored,
        if not_stored_incomplete.is_empty() { String::new() } else { format!("; not stored as incomplete: {}", days(&not_stored_incomplete).join(", ")) }
    );
    let stats = serde_json::json!({
        "store": store.path().display().to_string(), "source_key": key,
        "days_from_store": days(&from_store), "days_read": days(&read), "days_stored": stored, "days_not_stored_incomplete": days(&not_stored_incomplete),
        "records_from_store": records_from_store, "files_read_from_source": files_from_source, "records_read_from_source": records_from_source,
    });
    Ok((total.finish(), stats))
}

#[cfg(not(feature = "store"))]
fn collect_with_store(
    _path: Option<&Path>,
    _input: &InputArgs,
    _selection: &Selection,
    _mapper: &EventMapper<'_>,
) -> Result<(usage::Usage, serde_json::Value), CliError> {
    Err(CliError::BadSource("--store: this build has no usage store (built without the `store` feature)".into()))
}

/// The store at `path` (default: the user's data dir), which must exist already.
#[cfg(feature = "store")]
fn open_existing_store(path: Option<&Path>) -> Result<(PathBuf, crate::store::UsageStore), CliError> {
    use crate::store::UsageStore;
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => UsageStore::default_path()
            .ok_or_else(|| CliError::BadSource("no data directory: pass --store PATH".into()))?,
    };
    if !path.exists() {
        return Err(CliError::NothingReadable(format!(
            "no usage store at {} (a run with --store creates it)",
            path.display()
        )));
    }
    let store = UsageStore::open(&path).map_err(|e| CliError::NothingReadable(e.to_string()))?;
    Ok((path, store))
}

/// `iamtrim store info`.
#[cfg(feature = "store")]
fn store_info(path: Option<&Path>, json: bool) -> Result<i32, CliError> {
    let (path, store) = open_existing_store(path)?;
    let entries = store.info().map_err(|e| CliError::NothingReadable(e.to_string()))?;
    if json {
        write_out(None, &(serde_json::to_string_pretty(&entries).unwrap_or_default() + "\n"))?;
        return Ok(EXIT_OK);
    }
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let mut out = format!("usage store {} ({:.1} kB)\n", path.display(), size as f64 / 1e3);
    if entries.is_empty() {
        out.push_str("  empty\n");
    }
    for e in &entries {
        let stale = if e.stale_days > 0 {
            format!(" ({} stored by another iamtrim version: read again when needed)", e.stale_days)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "  {} · {}\n    {} days, {} to {}, {} records of the role{stale}\n",
            e.role, e.source, e.days, e.first_day, e.last_day, e.records_matched
        ));
        out.push_str(&format!("    complete (served): {} days", e.complete_days));
        if !e.incomplete_days.is_empty() {
            out.push_str(&format!("; not known complete (never served, read again): {}", e.incomplete_days.join(", ")));
        }
        out.push('\n');
    }
    write_out(None, &out)?;
    Ok(EXIT_OK)
}

/// `iamtrim store forget`.
#[cfg(feature = "store")]
fn store_forget(path: Option<&Path>, role: &str, from: Option<&str>, to: Option<&str>) -> Result<i32, CliError> {
    let day = |flag: &str, v: Option<&str>| {
        v.map(|d| {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| CliError::BadSource(format!("{flag} `{d}`: expected a date (2026-10-01)")))
        })
        .transpose()
    };
    let (from, to) = (day("--from", from)?, day("--to", to)?);
    let (path, store) = open_existing_store(path)?;
    let n = store.forget(role, from, to).map_err(|e| CliError::NothingReadable(e.to_string()))?;
    eprintln!("iamtrim: store {}: dropped {n} stored days of {role}", path.display());
    Ok(EXIT_OK)
}

#[cfg(not(feature = "store"))]
fn store_forget(_path: Option<&Path>, _role: &str, _from: Option<&str>, _to: Option<&str>) -> Result<i32, CliError> {
    Err(CliError::BadSource("this build has no usage store (built without the `store` feature)".into()))
}

#[cfg(not(feature = "store"))]
fn store_info(_path: Option<&Path>, _json: bool) -> Result<i32, CliError> {
    Err(CliError::BadSource("this build has no usage store (built without the `store` feature)".into()))
}

/// Builds the run report, prints its summary (unless `quiet` and everything was read), and
/// fails when nothing at all was readable or the role has no event in what was (after writing
/// the report to `report_path`, when given, so a script sees what was and was not read).
fn report_run(
    c: &Collected,
    input: &InputArgs,
    policy: &crate::policy::PolicyDocument,
    quiet: bool,
    report_path: Option<&Path>,
) -> Result<RunReport, CliError> {
    let mut report = RunReport::new(c.role.as_str(), &c.window, &c.usage, policy, ActionCatalog::embedded());
    report.source_stats = c.source_stats.clone();
    let usage = &c.usage;
    if !quiet || !usage.rejections.is_empty() || !usage.is_complete() {
        eprint!("{}", crate::text::terminal_safe(&report.summary(100)));
    }
    if c.no_files && usage.records_read == usage.records_rejected {
        let listed: Vec<String> = input.logs.iter().map(|p| p.display().to_string()).collect();
        let why = if usage.rejections.is_empty() {
            format!("no CloudTrail log files (.json, .jsonl, .ndjson, optionally .gz) under {}", listed.join(", "))
        } else {
            format!("nothing readable under {}", listed.join(", "))
        };
        return Err(CliError::NothingReadable(why));
    }
    if usage.records_read > 0 && !usage.anything_readable() {
        return Err(CliError::NothingReadable(format!(
            "all {} records or files were rejected (listed above)",
            usage.records_rejected
        )));
    }
    if usage.records_matched == 0 {
        if let Some(path) = report_path {
            write_out(Some(path), &(serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"))?;
        }
        return Err(no_activity(c));
    }
    Ok(report)
}

/// `--print-sql` / `--athena-create-table`: prints the SQL for the source instead of running it.
fn print_query(input: &InputArgs) -> Option<Result<i32, CliError>> {
    if !input.print_sql && input.athena_create_table.is_none() {
        return None;
    }
    Some((|| {
        let src = input.source.as_deref().unwrap_or("");
        let (role, range) = role_and_window(input)?;
        let sql = if let Some(location) = &input.athena_create_table {
            let table = crate::warehouse::AthenaTable::parse(src).map_err(|e| {
                CliError::BadSource(format!("--athena-create-table needs --source athena://DATABASE.TABLE: {}", e.0))
            })?;
            if !location.starts_with("s3://") {
                return Err(CliError::BadSource(format!("--athena-create-table `{location}`: expected s3://BUCKET/[PREFIX/]AWSLogs/ACCOUNT/CloudTrail/REGION/")));
            }
            crate::warehouse::athena_create_table(&table, location)
        } else if src.starts_with("athena://") {
            let table = crate::warehouse::AthenaTable::parse(src).map_err(|e| CliError::BadSource(e.0))?;
            crate::warehouse::athena_sql(&table, &role, &range) + "\n"
        } else if src.starts_with("lake://") {
            crate::warehouse::lake_sql(
                &crate::warehouse::parse_lake(src).map_err(|e| CliError::BadSource(e.0))?,
                &role,
                &range,
            ) + "\n"
        } else {
            return Err(CliError::BadSource("--print-sql needs --source athena://... or lake://...".into()));
        };
        print!("{sql}");
        Ok(EXIT_OK)
    })())
}

fn generate(args: &GenerateArgs) -> Result<i32, CliError> {
    if let Some(done) = print_query(&args.input) {
        return done;
    }
    check_outputs(&[args.output.as_deref(), args.report.as_deref()], args.output_dir.as_deref())?;
    let c = collect(&args.input)?;
    let opts = synth::SynthOptions {
        resources: match args.resources {
            ResourcesArg::Exact => synth::ResourceMode::Exact,
            ResourcesArg::Prefix => synth::ResourceMode::Prefix,
            ResourcesArg::Service => synth::ResourceMode::Service,
        },
        max_arns_per_statement: args.max_arns_per_statement.max(1),
        conditions: args.conditions,
    };
    if opts.resources == synth::ResourceMode::Service {
        eprintln!("warning: --resources service grants every action on `*`: the policy is not resource-scoped");
    }
    let (mut policy, mut widenings) = synth::synthesize_with(&c.usage.actions, ActionCatalog::embedded(), &opts);
    // Size limits: statements already share resources; then prefix generalization (unless
    // exact was asked for); then splitting into several managed policies.
    let mut fit_steps = Vec::new();
    if policy.size() > crate::policy::MANAGED_POLICY_LIMIT && opts.resources == synth::ResourceMode::Prefix {
        // The least widening that fits: halve the threshold until the policy fits (or is 1).
        let before = policy.size();
        let mut threshold = opts.max_arns_per_statement;
        while policy.size() > crate::policy::MANAGED_POLICY_LIMIT && threshold > 1 {
            threshold = (threshold / 2).max(1);
            let (p, w) = synth::synthesize_with(
                &c.usage.actions,
                ActionCatalog::embedded(),
                &synth::SynthOptions { max_arns_per_statement: threshold, ..opts },
            );
            policy = p;
            widenings = w;
        }
        fit_steps.push(format!(
            "prefix generalization tightened to --max-arns-per-statement {threshold}: {before} -> {} characters",
            policy.size()
        ));
    }
    let parts = if policy.size() > crate::policy::MANAGED_POLICY_LIMIT {
        synth::split(&policy, crate::policy::MANAGED_POLICY_LIMIT)
    } else {
        vec![policy.clone()]
    };
    if parts.len() > 1 {
        fit_steps.push(format!(
            "split into {} managed policies of at most {} characters",
            parts.len(),
            crate::policy::MANAGED_POLICY_LIMIT
        ));
        if parts.len() > 10 {
            eprintln!(
                "warning: {} managed policies are more than the 10 a role takes by default (20 with a quota increase)",
                parts.len()
            );
        }
    }
    let mut report = report_run(&c, &args.input, &policy, args.quiet, args.report.as_deref())?;
    for step in &fit_steps {
        eprintln!("  to fit the managed policy limit: {step}");
    }
    if !widenings.is_empty() && !args.quiet {
        eprintln!("  widened resources (--resources prefix):");
        for w in &widenings {
            eprintln!("    {}: {} ARNs -> {} ({})", w.action, w.replaced, visible(&w.pattern), w.reason);
        }
    }
    report.widened = widenings;
    if opts.conditions {
        let notes = synth::condition_notes(&policy, &c.usage.actions);
        if !args.quiet {
            eprintln!("  conditions (--conditions):");
            for n in &notes {
                match n.sid.as_str() {
                    "" => eprintln!("    {}: {}", n.key, visible(&n.evidence)),
                    sid => {
                        eprintln!("    {sid}: {} = {}: {}", n.key, visible(&n.values.join(", ")), visible(&n.evidence))
                    }
                }
            }
            if notes.is_empty() {
                eprintln!("    none: no call carried a region, endpoint or calling service to condition on");
            }
        }
        report.conditions = notes;
    }
    if args.explain {
        eprint!("{}", crate::text::terminal_safe(&report.explain(&policy)));
    }
    // Self-check: the policy must allow every call it was made from.
    let check = synth::self_check(&policy, &c.usage);
    if !args.quiet || !check.refused.is_empty() {
        eprintln!(
            "  self-check: allows {}/{} observed calls ({} action/resource pairs)",
            check.allowed_calls, check.calls, check.pairs
        );
    }
    report.self_check = Some(check.clone());
    if !check.refused.is_empty() {
        for (a, r) in &check.refused {
            eprintln!("iamtrim: error: the generated policy would refuse {a} on {}", visible(r));
        }
        return Err(CliError::NothingReadable(
            "self-check failed: the generated policy does not allow every observed call".into(),
        ));
    }
    if let Some(path) = &args.report {
        let json = serde_json::to_string_pretty(&report).unwrap_or_default() + "\n";
        write_out(Some(path), &json)?;
    }
    let format = match (args.format, args.terraform_style) {
        (PolicyFormat::Json, _) => crate::emit::Format::Json,
        (PolicyFormat::Terraform, TerraformStyle::Resource) => crate::emit::Format::TerraformResource,
        (PolicyFormat::Terraform, TerraformStyle::Document) => crate::emit::Format::TerraformDocument,
        (PolicyFormat::Cloudformation, _) => crate::emit::Format::CloudFormation,
        (PolicyFormat::Sam, _) => crate::emit::Format::Sam,
    };
    match (&args.output_dir, parts.len()) {
        (Some(dir), _) => {
            std::fs::create_dir_all(dir)
                .map_err(|source| CliError::Write { path: dir.display().to_string(), source })?;
            let ext = match format {
                crate::emit::Format::Json => "json",
                crate::emit::Format::TerraformResource | crate::emit::Format::TerraformDocument => "tf",
                crate::emit::Format::CloudFormation | crate::emit::Format::Sam => "yaml",
            };
            let files: Vec<(String, String, usize)> = parts
                .iter()
                .enumerate()
                .map(|(i, part)| {
                    let name = if parts.len() == 1 {
                        c.role.name().to_string()
                    } else {
                        format!("{}-{}", c.role.name(), i + 1)
                    };
                    (format!("{name}.{ext}"), crate::emit::render(part, format, &name), part.size())
                })
                .collect();
            write_parts(dir, c.role.name(), &files)?;
        }
        (None, n) => {
            if n > 1 {
                eprintln!("warning: the policy does not fit one managed policy; pass --output-dir DIR to write it as {n} policies (the whole policy is on stdout)");
            }
            write_out(args.output.as_deref(), &crate::emit::render(&policy, format, c.role.name()))?;
        }
    }
    Ok(incomplete_ending(&c.usage, args.input.allow_incomplete, "the policy covers only what was read"))
}

/// `--output-dir`: writes each part atomically (a temporary name, then a rename), then removes
/// the parts an earlier run wrote for the same role that this run did not (named in the
/// directory's manifest for the role), and nothing else.
fn write_parts(dir: &Path, role: &str, files: &[(String, String, usize)]) -> Result<(), CliError> {
    let fail = |path: &Path| {
        let path = path.display().to_string();
        move |source| CliError::Write { path, source }
    };
    let manifest = dir.join(format!(".iamtrim-{role}.manifest"));
    let earlier: Vec<String> =
        std::fs::read_to_string(&manifest).map(|t| t.lines().map(str::to_string).collect()).unwrap_or_default();
    for (name, text, size) in files {
        let path = dir.join(name);
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, text).map_err(fail(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(fail(&path))?;
        eprintln!("  wrote {} ({size} characters)", path.display());
    }
    for stale in earlier.iter().filter(|e| !files.iter().any(|(n, _, _)| n == *e)) {
        // Only a plain file name this iamtrim could have written for the role.
        let ours = stale.starts_with(role) && !stale.contains(['/', '\\']) && !stale.starts_with('.');
        let path = dir.join(stale);
        if ours && std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
            std::fs::remove_file(&path).map_err(fail(&path))?;
            eprintln!(
                "  removed {} (a part an earlier run wrote; the policy now has {} parts)",
                path.display(),
                files.len()
            );
        }
    }
    let names: String = files.iter().map(|(n, _, _)| format!("{n}\n")).collect();
    let tmp = dir.join(format!(".iamtrim-{role}.manifest.tmp"));
    std::fs::write(&tmp, names).map_err(fail(&tmp))?;
    std::fs::rename(&tmp, &manifest).map_err(fail(&manifest))
}

/// Fails before any source is read when an output file or directory could not be written: a
/// long read should not end in "cannot write".
fn check_outputs(files: &[Option<&Path>], dir: Option<&Path>) -> Result<(), CliError> {
    let probe = |dir: &Path| -> Result<(), CliError> {
        let p = dir.join(format!(".iamtrim-probe-{}", std::process::id()));
        let result = std::fs::write(&p, b"");
        let _ = std::fs::remove_file(&p);
        result.map_err(|source| CliError::Write { path: dir.display().to_string(), source })
    };
    for f in files.iter().flatten() {
        if f.is_dir() {
            return Err(CliError::Write {
                path: f.display().to_string(),
                source: std::io::Error::other("is a directory"),
            });
        }
        if f.exists() {
            std::fs::OpenOptions::new()
                .append(true)
                .open(f)
                .map_err(|source| CliError::Write { path: f.display().to_string(), source })?;
        } else {
            let parent = f.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            probe(parent)?;
        }
    }
    if let Some(d) = dir {
        std::fs::create_dir_all(d).map_err(|source| CliError::Write { path: d.display().to_string(), source })?;
        probe(d)?;
    }
    Ok(())
}

/// One `--current`/`--boundary` value: a policy file, or an AWS managed policy ARN or name.
fn load_current(value: &str) -> Result<crate::model::Policy, CliError> {
    let path = Path::new(value);
    if path.is_file() {
        let text =
            std::fs::read_to_string(path).map_err(|e| CliError::Policy(format!("cannot read `{value}`: {e}")))?;
        return crate::model::Policy::parse(value, &text).map_err(|e| CliError::Policy(e.to_string()));
    }
    match crate::diff::ManagedPolicies::embedded().get(value) {
        Some(p) => p.map_err(|e| CliError::Policy(e.to_string())),
        None => {
            Err(CliError::Policy(format!("`{value}` is neither a policy file nor an AWS managed policy iamtrim knows")))
        }
    }
}

fn run_diff(args: &DiffArgs) -> Result<i32, CliError> {
    if let Some(done) = print_query(&args.input) {
        return done;
    }
    let catalog = ActionCatalog::embedded();
    check_outputs(&[args.output.as_deref()], None)?;
    let collected = collect(&args.input)?;
    let generated = synth::synthesize_with(&collected.usage.actions, catalog, &synth::SynthOptions::default()).0;
    report_run(&collected, &args.input, &generated, true, None)?;
    let complete = collected.usage.is_complete();
    if !complete && !args.input.allow_incomplete {
        eprintln!("iamtrim: error: diff calls a permission unused only when everything was read; the gaps above were not. Read them again, or pass --allow-incomplete for the diff of what could be read");
        return Ok(incomplete_ending(&collected.usage, false, "no diff written"));
    }
    let current = if args.current.is_empty() {
        current_from_iam(args, &collected.role)?
    } else {
        let identity = args.current.iter().map(|c| load_current(c)).collect::<Result<Vec<_>, _>>()?;
        let boundary = args.boundary.as_deref().map(load_current).transpose()?;
        crate::evaluator::PolicySet { identity, boundary }
    };
    let mut diff =
        crate::diff::PolicyDiff::compute(collected.role.as_str(), &collected.usage, &current, &generated, catalog);
    diff.complete = complete;
    diff.gaps = collected.usage.gap_list();
    let text = match args.format {
        DiffFormat::Json => diff.to_json(),
        DiffFormat::Markdown => diff.to_markdown(),
        DiffFormat::Terminal => {
            let colour = args.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            diff.to_terminal(colour)
        }
    };
    write_out(args.output.as_deref(), &text)?;
    if !diff.generated_policy_denies.is_empty() {
        eprintln!(
            "iamtrim: error: the generated policy would refuse {} calls the role made (a bug: please report it)",
            diff.generated_policy_denies.len()
        );
        return Ok(EXIT_ERROR);
    }
    // Nothing is "unused" after an incomplete read, so --fail-on unused never fires on one.
    let unused = complete && !diff.unused_granted.is_empty();
    let fail = match args.fail_on {
        None => false,
        Some(FailOn::Unused) => unused,
        Some(FailOn::NotGranted) => !diff.used_not_granted.is_empty(),
        Some(FailOn::Any) => unused || !diff.used_not_granted.is_empty(),
    };
    let ending = incomplete_ending(
        &collected.usage,
        true,
        "the diff calls nothing unused, only \"not seen in what could be read\"",
    );
    Ok(if fail { EXIT_DIFF } else { ending })
}

/// The async runtime and AWS options for a command that talks to AWS.
#[cfg(feature = "aws")]
fn aws_runtime(input: &InputArgs) -> Result<(tokio::runtime::Runtime, crate::aws::AwsOptions), CliError> {
    let aws = crate::aws::AwsOptions { profile: input.profile.clone(), endpoint_url: input.endpoint_url.clone() };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::NothingReadable(format!("cannot start the async runtime: {e}")))?;
    Ok((runtime, aws))
}

#[cfg(feature = "aws")]
fn current_from_iam(args: &DiffArgs, role: &RoleFilter) -> Result<crate::evaluator::PolicySet, CliError> {
    let (runtime, aws) = aws_runtime(&args.input)?;
    let (set, notes) = runtime.block_on(crate::aws::iam::role_policies(&aws, role.name(), args.offline))?;
    for n in notes {
        eprintln!("note: {n}");
    }
    Ok(set)
}

#[cfg(not(feature = "aws"))]
fn current_from_iam(_args: &DiffArgs, _role: &RoleFilter) -> Result<crate::evaluator::PolicySet, CliError> {
    Err(CliError::Policy("this build cannot read IAM (built without the `aws` feature): pass --current".into()))
}

/// Reads a remote source: returns the usage and the source's counters (also printed).
#[cfg(feature = "aws")]
fn remote(src: &str, args: &InputArgs, selection: &Selection) -> Result<(usage::Usage, serde_json::Value), CliError> {
    use crate::aws::{lookup, s3};
    let (runtime, aws) = aws_runtime(args)?;
    let progress = std::io::stderr().is_terminal();
    let mapper = EventMapper::new(ActionCatalog::embedded());
    if src == "lookup" {
        eprintln!(
            "note: LookupEvents returns management events only: S3 object, Lambda Invoke and DynamoDB item calls (data events) \
are not in it. Read trail files (--source s3://BUCKET) for those."
        );
        if let Some(from) = selection.range.from {
            let oldest = chrono::Utc::now() - chrono::Duration::days(lookup::RETENTION_DAYS);
            if from < oldest {
                eprintln!(
                    "note: LookupEvents keeps {} days; the window starts {} and is read from {}",
                    lookup::RETENTION_DAYS,
                    from.format("%Y-%m-%d"),
                    oldest.format("%Y-%m-%d")
                );
            }
        }
        let regions = if args.all_regions {
            crate::aws::ALL_REGIONS.iter().map(|r| r.to_string()).collect()
        } else if args.regions.is_empty() {
            let chain = runtime.block_on(crate::aws::load_config(&aws, None))?;
            vec![chain.region().map(|r| r.to_string()).unwrap_or_default()]
        } else {
            args.regions.clone()
        };
        let cache_root =
            if args.no_cache { None } else { args.cache.clone().or_else(crate::aws::cache::PageCache::default_root) };
        let opts = lookup::LookupOptions {
            regions,
            account: args.accounts.first().cloned(),
            cache_root,
            rate: args.lookup_rate,
            progress,
            aws,
        };
        let (usage, stats) = runtime.block_on(lookup::collect(&opts, selection, mapper))?;
        for s in &stats {
            let rate = if s.seconds > 0.0 { s.requests as f64 / s.seconds } else { 0.0 };
            eprintln!(
                "lookup {}: {} requests ({} throttled), {} pages fetched, {} from cache, {} events, {:.1} s ({:.2} requests/s)",
                s.region, s.requests, s.throttled, s.pages_fetched, s.pages_cached, s.events, s.seconds, rate
            );
            if let Some(e) = &s.error {
                eprintln!("warning: region {} was not read: {e}", s.region);
            }
            if let Some(e) = &s.cache_error {
                eprintln!(
                    "warning: lookup {}: cannot write the page cache ({e}); pages are fetched again next time",
                    s.region
                );
            }
        }
        if stats.iter().all(|s| s.error.is_some()) {
            let first = stats.iter().find_map(|s| s.error.clone()).unwrap_or_default();
            return Err(CliError::NothingReadable(format!("no region could be read: {first}")));
        }
        return Ok((usage, serde_json::to_value(&stats).unwrap_or_default()));
    }
    if src.starts_with("s3://") {
        let (bucket, prefix) = s3::parse_url(src)?;
        let opts = s3::S3Options {
            bucket,
            prefix,
            accounts: args.accounts.clone(),
            regions: args.regions.clone(),
            concurrency: args.concurrency,
            progress,
            aws,
        };
        let (usage, stats) = runtime.block_on(s3::collect(&opts, selection, mapper))?;
        let secs = stats.seconds.max(1e-9);
        eprintln!(
            "s3: {} objects ({} failed) in {} trails, {:.1} MB, {} list requests, {:.2} s: {:.0} files/s, {:.1} MB/s",
            stats.objects,
            stats.objects_failed,
            stats.trails.len(),
            stats.bytes as f64 / 1e6,
            stats.list_requests,
            stats.seconds,
            stats.objects as f64 / secs,
            stats.bytes as f64 / 1e6 / secs
        );
        return Ok((usage, serde_json::to_value(&stats).unwrap_or_default()));
    }
    if src.starts_with("athena://") {
        let table = crate::warehouse::AthenaTable::parse(src).map_err(|e| CliError::BadSource(e.0))?;
        let opts = crate::aws::athena::AthenaOptions { table, region: args.regions.first().cloned(), progress, aws };
        let (usage, stats) = runtime.block_on(crate::aws::athena::collect(&opts, selection, mapper))?;
        eprintln!(
            "athena: query {} scanned {:.1} MB (billed by bytes scanned; about ${:.4} at $5 per TB), {} distinct call shapes in {} pages, {:.1} s",
            stats.query_execution_id,
            stats.data_scanned_bytes as f64 / 1e6,
            stats.data_scanned_bytes as f64 / 1e12 * 5.0,
            stats.rows,
            stats.pages,
            stats.seconds
        );
        return Ok((usage, serde_json::to_value(&stats).unwrap_or_default()));
    }
    if src.starts_with("lake://") {
        let event_data_store = crate::warehouse::parse_lake(src).map_err(|e| CliError::BadSource(e.0))?;
        let opts =
            crate::aws::lake::LakeOptions { event_data_store, region: args.regions.first().cloned(), progress, aws };
        let (usage, stats) = runtime.block_on(crate::aws::lake::collect(&opts, selection, mapper))?;
        eprintln!(
            "lake: query {} scanned {} events, {:.1} MB, {} distinct call shapes in {} pages ({} throttled requests retried), {:.1} s",
            stats.query_id,
            stats.events_scanned,
            stats.bytes_scanned as f64 / 1e6,
            stats.rows,
            stats.pages,
            stats.throttled,
            stats.seconds
        );
        return Ok((usage, serde_json::to_value(&stats).unwrap_or_default()));
    }
    Err(CliError::BadSource(format!("--source `{src}` is none of `lookup`, s3://, athena:// or lake://")))
}

/// Without the `aws` feature there are no remote sources.
#[cfg(not(feature = "aws"))]
fn remote(src: &str, _args: &InputArgs, _selection: &Selection) -> Result<(usage::Usage, serde_json::Value), CliError> {
    Err(CliError::BadSource(format!(
        "--source `{src}`: this build has no AWS sources (built without the `aws` feature)"
    )))
}

fn run_coverage(args: &CoverageArgs) -> Result<i32, CliError> {
    let mapper = EventMapper::new(ActionCatalog::embedded());
    let report = coverage::measure(&args.logs, &mapper);
    if report.records_read == 0 {
        return Err(CliError::NothingReadable(format!(
            "no CloudTrail log files under {}",
            args.logs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        )));
    }
    if args.json {
        write_out(None, &(serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"))?;
    } else {
        let mut s = String::new();
        use std::fmt::Write as _;
        let _ = writeln!(
            s,
            "records: {} read in {} files, {} rejected",
            report.records_read, report.files_read, report.records_rejected
        );
        for (title, f) in
            [("all principals", &report.all_principals), ("IAM users and roles", &report.iam_users_and_roles)]
        {
            let _ = writeln!(
                s,
                "{title}: {} distinct eventSource/eventName pairs, {} real operations, {} mapped: {:.1}%",
                f.pairs, f.real_operation_pairs, f.mapped_pairs, f.coverage_percent
            );
        }
        let _ = writeln!(s, "actions: {}", report.actions.len());
        for (status, title) in [
            ("unmapped", "unmapped operations"),
            ("not_an_operation", "not operations AWS documents (never mapped)"),
            ("not_an_api_call", "not API calls"),
        ] {
            let list: Vec<_> = report.pair_details.iter().filter(|p| p.status == status).collect();
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(s, "{title}:");
            for p in list {
                let _ = writeln!(s, "  {} {} ×{}", visible(&p.source), visible(&p.name), p.count);
            }
        }
        for r in report.rejected.iter().take(100) {
            let _ = writeln!(s, "rejected: {}", visible(&r.to_string()));
        }
        write_out(None, &s)?;
    }
    Ok(EXIT_OK)
}
