//! Command-line interface: argument parsing, the `generate` and `coverage` commands, exit codes.
//! Data goes to stdout (or `--output`), messages for people to stderr. The only module that
//! prints: the library below it returns what it found.
#![allow(clippy::print_stdout)]

mod audit;
mod boundary;
mod collect;
mod coverage;
mod diff;
mod error;
mod generate;
mod input;
mod messages;
mod progress;
mod replay;
mod review;
mod store;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::app::collect::{RemoteOptions, SourceSpec};
use crate::mapping::catalog::ActionCatalog;
use crate::mapping::mapper::EventMapper;
use crate::output::report::RunReport;
use crate::output::text::visible;
use crate::select::{BadPrincipal, BadTime, PrincipalFilter, TimeRange};
use crate::synth;
use crate::usage::{self, Selection};

use self::audit::*;
use self::boundary::*;
use self::collect::*;
use self::coverage::*;
use self::diff::*;
pub use self::error::*;
use self::generate::*;
use self::input::*;
use self::progress::*;
use self::replay::*;
use self::review::*;
use self::store::*;

/// iamtrim: the least-privilege IAM policy a role needs, from what it did (CloudTrail).
#[derive(Debug, Parser)]
#[command(name = "iamtrim", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Print no summary or notes on stderr (warnings, errors and INCOMPLETE still go there).
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

/// The commands: generate, diff, coverage, store.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate the policy a role needs from CloudTrail logs.
    #[command(after_help = EXIT_CODES)]
    Generate(Box<GenerateArgs>),
    /// Compare a role's current policies with what it used.
    #[command(after_help = EXIT_CODES)]
    Diff(Box<DiffArgs>),
    /// Evaluate a role's calls (typically later ones) against a policy learned earlier: the
    /// share allowed and every refused action and resource.
    #[command(after_help = EXIT_CODES)]
    Replay(Box<ReplayArgs>),
    /// Measure how many eventSource/eventName pairs of a corpus map to IAM actions.
    #[command(after_help = EXIT_CODES)]
    Coverage(CoverageArgs),
    /// Audit every role and user of an account: granted, used and unused, risky unused
    /// permissions, principals with no activity; report.html, audit.json, audit.sarif, audit.md,
    /// audit.csv.
    #[command(after_help = EXIT_CODES)]
    Audit(Box<AuditArgs>),
    /// The permissions boundary that covers what a set of principals used (actions, resources
    /// at the container level), checked against every call of theirs.
    #[command(after_help = EXIT_CODES)]
    Boundary(Box<BoundaryArgs>),
    /// Review the roles of infrastructure templates (CloudFormation, SAM, CDK, Terraform plans)
    /// against what they did: never used, would break, the trimmed policy as a patch, and the
    /// proof that it grants nothing new.
    #[command(after_help = EXIT_CODES)]
    Review(Box<ReviewArgs>),
    /// The incremental usage store (`--store`).
    #[command(subcommand)]
    Store(StoreCommand),
}

/// Runs the command line `args` (including the program name) and returns the exit status.
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::Usage } else { ExitCode::Success };
        }
    };
    messages::set_quiet(cli.quiet);
    let result = match cli.command {
        Command::Generate(a) => generate(&a),
        Command::Diff(a) => run_diff(&a),
        Command::Coverage(a) => run_coverage(&a),
        Command::Replay(a) => run_replay(&a),
        Command::Audit(a) => run_audit(&a),
        Command::Boundary(a) => run_boundary(&a),
        Command::Review(a) => run_review(&a),
        Command::Store(StoreCommand::Info { store, json }) => store_info(store.as_deref(), json),
        Command::Store(StoreCommand::Forget { store, role, from, to }) => {
            store_forget(store.as_deref(), &role, from.as_deref(), to.as_deref())
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            messages::error!("{e}");
            e.exit_code()
        }
    }
}

/// A command's largest result, left for the operating system to take back when the process
/// exits rather than freed allocation by allocation: an audit's aggregate and report hold
/// millions of strings, and freeing them took 15 to 25 ms of a 1.4 s audit (scripts/bench).
/// [`run`] is called once per process (by `main`); nothing else calls the commands.
fn kept_until_exit<T>(value: T) -> std::mem::ManuallyDrop<T> {
    std::mem::ManuallyDrop::new(value)
}

/// Writes what `write` makes to the file `path` as it is made, through a buffer.
fn write_streamed(
    path: &Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<(), CliError> {
    let error = |source| CliError::Write { path: path.display().to_string(), source };
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).map_err(error)?);
    write(&mut out).and_then(|_| out.flush()).map_err(error)
}

fn write_out(path: Option<&Path>, text: &str) -> Result<(), CliError> {
    match path {
        Some(p) => write_streamed(p, |out| out.write_all(text.as_bytes())),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|_| out.flush())
                .map_err(|source| CliError::Write { path: "stdout".into(), source })
        }
    }
}
