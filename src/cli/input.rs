//! Where the activity comes from and whose it is: the arguments `generate` and `diff` share,
//! checked into a role and a window, and `--print-sql`.

use super::*;

/// Where the activity comes from and whose it is (shared by `generate` and `diff`).
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("who").multiple(false)))]
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
    pub source: Option<SourceSpec>,
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
    #[arg(long, default_value_t = crate::app::collect::DEFAULT_S3_CONCURRENCY, value_name = "N")]
    pub concurrency: usize,
    /// With `lookup`: requests per second per region (the API allows 2; lower it when other
    /// tools share the quota).
    #[arg(long, default_value_t = crate::app::collect::DEFAULT_LOOKUP_RATE, value_name = "N")]
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
    /// session of the role (web-identity and SAML sessions included).
    #[arg(long, group = "who", value_name = "ROLE")]
    pub role: Option<String>,
    /// An IAM user: its name or ARN. Matches its own calls and those of the federated users it
    /// created with GetFederationToken (their permissions are bounded by the user's).
    #[arg(long, group = "who", value_name = "USER")]
    pub user: Option<String>,
    /// Any principal by ARN: a role, a user, an assumed-role session ARN (its role) or a
    /// federated user (arn:aws:sts::ACCOUNT:federated-user/NAME). Root is refused.
    #[arg(long, group = "who", value_name = "ARN")]
    pub principal: Option<String>,
    /// An IAM Identity Center permission set: its AWSReservedSSO_<NAME>_<hash> roles in every
    /// account, one policy for the permission set.
    #[arg(long, group = "who", value_name = "NAME")]
    pub permission_set: Option<String>,
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
    #[arg(long, value_name = "MB", default_value_t = crate::ingest::source::DEFAULT_MAX_DOCUMENT_MB as u16, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_document_mb: u16,
    /// Read at most this many MiB of one record; a larger one is a rejected record.
    #[arg(long, value_name = "MB", default_value_t = crate::ingest::source::DEFAULT_MAX_RECORD_MB as u16, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_record_mb: u16,
}

/// `NAME=VALUE` flags (`--map`, `--parameter`) as a map; one without `=` is an error naming `flag`.
pub(super) fn name_value_pairs(
    values: &[String],
    flag: &str,
) -> Result<std::collections::BTreeMap<String, String>, CliError> {
    values
        .iter()
        .map(|v| {
            v.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| CliError::BadSource(format!("{flag} `{v}`: expected NAME=VALUE")))
        })
        .collect()
}

impl InputArgs {
    /// What a template leaves to deploy time as the flags give it: `--account` and `--region`
    /// (the first of each), `--stack-name`, `--parameter NAME=VALUE`.
    pub(super) fn given_deploy_context(
        &self,
        stack_name: Option<&str>,
        parameters: &[String],
    ) -> Result<crate::policy::template::DeployContext, CliError> {
        Ok(crate::policy::template::DeployContext {
            account: self.accounts.first().cloned(),
            region: self.regions.first().cloned(),
            stack_name: stack_name.map(str::to_string),
            parameters: name_value_pairs(parameters, "--parameter")?,
            ..Default::default()
        })
    }

    /// Where the activity comes from: `--source`, else the `--logs` files.
    pub(super) fn spec(&self) -> SourceSpec {
        self.source.clone().unwrap_or_else(|| SourceSpec::Files(self.logs.clone()))
    }

    /// Reads the source for `selection`: through the usage store with `--store`, else directly.
    pub(super) fn read(&self, selection: &Selection) -> Result<crate::app::collect::Collected, CliError> {
        let (spec, remote, progress) = (self.spec(), self.remote_options(), progress_sink());
        Ok(match &self.store {
            Some(store) => {
                crate::app::collect::collect_with_store(store.as_deref(), &spec, selection, &remote, &progress)?
            }
            None => crate::app::collect::collect(&spec, selection, &remote, &progress)?,
        })
    }

    /// How to reach AWS and how hard to read it.
    pub(super) fn remote_options(&self) -> RemoteOptions {
        RemoteOptions {
            profile: self.profile.clone(),
            endpoint_url: self.endpoint_url.clone(),
            regions: self.regions.clone(),
            all_regions: self.all_regions,
            accounts: self.accounts.clone(),
            cache: self.cache.clone(),
            no_cache: self.no_cache,
            concurrency: self.concurrency,
            lookup_rate: self.lookup_rate,
        }
    }
}

/// The principal (`--role`, `--user`, `--principal`, `--permission-set`), checked.
pub(super) fn principal(input: &InputArgs) -> Result<PrincipalFilter, CliError> {
    Ok(match (&input.role, &input.user, &input.principal, &input.permission_set) {
        (Some(r), ..) => PrincipalFilter::role(r)?,
        (_, Some(u), ..) => PrincipalFilter::user(u)?,
        (_, _, Some(p), _) => PrincipalFilter::principal(p)?,
        (.., Some(s)) => PrincipalFilter::permission_set(s)?,
        _ => return Err(CliError::NoPrincipal),
    })
}

/// The principal and the window (`--days`, or `--from`/`--to`), checked.
pub(super) fn role_and_window(input: &InputArgs) -> Result<(PrincipalFilter, TimeRange), CliError> {
    Ok((principal(input)?, window(input)?))
}

/// The window (`--days`, or `--from`/`--to`), checked.
pub(super) fn window(input: &InputArgs) -> Result<TimeRange, CliError> {
    let range = match input.days {
        Some(d) => TimeRange::try_last_days(d, chrono::Utc::now()).ok_or(CliError::TooManyDays(d))?,
        None => TimeRange::parse(input.from.as_deref(), input.to.as_deref())?,
    };
    if let (Some(f), Some(t)) = (range.from, range.to) {
        if f > t {
            return Err(CliError::EmptyWindow { from: f.to_rfc3339(), to: t.to_rfc3339() });
        }
    }
    Ok(range)
}

/// `--print-sql` / `--athena-create-table`: prints the SQL for the source instead of running it.
pub(super) fn print_query(
    input: &InputArgs,
    split: Option<crate::select::SplitBy>,
) -> Option<Result<ExitCode, CliError>> {
    if !input.print_sql && input.athena_create_table.is_none() {
        return None;
    }
    Some((|| {
        let (role, range) = role_and_window(input)?;
        let sql = match (&input.source, &input.athena_create_table) {
            (Some(SourceSpec::Athena(table)), Some(location)) => {
                if !location.starts_with("s3://") {
                    return Err(CliError::BadSource(format!("--athena-create-table `{location}`: expected s3://BUCKET/[PREFIX/]AWSLogs/ACCOUNT/CloudTrail/REGION/")));
                }
                crate::select::warehouse::athena_create_table(table, location)
            }
            (_, Some(_)) => {
                return Err(CliError::BadSource("--athena-create-table needs --source athena://DATABASE.TABLE".into()))
            }
            (Some(SourceSpec::Athena(table)), None) => {
                crate::select::warehouse::athena_sql(table, Some(&role), &range, split) + "\n"
            }
            (Some(SourceSpec::Lake { event_data_store }), None) => {
                crate::select::warehouse::lake_sql(event_data_store, Some(&role), &range, split) + "\n"
            }
            _ => return Err(CliError::BadSource("--print-sql needs --source athena://... or lake://...".into())),
        };
        print!("{sql}");
        Ok(ExitCode::Success)
    })())
}
