//! A YAML or JSON document as a tree that keeps, for every node, the line it starts on and its
//! tag (`!Sub`, `!Ref`, `!GetAtt`: CloudFormation's short forms). JSON is read by the same YAML
//! 1.2 parser (JSON is YAML's flow style), so a Terraform plan or a CDK template keeps its lines
//! too. Anchors and aliases are resolved; documents past the first are refused.

use saphyr_parser::{Event, Parser, ScalarStyle};

/// A node of the tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Its value.
    pub value: Value,
    /// Its tag without the leading `!` (`Sub`, `GetAtt`), when it has one other than the core
    /// schema's (`!!str`).
    pub tag: Option<String>,
    /// The line it starts on (1-based).
    pub line: usize,
}

/// The value of a [`Node`].
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar, as written (a YAML plain `true` or `12` stays its text); `quoted` when written in
    /// quotes (always a string).
    Scalar {
        /// The text.
        text: String,
        /// Written in single or double quotes.
        quoted: bool,
    },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order.
    Map(Vec<(Node, Node)>),
}

/// A document that cannot be read as YAML or JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// Where.
    pub line: usize,
    /// What.
    pub message: String,
}

impl Node {
    /// The scalar's text.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The mapping's entries.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The sequence's items.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The value of `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?.iter().find(|(k, _)| k.as_str() == Some(key)).map(|(_, v)| v)
    }

    /// A YAML null (`~`, `null`, empty) that was not quoted.
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, quoted: false } if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// The node as JSON (tags dropped; plain scalars that are JSON numbers, booleans or null
    /// become those), for the parts that are plain data.
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Scalar { text, quoted } => {
                if !quoted && self.tag.is_none() {
                    match text.as_str() {
                        "true" | "True" | "TRUE" => return serde_json::Value::Bool(true),
                        "false" | "False" | "FALSE" => return serde_json::Value::Bool(false),
                        "" | "~" | "null" | "Null" | "NULL" => return serde_json::Value::Null,
                        _ => {}
                    }
                    if let Ok(n) = text.parse::<i64>() {
                        return serde_json::Value::from(n);
                    }
                }
                serde_json::Value::String(text.clone())
            }
            Value::Seq(items) => serde_json::Value::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => serde_json::Value::Object(
                entries.iter().map(|(k, v)| (k.as_str().unwrap_or_default().to_string(), v.to_json())).collect(),
            ),
        }
    }
}

/// At most this many nodes a document (a billion-laughs alias bomb stops here).
const MAX_NODES: usize = 2_000_000;

/// Parses one YAML (or JSON) document.
pub fn parse(text: &str) -> Result<Node, ParseError> {
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<(Node, Option<Node>)> = Vec::new();
    // Anchored nodes with the number of nodes each holds: an alias counts all of them, so an
    // alias bomb stops at MAX_NODES before it is built.
    let mut anchors: std::collections::HashMap<usize, (Node, usize)> = std::collections::HashMap::new();
    let mut anchor_of: Vec<(usize, usize)> = Vec::new();
    let mut root: Option<Node> = None;
    let mut documents = 0;
    let mut nodes = 0usize;
    loop {
        let (event, span) = match parser.next_event() {
            None => break,
            Some(Ok(e)) => e,
            Some(Err(e)) => {
                return Err(ParseError { line: e.marker().line(), message: e.info().to_string() });
            }
        };
        let line = span.start.line();
        let tag_of = |t: &Option<std::borrow::Cow<'_, saphyr_parser::Tag>>| {
            t.as_ref().filter(|t| t.handle == "!").map(|t| t.suffix.clone())
        };
        let node = match event {
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(ParseError { line, message: "more than one document in the file".into() });
                }
                continue;
            }
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => continue,
            Event::Alias(id) => match anchors.get(&id) {
                Some((n, size)) => {
                    nodes += size.saturating_sub(1);
                    if nodes > MAX_NODES {
                        return Err(ParseError {
                            line,
                            message: format!("more than {MAX_NODES} nodes (an alias bomb?)"),
                        });
                    }
                    n.clone()
                }
                None => return Err(ParseError { line, message: "an alias to an unknown anchor".into() }),
            },
            Event::Scalar(text, style, anchor, tag) => {
                let n = Node {
                    value: Value::Scalar {
                        text: text.into_owned(),
                        quoted: matches!(style, ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted),
                    },
                    tag: tag_of(&tag),
                    line,
                };
                if anchor > 0 {
                    anchors.insert(anchor, (n.clone(), 1));
                }
                n
            }
            Event::SequenceStart(anchor, tag) => {
                anchor_of.push((anchor, nodes));
                stack.push((Node { value: Value::Seq(Vec::new()), tag: tag_of(&tag), line }, None));
                continue;
            }
            Event::MappingStart(anchor, tag) => {
                anchor_of.push((anchor, nodes));
                stack.push((Node { value: Value::Map(Vec::new()), tag: tag_of(&tag), line }, None));
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (n, _) = stack.pop().ok_or(ParseError { line, message: "unbalanced document".into() })?;
                let (anchor, start) = anchor_of.pop().unwrap_or((0, nodes));
                if anchor > 0 {
                    anchors.insert(anchor, (n.clone(), nodes - start + 1));
                }
                n
            }
        };
        nodes += 1;
        if nodes > MAX_NODES {
            return Err(ParseError { line, message: format!("more than {MAX_NODES} nodes (an alias bomb?)") });
        }
        match stack.last_mut() {
            None => root = Some(node),
            Some((parent, pending_key)) => match &mut parent.value {
                Value::Seq(items) => items.push(node),
                Value::Map(entries) => match pending_key.take() {
                    None => *pending_key = Some(node),
                    Some(key) => entries.push((key, node)),
                },
                Value::Scalar { .. } => unreachable!("scalars are never on the stack"),
            },
        }
    }
    root.ok_or(ParseError { line: 1, message: "an empty document".into() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_keeps_lines_and_short_form_tags() {
        let doc = parse(
            "Resources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: !Sub '${AWS::StackName}-app'\n      Arn: !GetAtt [Bucket, Arn]\n",
        )
        .unwrap();
        let props = doc.get("Resources").unwrap().get("Role").unwrap().get("Properties").unwrap();
        let name = props.get("RoleName").unwrap();
        assert_eq!((name.tag.as_deref(), name.as_str(), name.line), (Some("Sub"), Some("${AWS::StackName}-app"), 5));
        let arn = props.get("Arn").unwrap();
        assert_eq!((arn.tag.as_deref(), arn.as_seq().unwrap().len(), arn.line), (Some("GetAtt"), 2, 6));
    }

    #[test]
    fn json_is_read_with_its_lines() {
        let doc = parse("{\n  \"a\": {\n    \"b\": [1, \"two\"]\n  }\n}\n").unwrap();
        let b = doc.get("a").unwrap().get("b").unwrap();
        assert_eq!(b.line, 3);
        assert_eq!(b.to_json(), serde_json::json!([1, "two"]));
    }

    #[test]
    fn aliases_resolve_and_bombs_and_broken_documents_are_refused() {
        let doc = parse("a: &x {k: v}\nb: *x\n").unwrap();
        assert_eq!(doc.get("b").unwrap().get("k").unwrap().as_str(), Some("v"));
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let err = parse(&bomb).unwrap_err();
        assert!(err.message.contains("alias bomb"), "{err}");
        assert!(parse("a: [1, 2\n").is_err());
        assert!(parse("a: 1\n---\nb: 2\n").unwrap_err().message.contains("more than one document"));
    }
}
