//! The mapping memo: a record whose [`Call`] equals one mapped before gets that mapping again
//! without the work. Trail logs repeat themselves (the same queue polled, the same key decrypted,
//! the same table read), and an audit maps every principal's calls.
//!
//! The memo is exact: its key is the whole [`Call`], which is all the mapper is given, and the
//! catalog that mapped it ([`ActionCatalog::instance`](super::catalog::ActionCatalog)). Nothing
//! is hashed in place of being compared. One memo per thread, bounded in entries and bytes.
//! A call is kept the second time it is seen (its hash is remembered the first time): many
//! calls are seen once only (an S3 object read, an item put), and keeping them would cost more
//! than mapping them.

use std::cell::RefCell;
use std::hash::{BuildHasher, Hash, Hasher};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::kept::KeptAnswers;
use super::mapper::{Call, EventMapper, Mapping};
use super::resources::Context;

/// Entries kept per thread; the memo starts over when full.
const MAX_ENTRIES: usize = 1 << 16;
/// Bytes of keys kept per thread; the memo starts over past it.
const MAX_BYTES: usize = 8 << 20;
/// Calls larger than this (raw resources and parameters) are mapped each time, not kept.
const MAX_CALL_BYTES: usize = 16 << 10;
/// Slots of the hashes of calls seen per thread ([`KeptAnswers`]).
const SEEN_SLOTS: usize = 1 << 18;

/// The answer for one call.
#[derive(Debug)]
pub struct MappedCall {
    /// Set when the memo keeps this answer, unique in the process (never reused): two records
    /// with the same id had equal calls, so what one added to an aggregate the other adds again.
    /// `None` for an answer given to this record only (a call seen the first time, or too large
    /// to keep).
    pub id: Option<u64>,
    /// The mapping, or why the call's `requestParameters` cannot be read (then the record must
    /// not be used: its resources would be lost).
    pub answer: Result<Mapping, String>,
}

/// A [`Call`] owned, as the memo keeps it.
#[derive(Debug)]
struct CallKey {
    event_source: Box<str>,
    event_name: Box<str>,
    ctx: Context<'static>,
    resources: Option<Box<str>>,
    request_parameters: Option<Box<str>>,
}

impl CallKey {
    fn of(call: &Call<'_>) -> CallKey {
        CallKey {
            event_source: call.event_source.into(),
            event_name: call.event_name.into(),
            ctx: call.ctx.clone().into_owned(),
            resources: call.resources.map(|r| r.get().into()),
            request_parameters: call.request_parameters.map(|r| r.get().into()),
        }
    }

    fn is(&self, call: &Call<'_>) -> bool {
        *self.event_source == *call.event_source
            && *self.event_name == *call.event_name
            && self.ctx == call.ctx
            && self.resources.as_deref() == call.resources.map(|r| r.get())
            && self.request_parameters.as_deref() == call.request_parameters.map(|r| r.get())
    }
}

fn call_bytes(call: &Call<'_>) -> usize {
    call.event_source.len()
        + call.event_name.len()
        + call.resources.map_or(0, |r| r.get().len())
        + call.request_parameters.map_or(0, |r| r.get().len())
}

fn call_hash(call: &Call<'_>) -> u64 {
    let mut h = foldhash::fast::FixedState::with_seed(0x1a7_7213).build_hasher();
    call.event_source.hash(&mut h);
    call.event_name.hash(&mut h);
    call.ctx.hash(&mut h);
    call.resources.map(|r| r.get()).hash(&mut h);
    call.request_parameters.map(|r| r.get()).hash(&mut h);
    h.finish()
}

/// One thread's memo.
#[derive(Default)]
struct Memo {
    /// The catalog the entries were mapped with.
    catalog: u64,
    /// The mappings kept, by call.
    entries: KeptAnswers<CallKey, Rc<MappedCall>, SEEN_SLOTS>,
    bytes: usize,
}

thread_local! {
    static MEMO: RefCell<Memo> = RefCell::default();
}

fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl EventMapper<'_> {
    /// The mapping of `call` (with its parameters read), from this thread's memo when an equal
    /// call was mapped with this catalog before.
    pub fn map_memoized(&self, call: &Call<'_>) -> Rc<MappedCall> {
        let compute = |kept: bool| {
            Rc::new(MappedCall {
                id: kept.then(next_id),
                answer: match call.request_parameters() {
                    Ok(params) => Ok(self.map_with(call, &params)),
                    Err(e) => Err(e.to_string()),
                },
            })
        };
        let size = call_bytes(call);
        if size > MAX_CALL_BYTES {
            return compute(false);
        }
        let hash = call_hash(call);
        let instance = self.catalog.instance();
        MEMO.with(|memo| {
            let mut memo = memo.borrow_mut();
            if memo.catalog != instance || memo.entries.len() >= MAX_ENTRIES || memo.bytes + size > MAX_BYTES {
                *memo = Memo { catalog: instance, ..Memo::default() };
            }
            if let Some(found) = memo.entries.find(hash, |k| k.is(call)) {
                return Rc::clone(found);
            }
            if !memo.entries.seen_before(hash) {
                return compute(false);
            }
            let mapped = compute(true);
            memo.entries.keep(hash, CallKey::of(call), Rc::clone(&mapped));
            memo.bytes += size + std::mem::size_of::<CallKey>();
            mapped
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::event::Event;
    use crate::mapping::catalog::ActionCatalog;

    fn record(region: &str, account: &str, queue: &str, resources: &str) -> String {
        format!(
            r#"{{"eventSource":"sqs.amazonaws.com","eventName":"SendMessage","awsRegion":"{region}",
            "recipientAccountId":"{account}","userIdentity":{{"type":"AssumedRole",
            "arn":"arn:aws:sts::{account}:assumed-role/app/s-{queue}"}},
            "requestParameters":{{"queueUrl":"https://sqs.{region}.amazonaws.com/{account}/{queue}"}}{resources}}}"#
        )
    }

    fn mapped(mapper: &EventMapper<'_>, json: &str) -> Rc<MappedCall> {
        mapper.map_memoized(&Call::of(&Event::from_json(json).unwrap()))
    }

    #[test]
    fn an_equal_call_gets_the_same_answer_and_a_call_differing_in_any_part_its_own() {
        let mapper = EventMapper::new(ActionCatalog::embedded());
        let base = record("us-east-1", "123456789012", "jobs", "");
        // Kept the second time it is seen, found from the third.
        let once = mapped(&mapper, &base);
        let first = mapped(&mapper, &base);
        assert_eq!(once.answer, first.answer);
        assert!(once.id.is_none() && first.id.is_some());
        assert_eq!(mapped(&mapper, &base).id, first.id);
        // The session name differs: not part of the call.
        assert_eq!(mapped(&mapper, &base.replace("s-jobs", "s-other")).id, first.id);
        let resources = r#","resources":[{"ARN":"arn:aws:sqs:us-east-1:123456789012:other"}]"#;
        for (what, other) in [
            ("region", record("eu-west-1", "123456789012", "jobs", "")),
            ("account", record("us-east-1", "210987654321", "jobs", "")),
            ("parameters", record("us-east-1", "123456789012", "jobs2", "")),
            ("resources", record("us-east-1", "123456789012", "jobs", resources)),
            ("event name", base.replace("SendMessage", "ReceiveMessage")),
            ("event source", base.replace("sqs.amazonaws.com", "sns.amazonaws.com")),
        ] {
            let m = mapped(&mapper, &other);
            assert_ne!(m.id, first.id, "{what}");
            let fresh = EventMapper::new(ActionCatalog::embedded());
            let event = Event::from_json(&other).unwrap();
            assert_eq!(m.answer.as_ref().ok(), Some(&fresh.map(&event)), "{what}");
        }
    }

    #[test]
    fn a_call_mapped_with_another_catalog_is_mapped_again() {
        let embedded = EventMapper::new(ActionCatalog::embedded());
        let json = record("us-east-1", "123456789012", "jobs", "");
        let _ = mapped(&embedded, &json);
        let first = mapped(&embedded, &json);
        let other = ActionCatalog::from_json(
            include_str!("../../action-maps/catalog.json"),
            include_str!("../../action-maps/event-sources.json"),
            include_str!("../../action-maps/operations.json"),
            r#"{"overrides":{"sqs:SendMessage":{"actions":[],"reason":"made up for the test"}}}"#,
        )
        .unwrap();
        let _ = mapped(&EventMapper::new(&other), &json);
        let m = mapped(&EventMapper::new(&other), &json);
        assert_ne!(m.id, first.id);
        assert_eq!(m.answer, Ok(Mapping::NoPermission("made up for the test".to_string())));
        assert_eq!(mapped(&embedded, &json).answer, first.answer);
    }

    #[test]
    fn parameters_that_cannot_be_read_are_an_error_every_time() {
        let mapper = EventMapper::new(ActionCatalog::embedded());
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        let json = format!(
            r#"{{"eventSource":"s3.amazonaws.com","eventName":"GetObject","userIdentity":{{}},"requestParameters":{deep}}}"#
        );
        for _ in 0..2 {
            assert!(mapped(&mapper, &json).answer.is_err());
        }
    }
}
