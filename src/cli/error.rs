//! Errors that end a command, and the exit status each leads to.

use super::*;

/// How a command ended, as the process's exit status (documented in README, "Exit status").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitCode {
    /// Everything asked for was done.
    Success = 0,
    /// Nothing could be read, an AWS error stopped the run, or output could not be written.
    Error = 1,
    /// Bad arguments (or a bare role name that matched roles of several accounts).
    Usage = 2,
    /// `diff --fail-on` found what it was told to fail on, or `replay` found calls the policy
    /// refuses.
    DiffFound = 3,
    /// INCOMPLETE: something could not be read (a corrupt file, a failed S3 object, LookupEvents
    /// region or query, days older than the source keeps). `generate` still wrote the policy of
    /// what was read; `diff` refused to call anything unused. `--allow-incomplete` makes it 0.
    Incomplete = 4,
    /// The role has no event in what was read: nothing to generate or compare.
    NoActivity = 5,
}

impl ExitCode {
    /// The number the process exits with.
    pub fn code(self) -> i32 {
        self as i32
    }
}

impl std::process::Termination for ExitCode {
    fn report(self) -> std::process::ExitCode {
        std::process::ExitCode::from(self as u8)
    }
}

pub(super) const EXIT_CODES: &str = "Exit status: 0 success; 1 nothing readable, an AWS error, or output not writable; 2 bad arguments \
(or a role name that matched several accounts); 3 diff --fail-on found what it was told to fail on, or replay found refused calls; 4 INCOMPLETE: something \
could not be read (the policy covers what was read; diff calls nothing unused), unless --allow-incomplete; 5 the role has \
no event in what was read.";

/// Errors that end a command. The message is the error's `Display`; the exit status comes from
/// [`CliError::exit_code`].
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// `--role`, `--user`, `--principal` or `--permission-set` is malformed, or root.
    #[error(transparent)]
    Principal(#[from] BadPrincipal),
    /// No principal flag was given.
    #[error("whose activity? pass --role, --user, --principal or --permission-set")]
    NoPrincipal,
    /// `--from`/`--to` is malformed.
    #[error(transparent)]
    Time(#[from] BadTime),
    /// `--from` is after `--to`.
    #[error("--from ({from}) is after --to ({to})")]
    EmptyWindow {
        /// The start asked for.
        from: String,
        /// The end asked for, before it.
        to: String,
    },
    /// `--days N` reaches before the earliest representable date.
    #[error("--days {0} reaches before the earliest date iamtrim can represent; give a smaller number")]
    TooManyDays(u32),
    /// A date argument (`store forget --from`) is not a date.
    #[error("{flag} `{value}`: expected a date (2026-10-01)")]
    BadDate {
        /// The flag.
        flag: &'static str,
        /// What was given.
        value: String,
    },
    /// No log file was found where `--logs` points.
    #[error("no CloudTrail log files (.json, .jsonl, .ndjson, optionally .gz) under {0}")]
    NoLogFiles(String),
    /// Files were found, and none could be read.
    #[error("nothing readable under {0}")]
    NothingReadableUnder(String),
    /// Every record or file read was rejected.
    #[error("all {0} records or files were rejected (listed above)")]
    AllRejected(u64),
    /// The source could not be read at all.
    #[error(transparent)]
    Collect(#[from] crate::app::collect::CollectError),
    /// `--source` (or `--print-sql`, `--athena-create-table`) does not fit the command.
    #[error("{0}")]
    BadSource(String),
    /// No usage store where one was expected.
    #[error("no usage store at {0} (a run with --store creates it)")]
    NoStore(String),
    /// The usage store could not be opened, read or written.
    #[cfg(feature = "store")]
    #[error(transparent)]
    Store(#[from] crate::usage::store::StoreError),
    /// This build lacks a feature the command needs.
    #[error("this build {0}")]
    NotBuiltIn(&'static str),
    /// The generated policy would refuse a call it was made from (a bug: the policy is not written).
    #[error("self-check failed: the generated policy does not allow {refused} of the observed calls (listed above)")]
    SelfCheck {
        /// Action/resource pairs refused.
        refused: usize,
    },
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
    /// An AWS call outside a source failed (IAM, for the role's current policies).
    #[cfg(feature = "aws")]
    #[error(transparent)]
    Aws(#[from] crate::aws::AwsError),
    /// A policy given with --current or --boundary cannot be used.
    #[error(transparent)]
    Policy(#[from] crate::app::diff::PolicyLoadError),
    /// Output could not be written.
    #[error("cannot write `{path}`: {source}")]
    Write {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl CliError {
    /// The exit status for this error.
    pub fn exit_code(&self) -> ExitCode {
        use crate::app::collect::CollectError;
        match self {
            CliError::Principal(_)
            | CliError::NoPrincipal
            | CliError::Time(_)
            | CliError::EmptyWindow { .. }
            | CliError::TooManyDays(_)
            | CliError::BadDate { .. }
            | CliError::BadSource(_)
            | CliError::Ambiguous(_)
            | CliError::Collect(CollectError::StoreUse(_) | CollectError::NoAwsSources(_))
            | CliError::NotBuiltIn(_)
            | CliError::Policy(crate::app::diff::PolicyLoadError::NoTemplateRole { .. }) => ExitCode::Usage,
            #[cfg(feature = "aws")]
            CliError::Aws(crate::aws::AwsError::BadSource(_))
            | CliError::Collect(CollectError::Aws(crate::aws::AwsError::BadSource(_))) => ExitCode::Usage,
            CliError::NoActivity { incomplete: true, .. } => ExitCode::Incomplete,
            CliError::NoActivity { incomplete: false, .. } => ExitCode::NoActivity,
            _ => ExitCode::Error,
        }
    }
}
