//! Progress of long work, reported through a trait so that library code never draws anything:
//! the CLI gives the sources an implementation that draws bars on a terminal, and anything else
//! (tests, a server, a pipe) gives [`Silent`].

use std::sync::Arc;

/// Something that shows progress.
pub trait Progress: Send + Sync {
    /// A task starts: `name` (a region, `s3`, a query ID), `total` steps of `unit` when known
    /// (else an open-ended task).
    fn task(&self, name: &str, total: Option<u64>, unit: &str) -> Box<dyn Task>;
}

/// One task's progress.
pub trait Task: Send + Sync {
    /// `n` more steps are done.
    fn advance(&self, n: u64);
    /// What is happening now (`512 events, 11 pages`).
    fn message(&self, message: String);
    /// The task is over: its display goes away.
    fn finish(&self);
}

/// Shows nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn task(&self, _name: &str, _total: Option<u64>, _unit: &str) -> Box<dyn Task> {
        Box::new(Silent)
    }
}

impl Task for Silent {
    fn advance(&self, _n: u64) {}
    fn message(&self, _message: String) {}
    fn finish(&self) {}
}

/// A shared [`Progress`], as options hold it.
#[derive(Clone)]
pub struct ProgressSink(pub Arc<dyn Progress>);

impl Default for ProgressSink {
    fn default() -> Self {
        ProgressSink(Arc::new(Silent))
    }
}

impl std::fmt::Debug for ProgressSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressSink")
    }
}

impl ProgressSink {
    /// Starts a task; see [`Progress::task`].
    pub fn task(&self, name: &str, total: Option<u64>, unit: &str) -> Box<dyn Task> {
        self.0.task(name, total, unit)
    }
}
