//! Validation errors that say where (a path into the document), what and what to do.

use std::fmt;

/// One problem in a spec: where it is and what is wrong, with a hint when there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError {
    /// Where, as a path into the document: `services[0].versions[1].endpoints[0]`.
    pub path: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// Every problem found in a spec, in document order. Validation never stops at the first one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpecErrors(Vec<SpecError>);

impl SpecError {
    /// A problem at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> SpecError {
        SpecError {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl SpecErrors {
    /// No problems yet.
    pub fn new() -> SpecErrors {
        SpecErrors(Vec::new())
    }

    /// Records a problem at `path`.
    pub fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(SpecError::new(path, message));
    }

    /// Adds every problem of `other`.
    pub fn append(&mut self, other: SpecErrors) {
        self.0.extend(other.0);
    }

    /// True when nothing is wrong.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many problems were found.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The problems, in document order.
    pub fn iter(&self) -> std::slice::Iter<'_, SpecError> {
        self.0.iter()
    }

    /// The problems as a vector.
    pub fn into_vec(self) -> Vec<SpecError> {
        self.0
    }

    /// The same problems with `prefix` put in front of every path, for documents that embed
    /// this one: `prefixed("routing")` turns `services[0].name` into `routing.services[0].name`.
    pub fn prefixed(self, prefix: &str) -> SpecErrors {
        SpecErrors(
            self.0
                .into_iter()
                .map(|e| SpecError::new(join(prefix, &e.path), e.message))
                .collect(),
        )
    }

    /// `Ok(())` when nothing is wrong, otherwise `Err(self)`.
    pub fn into_result(self) -> Result<(), SpecErrors> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}

/// Joins two path pieces: `join("a", "b")` is `a.b`, `join("a", "[0]")` is `a[0]`, and an empty
/// side leaves the other unchanged.
pub fn join(prefix: &str, rest: &str) -> String {
    if prefix.is_empty() {
        rest.to_string()
    } else if rest.is_empty() {
        prefix.to_string()
    } else if rest.starts_with('[') {
        format!("{prefix}{rest}")
    } else {
        format!("{prefix}.{rest}")
    }
}

/// The path of field `name` under `path`: `field("services[0]", "name")` is `services[0].name`.
pub fn field(path: &str, name: &str) -> String {
    join(path, name)
}

/// The path of item `i` of the list at `path`: `index("services", 2)` is `services[2]`.
pub fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for SpecError {}

impl fmt::Display for SpecErrors {
    /// One problem per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecErrors {}

impl From<SpecError> for SpecErrors {
    fn from(e: SpecError) -> SpecErrors {
        SpecErrors(vec![e])
    }
}

impl Extend<SpecError> for SpecErrors {
    fn extend<T: IntoIterator<Item = SpecError>>(&mut self, iter: T) {
        self.0.extend(iter);
    }
}

impl IntoIterator for SpecErrors {
    type Item = SpecError;
    type IntoIter = std::vec::IntoIter<SpecError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a SpecErrors {
    type Item = &'a SpecError;
    type IntoIter = std::slice::Iter<'a, SpecError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join() {
        assert_eq!(field("services[0]", "name"), "services[0].name");
        assert_eq!(index("services", 2), "services[2]");
        assert_eq!(join("", "a"), "a");
        assert_eq!(join("a", ""), "a");
        assert_eq!(join("routing", "[3].x"), "routing[3].x");
    }

    #[test]
    fn display_lists_one_per_line_and_prefixes() {
        let mut errs = SpecErrors::new();
        assert!(errs.clone().into_result().is_ok());
        errs.push("services[0].name", "empty");
        errs.push("rollouts[1]", "bad");
        let errs = errs.prefixed("routing");
        assert_eq!(errs.len(), 2);
        assert_eq!(
            errs.to_string(),
            "routing.services[0].name: empty\nrouting.rollouts[1]: bad"
        );
        assert!(errs.into_result().is_err());
    }
}
