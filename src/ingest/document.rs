//! One log document, streamed: `{"Records":[...]}` (a trail file) or `{"Events":[...]}` (saved
//! `aws cloudtrail lookup-events` output), each record handed over as raw JSON text and a record
//! or document that cannot be read named by its position.

use std::cell::Cell;
use std::fmt;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::record::{Delivered, Item, Location, RejectReason};

/// What a record's text is as an item (a record, or a rejection of it).
pub(super) type RecordFn<'f> = dyn for<'j> FnMut(Location, &'j str) -> Item<'j> + 'f;

/// The rejection of a record or of the document at a location.
pub(super) type RejectFn<'f> = dyn Fn(Location, RejectReason) -> Item<'static> + 'f;

/// Records delivered together ([`Delivered::Records`]).
const RECORDS_PER_BATCH: usize = 64;

/// Streams the records of one JSON document: `{"Records":[...]}` or `{"Events":[...]}`.
pub(super) fn read_document(
    doc: &str,
    record: &mut RecordFn<'_>,
    reject: &RejectFn<'_>,
    gzip_error: Option<&RejectReason>,
    emit: &mut dyn FnMut(Delivered<'_>),
) {
    let position = Cell::new(Location::File);
    let mut de = serde_json::Deserializer::from_str(doc);
    let visitor = DocVisitor { record, reject, emit, position: &position };
    let result = serde::Deserializer::deserialize_map(&mut de, visitor).and_then(|found| de.end().map(|_| found));
    match result {
        Ok(Found::Records) => {
            if let Some(g) = gzip_error {
                emit(Delivered::One(reject(Location::File, g.and_then_lost("records after the break are lost"))));
            }
        }
        Ok(Found::Nothing) => emit(Delivered::One(reject(Location::File, RejectReason::NotALog))),
        // Positively another document (the IAM authorization details an audit reads, kept
        // beside the logs): not a log, and not a gap.
        Ok(Found::AuthorizationDetails) => {
            emit(Delivered::One(Item::NotALog("IAM authorization details (aws iam get-account-authorization-details)")))
        }
        // The templates a review reads, kept beside the logs.
        Ok(Found::TerraformPlan) => emit(Delivered::One(Item::NotALog("a Terraform plan (terraform show -json)"))),
        Ok(Found::Template) => emit(Delivered::One(Item::NotALog("a CloudFormation template"))),
        Err(e) => {
            let what = if e.is_eof() {
                match gzip_error {
                    Some(g) => g.and_then_lost(&format!("JSON ends early ({e})")),
                    None => RejectReason::Corrupt(format!("truncated JSON ({e})")),
                }
            } else if e.is_syntax() && position.get() == Location::File && !doc.trim_start().starts_with('{') {
                RejectReason::Corrupt(format!("not JSON ({e})"))
            } else {
                RejectReason::Corrupt(format!("invalid JSON ({e}); the rest of the file is not read"))
            };
            emit(Delivered::One(reject(position.get(), what)));
        }
    }
}

/// What a document held.
enum Found {
    /// A `Records` or `Events` array.
    Records,
    /// Neither, nor any key known to belong to another kind of document.
    Nothing,
    /// `UserDetailList`, `GroupDetailList` or `RoleDetailList` and no records: the output of
    /// `aws iam get-account-authorization-details`.
    AuthorizationDetails,
    /// `planned_values` with `format_version` and no records: `terraform show -json PLAN`.
    TerraformPlan,
    /// `Resources` with `AWSTemplateFormatVersion`, `Transform`, `Parameters`, `Outputs` or
    /// `Rules` and no records: a CloudFormation template (CDK's synthesized ones too).
    Template,
}

struct DocVisitor<'v, 'f> {
    record: &'v mut RecordFn<'f>,
    reject: &'v RejectFn<'f>,
    emit: &'v mut dyn FnMut(Delivered<'_>),
    position: &'v Cell<Location>,
}

impl<'de> Visitor<'de> for DocVisitor<'_, '_> {
    type Value = Found;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a CloudTrail log object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Found, A::Error> {
        let mut found = false;
        let mut iam = false;
        let (mut plan, mut plan_version, mut resources, mut cfn) = (false, false, false, false);
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "Records" | "Events" => {
                    let lookup = key == "Events";
                    map.next_value_seed(RecordsSeed {
                        record: &mut *self.record,
                        reject: self.reject,
                        emit: &mut *self.emit,
                        position: self.position,
                        lookup,
                    })?;
                    found = true;
                }
                k => {
                    iam |= matches!(k, "UserDetailList" | "GroupDetailList" | "RoleDetailList");
                    plan |= k == "planned_values";
                    plan_version |= k == "format_version";
                    resources |= k == "Resources";
                    cfn |= matches!(k, "AWSTemplateFormatVersion" | "Transform" | "Parameters" | "Outputs" | "Rules");
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(if found {
            Found::Records
        } else if iam {
            Found::AuthorizationDetails
        } else if plan && plan_version {
            Found::TerraformPlan
        } else if resources && cfn {
            Found::Template
        } else {
            Found::Nothing
        })
    }
}

struct RecordsSeed<'v, 'f> {
    record: &'v mut RecordFn<'f>,
    reject: &'v RejectFn<'f>,
    emit: &'v mut dyn FnMut(Delivered<'_>),
    position: &'v Cell<Location>,
    lookup: bool,
}

#[derive(Deserialize)]
struct LookupRow {
    #[serde(rename = "CloudTrailEvent")]
    cloud_trail_event: Option<String>,
}

impl<'de> DeserializeSeed<'de> for RecordsSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RecordsSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of CloudTrail records")
    }
    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        // Records borrowed from the document are delivered a batch at a time; anything else in
        // its place in the order, after the records before it.
        let mut batch: Vec<(Location, &'de str)> = Vec::with_capacity(RECORDS_PER_BATCH);
        let deliver = |batch: &mut Vec<(Location, &'de str)>, emit: &mut dyn FnMut(Delivered<'_>)| {
            if !batch.is_empty() {
                emit(Delivered::Records(batch));
                batch.clear();
            }
        };
        let mut i = 0;
        let read = loop {
            let loc = if self.lookup { Location::LookupEvent(i) } else { Location::Record(i) };
            self.position.set(loc);
            if self.lookup {
                match seq.next_element::<LookupRow>() {
                    Err(e) => break Err(e),
                    Ok(None) => break Ok(()),
                    Ok(Some(LookupRow { cloud_trail_event: Some(json) })) => {
                        (self.emit)(Delivered::One((self.record)(loc, &json)))
                    }
                    Ok(Some(LookupRow { cloud_trail_event: None })) => (self.emit)(Delivered::One((self.reject)(
                        loc,
                        RejectReason::NotARecord("lookup event has no CloudTrailEvent".into()),
                    ))),
                }
            } else {
                match seq.next_element::<&'de RawValue>() {
                    Err(e) => break Err(e),
                    Ok(None) => break Ok(()),
                    Ok(Some(raw)) => match (self.record)(loc, raw.get()) {
                        Item::Record { location, json } => {
                            batch.push((location, json));
                            if batch.len() == RECORDS_PER_BATCH {
                                deliver(&mut batch, self.emit);
                            }
                        }
                        other => {
                            deliver(&mut batch, self.emit);
                            (self.emit)(Delivered::One(other))
                        }
                    },
                }
            }
            i += 1;
        };
        // The records read before an error are delivered before it is reported (at the
        // position it was met).
        deliver(&mut batch, self.emit);
        if read.is_ok() {
            self.position.set(Location::File);
        }
        read
    }
}
